import { exceptionReminderCard, exceptionsCardLimit, groupExceptionReminderCard, type ExceptionsView } from '../cards/builders';
import { groupOf } from '../domain/group-change';
import type { Config } from '../config';
import type { Notifier } from '../ports/notifier';
import { AppError, toAppError } from '../errors';
import { translator, type Translate } from '../i18n';
import { approvalsConversation } from '../store/approvals-conversation';
import type { ExceptionRecord, RequestRecord, UnmanagedMailbox } from '../model/requests';
import type { Store } from '../store/store';
import type { Tenant } from '../tenant';
import type { MailboxSmtpState } from '../model/requests';
import { mailboxSmtpAuth } from '../steps/mailbox-smtp-auth';
import { extendedGroupOf, grantsException, perMailbox, reminderAt, restoreValueOf, turnsMailboxOff } from './decisions';

export interface ExceptionsDeps {
  config: Config;
  store: Store;
  tenant: Tenant;
  notifier: Notifier;
  now: () => Date;
  newId: () => string;
}

const reviewIdPattern = /^[A-Za-z0-9-]{8,64}$/;

/**
 * The SMTP AUTH exceptions register: who has SMTP AUTH on as an accountable exception, asked by
 * whom, why and until when. It follows every successful change, reminds approvers before an end,
 * lapses with the revert, and lists itself for the `exceptions` command. It never writes to the
 * tenant: the request that governs an exception does (src/requests/execution.ts).
 */
export class ExceptionsRegister {
  constructor(private readonly deps: ExceptionsDeps) {}

  private audit(requestId: string | null, actorId: string | null, action: string, detail: Record<string, unknown>): Promise<void> {
    return this.deps.store.appendAudit({ at: this.deps.now(), requestId, actorId, action, detail });
  }

  /**
   * The register follows every successful change: an enable records an exception (or extends the
   * mailbox's active one, or adopts a mailbox that was already on); a disable or reset ends it. The
   * register's expiry is the request's revert job; its reminder is scheduled here.
   */
  async record(request: RequestRecord): Promise<void> {
    if (perMailbox(request)) return this.recordPerMailbox(request);
    if (!request.targetUserId || !request.targetUpn) return;
    const store = this.deps.store;
    const now = this.deps.now();
    const active = await store.activeExceptionFor(request.targetUserId);
    if (!grantsException(request)) {
      // Only a change that turned this mailbox's SMTP AUTH off ends its exception (an MFA or policy
      // change, or a reset that still inherits "on", leaves it in place).
      if (active && turnsMailboxOff(request, active.targetUserId)) await this.end(request, active);
      return;
    }
    if (active?.requestId === request.id) return;
    const durationMs = Number(request.params.durationMs ?? 0);
    const expiresAt = durationMs > 0 ? new Date(now.getTime() + durationMs) : null;
    const approverNames = (await store.approvals(request.id)).filter((a) => a.decision === 'approve').map((a) => a.approverName);
    const justification = typeof request.params.justification === 'string' ? request.params.justification : '';
    if (active) {
      const extended = await store.extendException(active.id, active.requestId, { requestId: request.id, requesterId: request.requesterId, requesterName: request.requesterName, approverNames, justification: justification || active.justification, expiresAt }, now);
      if (!extended) return;
      await this.released(active.requestId);
      await this.audit(request.id, null, 'exception.extended', {
        exceptionId: active.id, target: active.targetUpn, from: active.expiresAt?.toISOString() ?? null, to: expiresAt?.toISOString() ?? null, approvers: approverNames,
      });
    } else {
      const before = request.before;
      // An extension approved after its exception lapsed renews it: what it restores to, and whether
      // it was adopted, come from the lapsed row, not from the mailbox it found on while pending.
      const renewed = typeof request.params.extendsException === 'string' ? await store.getException(request.params.extendsException) : undefined;
      const adopted = renewed ? renewed.adopted : request.params.adopt === true || before?.mailboxSmtpClientAuthenticationDisabled === false;
      const exception: ExceptionRecord = {
        id: this.deps.newId(), tenantId: request.tenantId, targetUserId: request.targetUserId, targetUpn: request.targetUpn,
        targetDisplayName: request.targetDisplayName ?? request.targetUpn, requestId: request.id, originRequestId: renewed?.originRequestId ?? request.id,
        requesterId: request.requesterId, requesterName: request.requesterName, approverNames, justification, expiresAt,
        restoreValue: renewed ? renewed.restoreValue : restoreValueOf(before),
        adopted, state: 'active', createdAt: now, updatedAt: now,
      };
      if (!(await store.insertException(exception))) return;
      await this.audit(request.id, null, renewed ? 'exception.renewed' : adopted ? 'exception.adopted' : 'exception.created', {
        ...(renewed ? { renews: renewed.id } : {}),
        exceptionId: exception.id, target: exception.targetUpn, justification, expiresAt: expiresAt?.toISOString() ?? null, approvers: approverNames, permanent: expiresAt === null,
      });
    }
    const remindAt = reminderAt(expiresAt, durationMs, this.deps.config.EXCEPTION_REMINDER_DAYS);
    if (remindAt) await store.scheduleJob({ id: this.deps.newId(), kind: 'exception.remind', requestId: request.id, runAt: remindAt });
  }

