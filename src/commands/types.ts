import type { z } from 'zod';
import type { Risk } from '../config';
import type { Language } from '../i18n';
import type { MailboxSmtpState } from '../model/requests';
import type { AdaptiveCard, ExceptionsView } from '../cards/builders';
import type { OrgStatusView } from '../cards/org-status';
import type { RequestsView } from '../cards/requests';
import type { Translate } from '../i18n';
import type { ConversationRef, ExceptionRecord } from '../model/requests';
import type { DirectoryUser, SmtpAuthEvaluation, Tenant } from '../tenant';
import type { StepIntent, StepTarget } from '../steps/types';

/** What a read command may use: shared lookups, written once in the dispatcher. */
export interface CommandContext {
  t: Translate;
  language: Language;
  conversation: ConversationRef;
  /** Resolves exactly one user or throws USER_NOT_FOUND / USER_AMBIGUOUS. */
  resolveUser(query: string): Promise<DirectoryUser>;
  smtpState(user: DirectoryUser): Promise<MailboxSmtpState>;
  /** Every layer that can block SMTP AUTH for the user, read at once (tenant/evaluate.ts). */
  evaluateSmtpAuth(user: DirectoryUser): Promise<SmtpAuthEvaluation>;
  /** {@link resolveUser} then {@link evaluateSmtpAuth}; for the mailbox's UPN, both in one round trip to Microsoft 365. */
  resolveAndEvaluate(query: string): Promise<{ user: DirectoryUser; evaluation: SmtpAuthEvaluation }>;
  setApprovalsConversation(conversation: ConversationRef): Promise<void>;
  /** The exceptions register and the mailboxes with SMTP AUTH on without a request (saved as a review). */
  exceptionsRegister(): Promise<ExceptionsView>;
  /** The mailbox's active SMTP AUTH exception (who asked, why, until when), if it has one. */
  activeException(user: DirectoryUser): Promise<ExceptionRecord | undefined>;
  examples(): string[];
  /** A typed `undo` (optionally "undo bob"): drafts the reverse of the asker's latest change, or asks which. */
  undoLatest(target?: string): Promise<AdaptiveCard>;
  /** Every organization-wide SMTP AUTH layer and the exceptions register in numbers (`org-status`). */
  orgStatus(): Promise<OrgStatusView>;
  /** The asker's requests on their way and, for approvers, those waiting for their decision, each with its live buttons. */
  requestsView(): Promise<RequestsView>;
}

export type Audience = 'everyone' | 'it-staff' | 'it-staff-or-approver';

interface CommandBase {
  id: string;
  /** Utterance patterns per language; `{user}` captures the target. Matching ignores case and accents. */
  phrases: Record<Language, string[]>;
  /** One example per language for help. */
  example: Record<Language, string>;
  params: z.ZodType<Record<string, string>>;
  audience: Audience;
}

/** A command that only reads: runs at once, changes nothing. */
export interface ReadCommand extends CommandBase {
  kind: 'read';
  risk: Extract<Risk, 'read'>;
  run(context: CommandContext, params: Record<string, string>): Promise<AdaptiveCard>;
}

/** What a change command plans from: the user it names (for `{user}` commands) and the tenant. */
export interface PlanContext {
  tenantId: string;
  user?: DirectoryUser;
  /** For `group` commands: the group's users (nested groups flattened), each once. */
  members?: DirectoryUser[];
}

/**
 * A command that changes the tenant: data plus a plan. It says which steps it wants (src/steps/);
 * the dispatcher reads each step's current value and drops those already so, takes the quorum from
 * the highest step risk, and owns confirmation, approval, execution, verification, audit and undo.
 */
export interface ChangeCommand extends CommandBase {
  kind: 'change';
  /**
   * What the command names: one user (its phrases capture `{user}`), the organization, or an Entra
   * group (its phrases capture `{group}`; the plan gets one step per member's mailbox).
   */
  targets: 'user' | 'organization' | 'group';
  /** The steps this command wants, in order. Pure: it reads nothing, it only says what it wants. */
  plan(context: PlanContext): StepIntent[];
  /**
   * Turns SMTP AUTH on for the user's mailbox as an accountable exception (issue #5): it needs a
   * justification, is time-boxed by default, and is recorded in the exceptions register.
   */
  grantsException?: boolean;
  /**
   * The least risk the request is gated at, whatever its steps say: a change that reaches many
   * mailboxes at once is riskier than each of its steps (`smtp-enable-group`).
   */
  minimumRisk?: Risk;
  /**
   * What the confirmation card says besides the plan (how many mailboxes a change reaches, which
   * keep their own setting…): read once when drafting, kept with the request. Locale keys and values.
   */
  notes?(tenant: Tenant, context: PlanContext): Promise<CardNote[]>;
}

/** A line a change's card shows: a locale key and its values, optionally a list below it. */
export interface CardNote {
  key: string;
  params?: Record<string, string | number>;
  tone?: 'warning';
  list?: string[];
}

/** The mailbox of a user, as a step names its target. */
export function mailboxOf(user: DirectoryUser): StepTarget {
  return { type: 'mailbox', id: user.id, identity: user.userPrincipalName, displayName: user.displayName };
}

/** A user (their per-user MFA, their Exchange authentication policy), as a step names its target. */
export function userOf(user: DirectoryUser): StepTarget {
  return { type: 'user', id: user.id, identity: user.userPrincipalName, displayName: user.displayName };
}

/** The organization (tenant-wide settings). */
export function organizationOf(tenantId: string): StepTarget {
  return { type: 'organization', id: tenantId, identity: tenantId, displayName: tenantId };
}

export type CommandDefinition = ReadCommand | ChangeCommand;
