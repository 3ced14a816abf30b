import { randomUUID } from 'node:crypto';
import { alreadySoCard, exceptionEnd, exceptionsCard, groupExceptionReminderCard, helpCard, messageCard, pickUserCard, requestTitle, type AdaptiveCard, type ExceptionsView } from '../cards/builders';
import { verbs, type Verb } from '../cards/verbs';
import { requestsCard, requestsCardLimit, requestsRefresh, type RequestListEntry, type RequestsView } from '../cards/requests';
import { commandById, commandForIntents, commands } from '../commands/registry';
import { mailboxOf, organizationOf, userOf, type ChangeCommand, type CommandContext, type CommandDefinition } from '../commands/types';
import { quorumFor, type Config } from '../config';
import { AppError, errorText, toAppError } from '../errors';
import { languageFromLocale, languages, translator, type Language, type Translate } from '../i18n';
import type { Logger } from '../log';
import { answerLanguage, commandText, looksLikeAnswer, pastedTextLanguage, understand, utteranceMaxLength, utteranceTooLong, type ParsedUtterance, type Understanding } from '../nlu/parse';
import { askTargetCard, didYouMeanCard, undoWhichCard } from '../cards/nlu';
import { groupAlreadySoCard, groupPickCard, retryableSteps, uncheckedSteps } from '../cards/group';
import { groupOf } from '../domain/group-change';
import { planGroupChange, resolveGroupTarget } from './group-drafts';
import { formatDateTime } from '../i18n/format';
import { editDistance, fold } from '../nlu/text';
import { endingValue, grantsException, registerNumbers } from '../exceptions/decisions';
import type { ExceptionsRegister } from '../exceptions/register';
import { approvalsConversationKey } from '../store/approvals-conversation';
import type { RequestExecution } from '../requests/execution';
import type { RequestLifecycle } from '../requests/lifecycle';
import { justificationMaxLength, type ExceptionRecord, type MailboxSmtpState, type RequestRecord } from '../model/requests';
import type { RequestNotification } from '../requests/notification';
import { requestServices, type RequestServices } from '../requests/services';
import { mailboxSmtpAuth } from '../steps/mailbox-smtp-auth';
import { highestRisk, pendingStep, planRisk, readPlan, reverseIntents, stateKey } from '../steps/plan';
import { perUserMfa } from '../steps/per-user-mfa';
import { authenticationPolicy } from '../steps/authentication-policy';
import { securityDefaults } from '../steps/security-defaults';
import { stepKindById } from '../steps/registry';
import type { StepIntent } from '../steps/types';
import type { Store } from '../store/store';
import { evaluateSmtpAuth, resolveAndEvaluate, snapshotOf, type DirectoryUser, type SmtpAuthEvaluation, type Tenant, type UserResolution } from '../tenant';
import { readMailboxStates, readSmtpState } from '../tenant/smtp-state';
import { readOrgSmtpStatus } from '../tenant/org-status';
import type { OrgStatusView } from '../cards/org-status';
import { RoleLookup, type Roles } from './roles';
import { clickerRefusal, liveVerbs, needsRoles, routeFor, stateRefusal, type CardHandlers, type CardRoute, type ListView, type Press, type StaleCheck } from './card-routes';
import { truncateText } from './text';
import { DiagnosisDesk, type SelfServiceParams } from './diagnosis-desk';
import type { Diagnosis } from '../diagnosis/diagnose';
import { intentLanguage, parseDiagnosisIntent } from '../nlu/diagnosis-intent';
import { parseBounce } from '../diagnosis/bounce';
import type { Notifier } from '../ports/notifier';
import type { ActionResult, ActionTurn, MessageTurn, Reply, TurnContext } from './turn';

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

/** A request on its way: the `requests` list shows the asker's own in these states. */
const inFlightStates = ['draft', 'confirmed', 'pending', 'approved', 'executing'] as const;

/**
 * A press on a list card (`requests`, `exceptions`) names the list and the language it was asked
 * in; its answer is that list again, up to date, in that language.
 */
function listViewOf(route: CardRoute, turn: ActionTurn): { list: ListView; language: Language } | undefined {
  const { view, language } = turn.data;
  if (!route.listed || view !== route.listed) return undefined;
  return { list: route.listed, language: languages.find((l) => l === language) ?? languageFromLocale(turn.locale) ?? 'en' };
}

/**
 * The reader's id as `refresh.userIds` takes it: the Teams id the activity came from (`from.id`, kept
 * in the conversation reference), else their Entra id in the `8:orgid:` form Teams also accepts.
 */
function teamsIdOf(turn: TurnContext): string {
  const user = (turn.conversation as { user?: { id?: unknown } }).user;
  return typeof user?.id === 'string' && user.id ? user.id : `8:orgid:${turn.userId}`;
}

/** What makes an enable an accountable exception (issue #5). */
interface ExceptionDraft {
  justification?: string;
  permanent?: boolean;
  /** From the `exceptions` card: a mailbox already on, brought under the register. */
  adopt?: boolean;
  /** From a reminder's "Extend": the exception this request extends. */
  extends?: string;
  /** "Ask IT to enable SMTP AUTH for me" (issue #9): the diagnosis and pasted text the approvers see. */
  selfService?: Omit<SelfServiceParams, 'justification'>;
  /** `fix` (issue #9): the steps the diagnosis said were needed, and its findings. */
  fix?: { steps: string[]; codes: string[] };
}

/**
 * The language of the person looking at a request's card, so it stays in one language for them
 * through every update: the requester reads the language they wrote the request in (their Teams
 * client may be in another), anyone else the locale their Teams client sends with the click or
 * refresh, else the request's language.
 */
export function readerLanguage(turn: Pick<TurnContext, 'userId' | 'locale'>, request: Pick<RequestRecord, 'requesterId' | 'language'>): Language {
  if (turn.userId && turn.userId === request.requesterId) return request.language;
  return languageFromLocale(turn.locale) ?? request.language;
}

function changeCommand(id: string): ChangeCommand {
  const command = commandById(id);
  if (command?.kind !== 'change') throw new Error(`${id} is not registered`);
  return command;
}
const smtpEnableCommand = () => changeCommand('smtp-enable');

/**
 * Parse → validate → plan → (confirm → approve) → execute → verify → audit, strung together once
 * (STYLE.md habit 2). Commands never see approval; they only say what they want done.
 */
export class Dispatcher implements CardHandlers {
  readonly requests: RequestServices;
  readonly lifecycle: RequestLifecycle;
  private readonly execution: RequestExecution;
  private readonly notification: RequestNotification;
  private readonly exceptions: ExceptionsRegister;
  readonly desk: DiagnosisDesk;
  private readonly roles: RoleLookup;
  private readonly now: () => Date;
  private readonly newId: () => string;

  constructor(private readonly deps: DispatcherDeps) {
    this.now = deps.now ?? (() => new Date());
    this.newId = deps.newId ?? randomUUID;
    this.requests = requestServices({ ...deps, now: this.now, newId: this.newId });
    ({ lifecycle: this.lifecycle, execution: this.execution, notification: this.notification, exceptions: this.exceptions } = this.requests);
    this.roles = new RoleLookup(deps.tenant.directory, { itStaffGroupId: deps.config.IT_STAFF_GROUP_ID, approverGroupId: deps.config.APPROVER_GROUP_ID }, this.now);
    this.desk = new DiagnosisDesk({
      config: deps.config, store: deps.store, tenant: deps.tenant, logger: deps.logger, now: this.now, newId: this.newId,
      rolesOf: (turn) => this.rolesOf(turn),
      resolveUser: async (query) => {
        const resolved = await this.resolveOne(query);
        if (resolved.kind === 'found') return resolved.user;
        throw new AppError('USER_AMBIGUOUS', { query, names: resolved.candidates.map((c) => `${c.displayName} (${c.userPrincipalName})`).join(', ') });
      },
      evaluate: (user) => this.evaluate(user),
      audit: (requestId, actorId, action, detail) => this.lifecycle.audit(requestId, actorId, action, detail),
      requestSelfService: (turn, user, language, params) => this.requestSelfService(turn, user, language, params),
      draftFix: (turn, user, language, diagnosis) => this.draftFix(turn, user, language, diagnosis),
    });
  }