  /**
   * Ends an exception whose mailbox is already off without SMTP Gate (changed by hand, or by a script):
   * nothing is written, the register catches up, audited under the governing request with who saw it.
   */
  async endAlreadyOff(active: ExceptionRecord, actorId: string, actorName: string): Promise<boolean> {
    if (!(await this.deps.store.closeException(active.id, active.requestId, 'ended', this.deps.now()))) return false;
    await this.released(active.requestId);
    await this.audit(active.requestId, actorId, 'exception.ended', { exceptionId: active.id, target: active.targetUpn, by: actorName, reason: 'already-off' });
    return true;
  }

  /** Ends a mailbox's exception because `request` turned its SMTP AUTH off: closed, audited, its governing request released. */
  private async end(request: RequestRecord, active: ExceptionRecord, release = true): Promise<boolean> {
    if (!(await this.deps.store.closeException(active.id, active.requestId, 'ended', this.deps.now()))) return false;
    if (release) await this.released(active.requestId);
    await this.audit(request.id, null, 'exception.ended', { exceptionId: active.id, target: active.targetUpn, by: request.commandId });
    return true;
  }

  /**
   * A request no longer governs one of its exceptions (ended, or extended by a later request): once
   * it governs none, its revert and reminder are cancelled. A group change keeps them while any of
   * its mailboxes' exceptions is still its own.
   */
  private async released(requestId: string): Promise<void> {
    const request = await this.deps.store.getRequest(requestId);
    const stillGoverns = request && perMailbox(request) && (await this.deps.store.activeExceptions(request.tenantId)).some((e) => e.requestId === requestId);
    if (!stillGoverns) await this.deps.store.cancelJobs(requestId, ['request.revert', 'exception.remind']);
  }

