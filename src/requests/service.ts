import { requestCard, type CardAudience } from '../cards/builders';
import { commandById } from '../commands/registry';
import type { ChangeCommand } from '../commands/types';
import type { Config } from '../config';
import type { Notifier } from '../core/turn';
import { AppError, toAppError } from '../errors';
import { translator, type Language } from '../i18n';
import type { Logger } from '../log';
import type { Store } from '../store/store';
import type { Tenant } from '../tenant';
import { readSmtpState } from '../tenant/smtp-state';
import { allowedTransitions, type ConversationRef, type MailboxSmtpState, type RequestRecord, type RequestState } from './model';
import type { RequestPatch } from '../store/store';

/** Settings key of the conversation approval cards go to (`approvals here`). */
export const approvalsConversationKey = 'approvals-conversation';

export interface LifecycleDeps {
  config: Config;
  store: Store;
  tenant: Tenant;
  notifier: Notifier;
  logger: Logger;
  now: () => Date;
}

/** The request state machine: every move a compare-and-set, every move audited. */
export class RequestLifecycle {
  constructor(private readonly deps: LifecycleDeps) {}

  /** Moves a request along one edge; undefined when another click or instance moved it first. */
  async move(request: RequestRecord, to: RequestState, actorId: string | null, patch: RequestPatch = {}): Promise<RequestRecord | undefined> {
    if (!allowedTransitions[request.state].includes(to)) {
      throw new AppError('ILLEGAL_TRANSITION', { from: request.state, to });
    }
    const moved = await this.deps.store.transition(request.id, request.state, to, this.deps.now(), patch);
    if (moved) await this.audit(moved.id, actorId, 'request.transition', { from: request.state, to, ...patch });
    return moved;
  }

  audit(requestId: string | null, actorId: string | null, action: string, detail: Record<string, unknown>): Promise<void> {
    return this.deps.store.appendAudit({ at: this.deps.now(), requestId, actorId, action, detail });
  }

  async cardFor(request: RequestRecord, audience: CardAudience, language: Language, notice?: { text: string; code: string }) {
    const approvals = await this.deps.store.approvals(request.id);
    return requestCard(translator(language), { request, approvals }, audience, notice);
  }

  /** Updates every posted copy of the request's card, each in the language it was posted in. */
  async refreshCards(requestId: string): Promise<void> {
    const request = await this.deps.store.getRequest(requestId);
    if (!request) return;
    for (const post of await this.deps.store.cardPosts(requestId)) {
      try {
        await this.deps.notifier.update(post.conversation, post.activityId, await this.cardFor(request, post.audience, post.language));
      } catch (error) {
        this.deps.logger.warn({ err: error, requestId, activityId: post.activityId }, 'could not update a posted card');
      }
    }
  }

  /** Posts the approvers' copy of the card to the approvals conversation, or the requester's when none is set. */
  async postApprovalCard(request: RequestRecord): Promise<void> {
    const conversation = (await this.deps.store.getSetting<ConversationRef>(approvalsConversationKey)) ?? request.conversation;
    const card = await this.cardFor(request, 'approvers', request.language);
    const activityId = await this.deps.notifier.send(conversation, card);
    if (activityId) {
      await this.deps.store.addCardPost({ requestId: request.id, activityId, conversation, audience: 'approvers', language: request.language });
    }
  }

  /**
   * Runs an approved request exactly once: whoever wins approved → executing does the write;
   * everyone else returns. Then reads the value back and records before, after and the match.
   */
  async execute(requestId: string): Promise<void> {
    const approved = await this.deps.store.getRequest(requestId);
    if (!approved || approved.state !== 'approved') return;
    const request = await this.move(approved, 'executing', null);
    if (!request) return;
    const command = commandById(request.commandId) as ChangeCommand | undefined;
    const upn = request.targetUpn;
    let failure: AppError | undefined;
    if (!command || command.kind !== 'change' || !upn) {
      failure = new AppError('INTERNAL');
    } else {
      try {
        await command.execute(this.deps.tenant, { userPrincipalName: upn });
      } catch (error) {
        failure = toAppError(error);
      }
    }
    let after: MailboxSmtpState | undefined;
    try {
      const state = upn ? await readSmtpState(this.deps.tenant.exchange, upn) : 'no-mailbox';
      if (state !== 'no-mailbox') after = state;
    } catch (error) {
      this.deps.logger.warn({ err: error, requestId }, 'read-back after the write failed');
    }
    const verified = !failure && after !== undefined && command?.kind === 'change' && command.verify(after);
    if (!failure && after && !verified) failure = new AppError('VERIFY_MISMATCH');
    await this.audit(request.id, null, 'tenant.write', {
      cmdlet: 'Set-CASMailbox',
      identity: upn,
      parameters: { SmtpClientAuthenticationDisabled: command?.kind === 'change' ? command.desiredMailboxValue : null },
      before: request.before,
      after: after ?? null,
      readBackMatched: verified,
      errorCode: failure?.code ?? null,
    });
    if (failure) {
      this.deps.logger.error({ err: failure.cause ?? failure, requestId, code: failure.code }, 'request failed');
      await this.move(request, 'failed', null, { after: after ?? null, verified: false, errorCode: failure.code });
    } else {
      await this.move(request, 'succeeded', null, { after: after ?? null, verified: after !== undefined });
    }
    await this.refreshCards(request.id);
  }
}
