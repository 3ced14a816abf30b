import { randomUUID } from 'node:crypto';
import { helpCard, messageCard, pickUserCard } from '../cards/builders';
import { allVerbs, verbs } from '../cards/verbs';
import { changeCommandSetting, commands } from '../commands/registry';
import type { ChangeCommand, CommandContext, CommandDefinition } from '../commands/types';
import { quorumFor, type Config } from '../config';
import { AppError, toAppError } from '../errors';
import { languageFromLocale, translator, type Language, type Translate } from '../i18n';
import type { Logger } from '../log';
import { guessLanguage, parseUtterance } from '../nlu/parse';
import type { RequestRecord } from '../requests/model';
import { approvalsConversationKey, RequestLifecycle } from '../requests/service';
import type { Store } from '../store/store';
import type { DirectoryUser, Tenant } from '../tenant';
import { readSmtpState } from '../tenant/smtp-state';
import { RoleLookup, type Roles } from './roles';
import type { ActionResult, ActionTurn, MessageTurn, Notifier, Reply, TurnContext } from './turn';

export interface DispatcherDeps {
  config: Config;
  store: Store;
  tenant: Tenant;
  notifier: Notifier;
  logger: Logger;
  now?: () => Date;
  newId?: () => string;
}

const requestIdPattern = /^[A-Za-z0-9-]{8,64}$/;

/**
 * Parse → validate → plan → (confirm → approve) → execute → verify → audit, strung together once
 * (STYLE.md habit 2). Commands never see approval; they only say what they want done.
 */
export class Dispatcher {
  readonly lifecycle: RequestLifecycle;
  private readonly roles: RoleLookup;
  private readonly now: () => Date;
  private readonly newId: () => string;

  constructor(private readonly deps: DispatcherDeps) {
    this.now = deps.now ?? (() => new Date());
    this.newId = deps.newId ?? randomUUID;
    this.lifecycle = new RequestLifecycle({ ...deps, now: this.now, newId: this.newId });
    this.roles = new RoleLookup(deps.tenant.directory, { itStaffGroupId: deps.config.IT_STAFF_GROUP_ID, approverGroupId: deps.config.APPROVER_GROUP_ID }, this.now);
  }

  async handleMessage(turn: MessageTurn): Promise<Reply[]> {
    const parsed = parseUtterance(turn.text);
    const language = parsed?.language ?? languageFromLocale(turn.locale) ?? guessLanguage(turn.text) ?? 'en';
    const t = translator(language);
    try {
      this.checkTenant(turn);
      if (!(await this.deps.store.firstDelivery(turn.activityId, this.now()))) {
        return (await this.deps.store.activityResponse<Reply[]>(turn.activityId)) ?? [];
      }
      const replies = await this.answerMessage(turn, parsed, language, t);
      await this.deps.store.saveActivityResponse(turn.activityId, replies);
      return replies;
    } catch (error) {
      return [{ card: this.errorCard(t, error) }];
    }
  }

  private async answerMessage(turn: MessageTurn, parsed: ReturnType<typeof parseUtterance>, language: Language, t: Translate): Promise<Reply[]> {
    try {
      if (!parsed) return [{ card: helpCard(t, this.examples(language), t('errors.UNKNOWN_COMMAND')) }];
      const command = parsed.command;
      const params = command.params.safeParse(parsed.args);
      if (!params.success) return [{ card: messageCard(t, t('errors.BAD_PARAMS'), 'BAD_PARAMS') }];
      const roles = await this.rolesOf(turn);
      if (command.audience === 'it-staff' && !roles.itStaff) {
        await this.lifecycle.audit(null, turn.userId ?? null, 'action.denied', { command: command.id, reason: 'NOT_IT_STAFF' });
        throw new AppError('NOT_IT_STAFF');
      }
      if (command.kind === 'read') return [{ card: await command.run(this.commandContext(turn, t, language), params.data) }];
      return [await this.draftChange(turn, command, params.data.user ?? '', language, parsed.durationMs)];
    } catch (error) {
      return [{ card: this.errorCard(t, error) }];
    }
  }