  async handleMessage(turn: MessageTurn): Promise<Reply[]> {
    let t = translator(languageFromLocale(turn.locale) ?? 'en');
    let delivered = false;
    try {
      // Who is asking comes before reading what they wrote: another tenant's text is never parsed.
      this.checkTenant(turn);
      // Teams redelivers an activity it thinks went unanswered (after ~15 s): it was answered once, and only once.
      if (!(await this.deps.store.firstDelivery(turn.activityId, this.now()))) return [];
      delivered = true;
      const tooLong = utteranceTooLong(turn.text);
      // Diagnosis phrases ("diagnose me", "fix 5.7.57 for bob") and pasted bounces, which may be long.
      const intent = parseDiagnosisIntent(turn.text) ?? (tooLong && parseBounce(turn.text) ? { kind: 'diagnose' as const, self: true, pasted: turn.text, language: pastedTextLanguage(turn.text, languageFromLocale(turn.locale)) } : undefined);
      const understood: Understanding = tooLong || intent ? { kind: 'unknown', languages: [], ...(tooLong ? { tooLong: true as const } : {}) } : understand(turn.text);
      // The language the person wrote in, else their Teams locale, else English.
      const language = intent ? intentLanguage(intent, languageFromLocale(turn.locale)) : answerLanguage(understood, languageFromLocale(turn.locale));
      t = translator(language);
      const replies = intent
        ? await this.desk.answer(turn, { ...intent, language }, language).catch((error: unknown) => [{ card: this.errorCard(t, error) }])
        : tooLong
          ? [{ card: this.errorCard(t, new AppError('MESSAGE_TOO_LONG', { max: utteranceMaxLength })) }]
          : await this.answerMessage(turn, understood, language, t);
      return replies;
    } catch (error) {
      // An error is not an answer to keep: a redelivery of this activity is answered afresh.
      if (delivered) await this.deps.store.forgetDelivery(turn.activityId).catch(() => {});
      return [{ card: this.errorCard(t, error) }];
    }
  }

  private async answerMessage(turn: MessageTurn, understood: Understanding, language: Language, t: Translate): Promise<Reply[]> {
    try {
      // A pasted bounce with no command around it: the asker's own mailbox.
      if (understood.kind !== 'command' && parseBounce(turn.text)) {
        // Microsoft's English in the paste is not the language the person reads.
        const written = pastedTextLanguage(turn.text, languageFromLocale(turn.locale));
        return await this.desk.answer(turn, { kind: 'diagnose', self: true, pasted: turn.text, language: written }, written);
      }
      // The answer to "Who is it for?": a name on its own completes the command that asked.
      if (understood.kind === 'unknown' || understood.kind === 'near-miss') {
        const completed = await this.completeAwaited(turn);
        if (completed) return this.answerMessage(turn, completed, completed.kind === 'command' ? completed.parsed.language : language, completed.kind === 'command' ? translator(completed.parsed.language) : t);
      }
      if (understood.kind === 'near-miss') return [{ card: didYouMeanCard(t, understood.suggestions.map((s) => s.text)) }];
      if (understood.kind === 'missing-target') {
        await this.deps.store.setSetting(this.awaitingKey(turn), { commandId: understood.command.id, language, at: this.now().toISOString() }, this.now());
        return [{ card: askTargetCard(t, understood.slot, understood.command.example[language]) }];
      }
      if (understood.kind !== 'command') return [{ card: await this.desk.helpCard(turn, language, t('errors.UNKNOWN_COMMAND')) }];
      const parsed = understood.parsed;
      // Help lists only what this person may do.
      if (parsed.command.id === 'help') return [{ card: await this.desk.helpCard(turn, language) }];
      // "smtp status me" from an end user: their own diagnosis, which is theirs to see.
      if (parsed.target?.kind === 'self' && parsed.command.id === 'smtp-status' && !(await this.rolesOf(turn)).itStaff) {
        return await this.desk.answer(turn, { kind: 'diagnose', self: true, language }, language);
      }
      // "me", "para mí", "我", "eu": the person asking, by their Entra id.
      if (parsed.target?.kind === 'self' && turn.userId) parsed.args[parsed.target.slot] = turn.userId;
      const command = parsed.command;
      const params = command.params.safeParse(parsed.args);
      if (!params.success) return [{ card: messageCard(t, t('errors.BAD_PARAMS'), 'BAD_PARAMS') }];
      const roles = await this.rolesOf(turn);
      if ((command.audience === 'it-staff' && !roles.itStaff) || (command.audience === 'it-staff-or-approver' && !roles.itStaff && !roles.approver)) {
        await this.lifecycle.audit(null, turn.userId ?? null, 'action.denied', { command: command.id, reason: 'NOT_IT_STAFF' });
        // Who can do it and the self-service path, never a bare code.
        return [{ card: await this.desk.notAllowedCard(t, command.kind === 'change' ? 'change' : 'other') }];
      }
      // A command said in full ends any "Who is it for?" still waiting.
      if (await this.deps.store.getSetting(this.awaitingKey(turn))) await this.deps.store.setSetting(this.awaitingKey(turn), null, this.now());
      try {
        return await this.runCommand(turn, parsed, command, params.data, language, t);
      } catch (error) {
        // Nobody by that name: the closest names, each a button that runs the same command for them.
        const appError = toAppError(error);
        const query = parsed.target?.kind === 'user' ? parsed.target.text : undefined;
        if (appError.code !== 'USER_NOT_FOUND' || !query) throw error;
        const closest = await this.closestUsers(query).catch(() => []);
        if (!closest.length) throw error;
        return [{ card: didYouMeanCard(t, closest.map((u) => commandText(command, language, u.userPrincipalName)), { text: errorText(t, appError.code, appError.params), code: appError.code }) }];
      }
    } catch (error) {
      await this.deps.store.forgetDelivery(turn.activityId).catch(() => {});
      return [{ card: this.errorCard(t, error) }];
    }
  }

  private awaitingKey(turn: TurnContext): string {
    const conversationId = String((turn.conversation.conversation as { id?: unknown } | undefined)?.id ?? '');
    return `nlu.awaiting:${conversationId}:${turn.userId ?? ''}`;
  }

  /** A short message after "Who is it for?" (within 10 minutes), read as the target of the command that asked. */
  private async completeAwaited(turn: MessageTurn): Promise<Understanding | undefined> {
    const text = turn.text.trim();
    if (!looksLikeAnswer(text)) return undefined;
    const awaited = await this.deps.store.getSetting<{ commandId: string; language: Language; at: string } | null>(this.awaitingKey(turn));
    if (!awaited || this.now().getTime() - Date.parse(awaited.at) > 10 * 60_000) return undefined;
    const command = commandById(awaited.commandId);
    if (!command) return undefined;
    await this.deps.store.setSetting(this.awaitingKey(turn), null, this.now());
    const completed = understand(commandText(command, awaited.language, text));
    return completed.kind === 'command' && completed.parsed.command.id === command.id ? completed : undefined;
  }

  /** People whose names are closest to what was typed, nearest first (at most three). */
  private async closestUsers(query: string): Promise<DirectoryUser[]> {
    const wanted = fold(query.trim());
    const users = await this.tenantCall(() => this.deps.tenant.directory.usersNamedLike(query));
    const distance = (u: DirectoryUser) => Math.min(...[u.displayName, u.givenName ?? '', u.surname ?? '', u.userPrincipalName.split('@')[0]!]
      .filter(Boolean).map((name) => editDistance(wanted, fold(name), Math.max(2, Math.ceil(wanted.length / 3)))));
    const limit = Math.max(2, Math.ceil(wanted.length / 3));
    return users.map((u) => ({ u, d: distance(u) })).filter(({ d }) => d <= limit).sort((a, b) => a.d - b.d).slice(0, 3).map(({ u }) => u);
  }

  private async runCommand(turn: MessageTurn, parsed: ParsedUtterance, command: CommandDefinition, data: Record<string, string>, language: Language, t: Translate): Promise<Reply[]> {
    if (command.kind === 'read') {
      const tracked: { track?: Reply['track'] } = {};
      const card = await command.run(this.commandContext(turn, t, language, tracked), data);
      return [{ card, ...(tracked.track ? { track: tracked.track } : {}) }];
    }
    if (parsed.durationOutOfRange) throw new AppError('DURATION_OUT_OF_RANGE');
    return [await this.draftChange(turn, command, data.user ?? data.group ?? '', language, parsed.durationMs, undefined, { justification: parsed.justification, permanent: parsed.permanent })];
  }

  /** The app was installed (Teams `installationUpdate`, action add): a welcome, once per activity. */
  async welcome(turn: TurnContext, scope: 'personal' | 'team'): Promise<Reply[]> {
    const language = languageFromLocale(turn.locale) ?? 'en';
    try {
      this.checkTenant(turn);
      if (!(await this.deps.store.firstDelivery(turn.activityId, this.now()))) return [];
      return [{ card: await this.desk.welcomeCard(turn, scope, language) }];
    } catch (error) {
      // Nothing to welcome another tenant with; anything else is logged and the install goes on.
      if (toAppError(error).code !== 'WRONG_TENANT') this.deps.logger.warn({ err: toAppError(error).code }, 'could not send the welcome');
      return [];
    }
  }