  /**
   * The register after a change of several mailboxes (a group change, its undo, a retry of its failed
   * mailboxes), each mailbox on its own: an enable records an exception for every mailbox it turned
   * on (or extends the one it had), all with the request's justification, approvers and end; a
   * change that turned mailboxes off ends theirs. Recording twice changes nothing.
   */
  private async recordPerMailbox(request: RequestRecord): Promise<void> {
    const store = this.deps.store;
    const now = this.deps.now();
    const applied = request.plan.filter((step) => step.kind === mailboxSmtpAuth.id && step.status === 'applied');
    if (!grantsException(request)) {
      // Each governing request is released once, after all of its mailboxes are looked at.
      const governing = new Set<string>();
      for (const step of applied) {
        const active = await store.activeExceptionFor(step.target.id);
        if (active && turnsMailboxOff(request, step.target.id) && (await this.end(request, active, false))) governing.add(active.requestId);
      }
      for (const requestId of governing) await this.released(requestId);
      return;
    }
    const own = (await store.activeExceptions(request.tenantId)).filter((e) => e.requestId === request.id);
    const governed = new Set(own.map((e) => e.targetUserId));
    const durationMs = Number(request.params.durationMs ?? 0);
    // Mailboxes applied later (a retry) end with the others: one request, one end date.
    const expiresAt = own[0]?.expiresAt ?? (durationMs > 0 ? new Date(now.getTime() + durationMs) : null);
    const approverNames = (await store.approvals(request.id)).filter((a) => a.decision === 'approve').map((a) => a.approverName);
    const justification = typeof request.params.justification === 'string' ? request.params.justification : '';
    const group = request.params.group as { id?: string; displayName?: string } | undefined;
    // Extend on a group's reminder: only the exceptions that group change still governs are taken over.
    const extending = extendedGroupOf(request);
    const listed = (request.params.extendsExceptions ?? {}) as Record<string, string>;
    for (const step of applied) {
      if (governed.has(step.target.id) || (step.after && (step.after as MailboxSmtpState).mailboxSmtpClientAuthenticationDisabled !== false)) continue;
      const active = await store.activeExceptionFor(step.target.id);
      if (active && extending && active.requestId !== extending) continue;
      if (active) {
        const extended = await store.extendException(active.id, active.requestId, { requestId: request.id, requesterId: request.requesterId, requesterName: request.requesterName, approverNames, justification: justification || active.justification, expiresAt }, now);
        if (!extended) continue;
        await this.released(active.requestId);
        await this.audit(request.id, null, 'exception.extended', { exceptionId: active.id, target: active.targetUpn, from: active.expiresAt?.toISOString() ?? null, to: expiresAt?.toISOString() ?? null, approvers: approverNames, group: group?.displayName ?? null });
        continue;
      }
      // An extension that did not write this mailbox (it was on) and finds no exception any more:
      // it was ended early meanwhile, and is not brought back.
      const written = (step.before as MailboxSmtpState | null)?.mailboxSmtpClientAuthenticationDisabled !== false;
      if (extending && !written) continue;
      // Approved after the group's exceptions lapsed: each is renewed with what it restores to.
      const renewed = extending && listed[step.target.id] ? await store.getException(listed[step.target.id]!) : undefined;
      const exception: ExceptionRecord = {
        id: this.deps.newId(), tenantId: request.tenantId, targetUserId: step.target.id, targetUpn: step.target.identity, targetDisplayName: step.target.displayName,
        requestId: request.id, originRequestId: renewed?.originRequestId ?? request.id, requesterId: request.requesterId, requesterName: request.requesterName, approverNames, justification, expiresAt,
        restoreValue: renewed ? renewed.restoreValue : restoreValueOf(step.before as MailboxSmtpState | null), adopted: renewed?.adopted ?? false, state: 'active', createdAt: now, updatedAt: now,
      };
      if (!(await store.insertException(exception))) continue;
      await this.audit(request.id, null, renewed ? 'exception.renewed' : 'exception.created', {
        ...(renewed ? { renews: renewed.id } : {}),
        exceptionId: exception.id, target: exception.targetUpn, justification, expiresAt: expiresAt?.toISOString() ?? null, approvers: approverNames, permanent: expiresAt === null, group: group?.displayName ?? null,
      });
    }
    // One reminder for the group's exceptions, not one per mailbox; recorded twice (a retry), still one.
    const remindAt = reminderAt(expiresAt, durationMs, this.deps.config.EXCEPTION_REMINDER_DAYS);
    if (remindAt && (await store.activeExceptions(request.tenantId)).some((e) => e.requestId === request.id)) {
      await store.scheduleJob({ id: this.deps.newId(), kind: 'exception.remind', requestId: request.id, runAt: remindAt });
    }
  }

