import { groupOf } from '../domain/group-change';
import { messageCard, requestCard, requesterNoticeCard, type CardAudience } from '../cards/builders';
import type { ConversationMember } from '../ports/notifier';
import { grantsException, turnsMailboxOff } from '../exceptions/decisions';
import { translator, type Language } from '../i18n';
import { formatMoment } from '../i18n/format';
import { mailboxSmtpAuth } from '../steps/mailbox-smtp-auth';
import { blockersBeyondMailboxSetting, type Finding } from '../tenant';
import { approvalsConversation } from '../store/approvals-conversation';
import { errorSummary, type LifecycleDeps, type RequestLifecycle } from './lifecycle';
import type { ConversationRef, RequestRecord } from '../model/requests';

/** What notification needs: the lifecycle's dependencies without ids or bulk options (it creates nothing, runs nothing). */
export type NotificationDeps = Pick<LifecycleDeps, 'config' | 'store' | 'tenant' | 'notifier' | 'logger' | 'now'>;

export type RequesterEvent = 'approved' | 'rejected' | 'succeeded' | 'failed' | 'expired' | 'reverted' | 'verified' | 'late-checked' | 'late-unchecked';

/**
 * What people see of a request: its card for each audience, every posted copy kept up to date, the
 * approval card, the requester's notices, and the reminder and expiry jobs that tell.
 */
export class RequestNotification {
  constructor(private readonly deps: NotificationDeps, private readonly lifecycle: RequestLifecycle) {}

  /**
   * The card for one audience. The approvers' copy shows status to every viewer; Teams refreshes it
   * automatically for the users in `refresh.userIds`, and `live` is that answer for an approver.
   */
  async cardFor(request: RequestRecord, audience: CardAudience, language: Language, notice?: { text: string; code: string }, live = false, conversation?: ConversationRef) {
    const approvals = await this.deps.store.approvals(request.id);
    const refreshUserIds = audience === 'approvers' && request.state === 'pending' && !live
      ? await this.approverIdsFor(request, conversation ?? (await approvalsConversation(this.deps.store, request)))
      : undefined;
    // A draft or pending change that will turn the mailbox's SMTP AUTH off says its exception ends.
    const active = request.targetUserId && (request.state === 'draft' || request.state === 'pending') && !grantsException(request)
      ? await this.deps.store.activeExceptionFor(request.targetUserId) : undefined;
    const endsException = active && turnsMailboxOff(request, active.targetUserId) ? active : undefined;
    return requestCard(translator(language), { request, approvals, blockersLeft: blockersLeftByChange(request), endsException }, audience, notice, { live, refreshUserIds });
  }

  private approverCache?: { at: number; ids: Set<string> };
  private readonly rosterCache = new Map<string, { at: number; members: ConversationMember[] }>();

  /**
   * Who gets live Approve/Reject buttons: the members of the card's conversation who are in the
   * approver group (enabled) and are not the requester, by the Teams id `refresh.userIds` takes.
   * Teams honours at most 60; beyond that, or when the roster or the group cannot be read (null),
   * every viewer gets the buttons and the server still refuses anyone who is not an approver.
   */
  private async approverIdsFor(request: RequestRecord, conversation: ConversationRef): Promise<string[] | null> {
    if (this.deps.config.APPROVAL_CARD_VIEW === 'shared') return null;
    const now = this.deps.now().getTime();
    try {
      if (!this.approverCache || now - this.approverCache.at > 60_000) {
        const approvers = await this.deps.tenant.directory.groupUsers(this.deps.config.APPROVER_GROUP_ID);
        this.approverCache = { at: now, ids: new Set(approvers.filter((u) => u.accountEnabled).map((u) => u.id)) };
      }
      const key = JSON.stringify(conversation.conversation ?? conversation);
      let roster = this.rosterCache.get(key);
      if (!roster || now - roster.at > 60_000) {
        roster = { at: now, members: await this.deps.notifier.members(conversation) };
        this.rosterCache.set(key, roster);
      }
      const approverIds = this.approverCache.ids;
      const ids = roster.members.filter((m) => m.aadObjectId && m.aadObjectId !== request.requesterId && approverIds.has(m.aadObjectId)).map((m) => m.id);
      return ids.length <= 60 ? ids : null;
    } catch (error) {
      this.deps.logger.warn({ err: errorSummary(error), requestId: request.id }, 'could not tell the approvers in the conversation apart; the approval card shows its buttons to every viewer');
      return null;
    }
  }