  /**
   * A card press, by the route table (card-routes.ts): the verb's route names what the button's
   * data points at, who may press it and in which states; the subject is loaded here, every rule
   * checked here, and only then does the route's handler run. A press on a stale card (already
   * undone, decided, superseded, in another state) is refused with its message and writes nothing.
   */
  async handleAction(turn: ActionTurn): Promise<ActionResult> {
    const clickerLanguage = languageFromLocale(turn.locale);
    let t: Translate = translator(clickerLanguage ?? 'en');
    let request: RequestRecord | undefined;
    let delivered = false;
    let listView: ReturnType<typeof listViewOf>;
    try {
      this.checkTenant(turn);
      const route = routeFor(turn.verb);
      if (!route) throw new AppError('UNKNOWN_ACTION');
      const press: Press = { turn, language: clickerLanguage ?? 'en' };
      listView = listViewOf(route, turn);
      if (route.subject === 'request') {
        request = await this.requestNamedBy(turn);
        press.request = request;
        press.language = readerLanguage(turn, request);
        t = translator(press.language);
      }
      if (route.subject === 'review-item') press.unmanaged = await this.exceptions.reviewedMailbox(turn.tenantId, turn.data);
      if (route.subject === 'list') {
        if (!listView) throw new AppError('BAD_ACTION_DATA');
        press.language = listView.language;
      }
      if (route.once) {
        if (!(await this.deps.store.firstDelivery(turn.activityId, this.now()))) return await this.replayOf(route, press);
        delivered = true;
      }
      for (const check of route.stale ?? []) await this.checkNotStale(press, check);
      const wrongState = stateRefusal(route, request);
      if (wrongState) throw wrongState;
      const roles = needsRoles(route) ? await this.rolesOf(turn) : { itStaff: false, approver: false };
      const refused = clickerRefusal(route, { userId: turn.userId!, roles }, request);
      if (refused && route.explainRefusal) return { card: await this.notAllowedCard(press, route.explainRefusal) };
      if (refused) throw refused;
      const result = await route.handle(this, press);
      // A press that did something (it has work to follow) answers with the list, saying what it did.
      if (!listView || !result.followUp) return result;
      const lt = translator(listView.language);
      const pressed = turn.verb === verbs.exceptionEnd
        ? lt('exceptions.end.requested', { name: request!.targetDisplayName ?? request!.targetUpn ?? '' })
        : lt(`requests.pressed.${turn.verb.split('.')[1]}`, { title: requestTitle(lt, request!) });
      return { ...result, card: await this.listCardFor(turn, listView, { text: pressed }) };
    } catch (error) {
      const appError = toAppError(error);
      if (delivered) await this.deps.store.forgetDelivery(turn.activityId).catch(() => {});
      if (appError.code === 'INTERNAL') this.deps.logger.error({ err: error }, 'card action failed');
      if (request && appError.code !== 'INTERNAL') {
        await this.lifecycle.audit(request.id, turn.userId ?? null, 'action.denied', { verb: turn.verb, reason: appError.code }).catch(() => {});
        if (listView) return { card: await this.listCardFor(turn, listView, { text: errorText(translator(listView.language), appError.code, appError.params), code: appError.code }) };
        const current = (await this.deps.store.getRequest(request.id)) ?? request;
        return { card: await this.notification.cardFor(current, this.audienceOf(turn, current), readerLanguage(turn, current), { text: errorText(t, appError.code, appError.params), code: appError.code }) };
      }
      // Card data naming no request of ours (an unknown verb, a missing or forged id) is on the record
      // too; another tenant's clicks are not: they get the polite refusal and nothing else.
      if (appError.code !== 'INTERNAL' && appError.code !== 'WRONG_TENANT') {
        await this.lifecycle.audit(null, turn.userId ?? null, 'action.denied', { verb: truncateText(turn.verb, 100), reason: appError.code }).catch(() => {});
      }
      return { card: this.errorCard(t, appError) };
    }
  }

  /** The request a button names, of this tenant; the card's copy of it is never trusted. */
  private async requestNamedBy(turn: ActionTurn): Promise<RequestRecord> {
    const requestId = turn.data.requestId;
    if (typeof requestId !== 'string' || !requestIdPattern.test(requestId)) throw new AppError('BAD_ACTION_DATA');
    const request = await this.deps.store.getRequest(requestId);
    if (!request || request.tenantId !== turn.tenantId) throw new AppError('REQUEST_NOT_FOUND');
    return request;
  }

  /** A redelivered press was acted on once already: a request's current card, or what the first press said. */
  private async replayOf(route: CardRoute, press: Press): Promise<ActionResult> {
    const t = translator(press.language);
    const listView = listViewOf(route, press.turn);
    if (listView) return { card: await this.listCardFor(press.turn, listView), replay: true };
    if (press.request) return { card: await this.notification.cardFor(press.request, this.audienceOf(press.turn, press.request), press.language), replay: true };
    const name = press.unmanaged?.displayName ?? '';
    const text = {
      'adopt-drafted': () => t('exceptions.adoptDrafted', { name }),
      'disable-drafted': () => t('exceptions.disableDrafted', { name }),
      'self-service-sent': () => t('diagnosis.selfService.sent'),
      'fix-drafted': () => t('diagnosis.fixDraftedShort'),
    }[route.replay ?? 'fix-drafted']();
    return { card: messageCard(t, text), replay: true };
  }

  async checkNotStale({ turn, request, unmanaged }: Press, check: StaleCheck): Promise<void> {
    if (check === 'still-unmanaged') {
      if (unmanaged) await this.exceptions.requireUnregistered(unmanaged);
      return;
    }
    if (!request) return;
    switch (check) {
      case 'not-undone':
        if (typeof request.params.undoneBy === 'string') throw new AppError('ALREADY_UNDONE');
        return;
      case 'undo-still-needed': {
        // An undo drafted twice: once one of them has run (or is on its way), the other is stale.
        if (typeof request.params.undoes !== 'string') return;
        const original = await this.deps.store.getRequest(request.params.undoes);
        if (typeof original?.params.undoneBy === 'string') throw new AppError('ALREADY_UNDONE');
        const open = await this.deps.store.openUndoOf(request.params.undoes);
        if (open && open.id !== request.id) throw new AppError('UNDO_ALREADY_REQUESTED', { by: open.requesterName });
        return;
      }
      case 'exception-active':
        await this.exceptions.activeGovernedBy(request, turn.data.exceptionId);
        return;
      case 'exception-not-ending': {
        const ending = await this.exceptions.openEndingOf(await this.exceptions.activeGovernedBy(request, turn.data.exceptionId));
        if (ending) throw new AppError('EXCEPTION_ALREADY_ENDING', { by: ending.requesterName });
        return;
      }
      case 'group-exceptions-active':
        await this.exceptions.groupExceptions(request);
        return;
      case 'group-not-ending': {
        const ending = await this.deps.store.openGroupFollowUp('endsGroupOf', request.id);
        if (ending) throw new AppError('GROUP_EXCEPTIONS_ALREADY_ENDING', { by: ending.requesterName });
        return;
      }
    }
  }

  async notAllowedCard(press: Press, what: 'fix'): Promise<AdaptiveCard> {
    return this.desk.notAllowedCard(translator(press.language), what);
  }

  /** The card a request's button replaces, as it is after the press. */
  private async respond(press: Press, moved: RequestRecord | undefined, followUp?: () => Promise<void>): Promise<ActionResult> {
    const request = press.request!;
    const current = moved ?? (await this.deps.store.getRequest(request.id)) ?? request;
    return { card: await this.notification.cardFor(current, this.audienceOf(press.turn, request), press.language), followUp };
  }

  async confirmRequest(press: Press): Promise<ActionResult> {
    const { turn, request } = press as Required<Pick<Press, 'turn' | 'request'>>;
    const actor = turn.userId!;
    // A draft still waiting for its user to be picked has nothing to confirm yet.
    if (request.plan.length === 0 && !request.targetUserId) throw new AppError('BAD_ACTION_DATA');
    const confirmed = await this.lifecycle.move(request, 'confirmed', actor, this.justificationPatch(turn, request));
    if (!confirmed) return this.respond(press, undefined);
    if (confirmed.requiredApprovals === 0) {
      const approved = await this.lifecycle.move(confirmed, 'approved', actor);
      return this.respond(press, approved, () => this.execution.execute(request.id));
    }
    const pending = await this.lifecycle.move(confirmed, 'pending', actor);
    return this.respond(press, pending, async () => { if (pending) await this.notification.postApprovalCard(pending); });
  }

  async cancelRequest(press: Press): Promise<ActionResult> {
    const request = press.request!;
    const cancelled = await this.lifecycle.move(request, 'cancelled', press.turn.userId!);
    return this.respond(press, cancelled, () => this.notification.refreshCards(request.id));
  }