  /**
   * The active exception an enable request governs; 'superseded' when another request governs the
   * mailbox's exception now, or this request's exception was extended, ended or has lapsed; undefined
   * when no exception ever named this request (an enable from before the register, or one whose
   * exception row was never written), so its revert falls back to the value before the change.
   */
  async governedBy(request: RequestRecord): Promise<ExceptionRecord | 'superseded' | undefined> {
    if (!grantsException(request) || !request.targetUserId) return undefined;
    const active = await this.deps.store.activeExceptionFor(request.targetUserId);
    if (active) return active.requestId === request.id ? active : 'superseded';
    return (await this.deps.store.exceptionNamesRequest(request.id)) ? 'superseded' : undefined;
  }

  /**
   * The active exception a reminder's request governs, or EXCEPTION_NOT_ACTIVE (extended, ended or
   * lapsed since). A group change governs one per mailbox: the button names which (`exceptionId`).
   */
  async activeGovernedBy(request: RequestRecord, exceptionId?: unknown): Promise<ExceptionRecord> {
    if (perMailbox(request)) {
      const named = typeof exceptionId === 'string' && reviewIdPattern.test(exceptionId) ? await this.deps.store.getException(exceptionId) : undefined;
      if (!grantsException(request) || request.state !== 'succeeded' || named?.state !== 'active' || named.requestId !== request.id) throw new AppError('EXCEPTION_NOT_ACTIVE');
      return named;
    }
    const exception = request.targetUserId ? await this.deps.store.activeExceptionFor(request.targetUserId) : undefined;
    if (!grantsException(request) || request.state !== 'succeeded' || !exception || exception.requestId !== request.id) throw new AppError('EXCEPTION_NOT_ACTIVE');
    return exception;
  }

  /** The extension already asked for (open) of this exception, so a second "Extend" points at it. */
  openExtensionOf(exception: ExceptionRecord): Promise<RequestRecord | undefined> {
    return this.deps.store.openExtensionOf(exception.id);
  }

  /** "Let it lapse" on a reminder: recorded, nothing else changes (the revert job ends it on time). */
  async chooseLapse(request: RequestRecord, actorId: string, actorName: string): Promise<ExceptionRecord> {
    const exception = await this.activeGovernedBy(request);
    await this.audit(request.id, actorId, 'exception.lapse-chosen', { exceptionId: exception.id, target: exception.targetUpn, by: actorName, expiresAt: exception.expiresAt?.toISOString() ?? null });
    return exception;
  }

  /** The exception lapsed with its request's revert: closed in the register and audited. */
  async lapse(request: RequestRecord, exception: ExceptionRecord): Promise<void> {
    if (await this.deps.store.closeException(exception.id, exception.requestId, 'lapsed', this.deps.now())) {
      await this.audit(request.id, null, 'exception.lapsed', { exceptionId: exception.id, target: exception.targetUpn, expiresAt: exception.expiresAt?.toISOString() ?? null, restoredTo: exception.restoreValue });
    }
  }

  /**
   * The exceptions a group change still governs (its mailboxes not ended, extended by another request
   * or lapsed since), or GROUP_EXCEPTIONS_NOT_ACTIVE: what a group reminder's buttons act on.
   */
  async groupExceptions(request: RequestRecord): Promise<ExceptionRecord[]> {
    const governed = grantsException(request) && perMailbox(request) && request.state === 'succeeded'
      ? (await this.deps.store.activeExceptions(request.tenantId)).filter((e) => e.requestId === request.id) : [];
    if (governed.length === 0) throw new AppError('GROUP_EXCEPTIONS_NOT_ACTIVE');
    return governed;
  }