  /** Updates every posted copy of the request's card, each in the language it was posted in. */
  async refreshCards(requestId: string): Promise<void> {
    const request = await this.deps.store.getRequest(requestId);
    if (!request) return;
    for (const post of await this.deps.store.cardPosts(requestId)) {
      // A group's exception reminder is the register's card, closed by the register when someone decides.
      if (post.audience === 'group-reminder') continue;
      try {
        await this.deps.notifier.update(post.conversation, post.activityId, await this.cardFor(request, post.audience, post.language, undefined, false, post.conversation));
      } catch (error) {
        this.deps.logger.warn({ err: errorSummary(error), requestId, activityId: post.activityId }, 'could not update a posted card');
      }
    }
  }

  /** Posts the approvers' copy of the card to the approvals conversation, or the requester's when none is set. */
  async postApprovalCard(request: RequestRecord): Promise<void> {
    const conversation = await approvalsConversation(this.deps.store, request);
    const card = await this.cardFor(request, 'approvers', request.language, undefined, false, conversation);
    const activityId = await this.deps.notifier.send(conversation, card);
    if (activityId) {
      await this.deps.store.addCardPost({ requestId: request.id, activityId, conversation, audience: 'approvers', language: request.language });
    }
  }

  /**
   * Tells the requester, in their own chat, what happened. Teams answers 403 when the app is no
   * longer installed for them: that is logged, never a crash.
   */
  async notifyRequester(request: RequestRecord, event: RequesterEvent): Promise<void> {
    const t = translator(request.language);
    const key = event === 'succeeded' && request.verified === false ? 'notify.succeededUnverified' : event === 'late-checked' ? 'notify.lateChecked' : event === 'late-unchecked' ? 'notify.lateUnchecked' : `notify.${event}`;
    // A group change done in part says how far it got: its card lists the failed mailboxes, with Retry.
    const failed = event === 'succeeded' && groupOf(request) ? request.plan.filter((step) => step.status === 'failed').length : 0;
    const text = failed
      ? t('group.notifyPartlyDone', { name: request.targetDisplayName ?? '', applied: request.plan.length - failed, total: request.plan.length, count: failed })
      : t(key, { name: request.targetDisplayName ?? t('steps.theOrganization'), code: request.errorCode ?? '' });
    try {
      const rejections = event === 'rejected' ? (await this.deps.store.approvals(request.id)).filter((a) => a.decision === 'reject') : [];
      await this.deps.notifier.send(request.conversation, requesterNoticeCard(t, text, request, rejections));
    } catch (error) {
      this.deps.logger.warn({ err: errorSummary(error), requestId: request.id, event }, 'could not notify the requester');
      await this.lifecycle.audit(request.id, null, 'notify.failed', { event, reason: errorSummary(error) });
    }
  }

  /** Expiry job: an unanswered request closes; its cards say so; the requester hears of it. */
  async expire(requestId: string): Promise<void> {
    const request = await this.deps.store.getRequest(requestId);
    if (!request || (request.state !== 'draft' && request.state !== 'pending')) return;
    const expired = await this.lifecycle.move(request, 'expired', null);
    if (!expired) return;
    await this.refreshCards(requestId);
    if (request.state === 'pending') await this.notifyRequester(expired, 'expired');
  }

  /** Reminder job: approvers are told a pending request is about to expire. */
  async remind(requestId: string): Promise<void> {
    const request = await this.deps.store.getRequest(requestId);
    if (request?.state !== 'pending') return;
    const t = translator(request.language);
    const text = t('notify.reminder', { name: request.targetDisplayName ?? t('steps.theOrganization'), requester: request.requesterName, expires: formatMoment(t, request.expiresAt) });
    await this.deps.notifier.send(await approvalsConversation(this.deps.store, request), messageCard(t, text, request.id));
    await this.lifecycle.audit(request.id, null, 'request.reminded', { expiresAt: request.expiresAt.toISOString() });
  }
}

/**
 * What the draft's evaluation said about the layers this change does not touch: undefined when
 * there is nothing to say (a row from before the evaluation, or a change that leaves SMTP AUTH off
 * anyway), null when those layers could not be read, otherwise the blockers that will remain.
 */
function blockersLeftByChange(request: RequestRecord): Finding[] | null | undefined {
  const evaluation = request.before?.evaluation;
  const mailboxStep = request.plan.find((step) => step.kind === mailboxSmtpAuth.id && step.target.id === request.targetUserId);
  if (!request.before || evaluation === undefined) return undefined;
  // Only a change after which the mailbox setting allows SMTP AUTH can be defeated by another layer.
  const desired = mailboxStep ? (mailboxStep.desired as boolean | null) : request.before.mailboxSmtpClientAuthenticationDisabled;
  if (!grantsException(request) && !mailboxStep) return undefined;
  if (desired ?? request.before.orgSmtpClientAuthenticationDisabled) return undefined;
  return evaluation === null ? null : blockersBeyondMailboxSetting(evaluation.blockers);
}