  async decideRequest(press: Press, decision: 'approve' | 'reject'): Promise<ActionResult> {
    const { turn, request } = press as Required<Pick<Press, 'turn' | 'request'>>;
    // The `requests` list gives each entry its own reason input, named after its request.
    const given = turn.data.comment ?? turn.data[`comment:${request.id}`];
    const comment = typeof given === 'string' ? truncateText(given, 500) : null;
    // The decision, its audit event and the move it makes are one transaction; `current` is the
    // state this click really left, whatever the other clicks did (issue #13, holes 2 and 7).
    const { outcome, request: current, moved } = await this.deps.store.recordDecision({ requestId: request.id, approverId: turn.userId!, approverName: turn.userName, decision, comment, at: this.now() });
    if (outcome === 'duplicate') throw new AppError('ALREADY_APPROVED_BY_YOU');
    if (outcome === 'closed') throw new AppError('REQUEST_CLOSED', { state: current?.state ?? request.state });
    if (!moved) return this.respond(press, current, () => this.notification.refreshCards(request.id));
    if (moved.state === 'rejected') {
      return this.respond(press, moved, async () => {
        await this.notification.refreshCards(request.id);
        await this.notification.notifyRequester(moved, 'rejected');
      });
    }
    return this.respond(press, moved, async () => {
      await this.notification.refreshCards(request.id);
      await this.notification.notifyRequester(moved, 'approved');
      await this.execution.execute(request.id);
    });
  }

  async pickUser(press: Press): Promise<ActionResult> {
    const { turn, request, language } = press as Required<Pick<Press, 'turn' | 'request' | 'language'>>;
    const candidates = Array.isArray(request.params.candidates) ? (request.params.candidates as string[]) : [];
    const userId = turn.data.userId;
    // Picked already (another copy of the card): that card is out of date.
    if (request.targetUserId || typeof userId !== 'string' || !candidates.includes(userId)) throw new AppError('BAD_ACTION_DATA');
    const user = await this.deps.tenant.directory.getUser(userId);
    if (!user) throw new AppError('USER_NOT_FOUND', { query: userId });
    const command = commandById(request.commandId);
    if (command?.kind !== 'change') throw new AppError('BAD_ACTION_DATA');
    const before = await this.draftState(user);
    const { steps, read } = await this.planFor(command, turn.tenantId!, user, before);
    if (steps.length === 0 && !(await this.recordsExceptionOnly(command, user, request.params))) {
      // Already so: the draft closes, nothing will be written.
      await this.lifecycle.move(request, 'cancelled', turn.userId!, { params: { ...request.params, alreadySo: true } });
      return { card: alreadySoCard(translator(language), read) };
    }
    const risk = this.riskOf(steps, read, request.params.permanent === true);
    const targeted = await this.deps.store.setDraftTarget(request.id, { userId: user.id, upn: user.userPrincipalName, displayName: user.displayName }, before, steps, { risk, requiredApprovals: quorumFor(this.deps.config, risk) }, this.now());
    return this.respond(press, targeted);
  }

  /**
   * Retry on a group change done in part: only its failed mailboxes are written again, each once
   * (claimed failed → writing), under the approval the request already has; nothing failed is
   * NOTHING_TO_RETRY. The card updates as the retry runs.
   */
  async retryFailed(press: Press): Promise<ActionResult> {
    const request = press.request!;
    if (retryableSteps(request) === 0) throw new AppError('NOTHING_TO_RETRY');
    // An undo on its way was drafted from the mailboxes applied so far: a retry now would slip past it.
    const undo = await this.deps.store.openUndoOf(request.id);
    if (undo) throw new AppError('UNDO_ALREADY_REQUESTED', { by: undo.requesterName });
    await this.lifecycle.audit(request.id, press.turn.userId ?? null, 'request.retry-requested', { by: press.turn.userName, failed: retryableSteps(request) });
    return this.respond(press, undefined, () => this.execution.retryFailed(request.id));
  }

  /**
   * Check again on a failed group change whose late check gave up: the mailboxes it never read are
   * read now; one whose write landed after all is put back, so the failed request leaves nothing on.
   * Nothing is written otherwise. None left unknown is NOTHING_TO_CHECK.
   */
  async checkAgain(press: Press): Promise<ActionResult> {
    const request = press.request!;
    if (uncheckedSteps(request) === 0) throw new AppError('NOTHING_TO_CHECK');
    await this.lifecycle.audit(request.id, press.turn.userId ?? null, 'request.check-again-requested', { by: press.turn.userName, unknown: uncheckedSteps(request) });
    return this.respond(press, undefined, () => this.execution.checkUnknownAgain(request.id));
  }

  async undoFromCard(press: Press): Promise<ActionResult> {
    const draft = await this.draftUndo(press.turn, press.request!, press.language);
    return this.respond(press, undefined, () => this.postBelow(press.turn, draft));
  }

  /**
   * Teams asks for a fresh card when someone in `refresh.userIds` views the approvers' copy: an
   * approver who is not the requester gets the buttons, anyone else the status. Reads only.
   */
  async refreshCard({ turn, request, language }: Press): Promise<ActionResult> {
    const audience = this.audienceOf(turn, request!);
    const live = audience === 'approvers' && request!.state === 'pending' && (await this.rolesOf(turn)).approver;
    return { card: await this.notification.cardFor(request!, audience, language, undefined, live) };
  }

  /**
   * Teams asks again for a `requests` list each time the person in its `refresh.userIds` sees it:
   * their list as it is now, so a request approved, run, rejected or cancelled elsewhere since shows
   * so (or leaves the list). Whoever the refresh comes from gets their own list. Reads only.
   */
  async refreshList({ turn, language }: Press): Promise<ActionResult> {
    try {
      return { card: await this.listCardFor(turn, { list: 'requests', language }) };
    } catch (error) {
      // Teams refreshes a card only while it carries `refresh`: an answer without it (the roles could
      // not be read just now) would leave the list as it was for good. The next view tries again.
      const t = translator(language);
      return { card: { ...this.errorCard(t, error), refresh: requestsRefresh(t, language, teamsIdOf(turn)) } };
    }
  }

  /**
   * Extending grants the same access as a new exception, so it is a new request under the same
   * gating: clicking is the confirmation, and approvers other than the clicker decide.
   */
  async extendException(press: Press): Promise<ActionResult> {
    const { turn, request, language } = press as Required<Pick<Press, 'turn' | 'request' | 'language'>>;
    const t = translator(language);
    const exception = await this.exceptions.activeGovernedBy(request, turn.data.exceptionId);
    // A second "Extend" (another approver, another copy of the reminder) points at the first one.
    const open = await this.exceptions.openExtensionOf(exception);
    if (open) return { card: messageCard(t, t('exceptions.extendAlreadyRequested', { by: open.requesterName, name: exception.targetDisplayName }), open.id) };
    const draft = await this.draftChange(turn, smtpEnableCommand(), exception.targetUpn, language, undefined, exception.targetUserId, { justification: exception.justification, extends: exception.id });
    const created = draft.track && (await this.deps.store.getRequest(draft.track.requestId));
    if (!created) throw new AppError('INTERNAL');
    await this.lifecycle.audit(created.id, turn.userId!, 'exception.extend-requested', { exceptionId: exception.id, target: exception.targetUpn, from: exception.expiresAt?.toISOString() ?? null });
    const onward = await this.confirmAndRoute(created, turn.userId!);
    return {
      card: messageCard(t, t('exceptions.extendRequested', { by: turn.userName, name: exception.targetDisplayName }), created.id),
      followUp: onward,
    };
  }

  /**
   * End now, on the `exceptions` card: a request that turns the mailbox's SMTP AUTH off (to what the
   * exception's lapse would restore), confirmed by the click and gated by its risk like any other;
   * when it succeeds the register ends the exception. Its card is posted below, and kept up to date.
   */
  async endException(press: Press): Promise<ActionResult> {
    const { turn, request, language } = press as Required<Pick<Press, 'turn' | 'request' | 'language'>>;
    const exception = await this.exceptions.activeGovernedBy(request, turn.data.exceptionId);
    const user = await this.userById(exception.targetUserId);
    const org = await this.tenantCall(() => this.deps.tenant.exchange.getTransportConfig());
    const intents: StepIntent[] = [{ kind: mailboxSmtpAuth.id, target: mailboxOf(user), desired: endingValue(exception, org.smtpClientAuthenticationDisabled) }];
    const command = commandForIntents(intents, { tenantId: turn.tenantId!, user });
    const draft = await this.draftPlan(turn, { commandId: command?.id ?? 'smtp-disable', ...(command ? { command } : {}), intents, user, language, params: { query: exception.targetUpn, endsException: exception.id } });
    const created = draft.track && (await this.deps.store.getRequest(draft.track.requestId));
    // Already off (changed outside SMTP Gate): nothing to write; the register catches up, and the card says so.
    if (!created) {
      const t = translator(language);
      if (!(await this.exceptions.endAlreadyOff(exception, turn.userId!, turn.userName))) throw new AppError('EXCEPTION_NOT_ACTIVE');
      return { card: messageCard(t, t('exceptions.end.alreadyOff', { name: exception.targetDisplayName }), request.id) };
    }
    await this.lifecycle.audit(created.id, turn.userId!, 'exception.end-requested', { exceptionId: exception.id, target: exception.targetUpn, by: turn.userName, expiresAt: exception.expiresAt?.toISOString() ?? null });
    const onward = await this.confirmAndRoute(created, turn.userId!);
    return {
      card: messageCard(translator(language), translator(language)('exceptions.end.requested', { name: exception.targetDisplayName }), created.id),
      followUp: async () => {
        const current = (await this.deps.store.getRequest(created.id)) ?? created;
        await this.postBelow(turn, { card: await this.notification.cardFor(current, 'requester', language), track: { requestId: created.id, audience: 'requester', language } });
        await onward();
      },
    };
  }

