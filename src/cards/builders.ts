import type { Translate } from '../i18n';
import type { Approval, MailboxSmtpState, RequestRecord } from '../requests/model';
import { verbs, type Verb } from './verbs';

export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: string;
  version: string;
  body: Record<string, unknown>[];
  actions?: Record<string, unknown>[];
}

/** Teams renders Adaptive Cards up to 1.5; Action.Execute needs 1.4. */
function card(body: Record<string, unknown>[], actions: Record<string, unknown>[] = []): AdaptiveCard {
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.4',
    body,
    ...(actions.length ? { actions } : {}),
  };
}

const heading = (text: string) => ({ type: 'TextBlock', text, weight: 'Bolder', size: 'Medium', wrap: true });
const paragraph = (text: string, extra: Record<string, unknown> = {}) => ({ type: 'TextBlock', text, wrap: true, ...extra });
const reference = (t: Translate, code: string) => paragraph(t('card.ref', { code }), { size: 'Small', isSubtle: true, spacing: 'Medium' });
const facts = (pairs: [string, string][]) => ({ type: 'FactSet', facts: pairs.map(([title, value]) => ({ title, value })) });

/** A card action carries a verb and a request id only: the server loads the truth (DESIGN.md). */
function execute(title: string, verb: Verb, data: Record<string, string>, style?: 'positive' | 'destructive') {
  return { type: 'Action.Execute', title, verb, data: { verb, ...data }, ...(style ? { style } : {}) };
}

export interface UserView {
  displayName: string;
  userPrincipalName: string;
}

function stateFacts(t: Translate, state: MailboxSmtpState): [string, string][] {
  const mailbox = state.mailboxSmtpClientAuthenticationDisabled;
  return [
    [t('state.mailbox'), t(mailbox === null ? 'state.mailboxInherits' : mailbox ? 'state.disabled' : 'state.enabled', { value: String(mailbox) })],
    [t('state.org'), t(state.orgSmtpClientAuthenticationDisabled ? 'state.disabled' : 'state.enabled', { value: String(state.orgSmtpClientAuthenticationDisabled) })],
    [t('state.effective'), t(state.effectiveEnabled ? 'state.effectiveOn' : 'state.effectiveOff')],
  ];
}

export function smtpStatusCard(t: Translate, user: UserView, state: MailboxSmtpState): AdaptiveCard {
  return card([
    heading(t('status.title', { name: user.displayName })),
    paragraph(user.userPrincipalName, { isSubtle: true, spacing: 'None' }),
    facts(stateFacts(t, state)),
    reference(t, state.effectiveEnabled ? 'SMTP_AUTH_ENABLED' : state.mailboxSmtpClientAuthenticationDisabled ? 'SMTP_AUTH_DISABLED_MAILBOX' : 'SMTP_AUTH_DISABLED_TENANT'),
  ]);
}

export type CardAudience = 'requester' | 'approvers';

export interface RequestView {
  request: RequestRecord;
  approvals: Approval[];
}

/**
 * One builder for every copy of a request's card, so each copy tells the same story as the
 * request moves: the requester's copy confirms or cancels, the approvers' copy approves or rejects.
 */
