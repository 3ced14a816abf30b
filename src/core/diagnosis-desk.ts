import { diagnosisCard, roleHelpCard, welcomeCard, type DiagnosisAudience, type HelpEntry, type HelpRole } from '../cards/diagnosis';
import { commands } from '../commands/registry';
import type { CommandDefinition } from '../commands/types';
import { blockerList, messageCard, type AdaptiveCard } from '../cards/builders';
import type { Config } from '../config';
import { diagnose, hasFixableBlocker, savedDiagnosisPrefix, savedDiagnosisRetentionMs, type Diagnosis } from '../diagnosis/diagnose';
import { parseBounce } from '../diagnosis/bounce';
import type { DiagnosisIntent } from '../nlu/diagnosis-intent';
import { AppError, toAppError } from '../errors';
import { translator, type Language, type Translate } from '../i18n';
import type { Logger } from '../log';
import { justificationMaxLength } from '../model/requests';
import type { Store } from '../store/store';
import { blockersBeyondMailboxSetting, type DirectoryUser, type SmtpAuthEvaluation, type Tenant } from '../tenant';
import type { Roles } from './roles';
import type { ActionTurn, Reply, TurnContext } from './turn';

/** What the desk needs of the dispatcher: the shared lookups, written once there. */
export interface DiagnosisDeskDeps {
  config: Config;
  store: Store;
  tenant: Tenant;
  logger: Logger;
  now: () => Date;
  newId: () => string;
  rolesOf(turn: TurnContext): Promise<Roles>;
  resolveUser(query: string): Promise<DirectoryUser>;
  evaluate(user: DirectoryUser): Promise<SmtpAuthEvaluation>;
  audit(requestId: string | null, actorId: string | null, action: string, detail: Record<string, unknown>): Promise<void>;
  /** Drafts the one request that holds the steps a diagnosis says are needed, for the asker to confirm. */
  draftFix(turn: TurnContext, user: DirectoryUser, language: Language, diagnosis: Diagnosis): Promise<Reply>;
  /** Drafts an enable for the asker's own mailbox, confirms it and routes it to the approvers. */
  requestSelfService(turn: TurnContext, user: DirectoryUser, language: Language, params: SelfServiceParams): Promise<{ requestId: string; followUp: () => Promise<void> }>;
}

/** What a self-service request carries for the approvers: why, what the bot found, what was pasted. */
export interface SelfServiceParams {
  justification: string;
  diagnosis: string[];
  pastedLine?: string;
  pastedText?: string;
}

/** A diagnosis an end user was shown, kept so the button on it names it and nothing else. */
interface SavedDiagnosis {
  tenantId: string;
  userId: string;
  codes: string[];
  line?: string;
  pasted?: string;
  language: Language;
  createdAt: string;
}

const savedKey = (id: string) => `${savedDiagnosisPrefix}${id}`;
const diagnosisIdPattern = /^[A-Za-z0-9-]{8,64}$/;
/** What is kept of pasted text for the approvers: enough for a full NDR, never a whole log. */
export const pastedTextMaxLength = 4000;

/**
 * The diagnosis side of the bot (issue #9): an end user's own mailbox, IT staff's anyone's,
 * bounces read by src/diagnosis/bounce.ts, the tenant read once by the one evaluation.
 */
export class DiagnosisDesk {
  private itGroupName?: { at: number; name: string };

  constructor(private readonly deps: DiagnosisDeskDeps) {}

  /** "diagnose me", "what's my SMTP status?", "diagnose bob", "diagnose <pasted> for bob", or a bare pasted bounce. */
  async answer(turn: TurnContext, intent: DiagnosisIntent, language: Language): Promise<Reply[]> {
    const t = translator(language);
    const roles = await this.deps.rolesOf(turn);
    if (!intent.self && !roles.itStaff) {
      await this.deps.audit(null, turn.userId ?? null, 'action.denied', { command: intent.kind, reason: 'NOT_IT_STAFF' });
      return [{ card: await this.notAllowedCard(t, intent.kind === 'fix' ? 'fix' : 'other') }];
    }
    const user = intent.self ? await this.self(turn) : await this.deps.resolveUser(intent.user!);
    if (intent.kind === 'fix') {
      // Fixing is a change: IT staff only, whoever it is for (an end user asks IT instead).
      if (!roles.itStaff) return [{ card: await this.notAllowedCard(t, 'fix') }];
      return [await this.fix(turn, user, intent.pasted, language)];
    }
    const card = await this.diagnosisCardFor(turn, user, intent.pasted, language, roles.itStaff && !intent.self ? 'it' : roles.itStaff ? 'it' : 'user', intent.self);
    return [{ card }];
  }