  /**
   * Extend on a group's reminder: one new request for every mailbox whose exception the group change
   * still governs (not those ended, lapsed or extended on their own since), under the group enable's
   * gating — its command and at least its risk, so an extension is never approved by fewer people
   * than the grant. Clicking is the confirmation; approvers other than the clicker decide. Nothing
   * is written for a mailbox still on when it runs; one that lapsed meanwhile is turned on again.
   */
  async extendGroupExceptions(press: Press): Promise<ActionResult> {
    const { turn, request, language } = press as Required<Pick<Press, 'turn' | 'request' | 'language'>>;
    const t = translator(language);
    const group = groupOf(request)!;
    const governed = (await this.exceptions.groupExceptions(request)).filter((e) => e.expiresAt !== null);
    // A permanent grant has no end to extend: extending it would only give it one.
    if (governed.length === 0) throw new AppError('GROUP_EXCEPTIONS_NOT_ACTIVE');
    const open = await this.deps.store.openGroupFollowUp('extendsGroupOf', request.id);
    if (open) return { card: messageCard(t, t('exceptions.group.extendAlreadyRequested', { by: open.requesterName, name: group.displayName }), open.id) };
    const states = await this.tenantCall(() => readMailboxStates(this.deps.tenant.exchange));
    const steps = governed.map((e) => pendingStep({ kind: mailboxSmtpAuth.id, target: { type: 'mailbox', id: e.targetUserId, identity: e.targetUpn, displayName: e.targetDisplayName }, desired: false }, states.get(e.targetUserId.toLowerCase())));
    const command = changeCommand('smtp-enable-group');
    const risk = highestRisk([request.risk, planRisk(steps), command.minimumRisk ?? 'low']);
    const justification = typeof request.params.justification === 'string' ? request.params.justification : governed[0]!.justification;
    const params = {
      query: group.id, durationMs: this.deps.config.EXCEPTION_DEFAULT_DAYS * 86_400_000, justification,
      group: { ...group, alreadySo: 0, skipped: [] }, extendsGroupOf: request.id,
      extendsExceptions: Object.fromEntries(governed.map((e) => [e.targetUserId, e.id])),
    };
    const created: RequestRecord = { ...this.newRequest(turn, command.id, risk, language, params), targetDisplayName: group.displayName, plan: steps };
    await this.lifecycle.create(created, {
      command: command.id, group: { id: group.id, displayName: group.displayName }, extendsGroupOf: request.id, exceptions: governed.length,
      steps: steps.map((step) => ({ kind: step.kind, target: step.target.identity, desired: step.desired })), durationMs: params.durationMs, justification,
    });
    await this.lifecycle.audit(created.id, turn.userId!, 'exception.extend-requested', { group: group.displayName, extendsGroupOf: request.id, exceptions: governed.length, from: governed[0]!.expiresAt?.toISOString() ?? null });
    const onward = await this.confirmAndRoute(created, turn.userId!);
    const decided = (rt: Translate) => rt('exceptions.group.extendRequested', { by: turn.userName, name: group.displayName, count: governed.length });
    return {
      card: reminderDecided(t, request, governed, decided(t)),
      followUp: async () => {
        await this.exceptions.closeGroupReminders(request, governed, decided);
        await onward();
      },
    };
  }

  /**
   * A request drafted for someone who has already decided (an Extend or End now pressed, an Ask IT):
   * confirmed at once and moved on to its approvers, or approved when it needs none. Returns what to
   * do after the answer: post the approval card, or run the change.
   */
  private async confirmAndRoute(created: RequestRecord, actorId: string): Promise<() => Promise<void>> {
    const confirmed = await this.lifecycle.move(created, 'confirmed', actorId);
    const next = confirmed && (await this.lifecycle.move(confirmed, confirmed.requiredApprovals === 0 ? 'approved' : 'pending', actorId));
    return async () => {
      if (next?.state === 'pending') await this.notification.postApprovalCard(next);
      else if (next?.state === 'approved') await this.execution.execute(next.id);
    };
  }

  /** "Let them lapse" on a group's reminder: recorded once; each mailbox's exception still ends on its own, on time. */
  async lapseGroupExceptions(press: Press): Promise<ActionResult> {
    const { turn, request, language } = press as Required<Pick<Press, 'turn' | 'request' | 'language'>>;
    const t = translator(language);
    const governed = await this.exceptions.chooseGroupLapse(request, turn.userId!, turn.userName);
    const decided = (rt: Translate) => rt('exceptions.group.lapseChosen', { by: turn.userName, name: groupOf(request)!.displayName, count: governed.length, date: exceptionEnd(rt, governed[0]!.expiresAt) });
    return { card: reminderDecided(t, request, governed, decided(t)), followUp: () => this.exceptions.closeGroupReminders(request, governed, decided) };
  }

  /**
   * End now on a group's reminder: one request that turns SMTP AUTH off for every mailbox whose
   * exception the group change still governs (each to what its lapse would restore), gated like a
   * group disable (it can stop every device of the group at once); when it is done each exception
   * ends on its own. A mailbox already off (changed outside SMTP Gate) is ended in the register now,
   * with nothing written.
   */
  async endGroupExceptions(press: Press): Promise<ActionResult> {
    const { turn, request, language } = press as Required<Pick<Press, 'turn' | 'request' | 'language'>>;
    const t = translator(language);
    const group = groupOf(request)!;
    const governed = await this.exceptions.groupExceptions(request);
    const org = await this.tenantCall(() => this.deps.tenant.exchange.getTransportConfig());
    const states = await this.tenantCall(() => readMailboxStates(this.deps.tenant.exchange));
    const intents: StepIntent[] = governed.map((e) => ({ kind: mailboxSmtpAuth.id, target: { type: 'mailbox', id: e.targetUserId, identity: e.targetUpn, displayName: e.targetDisplayName }, desired: endingValue(e, org.smtpClientAuthenticationDisabled) }));
    const known = new Map<string, unknown>(intents.map((intent) => [stateKey(intent), states.get(intent.target.id.toLowerCase())]));
    const { steps } = await this.tenantCall(() => readPlan(this.deps.tenant, intents, known));
    const toWrite = new Set(steps.map((step) => step.target.id));
    const alreadyOff = governed.filter((e) => !toWrite.has(e.targetUserId));
    for (const exception of alreadyOff) await this.exceptions.endAlreadyOff(exception, turn.userId!, turn.userName);
    if (steps.length === 0) {
      const decided = (rt: Translate) => rt('exceptions.group.decidedAlreadyOff', { by: turn.userName, name: group.displayName, count: alreadyOff.length });
      return {
        card: reminderDecided(t, request, governed, t('exceptions.group.alreadyOff', { name: group.displayName, count: alreadyOff.length })),
        followUp: () => this.exceptions.closeGroupReminders(request, governed, decided),
      };
    }
    const command = changeCommand('smtp-disable-group');
    const risk = highestRisk([planRisk(steps), command.minimumRisk ?? 'low']);
    const params = {
      query: group.id, group: { ...group, alreadySo: alreadyOff.length, skipped: [] }, endsGroupOf: request.id,
      endsExceptions: governed.filter((e) => toWrite.has(e.targetUserId)).map((e) => e.id),
    };
    const created: RequestRecord = { ...this.newRequest(turn, command.id, risk, language, params), targetDisplayName: group.displayName, plan: steps };
    await this.lifecycle.create(created, {
      command: command.id, group: { id: group.id, displayName: group.displayName }, endsGroupOf: request.id, exceptions: steps.length,
      steps: steps.map((step) => ({ kind: step.kind, target: step.target.identity, desired: step.desired })),
    });
    await this.lifecycle.audit(created.id, turn.userId!, 'exception.end-requested', { group: group.displayName, endsGroupOf: request.id, exceptions: steps.length, by: turn.userName, expiresAt: governed[0]!.expiresAt?.toISOString() ?? null });
    const onward = await this.confirmAndRoute(created, turn.userId!);
    return {
      card: reminderDecided(t, request, governed, t('exceptions.group.endRequested', { name: group.displayName, count: steps.length })),
      followUp: async () => {
        await this.exceptions.closeGroupReminders(request, governed, (rt) => rt('exceptions.group.decidedEnd', { by: turn.userName, name: group.displayName, count: steps.length }));
        const current = (await this.deps.store.getRequest(created.id)) ?? created;
        await this.postBelow(turn, { card: await this.notification.cardFor(current, 'requester', language), track: { requestId: created.id, audience: 'requester', language } });
        await onward();
      },
    };
  }