  /** "Let them lapse" on a group's reminder: recorded once for the group; the revert job ends each on time. */
  async chooseGroupLapse(request: RequestRecord, actorId: string, actorName: string): Promise<ExceptionRecord[]> {
    const governed = await this.groupExceptions(request);
    await this.audit(request.id, actorId, 'exception.lapse-chosen', { group: groupOf(request)?.displayName ?? null, exceptions: governed.length, by: actorName, expiresAt: governed[0]!.expiresAt?.toISOString() ?? null });
    return governed;
  }

  /**
   * Reminder job of a group change's exceptions: one card for the group, however many mailboxes,
   * to the approvals conversation and to the requester's, with how many will lapse and when.
   */
  private async remindGroup(request: RequestRecord): Promise<void> {
    const governed = grantsException(request) ? (await this.deps.store.activeExceptions(request.tenantId)).filter((e) => e.requestId === request.id) : [];
    const expiresAt = governed.find((e) => e.expiresAt)?.expiresAt;
    if (!governed.length || !expiresAt) return;
    const t = translator(request.language);
    const card = groupExceptionReminderCard(t, { request, exceptions: governed, expiresAt });
    const approvals = await approvalsConversation(this.deps.store, request);
    // Every copy is tracked, so a decision taken on one closes the buttons of all of them.
    const track = async (conversation: typeof approvals, activityId: string | undefined) => {
      if (activityId) await this.deps.store.addCardPost({ requestId: request.id, activityId, conversation, audience: 'group-reminder', language: request.language });
    };
    await track(approvals, await this.deps.notifier.send(approvals, card));
    if (conversationKey(approvals) !== conversationKey(request.conversation)) {
      try {
        await track(request.conversation, await this.deps.notifier.send(request.conversation, card));
      } catch (error) {
        // Teams refuses a chat the app was removed from: the approvers have the card all the same.
        await this.audit(request.id, null, 'notify.failed', { event: 'exception-reminder', reason: error instanceof Error ? error.message.slice(0, 200) : String(error) });
      }
    }
    await this.audit(request.id, null, 'exception.reminded', { group: groupOf(request)?.displayName ?? null, exceptions: governed.length, expiresAt: expiresAt.toISOString() });
  }

  /**
   * Someone decided on a group's reminder (Extend all, Let them lapse, End all now): every posted
   * copy, each in its own language, shows what was decided and by whom, with no buttons left.
   * `exceptions` are the ones the reminder was about when it was pressed.
   */
  async closeGroupReminders(request: RequestRecord, exceptions: ExceptionRecord[], decided: (t: Translate) => string): Promise<void> {
    const expiresAt = exceptions.find((e) => e.expiresAt)?.expiresAt;
    if (!exceptions.length || !expiresAt) return;
    for (const post of await this.deps.store.cardPosts(request.id)) {
      if (post.audience !== 'group-reminder') continue;
      const t = translator(post.language);
      try {
        await this.deps.notifier.update(post.conversation, post.activityId, groupExceptionReminderCard(t, { request, exceptions, expiresAt }, decided(t)));
      } catch (error) {
        // A copy Teams refuses (the app removed from that chat) keeps its buttons; the server refuses them anyway.
        await this.audit(request.id, null, 'notify.failed', { event: 'exception-reminder-decided', reason: error instanceof Error ? error.message.slice(0, 200) : String(error) });
      }
    }
  }

  /** Reminder job of an exception: approvers are asked to extend it or let it lapse. */
  async remind(requestId: string): Promise<void> {
    const request = await this.deps.store.getRequest(requestId);
    if (request?.state !== 'succeeded') return;
    if (perMailbox(request)) return this.remindGroup(request);
    const exception = await this.governedBy(request);
    if (!exception || exception === 'superseded' || !exception.expiresAt) return;
    const t = translator(request.language);
    await this.deps.notifier.send(await approvalsConversation(this.deps.store, request), exceptionReminderCard(t, exception));
    await this.audit(request.id, null, 'exception.reminded', { exceptionId: exception.id, target: exception.targetUpn, expiresAt: exception.expiresAt.toISOString() });
  }