  /** `help` for this person: what they may do, one line and an example each. */
  async helpCard(turn: TurnContext, language: Language, lead?: string): Promise<AdaptiveCard> {
    const t = translator(language);
    const roles = await this.deps.rolesOf(turn);
    const role: HelpRole = roles.itStaff ? 'it' : roles.approver ? 'approver' : 'user';
    return roleHelpCard(t, role, helpEntries(t, language, roles), lead);
  }

  /** The welcome on install: for the installer's role in a personal chat; the approvals channel in a team. */
  async welcomeCard(turn: TurnContext, scope: 'personal' | 'team', language: Language): Promise<AdaptiveCard> {
    const t = translator(language);
    const roles = scope === 'personal' ? await this.deps.rolesOf(turn) : { itStaff: false, approver: false };
    return welcomeCard(t, scope, { name: turn.userName, roles, entries: helpEntries(t, language, roles) });
  }

  /**
   * `fix <user>` and the Fix button: diagnose, then one request holding only the steps the
   * diagnosis says are needed, in their safe order; nothing to change → no request, no write.
   */
  async fix(turn: TurnContext, user: DirectoryUser, pasted: string | undefined, language: Language): Promise<Reply> {
    const t = translator(language);
    const evaluation = await this.deps.evaluate(user);
    const diagnosis = diagnose(user, evaluation, pasted ? parseBounce(pasted) : undefined, Boolean(pasted));
    await this.deps.audit(null, turn.userId ?? null, 'diagnosis.fix-requested', { target: user.userPrincipalName, steps: diagnosis.fixSteps, codes: diagnosis.findings.map((f) => f.code) });
    if (diagnosis.fixSteps.length === 0) {
      const left = evaluation.blockers;
      const text = left.length
        ? t('diagnosis.fixNothing.blocked', { name: user.displayName, blockers: blockerList(t, left) })
        : t('diagnosis.fixNothing.works', { name: user.displayName });
      return { card: messageCard(t, text, left[0]?.code ?? 'SMTP_AUTH_ENABLED') };
    }
    return this.deps.draftFix(turn, user, language, diagnosis);
  }

  /** The Fix button: the user by id from the card, the role checked again here. */
  async fixAction(turn: ActionTurn, language: Language): Promise<{ card: AdaptiveCard; followUp?: () => Promise<void>; draft?: Reply }> {
    const t = translator(language);
    const userId = turn.data.userId;
    if (typeof userId !== 'string' || !diagnosisIdPattern.test(userId)) throw new AppError('BAD_ACTION_DATA');
    if (!(await this.deps.rolesOf(turn)).itStaff) return { card: await this.notAllowedCard(t, 'fix') };
    const user = await this.tenantCall(() => this.deps.tenant.directory.getUser(userId));
    if (!user) throw new AppError('USER_NOT_FOUND', { query: userId });
    const draft = await this.fix(turn, user, undefined, language);
    if (!draft.track) return { card: draft.card };
    return { card: messageCard(t, t('diagnosis.fixDrafted', { name: user.displayName }), draft.track.requestId), draft };
  }

  /** A refusal that says who can do it and what the asker can do for themselves, never a bare code. */
  async notAllowedCard(t: Translate, what: 'other' | 'change' | 'fix'): Promise<AdaptiveCard> {
    return messageCard(t, t(`diagnosis.notAllowed.${what}`, { group: await this.itGroup(t) }), 'NOT_IT_STAFF');
  }