export function requestCard(t: Translate, { request, approvals }: RequestView, audience: CardAudience, notice?: { text: string; code: string }): AdaptiveCard {
  const user: UserView = { displayName: request.targetDisplayName ?? '', userPrincipalName: request.targetUpn ?? '' };
  const body: Record<string, unknown>[] = [
    ...(notice ? [paragraph(notice.text, { color: 'Attention', weight: 'Bolder' }), reference(t, notice.code)] : []),
    heading(t(`request.title.${request.commandId}`, { name: user.displayName })),
    paragraph(user.userPrincipalName, { isSubtle: true, spacing: 'None' }),
  ];
  const approvedBy = approvals.filter((a) => a.decision === 'approve').map((a) => a.approverName);
  const rejectedBy = approvals.filter((a) => a.decision === 'reject').map((a) => a.approverName);
  const details: [string, string][] = [[t('request.requestedBy'), request.requesterName]];
  if (approvedBy.length) details.push([t('request.approvedBy'), approvedBy.join(', ')]);
  if (rejectedBy.length) details.push([t('request.rejectedBy'), rejectedBy.join(', ')]);
  details.push([t('request.status'), t(`request.state.${request.state}`)]);

  const durationMs = Number(request.params.durationMs ?? 0);
  if (request.state === 'succeeded' && request.after) {
    body.push(paragraph(t(request.verified ? 'request.doneVerified' : 'request.doneNotVerified'), { color: request.verified ? 'Good' : 'Warning', weight: 'Bolder' }));
    if (durationMs > 0) body.push(paragraph(t('request.revertsOn', { date: formatUtc(new Date(request.updatedAt.getTime() + durationMs)) })));
    body.push(facts([...stateFacts(t, request.after), ...details]));
  } else if (request.state === 'reverted') {
    body.push(paragraph(t('request.revertedNote'), { weight: 'Bolder' }));
    body.push(facts([...(request.after ? stateFacts(t, request.after) : []), ...details]));
  } else if (request.state === 'failed') {
    body.push(paragraph(t('request.failed', { code: request.errorCode ?? 'INTERNAL' }), { color: 'Attention', weight: 'Bolder' }));
    if (request.errorCode) body.push(paragraph(t(`errors.${request.errorCode}`, { service: '', operation: '', status: '' }), { isSubtle: true }));
    body.push(facts([...(request.after ? stateFacts(t, request.after) : request.before ? stateFacts(t, request.before) : []), ...details]));
  } else {
    if (request.before) body.push(paragraph(t('request.currentState'), { weight: 'Bolder', spacing: 'Medium' }), facts(stateFacts(t, request.before)));
    body.push(facts(details));
    if (durationMs > 0) body.push(paragraph(t('request.timeBoxed', { duration: formatDuration(t, durationMs) })));
    if (request.state === 'draft') body.push(paragraph(t('request.confirmPrompt', { count: request.requiredApprovals })));
    if (request.state === 'pending') body.push(paragraph(t('request.waiting', { count: request.requiredApprovals - approvedBy.length })));
  }
  body.push(reference(t, request.id));

  const data = { requestId: request.id };
  const actions: Record<string, unknown>[] = [];
  if (request.state === 'draft' && audience === 'requester') {
    actions.push(execute(t('action.confirm'), verbs.confirm, data, 'positive'), execute(t('action.cancel'), verbs.cancel, data));
  }
  if (request.state === 'pending' && audience === 'approvers') {
    actions.push(execute(t('action.approve'), verbs.approve, data, 'positive'), execute(t('action.reject'), verbs.reject, data, 'destructive'));
  }
  if (request.state === 'pending' && audience === 'requester') {
    actions.push(execute(t('action.cancelRequest'), verbs.cancel, data));
  }
  if (request.state === 'succeeded' && request.before) {
    actions.push(execute(t('action.undo'), verbs.undo, data));
  }
  return card(body, actions);
}

export function messageCard(t: Translate, text: string, code?: string): AdaptiveCard {
  return card([paragraph(text), ...(code ? [reference(t, code)] : [])]);
}

export function pickUserCard(t: Translate, requestId: string, query: string, candidates: (UserView & { id: string })[]): AdaptiveCard {
  return card(
    [heading(t('pick.title', { query })), paragraph(t('pick.prompt'))],
    candidates.map((c) => execute(`${c.displayName} (${c.userPrincipalName})`, verbs.pickUser, { requestId, userId: c.id })),
  );
}

export function helpCard(t: Translate, examples: string[], lead?: string): AdaptiveCard {
  return card([...(lead ? [paragraph(lead, { weight: 'Bolder' })] : []), heading(t('help.title')), paragraph(t('help.intro')), ...examples.map((e) => paragraph(`• ${e}`, { spacing: 'Small' }))]);
}

function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "7 days", "2 weeks", "36 hours": the largest unit that divides the duration (a single week reads as 7 days). */
export function formatDuration(t: Translate, ms: number): string {
  const hours = Math.round(ms / 3_600_000);
  if (hours % 168 === 0 && hours >= 336) return t('duration.weeks', { count: hours / 168 });
  if (hours % 24 === 0) return t('duration.days', { count: hours / 24 });
  return t('duration.hours', { count: hours });
}