  async handleAction(turn: ActionTurn): Promise<ActionResult> {
    const clickerLanguage = languageFromLocale(turn.locale);
    let t: Translate = translator(clickerLanguage ?? 'en');
    let request: RequestRecord | undefined;
    try {
      this.checkTenant(turn);
      if (!allVerbs.has(turn.verb)) throw new AppError('UNKNOWN_ACTION');
      const requestId = turn.data.requestId;
      if (typeof requestId !== 'string' || !requestIdPattern.test(requestId)) throw new AppError('BAD_ACTION_DATA');
      request = await this.deps.store.getRequest(requestId);
      if (!request || request.tenantId !== turn.tenantId) throw new AppError('REQUEST_NOT_FOUND');
      t = translator(clickerLanguage ?? request.language);
      if (!(await this.deps.store.firstDelivery(turn.activityId, this.now()))) {
        return { card: await this.lifecycle.cardFor(request, this.audienceOf(turn, request), clickerLanguage ?? request.language) };
      }
      return await this.applyVerb(turn, request, clickerLanguage ?? request.language);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.code === 'INTERNAL') this.deps.logger.error({ err: error }, 'card action failed');
      if (request && appError.code !== 'INTERNAL') {
        await this.lifecycle.audit(request.id, turn.userId ?? null, 'action.denied', { verb: turn.verb, reason: appError.code }).catch(() => {});
        const current = (await this.deps.store.getRequest(request.id)) ?? request;
        return { card: await this.lifecycle.cardFor(current, this.audienceOf(turn, current), clickerLanguage ?? request.language, { text: t(`errors.${appError.code}`, this.messageParams(appError, t)), code: appError.code }) };
      }
      return { card: this.errorCard(t, appError) };
    }
  }

  private async applyVerb(turn: ActionTurn, request: RequestRecord, language: Language): Promise<ActionResult> {
    const actor = turn.userId!;
    const audience = this.audienceOf(turn, request);
    const respond = async (moved: RequestRecord | undefined, followUp?: () => Promise<void>): Promise<ActionResult> => {
      const current = moved ?? (await this.deps.store.getRequest(request.id)) ?? request;
      return { card: await this.lifecycle.cardFor(current, audience, language), followUp };
    };
    switch (turn.verb) {
      case verbs.confirm: {
        this.requireRequester(turn, request);
        this.requireState(request, 'draft');
        if (!request.targetUserId) throw new AppError('BAD_ACTION_DATA');
        const confirmed = await this.lifecycle.move(request, 'confirmed', actor);
        if (!confirmed) return respond(undefined);
        if (confirmed.requiredApprovals === 0) {
          const approved = await this.lifecycle.move(confirmed, 'approved', actor);
          return respond(approved, () => this.lifecycle.execute(request.id));
        }
        const pending = await this.lifecycle.move(confirmed, 'pending', actor);
        return respond(pending, async () => { if (pending) await this.lifecycle.postApprovalCard(pending); });
      }
      case verbs.cancel: {
        this.requireRequester(turn, request);
        if (request.state !== 'draft' && request.state !== 'pending') throw new AppError('REQUEST_CLOSED', { state: request.state });
        const cancelled = await this.lifecycle.move(request, 'cancelled', actor);
        return respond(cancelled, () => this.lifecycle.refreshCards(request.id));
      }
      case verbs.approve:
      case verbs.reject: {
        this.requireState(request, 'pending');
        if (request.requesterId === actor) throw new AppError('SELF_APPROVAL');
        if (!(await this.rolesOf(turn)).approver) throw new AppError('NOT_APPROVER');
        const decision = turn.verb === verbs.approve ? 'approve' : 'reject';
        const comment = typeof turn.data.comment === 'string' ? turn.data.comment.slice(0, 500) : null;
        const recorded = await this.deps.store.addApproval({ requestId: request.id, approverId: actor, approverName: turn.userName, decision, comment, at: this.now() });
        if (!recorded) throw new AppError('ALREADY_APPROVED_BY_YOU');
        await this.lifecycle.audit(request.id, actor, `request.${decision}`, { approverName: turn.userName, comment });
        if (decision === 'reject') {
          const rejected = await this.lifecycle.move(request, 'rejected', actor);
          return respond(rejected, async () => {
            await this.lifecycle.refreshCards(request.id);
            if (rejected) await this.lifecycle.notifyRequester(rejected, 'rejected');
          });
        }
        const approvals = (await this.deps.store.approvals(request.id)).filter((a) => a.decision === 'approve' && a.approverId !== request.requesterId);
        if (approvals.length < request.requiredApprovals) return respond(undefined, () => this.lifecycle.refreshCards(request.id));
        const approved = await this.lifecycle.move(request, 'approved', actor);
        return respond(approved, async () => {
          await this.lifecycle.refreshCards(request.id);
          if (approved) await this.lifecycle.notifyRequester(approved, 'approved');
          await this.lifecycle.execute(request.id);
        });
      }
      case verbs.pickUser: {
        this.requireRequester(turn, request);
        this.requireState(request, 'draft');
        const candidates = Array.isArray(request.params.candidates) ? (request.params.candidates as string[]) : [];
        const userId = turn.data.userId;
        if (request.targetUserId || typeof userId !== 'string' || !candidates.includes(userId)) throw new AppError('BAD_ACTION_DATA');
        const user = await this.deps.tenant.directory.getUser(userId);
        if (!user) throw new AppError('USER_NOT_FOUND', { query: userId });
        const before = await this.stateOrThrow(user);
        const targeted = await this.deps.store.setDraftTarget(request.id, { userId: user.id, upn: user.userPrincipalName, displayName: user.displayName }, before, this.now());
        return respond(targeted);
      }
      case verbs.undo: {
        // Undo is a new request for the reverse change, under the same gating as any other.
        if (request.state !== 'succeeded' || !request.before || !request.targetUserId) throw new AppError('REQUEST_CLOSED', { state: request.state });
        if (!(await this.rolesOf(turn)).itStaff) throw new AppError('NOT_IT_STAFF');
        const reverse = changeCommandSetting(request.before.mailboxSmtpClientAuthenticationDisabled);
        const draft = await this.draftChange(turn, reverse, request.targetUpn ?? '', language, undefined, request.targetUserId);
        return respond(undefined, async () => {
          const activityId = await this.deps.notifier.send(turn.conversation, draft.card);
          if (activityId) await this.cardPosted(draft, activityId, turn.conversation);
        });
      }
      default:
        throw new AppError('UNKNOWN_ACTION');
    }
  }

  private async userById(id: string): Promise<DirectoryUser> {
    const user = await this.tenantCall(() => this.deps.tenant.directory.getUser(id));
    if (!user) throw new AppError('USER_NOT_FOUND', { query: id });
    return user;
  }

  /** Remembers where a request's card was posted, so later changes update that copy. */
  async cardPosted(reply: Reply, activityId: string, conversation: TurnContext['conversation']): Promise<void> {
    if (!reply.track) return;
    await this.deps.store.addCardPost({ requestId: reply.track.requestId, activityId, conversation, audience: reply.track.audience, language: reply.track.language });
  }

  private commandContext(turn: MessageTurn, t: Translate, language: Language): CommandContext {
    return {
      t, language, conversation: turn.conversation,
      resolveUser: async (query) => {
        const resolved = await this.resolveOne(query);
        if (resolved.kind === 'found') return resolved.user;
        throw new AppError('USER_AMBIGUOUS', { query, names: resolved.candidates.map((c) => `${c.displayName} (${c.userPrincipalName})`).join(', ') });
      },
      smtpState: (user) => this.stateOrThrow(user),
      setApprovalsConversation: async (conversation) => {
        await this.deps.store.setSetting(approvalsConversationKey, conversation, this.now());
        await this.lifecycle.audit(null, turn.userId ?? null, 'settings.approvals-conversation', { by: turn.userName });
      },
      examples: () => this.examples(language),
    };
  }

  private async draftChange(turn: TurnContext, command: ChangeCommand, query: string, language: Language, durationMs?: number, targetId?: string): Promise<Reply> {
    const t = translator(language);
    const resolved = targetId ? { kind: 'found' as const, user: await this.userById(targetId) } : await this.resolveOne(query);
    const now = this.now();
    const base: RequestRecord = {
      id: this.newId(), tenantId: turn.tenantId!, commandId: command.id, state: 'draft', risk: command.risk,
      requiredApprovals: quorumFor(this.deps.config, command.risk), requesterId: turn.userId!, requesterName: turn.userName,
      targetUserId: null, targetUpn: null, targetDisplayName: null, params: { query, ...(durationMs ? { durationMs } : {}) }, language, conversation: turn.conversation,
      before: null, after: null, verified: null, errorCode: null, createdAt: now, updatedAt: now,
      expiresAt: new Date(now.getTime() + this.deps.config.REQUEST_TTL_HOURS * 3_600_000),
    };
    if (resolved.kind === 'ambiguous') {
      const request = { ...base, params: { ...base.params, candidates: resolved.candidates.map((c) => c.id) } };
      await this.lifecycle.create(request, { command: command.id, query, ambiguous: true });
      return { card: pickUserCard(t, request.id, query, resolved.candidates), track: { requestId: request.id, audience: 'requester', language } };
    }
    const user = resolved.user;
    const before = await this.stateOrThrow(user);
    const request: RequestRecord = { ...base, targetUserId: user.id, targetUpn: user.userPrincipalName, targetDisplayName: user.displayName, before };
    await this.lifecycle.create(request, { command: command.id, target: user.userPrincipalName, before, durationMs: durationMs ?? null });
    return { card: await this.lifecycle.cardFor(request, 'requester', language), track: { requestId: request.id, audience: 'requester', language } };
  }

  private async resolveOne(query: string): Promise<{ kind: 'found'; user: DirectoryUser } | { kind: 'ambiguous'; candidates: DirectoryUser[] }> {
    const resolution = await this.tenantCall(() => this.deps.tenant.directory.resolveUser(query));
    if (resolution.kind === 'none') throw new AppError('USER_NOT_FOUND', { query });
    return resolution;
  }

  private async stateOrThrow(user: DirectoryUser) {
    const state = await this.tenantCall(() => readSmtpState(this.deps.tenant.exchange, user.userPrincipalName));
    if (state === 'no-mailbox') throw new AppError('NO_MAILBOX', { name: user.displayName, upn: user.userPrincipalName });
    return state;
  }

  private async tenantCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toAppError(error);
    }
  }

  private async rolesOf(turn: TurnContext): Promise<Roles> {
    if (!turn.userId) return { itStaff: false, approver: false };
    return this.tenantCall(() => this.roles.rolesOf(turn.userId!));
  }

  /** Anyone from another tenant gets a polite refusal and nothing else. */
  private checkTenant(turn: TurnContext): void {
    if (!turn.tenantId || turn.tenantId.toLowerCase() !== this.deps.config.TENANT_ID.toLowerCase() || !turn.userId) throw new AppError('WRONG_TENANT');
  }

  private requireRequester(turn: TurnContext, request: RequestRecord): void {
    if (turn.userId !== request.requesterId) throw new AppError('NOT_REQUESTER');
  }

  private requireState(request: RequestRecord, state: RequestRecord['state']): void {
    if (request.state !== state) throw new AppError('REQUEST_CLOSED', { state: request.state });
  }

  private audienceOf(turn: TurnContext, request: RequestRecord) {
    return turn.userId === request.requesterId ? 'requester' as const : 'approvers' as const;
  }

  private examples(language: Language): string[] {
    return commands.map((c: CommandDefinition) => c.example[language]);
  }

  private messageParams(error: AppError, t: Translate): Record<string, string | number> {
    const params = { ...error.params };
    if (typeof params.state === 'string') params.state = t(`request.state.${params.state}`);
    return params;
  }

  private errorCard(t: Translate, error: unknown) {
    const appError = toAppError(error);
    if (appError.code === 'INTERNAL') this.deps.logger.error({ err: appError.cause ?? appError }, 'turn failed');
    else if (appError.cause) this.deps.logger.warn({ err: appError.cause, code: appError.code }, 'tenant call failed');
    return messageCard(t, t(`errors.${appError.code}`, this.messageParams(appError, t)), appError.code);
  }
}

