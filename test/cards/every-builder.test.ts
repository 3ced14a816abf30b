import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as AC from 'adaptivecards';
import type { AdaptiveCard } from '../../src/cards/builders';
import * as builders from '../../src/cards/builders';
import * as diagnosisCards from '../../src/cards/diagnosis';
import * as nluCards from '../../src/cards/nlu';
import * as orgStatusCards from '../../src/cards/org-status';
import * as groupCards from '../../src/cards/group';
import * as requestsCards from '../../src/cards/requests';
import { verbs } from '../../src/cards/verbs';
import { diagnose } from '../../src/diagnosis/diagnose';
import { parseBounce } from '../../src/diagnosis/bounce';
import { languages, translator, type Translate } from '../../src/i18n';
import type { ExceptionRecord, RequestRecord } from '../../src/model/requests';
import type { Finding, SmtpAuthEvaluation } from '../../src/tenant';

/**
 * Every card builder in src/cards/, rendered in every language, parses clean with the Adaptive
 * Cards library and shows no missing translation (issue #10). A builder added without a sample
 * here fails the first test, so "every" stays true.
 */

const modules: Record<string, Record<string, unknown>> = { builders, diagnosis: diagnosisCards, nlu: nluCards, 'org-status': orgStatusCards, group: groupCards, requests: requestsCards };
const at = new Date('2026-11-23T10:00:00Z');
const state = { mailboxSmtpClientAuthenticationDisabled: null, orgSmtpClientAuthenticationDisabled: true, effectiveEnabled: false };
const request: RequestRecord = {
  id: '3f2a9c1e-0000-4000-8000-000000000001', tenantId: 't', commandId: 'smtp-enable', state: 'succeeded', risk: 'medium', requiredApprovals: 2,
  requesterId: 'alex', requesterName: 'Alex Wilber', targetUserId: 'bob', targetUpn: 'bob@contoso.com', targetDisplayName: 'Bob Smith',
  params: { durationMs: 7 * 86_400_000, justification: 'MFP-2' }, language: 'en', conversation: {}, before: state,
  after: { ...state, mailboxSmtpClientAuthenticationDisabled: false, effectiveEnabled: true }, verified: true, errorCode: null,
  createdAt: at, updatedAt: at, expiresAt: at, plan: [],
};
const exception: ExceptionRecord = {
  id: 'e1', tenantId: 't', targetUserId: 'bob', targetUpn: 'bob@contoso.com', targetDisplayName: 'Bob Smith', requestId: request.id,
  requesterId: 'alex', requesterName: 'Alex Wilber', approverNames: ['Megan Bowen'], justification: 'MFP-2', grantedAt: at,
  expiresAt: new Date('2026-12-23T10:00:00Z'), state: 'active', restoreValue: null, adopted: false,
} as unknown as ExceptionRecord;
const conditionalAccess: Finding = { code: 'CA_BLOCKS_LEGACY_AUTH', layer: 'conditional-access', detail: { policyId: 'p1', policyName: 'Block legacy authentication' } };
const evaluation: SmtpAuthEvaluation = { state, effectiveEnabled: false, blockers: [{ code: 'SMTP_AUTH_DISABLED_TENANT', layer: 'org' }, conditionalAccess], findings: [{ code: 'SMTP_AUTH_DISABLED_TENANT', layer: 'org' }, conditionalAccess, { code: 'BASIC_AUTH_RETIREMENT', layer: 'advice' }] };
const bob = { id: 'bob', displayName: 'Bob Smith', userPrincipalName: 'bob@contoso.com' };
const bobMailbox = { type: 'mailbox' as const, id: 'bob', identity: 'bob@contoso.com', displayName: 'Bob Smith' };
const organization = { type: 'organization' as const, id: 't', identity: 't', displayName: 't' };
/** A plan that stopped at its second step: the card lists what was applied. */
const partlyApplied: RequestRecord = {
  ...request, state: 'failed', errorCode: 'TENANT_BAD_REQUEST', verified: false, plan: [
    { kind: 'mailbox-smtp-auth', target: bobMailbox, desired: false, status: 'applied', before: state, after: request.after, verified: true, errorCode: null },
    { kind: 'org-smtp-auth', target: organization, desired: false, status: 'failed', before: { smtpClientAuthenticationDisabled: true }, after: null, verified: false, errorCode: 'TENANT_BAD_REQUEST' },
  ],
};
const joseUser = { type: 'user' as const, id: 'jose', identity: 'jose.nunez@contoso.com', displayName: 'José Núñez' };
const authPolicies = { policy: 'Block Basic Auth', defaultPolicy: 'Block Basic Auth', policies: [{ name: 'Block Basic Auth', allowBasicAuthSmtp: false }, { name: 'Legacy printers', allowBasicAuthSmtp: true, otherBasicAuthProtocols: ['Pop'] }] };
/** A request for every policy step kind, waiting for its approvers: each step's notes are on the card. */
const policyPlan: RequestRecord = {
  ...request, commandId: 'security-defaults-disable', state: 'pending', risk: 'critical', targetUserId: null, targetUpn: null, targetDisplayName: null, before: null, after: null, verified: null, params: {}, plan: [
    { kind: 'security-defaults', target: organization, desired: false, status: 'pending', before: { isEnabled: true, conditionalAccessPolicies: [] }, after: null, verified: null, errorCode: null },
    { kind: 'security-defaults', target: organization, desired: true, status: 'pending', before: { isEnabled: false, conditionalAccessPolicies: [] }, after: null, verified: null, errorCode: null },
    { kind: 'per-user-mfa', target: joseUser, desired: 'disabled', status: 'pending', before: { perUserMfaState: 'enforced' }, after: null, verified: null, errorCode: null },
    { kind: 'per-user-mfa', target: joseUser, desired: 'enabled', status: 'pending', before: { perUserMfaState: 'disabled' }, after: null, verified: null, errorCode: null },
    { kind: 'authentication-policy', target: joseUser, desired: 'Legacy printers', status: 'pending', before: authPolicies, after: null, verified: null, errorCode: null },
    { kind: 'authentication-policy', target: joseUser, desired: null, status: 'pending', before: authPolicies, after: null, verified: null, errorCode: null },
  ],
};
/** A group change of 21 mailboxes (one member skipped, one already on): drafted, half-way, and done with three failures. */
const groupParams = { id: 'g1', displayName: 'Printers', members: 23, alreadySo: 1, skipped: [{ id: 'u9', displayName: 'Lidia Holloway', userPrincipalName: 'lidiah@contoso.com' }] };
const printerStep = (i: number, status: RequestRecord['plan'][number]['status'], errorCode: string | null = null): RequestRecord['plan'][number] => ({
  kind: 'mailbox-smtp-auth', target: { type: 'mailbox', id: `p${i}`, identity: `printer${i}@contoso.com`, displayName: `Printer ${i}` }, desired: false, status,
  before: { ...state, mailboxSmtpClientAuthenticationDisabled: true }, after: null, verified: status === 'applied' ? true : null, errorCode,
});
const groupRequest: RequestRecord = {
  ...request, commandId: 'smtp-enable-group', state: 'draft', risk: 'high', targetUserId: null, targetUpn: null, targetDisplayName: 'Printers', before: null, after: null, verified: null,
  params: { group: groupParams, durationMs: 30 * 86_400_000 }, plan: Array.from({ length: 21 }, (_, i) => printerStep(i, 'pending')),
};
const groupRequests: RequestRecord[] = [
  groupRequest,
  { ...groupRequest, state: 'executing', plan: groupRequest.plan.map((step, i) => (i < 10 ? { ...step, status: 'applied' as const } : step)) },
  { ...groupRequest, state: 'succeeded', verified: false, plan: groupRequest.plan.map((step, i) => (i < 3 ? { ...step, status: 'failed' as const, errorCode: 'TENANT_THROTTLED' } : { ...step, status: 'applied' as const })) },
  // Every write timed out, then the late check: some landed and were put back, one changed since, the rest never arrived.
  { ...groupRequest, state: 'failed', errorCode: 'TENANT_TIMEOUT', params: { ...groupRequest.params, lateWrite: 'checked' }, plan: groupRequest.plan.map((step, i) => ({
    ...step, status: 'failed' as const, errorCode: 'TENANT_TIMEOUT', writeErrorCode: 'TENANT_TIMEOUT', lateWrite: i < 5 ? 'undone' as const : i === 5 ? 'changed-since' as const : 'not-applied' as const })) },
  // Done in part with two writes cut off: before the late check, and after it found one landed.
  { ...groupRequest, state: 'succeeded', plan: groupRequest.plan.map((step, i) => (i < 2 ? { ...step, status: 'failed' as const, errorCode: 'TENANT_UNAVAILABLE', writeErrorCode: 'TENANT_UNAVAILABLE' } : { ...step, status: 'applied' as const })) },
  { ...groupRequest, state: 'succeeded', params: { ...groupRequest.params, lateWrite: 'checked' }, plan: groupRequest.plan.map((step, i) => (i === 0
    ? { ...step, status: 'failed' as const, errorCode: 'TENANT_UNAVAILABLE', writeErrorCode: 'TENANT_UNAVAILABLE', lateWrite: 'not-applied' as const }
    : i === 1 ? { ...step, status: 'applied' as const, writeErrorCode: 'TENANT_UNAVAILABLE', lateWrite: 'landed' as const } : { ...step, status: 'applied' as const })) },
  // Extend and End now on a group's reminder draft these two.
  // The late check gave up: the mailboxes it never read are unknown, on a request done in part and on a failed one.
  ...(['succeeded', 'failed'] as const).map((state) => ({ ...groupRequest, state, params: { ...groupRequest.params, lateWrite: 'gave-up' }, plan: groupRequest.plan.map((step, i) => (i < 2
    ? { ...step, status: 'failed' as const, errorCode: 'TENANT_TIMEOUT', writeErrorCode: 'TENANT_TIMEOUT', lateWrite: 'unknown' as const } : { ...step, status: state === 'failed' ? 'failed' as const : 'applied' as const })) })),
  { ...groupRequest, state: 'pending', params: { ...groupRequest.params, extendsGroupOf: 'r-0', extendsExceptions: {} } },
  { ...groupRequest, commandId: 'smtp-disable-group', state: 'pending', params: { group: groupParams, endsGroupOf: 'r-0', endsExceptions: [] } },
];
const bounce = parseBounce('535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.');