  /** The card for one user: the bounce (when text was pasted), the evaluation, and the button that acts. */
  async diagnosisCardFor(turn: TurnContext, user: DirectoryUser, pasted: string | undefined, language: Language, audience: DiagnosisAudience, self: boolean, notice?: { text: string; code: string }): Promise<AdaptiveCard> {
    const t = translator(language);
    const evaluation = await this.deps.evaluate(user);
    const bounce = pasted ? parseBounce(pasted) : undefined;
    const diagnosis = diagnose(user, evaluation, bounce, Boolean(pasted));
    const groupNames = await this.excludedGroupNames(evaluation);
    let selfServiceId: string | undefined;
    if (self && canAskIt(evaluation)) selfServiceId = await this.save(turn, diagnosis, pasted, language);
    const offerFix = audience === 'it' && hasFixableBlocker(diagnosis) && (await this.deps.rolesOf(turn)).itStaff;
    await this.deps.audit(null, turn.userId ?? null, 'diagnosis.shown', { target: user.userPrincipalName, codes: diagnosis.findings.map((f) => f.code), self });
    const card = diagnosisCard(t, { diagnosis, audience, groupNames, ...(selfServiceId ? { selfServiceId } : {}), offerFix });
    if (notice) card.body.unshift({ type: 'TextBlock', text: notice.text, wrap: true, color: 'Attention', weight: 'Bolder' }, { type: 'TextBlock', text: t('card.ref', { code: notice.code }), wrap: true, size: 'Small', isSubtle: true, spacing: 'None' });
    return card;
  }

  /**
   * "Ask IT to enable SMTP AUTH for me": an enable request for the clicker's own mailbox — the
   * saved diagnosis must be theirs — with the diagnosis and the pasted text attached, routed to the
   * approvers like any other request.
   */
  async selfService(turn: ActionTurn, language: Language): Promise<{ card: AdaptiveCard; followUp?: () => Promise<void> }> {
    const t = translator(language);
    const id = turn.data.diagnosisId;
    if (typeof id !== 'string' || !diagnosisIdPattern.test(id)) throw new AppError('BAD_ACTION_DATA');
    const saved = await this.deps.store.getSetting<SavedDiagnosis>(savedKey(id));
    // Dropped after its retention by the job pass: the bounce may no longer be what happens today.
    if (!saved) throw new AppError('DIAGNOSIS_EXPIRED', { days: savedDiagnosisRetentionMs / 86_400_000 });
    if (saved.tenantId !== turn.tenantId || saved.userId !== turn.userId) throw new AppError('BAD_ACTION_DATA');
    const user = await this.self(turn);
    const justification = typeof turn.data.justification === 'string' ? turn.data.justification.trim() : '';
    if (!justification || justification.length > justificationMaxLength) {
      const code = justification ? 'JUSTIFICATION_TOO_LONG' : 'JUSTIFICATION_REQUIRED';
      const text = t(`errors.${code}`, { max: justificationMaxLength });
      return { card: await this.diagnosisCardFor(turn, user, saved.pasted, language, 'user', true, { text, code }) };
    }
    const evaluation = await this.deps.evaluate(user);
    if (!canAskIt(evaluation)) {
      const left = blockersBeyondMailboxSetting(evaluation.blockers);
      return { card: messageCard(t, t('diagnosis.selfService.notNeeded', { blockers: blockerList(t, left) }), left[0]?.code ?? 'SMTP_AUTH_ENABLED') };
    }
    // One open ask at a time: a second press (another diagnosis card, another day) points at the first.
    const since = new Date(this.deps.now().getTime() - this.deps.config.REQUEST_TTL_HOURS * 3_600_000);
    const open = (await this.deps.store.recentRequestsBy(turn.tenantId!, turn.userId!, 'pending', since, 20))
      .find((r) => r.params.selfService === true && r.targetUserId === user.id);
    if (open) return { card: messageCard(t, t('diagnosis.selfService.alreadyOpen'), open.id) };
    const { requestId, followUp } = await this.deps.requestSelfService(turn, user, language, {
      justification, diagnosis: saved.codes,
      ...(saved.line ? { pastedLine: saved.line } : {}), ...(saved.pasted ? { pastedText: saved.pasted } : {}),
    });
    return { card: messageCard(t, t('diagnosis.selfService.sent'), requestId), followUp };
  }

