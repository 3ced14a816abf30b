import type { Language, Translate } from '../i18n';
import type { Approval, RequestRecord } from '../model/requests';
import { requestTitle, type AdaptiveCard } from './builders';
import { verbs, type Verb } from './verbs';

/** One request on the `requests` card, with the buttons the route table accepts from this reader now. */
export interface RequestListEntry {
  request: RequestRecord;
  approvals: Approval[];
  verbs: Verb[];
}

/** What `requests` shows a person: their open requests, and (for approvers) the ones waiting for them. */
export interface RequestsView {
  mine: RequestListEntry[];
  /** How many open requests of theirs there are in all (the card lists the newest few). */
  mineTotal: number;
  /** null when the reader approves nothing: the section is not shown at all. */
  awaiting: RequestListEntry[] | null;
  awaitingTotal: number;
  now: Date;
  /** The language the list was asked for in: its buttons bring it back in the same one. */
  language: Language;
  /** The reader's Teams id: Teams asks for their list again, as it is then, each time they see the card (`refresh.userIds`). */
  readerTeamsId: string;
}

/** How many entries of each list one card shows (Teams cards stay well under 28 KB). */
export const requestsCardLimit = 10;

const text = (value: string, extra: Record<string, unknown> = {}) => ({ type: 'TextBlock', text: value, wrap: true, ...extra });

const buttonTitle: Partial<Record<Verb, string>> = { [verbs.cancel]: 'action.cancelRequest', [verbs.approve]: 'action.approve', [verbs.reject]: 'action.reject' };
const buttonStyle: Partial<Record<Verb, string>> = { [verbs.approve]: 'positive', [verbs.reject]: 'destructive' };

/** "just now", "5 minutes ago", "3 hours ago", "2 days ago": from when the request was made. */
export function requestAge(t: Translate, createdAt: Date, now: Date): string {
  const minutes = Math.floor((now.getTime() - createdAt.getTime()) / 60_000);
  if (minutes < 1) return t('requests.age.justNow');
  if (minutes < 60) return t('requests.age.minutes', { count: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return t('requests.age.hours', { count: hours });
  return t('requests.age.days', { count: Math.floor(hours / 24) });
}

function entry(t: Translate, view: RequestsView, { request, approvals, verbs: live }: RequestListEntry, waitingForReader: boolean): Record<string, unknown> {
  const approved = approvals.filter((a) => a.decision === 'approve').length;
  const facts: [string, string][] = [
    [t('request.status'), t(`request.state.${request.state}`)],
    [t('requests.asked'), requestAge(t, request.createdAt, view.now)],
  ];
  if (waitingForReader) facts.unshift([t('request.requestedBy'), request.requesterName]);
  if (request.state === 'pending') facts.push([t('requests.approvals'), t('requests.approvalsCount', { approved, required: request.requiredApprovals })]);
  const justification = typeof request.params.justification === 'string' ? request.params.justification : '';
  if (justification) facts.push([t('exceptions.justification'), justification]);
  const data = { requestId: request.id, view: 'requests', language: view.language };
  const items: Record<string, unknown>[] = [
    text(requestTitle(t, request), { weight: 'Bolder' }),
    ...(request.targetUpn ? [text(request.targetUpn, { isSubtle: true, spacing: 'None' })] : []),
    { type: 'FactSet', facts: facts.map(([title, value]) => ({ title, value })) },
    text(t('card.ref', { code: request.id }), { size: 'Small', isSubtle: true, spacing: 'Small' }),
  ];
  // Each reject carries its own reason: Action.Execute sends every input, so the ids tell them apart.
  if (live.includes(verbs.reject)) items.push({ type: 'Input.Text', id: `comment:${request.id}`, label: t('request.rejectCommentLabel'), placeholder: t('request.rejectCommentPlaceholder'), maxLength: 500, isMultiline: false });
  if (live.length) {
    items.push({
      type: 'ActionSet',
      actions: live.map((verb) => ({ type: 'Action.Execute', title: t(buttonTitle[verb] ?? 'action.refresh'), verb, data: { verb, ...data }, ...(buttonStyle[verb] ? { style: buttonStyle[verb] } : {}) })),
    });
  }
  return { type: 'Container', separator: true, spacing: 'Medium', items };
}

/** `requests`: my open requests (Cancel where still mine to cancel) and those waiting for my approval (Approve / Reject). */
export function requestsCard(t: Translate, view: RequestsView, notice?: { text: string; code?: string }): AdaptiveCard {
  const body: Record<string, unknown>[] = [
    // After a press: what it did, or (with a code) why it was refused.
    ...(notice ? [text(notice.text, { color: notice.code ? 'Attention' : 'Good', weight: 'Bolder' })] : []),
    ...(notice?.code ? [text(t('card.ref', { code: notice.code }), { size: 'Small', isSubtle: true, spacing: 'None' })] : []),
    text(t('requests.title'), { weight: 'Bolder', size: 'Medium' }),
    text(t('requests.mineHeading', { count: view.mineTotal }), { weight: 'Bolder', spacing: 'Large' }),
  ];
  if (view.mine.length === 0) body.push(text(t('requests.noneMine'), { isSubtle: true }));
  body.push(...view.mine.map((e) => entry(t, view, e, false)));
  if (view.mineTotal > view.mine.length) body.push(text(t('requests.more', { count: view.mineTotal - view.mine.length }), { isSubtle: true }));
  if (view.awaiting) {
    body.push(text(t('requests.awaitingHeading', { count: view.awaitingTotal }), { weight: 'Bolder', spacing: 'Large' }));
    if (view.awaiting.length === 0) body.push(text(t('requests.noneAwaiting'), { isSubtle: true }));
    body.push(...view.awaiting.map((e) => entry(t, view, e, true)));
    if (view.awaitingTotal > view.awaiting.length) body.push(text(t('requests.more', { count: view.awaitingTotal - view.awaiting.length }), { isSubtle: true }));
  }
  return { type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.4', body, refresh: requestsRefresh(t, view.language, view.readerTeamsId) };
}

/**
 * The list is a snapshot of requests that keep moving: Universal Actions' `refresh` has Teams ask for
 * it again each time the reader (in `userIds`) sees the card, so an old list shows each request as it is now.
 */
export function requestsRefresh(t: Translate, language: Language, readerTeamsId: string): NonNullable<AdaptiveCard['refresh']> {
  return {
    action: { type: 'Action.Execute', title: t('action.refresh'), verb: verbs.requestsRefresh, data: { verb: verbs.requestsRefresh, view: 'requests', language } },
    userIds: [readerTeamsId],
  };
}