  async lapseException(press: Press): Promise<ActionResult> {
    const { turn, request, language } = press as Required<Pick<Press, 'turn' | 'request' | 'language'>>;
    const t = translator(language);
    const exception = await this.exceptions.chooseLapse(request, turn.userId!, turn.userName);
    return { card: messageCard(t, t('exceptions.lapseChosen', { by: turn.userName, name: exception.targetDisplayName, date: exceptionEnd(t, exception.expiresAt) }), request.id) };
  }

  /**
   * An enable is accountable (issue #5): a justification from the message, or else from the
   * confirmation card's input, which Action.Execute merges into `data` next to the request id.
   */
  private justificationPatch(turn: ActionTurn, request: RequestRecord): { params: Record<string, unknown> } | undefined {
    if (!grantsException(request) || (typeof request.params.justification === 'string' && request.params.justification)) return undefined;
    const given = typeof turn.data.justification === 'string' ? turn.data.justification.trim() : '';
    if (!given) throw new AppError('JUSTIFICATION_REQUIRED');
    if (given.length > justificationMaxLength) throw new AppError('JUSTIFICATION_TOO_LONG', { max: justificationMaxLength });
    return { params: { ...request.params, justification: given } };
  }

  /**
   * "Adopt" / "Disable" on a mailbox the `exceptions` card listed as unmanaged: the button names a
   * saved review and an item number; the server found the mailbox there, and drafts a request under
   * the normal gating, posted below for the clicker to confirm.
   */
  async draftForUnmanaged(press: Press, what: 'adopt' | 'disable'): Promise<ActionResult> {
    const { turn, language } = press;
    const mailbox = press.unmanaged!;
    const t = translator(language);
    const adopt = what === 'adopt';
    const command = adopt ? smtpEnableCommand() : changeCommand('smtp-disable');
    const draft = await this.draftChange(turn, command, mailbox.userPrincipalName, language, undefined, mailbox.userId, adopt ? { adopt: true } : {});
    await this.lifecycle.audit(draft.track?.requestId ?? null, turn.userId ?? null, adopt ? 'exception.adopt-requested' : 'exception.unmanaged-disable-requested', { target: mailbox.userPrincipalName, reviewId: mailbox.reviewId });
    return {
      card: messageCard(t, t(adopt ? 'exceptions.adoptDrafted' : 'exceptions.disableDrafted', { name: mailbox.displayName })),
      followUp: () => this.postBelow(turn, draft),
    };
  }

  /** "Ask IT to enable SMTP AUTH for me": the desk checks the saved diagnosis is the clicker's own. */
  async selfService({ turn, language }: Press): Promise<ActionResult> {
    return this.desk.selfService(turn, language);
  }

  /** Fix: the drafted request's card is posted below the clicked one, for the clicker to confirm. */
  async fix({ turn, language }: Press): Promise<ActionResult> {
    const { card, draft } = await this.desk.fixAction(turn, language);
    if (!draft) return { card };
    return { card, followUp: () => this.postBelow(turn, draft) };
  }

  /** A draft a button made, posted below the clicked card and tracked so later moves update it. */
  private async postBelow(turn: TurnContext, draft: Reply): Promise<void> {
    const activityId = await this.deps.notifier.send(turn.conversation, draft.card);
    if (activityId) await this.cardPosted(draft, activityId, turn.conversation);
  }

  /**
   * The fix as one request whose plan holds only the steps the diagnosis says are needed, in their
   * safe order: the mailbox's own setting first (the organization's is never touched for one
   * mailbox), then what concerns this one account (per-user MFA, its authentication policy, only
   * when they are what blocks), and security defaults, tenant-wide, last and only when they block.
   * Turning the mailbox on is an exception like any enable: a justification, an end date, the register.
   */
  private async draftFix(turn: TurnContext, user: DirectoryUser, language: Language, diagnosis: Diagnosis): Promise<Reply> {
    const intents: StepIntent[] = diagnosis.fixSteps.map((step): StepIntent => {
      switch (step) {
        case 'mailbox-smtp-enable': return { kind: mailboxSmtpAuth.id, target: mailboxOf(user), desired: false };
        case 'per-user-mfa-disable': return { kind: perUserMfa.id, target: userOf(user), desired: 'disabled' };
        case 'auth-policy-allow-smtp': return { kind: authenticationPolicy.id, target: userOf(user), desired: { allowBasicSmtp: true } };
        case 'security-defaults-disable': return { kind: securityDefaults.id, target: organizationOf(turn.tenantId!), desired: false };
      }
    });
    const enables = intents.some((intent) => intent.kind === mailboxSmtpAuth.id);
    const params = {
      query: user.userPrincipalName, fixSteps: diagnosis.fixSteps, diagnosis: diagnosis.findings.map((f) => f.code),
      ...(enables ? { durationMs: this.deps.config.EXCEPTION_DEFAULT_DAYS * 86_400_000 } : {}),
    };
    return this.draftPlan(turn, { commandId: enables ? smtpEnableCommand().id : 'plan-fix', ...(enables ? { command: smtpEnableCommand() } : {}), intents, user, language, params });
  }