  private async self(turn: TurnContext): Promise<DirectoryUser> {
    const user = await this.tenantCall(() => this.deps.tenant.directory.getUser(turn.userId!));
    if (!user) throw new AppError('USER_NOT_FOUND', { query: turn.userName });
    return user;
  }

  private async save(turn: TurnContext, diagnosis: Diagnosis, pasted: string | undefined, language: Language): Promise<string> {
    const id = this.deps.newId();
    const record: SavedDiagnosis = {
      tenantId: turn.tenantId!, userId: turn.userId!, codes: diagnosis.findings.map((f) => f.code), language, createdAt: this.deps.now().toISOString(),
      ...(diagnosis.bounce ? { line: diagnosis.bounce.line } : {}),
      ...(pasted ? { pasted: pasted.slice(0, pastedTextMaxLength) } : {}),
    };
    await this.deps.store.setSetting(savedKey(id), record, this.deps.now());
    return id;
  }

  /** The names of the groups blocking policies already exclude: where IT adds the user. */
  private async excludedGroupNames(evaluation: SmtpAuthEvaluation): Promise<Record<string, string>> {
    const ids = new Set(evaluation.blockers.flatMap((b) => (b.detail?.excludeGroupIds ?? '').split(',').filter(Boolean)));
    const names: Record<string, string> = {};
    await Promise.all([...ids].slice(0, 5).map(async (id) => {
      try {
        const group = (await this.deps.tenant.directory.findGroups(id))[0];
        if (group) names[id] = group.displayName;
      } catch (error) {
        this.deps.logger.warn({ err: toAppError(error).code, groupId: id }, 'could not name a group a Conditional Access policy excludes');
      }
    }));
    return names;
  }

  private async itGroup(t: Translate): Promise<string> {
    const now = this.deps.now().getTime();
    if (this.itGroupName && now - this.itGroupName.at < 300_000) return this.itGroupName.name;
    try {
      const group = (await this.deps.tenant.directory.findGroups(this.deps.config.IT_STAFF_GROUP_ID))[0];
      if (group) {
        this.itGroupName = { at: now, name: group.displayName };
        return group.displayName;
      }
    } catch (error) {
      this.deps.logger.warn({ err: toAppError(error).code }, 'could not name the IT staff group');
    }
    return t('diagnosis.groupUnknown');
  }

  private async tenantCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toAppError(error);
    }
  }
}

/** Asking IT helps when the mailbox has one and its own setting (or the org's it follows) is what blocks. */
function canAskIt(evaluation: SmtpAuthEvaluation): boolean {
  return evaluation.state !== 'no-mailbox' && evaluation.blockers.some((b) => b.code === 'SMTP_AUTH_DISABLED_MAILBOX' || b.code === 'SMTP_AUTH_DISABLED_TENANT');
}

/** What a person may do, in the order they would need it: their own mailbox first, then their role's commands. */
function helpEntries(t: Translate, language: Language, roles: Roles): HelpEntry[] {
  const entry = (key: string): HelpEntry => ({ description: t(`diagnosis.help.entries.${key}.description`), example: t(`diagnosis.help.entries.${key}.example`) });
  const entries: HelpEntry[] = [entry('diagnoseMe'), entry('paste')];
  if (roles.itStaff) entries.push(entry('diagnoseUser'), entry('fixUser'));
  const mayRun = (command: CommandDefinition) => command.audience === 'everyone'
    || (command.audience === 'it-staff' && roles.itStaff)
    || (command.audience === 'it-staff-or-approver' && (roles.itStaff || roles.approver));
  for (const command of commands) {
    if (!mayRun(command)) continue;
    const key = `diagnosis.help.entries.${command.id}.description`;
    const described = t(key);
    // A command added later without a line of its own still shows, by its example.
    entries.push(described === key ? { description: command.example[language] } : { description: described, example: command.example[language] });
  }
  return entries;
}