/** One or more renderings of each builder, for a translator. */
const samples: Record<string, (t: Translate) => AdaptiveCard[]> = {
  'builders.smtpStatusCard': (t) => [builders.smtpStatusCard(t, bob, evaluation)],
  'builders.requestCard': (t) => [builders.requestCard(t, { request, approvals: [] }, 'requester'), builders.requestCard(t, { request: { ...request, state: 'pending' }, approvals: [] }, 'approvers', undefined, { live: true }), builders.requestCard(t, { request: partlyApplied, approvals: [] }, 'requester'),
    builders.requestCard(t, { request: { ...request, state: 'failed', errorCode: 'TENANT_TIMEOUT', params: { ...request.params, lateWrite: 'gave-up' } }, approvals: [] }, 'requester'),
    ...groupRequests.map((r) => builders.requestCard(t, { request: r, approvals: [] }, 'requester')),
    ...['security-defaults-disable', 'security-defaults-enable', 'mfa-disable', 'mfa-enable', 'auth-policy-allow-smtp', 'auth-policy-reset'].map((commandId) => builders.requestCard(t, { request: { ...policyPlan, commandId, targetDisplayName: 'José Núñez' }, approvals: [] }, 'approvers', undefined, { live: true }))],
  'group.groupPickCard': (t) => [groupCards.groupPickCard(t, 'Print', [{ title: 'Printers (printers)', text: 'enable SMTP for group g1' }, { title: 'Printers Basement (printersbasement)', text: 'enable SMTP for group g2' }])],
  'group.groupAlreadySoCard': (t) => [groupCards.groupAlreadySoCard(t, 'smtp-enable-group', groupParams), groupCards.groupAlreadySoCard(t, 'smtp-disable-group', { ...groupParams, skipped: [] })],
  'builders.alreadySoCard': (t) => [builders.alreadySoCard(t, [
    { intent: { kind: 'mailbox-smtp-auth', target: bobMailbox, desired: true }, state: { ...state, mailboxSmtpClientAuthenticationDisabled: true } },
    { intent: { kind: 'org-smtp-auth', target: organization, desired: true }, state: { smtpClientAuthenticationDisabled: true } },
  ]), builders.alreadySoCard(t, [
    { intent: { kind: 'security-defaults', target: organization, desired: false }, state: { isEnabled: false, conditionalAccessPolicies: [] } },
    { intent: { kind: 'per-user-mfa', target: joseUser, desired: 'enabled' }, state: { perUserMfaState: 'enforced' } },
    { intent: { kind: 'authentication-policy', target: joseUser, desired: { allowBasicSmtp: true } }, state: authPolicies },
    { intent: { kind: 'authentication-policy', target: joseUser, desired: null }, state: { ...authPolicies, policy: null } },
  ])],
  'builders.messageCard': (t) => [
    builders.messageCard(t, t('errors.USER_NOT_FOUND', { query: 'zed' }), 'USER_NOT_FOUND'),
    builders.messageCard(t, t('errors.SECURITY_DEFAULTS_BLOCKED', { total: 2, message: 'Your organization is currently using Conditional Access policies…' }), 'SECURITY_DEFAULTS_BLOCKED'),
    builders.messageCard(t, t('errors.AUTH_POLICY_NONE_ALLOWS_SMTP', { command: 'New-AuthenticationPolicy -Name "Allow Basic SMTP" -AllowBasicAuthSmtp' }), 'AUTH_POLICY_NONE_ALLOWS_SMTP'),
  ],
  'builders.requesterNoticeCard': (t) => [builders.requesterNoticeCard(t, t('notify.approved', { name: 'Bob Smith', approver: 'Megan Bowen' }), request)],
  'builders.pickUserCard': (t) => [builders.pickUserCard(t, request.id, 'bob', [{ ...bob, id: 'u1' }, { id: 'u2', displayName: 'Bob Jones', userPrincipalName: 'bob.jones@contoso.com' }])],
  'builders.helpCard': (t) => [builders.helpCard(t, ['enable SMTP for bob'], t('errors.UNKNOWN_COMMAND'))],
  'builders.exceptionsCard': (t) => [
    builders.exceptionsCard(t, { managed: [exception], unmanaged: [{ userId: 'u3', upn: 'adelev@contoso.com', displayName: 'Adele Vance' }], reviewId: 'r1', orgSmtpEnabled: false } as unknown as builders.ExceptionsView),
    // For IT staff: End now on one exception, the other already being ended early.
    builders.exceptionsCard(t, { managed: [exception, { ...exception, id: 'e2', targetDisplayName: 'José Núñez' }], unmanaged: [], reviewId: null, orgSmtpEnabled: false, endIn: 'en', ending: { e2: 'Alex Wilber' } }),
  ],
  'builders.exceptionReminderCard': (t) => [builders.exceptionReminderCard(t, exception)],
  'builders.groupExceptionReminderCard': (t) => [
    builders.groupExceptionReminderCard(t, { request: { ...groupRequest, state: 'succeeded' }, exceptions: Array.from({ length: 20 }, (_, i) => ({ ...exception, id: `e${i}`, targetDisplayName: `Printer ${i}` })), expiresAt: at }),
    builders.groupExceptionReminderCard(t, { request: { ...groupRequest, state: 'succeeded' }, exceptions: [{ ...exception, approverNames: [], justification: '' }], expiresAt: at }),
    builders.groupExceptionReminderCard(t, { request: { ...groupRequest, state: 'succeeded' }, exceptions: [exception], expiresAt: at }, t('exceptions.group.decidedEnd', { by: 'Alex Wilber', name: 'Printers', count: 1 })),
  ],
  'diagnosis.diagnosisCard': (t) => [
    diagnosisCards.diagnosisCard(t, { diagnosis: diagnose(bob, evaluation, bounce, true), audience: 'it', offerFix: true }),
    diagnosisCards.diagnosisCard(t, { diagnosis: diagnose(bob, evaluation, undefined, false), audience: 'user', selfServiceId: 's1' }),
  ],
  'diagnosis.roleHelpCard': (t) => [diagnosisCards.roleHelpCard(t, 'user', [{ description: t('diagnosis.help.entries.diagnoseMe.description'), example: t('diagnosis.help.entries.diagnoseMe.example') }], t('errors.UNKNOWN_COMMAND'))],
  'diagnosis.welcomeCard': (t) => [
    diagnosisCards.welcomeCard(t, 'personal', { name: 'Bob Smith', roles: { itStaff: true, approver: true }, entries: [{ description: t('diagnosis.help.entries.paste.description'), example: t('diagnosis.help.entries.paste.example') }] }),
    diagnosisCards.welcomeCard(t, 'team', { name: 'Bob Smith', roles: { itStaff: false, approver: false }, entries: [] }),
  ],
  'nlu.didYouMeanCard': (t) => [nluCards.didYouMeanCard(t, ['enable SMTP for bob']), nluCards.didYouMeanCard(t, ['smtp status bob', 'enable SMTP for bob'], { text: t('errors.USER_NOT_FOUND', { query: 'bbo' }), code: 'USER_NOT_FOUND' })],
  'nlu.askTargetCard': (t) => [nluCards.askTargetCard(t, 'user', 'smtp status bob'), nluCards.askTargetCard(t, 'group', 'enable SMTP for group Scanners')],
  'nlu.undoWhichCard': (t) => [nluCards.undoWhichCard(t, [1, 2].map((n) => ({ requestId: `r${n}`, verb: verbs.undo, text: t('request.title.smtp-enable', { name: `Bob ${n}` }) })))],
  'org-status.orgStatusCard': (t) => [orgStatusCards.orgStatusCard(t, {
    status: {
      orgSmtpClientAuthenticationDisabled: true, securityDefaultsEnabled: false, conditionalAccessPolicyCount: 1,
      legacyAuthBlocks: [{ id: 'p1', displayName: 'Block legacy authentication', state: 'enabled', excludedGroups: 1, excludedUsers: 0 }],
      authenticationPolicies: [{ name: 'Block Basic Auth', allowBasicAuthSmtp: false, isDefault: true, assignedUsers: 0 }],
      defaultAuthenticationPolicy: 'Block Basic Auth', mailboxes: { on: 1, off: 2, inherit: 3 }, explicitlyOnUserIds: ['u1'],
    },
    exceptions: { active: 1, permanent: 1, endingSoon: 1, unmanaged: 1 },
  } as unknown as orgStatusCards.OrgStatusView)],
  'requests.requestsCard': (t) => {
    const pending: RequestRecord = { ...request, state: 'pending', createdAt: new Date(at.getTime() - 3 * 3_600_000) };
    const view = { now: at, language: 'en' as const, mineTotal: 12, awaitingTotal: 1, readerTeamsId: '29:megan' };
    return [
      requestsCards.requestsCard(t, { ...view, mine: [{ request: pending, approvals: [], verbs: [verbs.cancel] }, { request: { ...request, state: 'executing', createdAt: new Date(at.getTime() - 5 * 60_000) }, approvals: [], verbs: [] }],
        awaiting: [{ request: { ...pending, requesterName: 'Bob Smith', createdAt: new Date(at.getTime() - 3 * 86_400_000) }, approvals: [{ requestId: request.id, approverId: 'adele', approverName: 'Adele Vance', decision: 'approve', comment: null, at }], verbs: [verbs.approve, verbs.reject] }] },
      { text: t('requests.pressed.approve', { title: builders.requestTitle(t, request) }) }),
      requestsCards.requestsCard(t, { ...view, mine: [], mineTotal: 0, awaiting: [], awaitingTotal: 0 }, { text: t('errors.REQUEST_CLOSED', { state: t('request.state.approved') }), code: 'REQUEST_CLOSED' }),
      requestsCards.requestsCard(t, { ...view, mine: [], mineTotal: 0, awaiting: null, awaitingTotal: 0 }),
    ];
  },
};

