import type { Translate } from '../i18n';
import { justificationMaxLength } from '../model/requests';
import type { Finding } from '../tenant/evaluate';
import type { Diagnosis, DiagnosisFinding } from '../diagnosis/diagnose';
import { blockerList, findingParams, type AdaptiveCard } from './builders';
import { verbs } from './verbs';

export type DiagnosisAudience = 'user' | 'it';

export interface DiagnosisCardView {
  diagnosis: Diagnosis;
  /** An end user asking about their own mailbox, or IT staff asking about anyone. */
  audience: DiagnosisAudience;
  /** Display names of the groups Conditional Access policies exclude, by group id. */
  groupNames?: Record<string, string>;
  /** The saved diagnosis the self-service button refers to (the card never carries the truth). */
  selfServiceId?: string;
  /** IT staff who may draft the fix: the Fix button. */
  offerFix?: boolean;
}

/** Severity as a sign in front of each finding: symbols, not words, so the same in every language. */
const severityIcon = { blocker: '⛔', warning: '⚠️', info: 'ℹ️' } as const;

const paragraph = (text: string, extra: Record<string, unknown> = {}) => ({ type: 'TextBlock', text, wrap: true, ...extra });
const ref = (t: Translate, code: string) => paragraph(t('card.ref', { code }), { size: 'Small', isSubtle: true, spacing: 'None' });

/** State findings whose fix is the mailbox setting share one sentence. */
const mailboxSettingCodes = new Set(['SMTP_AUTH_DISABLED_MAILBOX', 'SMTP_AUTH_DISABLED_TENANT']);
/** Findings that are information only: no "what to do" line. */
const noFix = new Set(['SMTP_AUTH_ENABLED', 'BASIC_AUTH_RETIREMENT']);

/**
 * The diagnosis: the recognised line, what the bounce says, whether SMTP AUTH works, each finding
 * with what it means and what to do (for whoever asked), "Ref: CODE" under each, the retirement
 * advice, and the button that acts: "Ask IT to enable SMTP AUTH for me" or "Fix".
 */
export function diagnosisCard(t: Translate, view: DiagnosisCardView): AdaptiveCard {
  const { diagnosis, audience } = view;
  const name = diagnosis.user.displayName;
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', text: t(`diagnosis.title.${audience}`, { name }), weight: 'Bolder', size: 'Medium', wrap: true },
    paragraph(diagnosis.user.userPrincipalName, { isSubtle: true, spacing: 'None' }),
  ];
  if (diagnosis.bounce) {
    body.push(paragraph(t('diagnosis.recognised'), { spacing: 'Medium' }), paragraph(diagnosis.bounce.line, { fontType: 'Monospace', size: 'Small', spacing: 'Small' }));
  } else if (diagnosis.pasted) {
    body.push(paragraph(t('diagnosis.noReply'), { isSubtle: true, spacing: 'Medium' }));
  }
  const fromBounce = diagnosis.findings.filter((f) => f.source === 'bounce');
  if (fromBounce.length) {
    body.push(paragraph(t('diagnosis.bounceHeading'), { weight: 'Bolder', spacing: 'Medium' }));
    for (const finding of fromBounce) body.push(...findingBlock(t, view, finding));
  }
  body.push(paragraph(t('diagnosis.stateHeading.' + audience, { name }), { weight: 'Bolder', spacing: 'Medium' }));
  body.push(paragraph(t(`diagnosis.verdict.${diagnosis.effectiveEnabled ? 'works' : 'blocked'}.${audience}`, { name }), { color: diagnosis.effectiveEnabled ? 'Good' : 'Attention', weight: 'Bolder' }));
  for (const finding of diagnosis.findings) {
    if (finding.source === 'state' && finding.code !== 'BASIC_AUTH_RETIREMENT') body.push(...findingBlock(t, view, finding));
  }
  body.push(...retirementBlock(t, audience));

  const actions: Record<string, unknown>[] = [];
  if (view.selfServiceId) {
    body.push({ type: 'Input.Text', id: 'justification', label: t('diagnosis.justificationLabel'), placeholder: t('diagnosis.justificationPlaceholder'), maxLength: justificationMaxLength, isMultiline: false });
    actions.push(execute(t('diagnosis.action.askIt'), verbs.selfServiceRequest, { diagnosisId: view.selfServiceId }, 'positive'));
  }
  if (view.offerFix) actions.push(execute(t('diagnosis.action.fix'), verbs.fix, { userId: diagnosis.user.id }, 'positive'));
  return {
    type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.4', body,
    ...(actions.length ? { actions } : {}),
  };
}

function execute(title: string, verb: string, data: Record<string, string>, style?: 'positive') {
  return { type: 'Action.Execute', title, verb, data: { verb, ...data }, ...(style ? { style } : {}) };
}

function findingBlock(t: Translate, view: DiagnosisCardView, finding: DiagnosisFinding): Record<string, unknown>[] {
  const params = paramsFor(t, view, finding);
  const icon = severityIcon[finding.severity];
  const blocks: Record<string, unknown>[] = [paragraph(`${icon} ${meaning(t, view.audience, finding, params)}`, { spacing: 'Small' })];
  // A bounce the state below restates (or that a later change has answered) gets a note, not a second fix.
  const note = finding.detail?.since ? t('diagnosis.since') : finding.detail?.confirmedByState ? t('diagnosis.confirmedByState') : undefined;
  const fix = note ? undefined : fixText(t, view, finding, params);
  if (note) blocks.push(paragraph(note, { spacing: 'None', isSubtle: true }));
  if (fix) blocks.push(paragraph(t('diagnosis.whatToDo', { fix }), { spacing: 'None', isSubtle: true }));
  blocks.push(ref(t, finding.code));
  return blocks;
}