  /** The enable an end user asks for, for their own mailbox: confirmed by the click, then to the approvers. */
  private async requestSelfService(turn: TurnContext, user: DirectoryUser, language: Language, params: SelfServiceParams): Promise<{ requestId: string; followUp: () => Promise<void> }> {
    const { justification, ...attached } = params;
    const draft = await this.draftChange(turn, smtpEnableCommand(), user.userPrincipalName, language, undefined, user.id, { justification, selfService: attached });
    const created = draft.track && (await this.deps.store.getRequest(draft.track.requestId));
    if (!created) throw new AppError('INTERNAL');
    await this.lifecycle.audit(created.id, turn.userId ?? null, 'selfservice.requested', { target: user.userPrincipalName, diagnosis: attached.diagnosis });
    const onward = await this.confirmAndRoute(created, turn.userId!);
    return {
      requestId: created.id,
      followUp: onward,
    };
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

  private commandContext(turn: MessageTurn, t: Translate, language: Language, tracked: { track?: Reply['track'] } = {}): CommandContext {
    return {
      undoLatest: async (target) => {
        const reply = await this.typedUndo(turn, language, target);
        if (reply.track) tracked.track = reply.track;
        return reply.card;
      },
      t, language, conversation: turn.conversation,
      resolveUser: async (query) => this.foundUser(query, await this.tenantCall(() => this.deps.tenant.directory.resolveUser(query))),
      smtpState: (user) => this.stateOrThrow(user),
      evaluateSmtpAuth: (user) => this.evaluate(user),
      resolveAndEvaluate: async (query) => {
        const { resolution, evaluation } = await this.tenantCall(() => resolveAndEvaluate(this.deps.tenant, query, { now: this.now }));
        const user = this.foundUser(query, resolution);
        return { user, evaluation: evaluation ?? await this.evaluate(user) };
      },
      setApprovalsConversation: async (conversation) => {
        await this.deps.store.setSetting(approvalsConversationKey, conversation, this.now());
        await this.lifecycle.audit(null, turn.userId ?? null, 'settings.approvals-conversation', { by: turn.userName });
      },
      examples: () => this.examples(language),
      exceptionsRegister: () => this.exceptionsView(turn, language),
      activeException: (user) => this.deps.store.activeExceptionFor(user.id),
      orgStatus: () => this.orgStatus(turn),
      requestsView: () => this.requestsView(turn, language),
    };
  }

  /**
   * `requests`: the asker's requests still on their way, and — for approvers — the pending ones
   * waiting for their decision (not their own, not decided by them yet), each with the buttons the
   * route table would accept from them now. An end user sees only their own.
   */
  private async requestsView(turn: TurnContext, language: Language): Promise<RequestsView> {
    const clicker = { userId: turn.userId!, roles: await this.rolesOf(turn) };
    const mine = await this.deps.store.requestsInStates(turn.tenantId!, inFlightStates, 100, clicker.userId);
    const pending = clicker.roles.approver ? (await this.deps.store.requestsInStates(turn.tenantId!, ['pending'], 50)).filter((r) => r.requesterId !== clicker.userId) : [];
    const shownMine = mine.slice(0, requestsCardLimit);
    // Every pending request's approvals are needed to leave out those the reader already decided: one statement for all.
    const approvals = await this.deps.store.approvalsOf([...shownMine, ...pending].map((r) => r.id));
    const entry = (request: RequestRecord, candidates: Verb[]): RequestListEntry =>
      ({ request, approvals: approvals.get(request.id) ?? [], verbs: liveVerbs(request, clicker, candidates) });
    const awaiting = clicker.roles.approver
      ? pending.map((r) => entry(r, [verbs.approve, verbs.reject])).filter((e) => !e.approvals.some((a) => a.approverId === clicker.userId))
      : null;
    return {
      mine: shownMine.map((r) => entry(r, [verbs.cancel])), mineTotal: mine.length,
      awaiting: awaiting?.slice(0, requestsCardLimit) ?? null, awaitingTotal: awaiting?.length ?? 0,
      now: this.now(), language, readerTeamsId: teamsIdOf(turn),
    };
  }

  /** A list card as it is now for this reader, with what their press did (or why it was refused) on top. */
  private async listCardFor(turn: TurnContext, { list, language }: { list: ListView; language: Language }, notice?: { text: string; code?: string }): Promise<AdaptiveCard> {
    const t = translator(language);
    if (list === 'requests') return requestsCard(t, await this.requestsView(turn, language), notice);
    const card = exceptionsCard(t, await this.exceptionsView(turn, language));
    if (notice) {
      card.body.unshift(
        { type: 'TextBlock', text: notice.text, wrap: true, weight: 'Bolder', color: notice.code ? 'Attention' : 'Good' },
        ...(notice.code ? [{ type: 'TextBlock', text: t('card.ref', { code: notice.code }), wrap: true, size: 'Small', isSubtle: true, spacing: 'None' }] : []),
      );
    }
    return card;
  }

  /** The register for `exceptions`; IT staff get End now on each active exception. */
  private async exceptionsView(turn: TurnContext, language: Language): Promise<ExceptionsView> {
    const [view, roles] = await Promise.all([this.exceptions.listing(turn.tenantId!, turn.userId!), this.rolesOf(turn)]);
    return roles.itStaff ? { ...view, endIn: language } : view;
  }

  /** `org-status`: the organization's layers from the tenant, the register's numbers from the store. */
  private async orgStatus(turn: TurnContext): Promise<OrgStatusView> {
    const [status, managed] = await Promise.all([this.tenantCall(() => readOrgSmtpStatus(this.deps.tenant)), this.deps.store.activeExceptions(turn.tenantId!)]);
    return { status, exceptions: registerNumbers(managed, status.explicitlyOnUserIds, this.now()) };
  }

  /**
   * A typed `undo` ("undo", "undo bob"): the reverse of the asker's change when they made one in the
   * last hour (one per mailbox, the latest), else a card asking which of their recent changes.
   */
  private async typedUndo(turn: MessageTurn, language: Language, target?: string): Promise<Reply> {
    const t = translator(language);
    const now = this.now().getTime();
    const recent = await this.deps.store.recentRequestsBy(turn.tenantId!, turn.userId!, 'succeeded', new Date(now - 7 * 86_400_000), 20);
    const needle = target ? fold(target.trim()) : undefined;
    const seen = new Set<string>();
    const undoable = recent.filter((r) => {
      if (!r.targetUserId || commandById(r.commandId)?.kind !== 'change' || typeof r.params.undoneBy === 'string') return false;
      if (reverseIntents(r.plan).length === 0) return false;
      if (needle && !fold(r.targetDisplayName ?? '').includes(needle) && !fold(r.targetUpn ?? '').includes(needle)) return false;
      // Only a mailbox's latest change: undoing an older one would not put back what is there now.
      if (seen.has(r.targetUserId)) return false;
      seen.add(r.targetUserId);
      return true;
    });
    if (!undoable.length) return { card: messageCard(t, t('nlu.undoNothing'), 'NOTHING_TO_UNDO') };
    const lastHour = undoable.filter((r) => now - r.updatedAt.getTime() <= 3_600_000);
    const only = lastHour.length === 1 ? lastHour[0] : undoable.length === 1 ? undoable[0] : undefined;
    if (only) return this.draftUndo(turn, only, language);
    const choices = undoable.slice(0, 5).map((r) => ({
      requestId: r.id, verb: verbs.undo,
      text: `${requestTitle(t, r)} · ${formatDateTime(language, r.updatedAt)}`,
    }));
    return { card: undoWhichCard(t, choices) };
  }

  /**
   * Undo is a new request for the reverse plan (every applied step back to its value before, last
   * first), under the same gating as any other. A stale card — already undone, an undo already
   * asked for, or changed by a later request since — is refused and writes nothing.
   */
  private async draftUndo(turn: TurnContext, request: RequestRecord, language: Language): Promise<Reply> {
    if (typeof request.params.undoneBy === 'string') throw new AppError('ALREADY_UNDONE');
    if (request.state !== 'succeeded') throw new AppError('REQUEST_CLOSED', { state: request.state });
    if (!(await this.rolesOf(turn)).itStaff) throw new AppError('NOT_IT_STAFF');
    const reverse = reverseIntents(request.plan);
    if (reverse.length === 0) throw new AppError('NOTHING_TO_UNDO');
    const open = await this.deps.store.openUndoOf(request.id);
    if (open) throw new AppError('UNDO_ALREADY_REQUESTED', { by: open.requesterName });
    if (request.targetUserId && (await this.deps.store.mailboxChangedSince(request.targetUserId, request.updatedAt, request.id))) throw new AppError('REQUEST_SUPERSEDED');
    const user = request.targetUserId ? await this.userById(request.targetUserId) : undefined;
    const command = commandForIntents(reverse, { tenantId: turn.tenantId!, user });
    // A group change's undo is one too: its card counts the group's mailboxes instead of listing 200 steps.
    const group = groupOf(request);
    return this.draftPlan(turn, {
      commandId: command?.id ?? 'plan-undo', intents: reverse, user, language,
      params: { query: request.targetUpn ?? '', undoes: request.id, ...(group ? { group: { ...group, alreadySo: 0, skipped: [] } } : {}) },
      ...(group ? { targetName: group.displayName } : {}),
    });
  }

  private async draftChange(turn: TurnContext, command: ChangeCommand, query: string, language: Language, requestedDurationMs?: number, targetId?: string, exception: ExceptionDraft = {}): Promise<Reply> {
    // Every enable is an exception to the baseline: it ends (default EXCEPTION_DEFAULT_DAYS) unless
    // it is permanent, and a permanent one needs the high-risk quorum.
    const isEnable = command.grantsException === true;
    const permanent = isEnable && exception.permanent === true;
    // A time-boxed disable would turn SMTP AUTH back on by itself, outside the exceptions register.
    if (!isEnable && requestedDurationMs !== undefined) throw new AppError('DURATION_ONLY_FOR_ENABLE');
    const durationMs = permanent ? undefined : isEnable ? requestedDurationMs ?? this.deps.config.EXCEPTION_DEFAULT_DAYS * 86_400_000 : undefined;
    const justification = exception.justification?.trim();
    if (justification && justification.length > justificationMaxLength) throw new AppError('JUSTIFICATION_TOO_LONG', { max: justificationMaxLength });
    const params = {
      query, ...(durationMs ? { durationMs } : {}),
      ...(justification ? { justification } : {}), ...(permanent ? { permanent: true } : {}),
      ...(exception.adopt ? { adopt: true } : {}), ...(exception.extends ? { extendsException: exception.extends } : {}),
      ...(exception.selfService ? { selfService: true, ...exception.selfService } : {}),
      ...(exception.fix ? { fixSteps: exception.fix.steps, diagnosis: exception.fix.codes } : {}),
    };
    if (command.targets === 'organization') return this.draftPlan(turn, { commandId: command.id, command, language, params });
    if (command.targets === 'group') return this.draftGroup(turn, command, query, language, params);
    const resolved = targetId ? { kind: 'found' as const, user: await this.userById(targetId) } : await this.resolveOne(query);
    if (resolved.kind === 'ambiguous') {
      const request = this.newRequest(turn, command.id, 'low', language, { ...params, candidates: resolved.candidates.map((c) => c.id) });
      await this.lifecycle.create(request, { command: command.id, query, ambiguous: true });
      return { card: pickUserCard(translator(language), request.id, query, resolved.candidates), track: { requestId: request.id, audience: 'requester', language } };
    }
    return this.draftPlan(turn, { commandId: command.id, command, user: resolved.user, language, params });
  }

  /**
   * A draft from a plan: the command's (or the given) steps, each read now, those already so dropped.
   * An empty plan is answered "already so" with the current values: no request, no write — unless
   * the draft only records an exception (adopting a mailbox that is already on, extending one).
   */
  private async draftPlan(turn: TurnContext, draft: { commandId: string; command?: ChangeCommand; intents?: StepIntent[]; user?: DirectoryUser; targetName?: string; language: Language; params: Record<string, unknown> }): Promise<Reply> {
    const { user, language, params } = draft;
    const t = translator(language);
    const before = user ? await this.draftState(user) : null;
    const { steps, read } = await this.planFor(draft.intents ?? draft.command!, turn.tenantId!, user, before);
    if (steps.length === 0 && !(await this.recordsExceptionOnly(draft.command, user, params))) return { card: alreadySoCard(t, read) };
    const risk = this.riskOf(steps, read, params.permanent === true);
    const notes = draft.command?.notes ? await this.tenantCall(() => draft.command!.notes!(this.deps.tenant, { tenantId: turn.tenantId!, user })) : undefined;
    const request: RequestRecord = {
      ...this.newRequest(turn, draft.commandId, risk, language, notes?.length ? { ...params, notes } : params),
      ...(user ? { targetUserId: user.id, targetUpn: user.userPrincipalName, targetDisplayName: user.displayName } : draft.targetName ? { targetDisplayName: draft.targetName } : {}),
      before, plan: steps,
    };
    await this.lifecycle.create(request, {
      command: draft.commandId, target: user?.userPrincipalName ?? null, before,
      steps: steps.map((step) => ({ kind: step.kind, target: step.target.identity, desired: step.desired })),
      durationMs: params.durationMs ?? null, ...Object.fromEntries(['justification', 'permanent', 'adopt', 'extendsException', 'undoes'].filter((k) => k in params).map((k) => [k, params[k]])),
    });
    return { card: await this.notification.cardFor(request, 'requester', language), track: { requestId: request.id, audience: 'requester', language } };
  }

  /**
   * A group change (`smtp-enable-group`): the group resolved like a user, its members read (nested
   * groups flattened), one mailbox step each; members without a mailbox skipped, mailboxes already
   * so dropped; nothing left is "already so", with no request and no write.
   */
  private async draftGroup(turn: TurnContext, command: ChangeCommand, query: string, language: Language, params: Record<string, unknown>): Promise<Reply> {
    const t = translator(language);
    const target = await this.tenantCall(() => resolveGroupTarget(this.deps.tenant, query));
    if (target.kind === 'ambiguous') {
      // Each button says the command again with the group's id (and the duration asked for, if not the default).
      const durationMs = Number(params.durationMs ?? 0);
      const duration = durationMs > 0 && durationMs !== this.deps.config.EXCEPTION_DEFAULT_DAYS * 86_400_000 ? ` ${Math.round(durationMs / 3_600_000)}h` : '';
      return { card: groupPickCard(t, query, target.candidates.slice(0, 6).map((g) => ({ title: `${g.displayName} (${g.mail ?? g.mailNickname})`, text: `${commandText(command, language, g.id)}${duration}` }))) };
    }
    const planned = await this.tenantCall(() => planGroupChange(this.deps.tenant, command, target.group, turn.tenantId!, params.permanent === true));
    if (planned.steps.length === 0) return { card: groupAlreadySoCard(t, command.id, planned.group) };
    const request: RequestRecord = {
      ...this.newRequest(turn, command.id, planned.risk, language, { ...params, group: planned.group }),
      targetDisplayName: planned.group.displayName, plan: planned.steps,
    };
    await this.lifecycle.create(request, {
      command: command.id, group: { id: planned.group.id, displayName: planned.group.displayName, members: planned.group.members },
      steps: planned.steps.map((step) => ({ kind: step.kind, target: step.target.identity, desired: step.desired })),
      skipped: planned.group.skipped.map((m) => m.userPrincipalName), alreadySo: planned.group.alreadySo,
      durationMs: params.durationMs ?? null, ...Object.fromEntries(['justification', 'permanent'].filter((k) => k in params).map((k) => [k, params[k]])),
    });
    return { card: await this.notification.cardFor(request, 'requester', language), track: { requestId: request.id, audience: 'requester', language } };
  }

  /**
   * A change with nothing to write that still has something to record: adopting a mailbox that is
   * already on, extending an exception, or enabling a mailbox that is on without an exception (it
   * is brought under the register, with its justification and approval, and nothing is written).
   */
  private async recordsExceptionOnly(command: ChangeCommand | undefined, user: DirectoryUser | undefined, params: Record<string, unknown>): Promise<boolean> {
    if (params.adopt || params.extendsException) return true;
    return command?.grantsException === true && user !== undefined && !(await this.deps.store.activeExceptionFor(user.id));
  }

  /** Reads the plan's steps; the user's mailbox step reuses the draft's own read of it. */
  private planFor(commandOrIntents: ChangeCommand | StepIntent[], tenantId: string, user: DirectoryUser | undefined, before: MailboxSmtpState | null) {
    const intents = Array.isArray(commandOrIntents) ? commandOrIntents : commandOrIntents.plan({ tenantId, user });
    const known = new Map<string, unknown>();
    if (user && before) known.set(stateKey({ kind: mailboxSmtpAuth.id, target: mailboxOf(user) }), before);
    return this.tenantCall(() => readPlan(this.deps.tenant, intents, known));
  }

  /**
   * Quorum comes from the riskiest step; a permanent exception needs the high-risk quorum. A change
   * that only records an exception (nothing left to write) is gated as the write it stands for.
   */
  private riskOf(steps: RequestRecord['plan'], read: { intent: StepIntent; state: unknown }[], permanent: boolean) {
    const risk = planRisk(steps.length ? steps : read.map(({ intent, state }) => pendingStep(intent, state)));
    return permanent && (risk === 'low' || risk === 'medium') ? 'high' as const : risk;
  }

  private newRequest(turn: TurnContext, commandId: string, risk: RequestRecord['risk'], language: Language, params: Record<string, unknown>): RequestRecord {
    const now = this.now();
    return {
      id: this.newId(), tenantId: turn.tenantId!, commandId, state: 'draft', risk,
      requiredApprovals: quorumFor(this.deps.config, risk), requesterId: turn.userId!, requesterName: turn.userName,
      targetUserId: null, targetUpn: null, targetDisplayName: null, params, language, conversation: turn.conversation,
      before: null, after: null, verified: null, errorCode: null, createdAt: now, updatedAt: now,
      expiresAt: new Date(now.getTime() + this.deps.config.REQUEST_TTL_HOURS * 3_600_000), plan: [],
    };
  }

  private async resolveOne(query: string): Promise<{ kind: 'found'; user: DirectoryUser } | { kind: 'ambiguous'; candidates: DirectoryUser[] }> {
    const resolution = await this.tenantCall(() => this.deps.tenant.directory.resolveUser(query));
    if (resolution.kind === 'none') throw new AppError('USER_NOT_FOUND', { query });
    return resolution;
  }

  /** The one user a command names, or the error that says why there is none (nobody, several). */
  private foundUser(query: string, resolution: UserResolution): DirectoryUser {
    if (resolution.kind === 'found') return resolution.user;
    if (resolution.kind === 'none') throw new AppError('USER_NOT_FOUND', { query });
    throw new AppError('USER_AMBIGUOUS', { query, names: resolution.candidates.map((c) => `${c.displayName} (${c.userPrincipalName})`).join(', ') });
  }

  private async stateOrThrow(user: DirectoryUser) {
    const state = await this.tenantCall(() => readSmtpState(this.deps.tenant.exchange, user.userPrincipalName));
    if (state === 'no-mailbox') throw new AppError('NO_MAILBOX', { name: user.displayName, upn: user.userPrincipalName });
    return state;
  }

  /** Every layer that can block SMTP AUTH for the user (tenant/evaluate.ts), failures as catalog errors. */
  private evaluate(user: DirectoryUser): Promise<SmtpAuthEvaluation> {
    return this.tenantCall(() => evaluateSmtpAuth(this.deps.tenant, user, { now: this.now }));
  }

  /**
   * A draft's before-state, with every layer evaluated so its card can warn about a blocker the
   * change leaves in place. When the other layers cannot be read, the draft still goes ahead on the
   * mailbox setting alone and its card says the other layers were not checked.
   */
  private async draftState(user: DirectoryUser): Promise<MailboxSmtpState> {
    let evaluation: SmtpAuthEvaluation;
    try {
      evaluation = await this.evaluate(user);
    } catch (error) {
      this.deps.logger.warn({ err: error instanceof AppError ? error.cause ?? error.code : error, userId: user.id }, 'evaluation for a draft failed; drafting from the mailbox setting alone');
      return { ...(await this.stateOrThrow(user)), evaluation: null };
    }
    if (evaluation.state === 'no-mailbox') throw new AppError('NO_MAILBOX', { name: user.displayName, upn: user.userPrincipalName });
    return { ...evaluation.state, evaluation: snapshotOf(evaluation) };
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

  private audienceOf(turn: TurnContext, request: RequestRecord) {
    return turn.userId === request.requesterId ? 'requester' as const : 'approvers' as const;
  }

  private examples(language: Language): string[] {
    return commands.map((c: CommandDefinition) => c.example[language]);
  }

  private errorCard(t: Translate, error: unknown) {
    const appError = toAppError(error);
    if (appError.code === 'INTERNAL') this.deps.logger.error({ err: appError.cause ?? appError }, 'turn failed');
    else if (appError.cause) this.deps.logger.warn({ err: appError.cause, code: appError.code }, 'tenant call failed');
    return messageCard(t, errorText(t, appError.code, appError.params), appError.code);
  }
}

/** The group reminder a press replaced, as it is now: what the presser decided, without its buttons. */
function reminderDecided(t: Translate, request: RequestRecord, exceptions: ExceptionRecord[], decided: string): AdaptiveCard {
  const expiresAt = exceptions.find((e) => e.expiresAt)?.expiresAt;
  return expiresAt ? groupExceptionReminderCard(t, { request, exceptions, expiresAt }, decided) : messageCard(t, decided, request.id);
}