  /**
   * The register for `exceptions`: active exceptions, and mailboxes on by their own setting without
   * one, saved as a review the card's Adopt / Disable buttons refer to by item number.
   */
  async listing(tenantId: string, viewerId: string): Promise<ExceptionsView> {
    const exchange = this.deps.tenant.exchange;
    const tenantCall = async <T>(call: () => Promise<T>): Promise<T> => {
      try {
        return await call();
      } catch (error) {
        throw toAppError(error);
      }
    };
    const [managed, onByMailbox, org, endings] = await Promise.all([
      this.deps.store.activeExceptions(tenantId),
      tenantCall(() => exchange.listCasMailboxes(false)),
      tenantCall(() => exchange.getTransportConfig()),
      this.deps.store.openEndingsOf(tenantId),
    ]);
    const ending = Object.fromEntries(endings.flatMap((r) => [r.params.endsException, ...(Array.isArray(r.params.endsExceptions) ? r.params.endsExceptions : [])]
      .filter((id): id is string => typeof id === 'string').map((id) => [id, r.requesterName])));
    const managedIds = new Set(managed.map((e) => e.targetUserId));
    const unmanaged: UnmanagedMailbox[] = onByMailbox
      .filter((m) => m.externalDirectoryObjectId && !managedIds.has(m.externalDirectoryObjectId))
      .map((m) => ({ userId: m.externalDirectoryObjectId!, userPrincipalName: m.primarySmtpAddress ?? m.identity, displayName: m.displayName ?? m.identity }))
      .sort((a, b) => a.displayName.localeCompare(b.displayName));
    let reviewId: string | null = null;
    if (unmanaged.length) {
      reviewId = this.deps.newId();
      await this.deps.store.saveExceptionReview({ id: reviewId, tenantId, createdBy: viewerId, createdAt: this.deps.now(), items: unmanaged.slice(0, exceptionsCardLimit) });
    }
    return { managed, unmanaged, reviewId, orgSmtpEnabled: !org.smtpClientAuthenticationDisabled, ending };
  }

  /** The request on its way that ends this exception early, if one was asked for (a second End points at it). */
  async openEndingOf(exception: ExceptionRecord): Promise<RequestRecord | undefined> {
    return (await this.deps.store.openEndingsOf(exception.tenantId)).find((r) => r.params.endsException === exception.id || (Array.isArray(r.params.endsExceptions) && r.params.endsExceptions.includes(exception.id)));
  }

  /** An Adopt on an old `exceptions` card: the mailbox has been brought under the register since (ALREADY_REGISTERED). */
  async requireUnregistered(mailbox: UnmanagedMailbox): Promise<void> {
    if (await this.deps.store.activeExceptionFor(mailbox.userId)) throw new AppError('ALREADY_REGISTERED', { name: mailbox.displayName });
  }

  /**
   * The unmanaged mailbox an Adopt / Disable button names: a saved review of this tenant and an item
   * number in it; anything else is BAD_ACTION_DATA.
   */
  async reviewedMailbox(tenantId: string | undefined, data: Record<string, unknown>): Promise<UnmanagedMailbox & { reviewId: string }> {
    const { reviewId, item } = data;
    if (typeof reviewId !== 'string' || !reviewIdPattern.test(reviewId) || typeof item !== 'string' || !/^\d{1,3}$/.test(item)) throw new AppError('BAD_ACTION_DATA');
    const review = await this.deps.store.exceptionReview(reviewId);
    const mailbox = review && review.tenantId === tenantId ? review.items[Number(item)] : undefined;
    if (!mailbox) throw new AppError('BAD_ACTION_DATA');
    return { ...mailbox, reviewId };
  }
}

/** Where a conversation reference points, to tell two apart (the bot edge makes them; the core only compares). */
function conversationKey(reference: Record<string, unknown>): string {
  return JSON.stringify((reference.conversation as { id?: unknown } | undefined)?.id ?? reference);
}