test('every card builder in src/cards/ has a sample here', () => {
  const files = readdirSync(join(__dirname, '..', '..', 'src', 'cards')).filter((f) => f.endsWith('.ts') && f !== 'verbs.ts' && f !== 'card.ts').map((f) => f.replace(/\.ts$/, ''));
  expect(files.sort()).toEqual(Object.keys(modules).sort());
  const exported = Object.entries(modules).flatMap(([file, module]) => Object.entries(module).filter(([name, value]) => typeof value === 'function' && name.endsWith('Card')).map(([name]) => `${file}.${name}`));
  expect(exported.filter((name) => !samples[name])).toEqual([]);
});

function problems(card: AdaptiveCard): string[] {
  const parsed = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  parsed.parse(card, context);
  const found: string[] = [];
  for (let i = 0; i < context.eventCount; i++) found.push(context.getEventAt(i).message);
  found.push(...parsed.validateProperties().validationEvents.map((e) => e.message));
  const texts = JSON.stringify(card).match(/"(?:text|title|value)":"((?:[^"\\]|\\.)*)"/g) ?? [];
  // i18next answers a missing key with the key itself; an unfilled placeholder shows its braces.
  for (const text of texts) if (/":"[a-z][\w-]*(\.[\w-]+)+"$/.test(text) || text.includes('{{')) found.push(`untranslated: ${text}`);
  return found;
}

describe.each(languages)('in %s', (language) => {
  const t = translator(language);
  test.each(Object.keys(samples))('%s parses clean', (name) => {
    for (const card of samples[name]!(t)) expect(problems(card)).toEqual([]);
  });
});