function meaning(t: Translate, audience: DiagnosisAudience, finding: DiagnosisFinding, params: Record<string, string | number>): string {
  if (finding.source === 'state' && audience === 'it') return t(`finding.${finding.code}`, params);
  return t(`diagnosis.code.${finding.code}.${audience}`, params);
}

function fixText(t: Translate, view: DiagnosisCardView, finding: DiagnosisFinding, params: Record<string, string | number>): string | undefined {
  if (noFix.has(finding.code)) return undefined;
  if (finding.source === 'state') {
    if (finding.severity === 'info') return undefined;
    if (finding.code === 'RECENT_SMTP_FAILURES') return view.audience === 'it' ? t('diagnosis.fix.RECENT_SMTP_FAILURES.it', params) : undefined;
    if (mailboxSettingCodes.has(finding.code)) return t(`diagnosis.fix.SMTP_AUTH_DISABLED_STATE.${view.audience}`, params);
    if (finding.code === 'CA_BLOCKS_LEGACY_AUTH' && view.audience === 'it' && params.group) return t('diagnosis.fix.CA_BLOCKS_LEGACY_AUTH.itGroup', params);
  }
  return t(`diagnosis.fix.${finding.code}.${view.audience}`, params);
}

function paramsFor(t: Translate, view: DiagnosisCardView, finding: DiagnosisFinding): Record<string, string | number> {
  const { user } = view.diagnosis;
  const base: Record<string, string | number> = { name: user.displayName, upn: user.userPrincipalName, status: finding.detail?.status ?? '' };
  if (finding.source === 'state') {
    const params = { ...base, ...findingParams(t, finding as unknown as Finding) };
    if (finding.code === 'CA_BLOCKS_LEGACY_AUTH') {
      const groups = (finding.detail?.excludeGroupIds ?? '').split(',').map((id) => view.groupNames?.[id]).filter((g): g is string => Boolean(g));
      if (groups.length) params.group = groups.join('”, “');
    }
    return params;
  }
  if (finding.code === 'AUTH_UNSUCCESSFUL') {
    const causes = view.diagnosis.findings.filter((f) => f.source === 'state' && f.severity === 'blocker') as unknown as Finding[];
    return { ...base, causes: causes.length ? blockerList(t, causes) : t('diagnosis.causesUnknown') };
  }
  return base;
}

/** Every diagnosis carries it (BASIC_AUTH_RETIREMENT): the timeline, 5.7.30, and the ways forward. */
function retirementBlock(t: Translate, audience: DiagnosisAudience): Record<string, unknown>[] {
  const lines = audience === 'it'
    ? ['timeline', 'refused', 'ways', 'fits', 'oauth'].map((key) => paragraph(t(`diagnosis.retirement.it.${key}`), { size: 'Small', spacing: 'Small' }))
    : [paragraph(t('diagnosis.retirement.user'), { size: 'Small', spacing: 'Small' })];
  return [
    { type: 'TextBlock', text: `${severityIcon.info} ${t('diagnosis.retirement.title')}`, weight: 'Bolder', size: 'Small', wrap: true, spacing: 'Large', separator: true },
    ...lines,
    ref(t, 'BASIC_AUTH_RETIREMENT'),
  ];
}

export interface HelpEntry {
  description: string;
  example?: string;
}

export type HelpRole = 'user' | 'it' | 'approver';

/** `help`, for this person: only what they may do, each with one line and an example. */
export function roleHelpCard(t: Translate, role: HelpRole, entries: HelpEntry[], lead?: string): AdaptiveCard {
  return {
    type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.4',
    body: [
      ...(lead ? [paragraph(lead, { weight: 'Bolder' })] : []),
      { type: 'TextBlock', text: t('diagnosis.help.helpTitle'), weight: 'Bolder', size: 'Medium', wrap: true },
      paragraph(t(`diagnosis.help.helpIntro.${role}`), { isSubtle: true, spacing: 'None' }),
      ...helpLines(t, entries),
    ],
  };
}

function helpLines(t: Translate, entries: HelpEntry[]): Record<string, unknown>[] {
  return entries.map((entry) => paragraph(entry.example ? `• ${t('diagnosis.help.helpEntry', { description: entry.description, example: entry.example })}` : `• **${entry.description}**`, { spacing: 'Small' }));
}

/**
 * On install. In a personal chat: what this person can do here, for their role. In a team: how to
 * make a channel the approvals channel.
 */
export function welcomeCard(t: Translate, scope: 'personal' | 'team', view: { name: string; roles: { itStaff: boolean; approver: boolean }; entries: HelpEntry[] }): AdaptiveCard {
  const body: Record<string, unknown>[] = scope === 'team'
    ? [{ type: 'TextBlock', text: t('diagnosis.help.welcome.teamTitle'), weight: 'Bolder', size: 'Medium', wrap: true }, paragraph(t('diagnosis.help.welcome.team'))]
    : [
      // Teams' installationUpdate does not always carry the installer's name.
      { type: 'TextBlock', text: view.name.trim() ? t('diagnosis.help.welcome.title', { name: view.name.trim() }) : t('diagnosis.help.welcome.titleNoName'), weight: 'Bolder', size: 'Medium', wrap: true },
      paragraph(t('diagnosis.help.welcome.user')),
      ...(view.roles.itStaff ? [paragraph(t('diagnosis.help.welcome.it'))] : []),
      ...(view.roles.approver ? [paragraph(t('diagnosis.help.welcome.approver'))] : []),
      { type: 'TextBlock', text: t('diagnosis.help.helpTitle'), weight: 'Bolder', wrap: true, spacing: 'Medium' },
      ...helpLines(t, view.entries),
    ];
  return { type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.4', body };
}
