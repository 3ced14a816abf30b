import type { z } from 'zod';
import type { Risk } from '../config';
import type { Language } from '../i18n';
import type { MailboxSmtpState } from '../requests/model';
import type { AdaptiveCard, ExceptionsView } from '../cards/builders';
import type { OrgStatusView } from '../cards/org-status';
import type { Translate } from '../i18n';
import type { ConversationRef } from '../requests/model';
import type { DirectoryUser, SmtpAuthEvaluation, Tenant } from '../tenant';

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
  setApprovalsConversation(conversation: ConversationRef): Promise<void>;
  /** The exceptions register and the mailboxes with SMTP AUTH on without a request (saved as a review). */
  exceptionsRegister(): Promise<ExceptionsView>;
  examples(): string[];
  /** A typed `undo` (optionally "undo bob"): drafts the reverse of the asker's latest change, or asks which. */
  undoLatest(target?: string): Promise<AdaptiveCard>;
  /** Every organization-wide SMTP AUTH layer and the exceptions register in numbers (`org-status`). */
  orgStatus(): Promise<OrgStatusView>;
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
  risk: Risk;
}

/** A command that only reads: runs at once, changes nothing. */
export interface ReadCommand extends CommandBase {
  kind: 'read';
  run(context: CommandContext, params: Record<string, string>): Promise<AdaptiveCard>;
}

/**
 * A command that changes the tenant. The dispatcher owns confirmation, approval, verification
 * and audit; the command says what value it wants and how to write it.
 */
export interface ChangeCommand extends CommandBase {
  kind: 'change';
  /** The mailbox `SmtpClientAuthenticationDisabled` value this command sets. */
  desiredMailboxValue: boolean | null;
  execute(tenant: Tenant, target: { userPrincipalName: string }): Promise<void>;
  /** Did the read-back land where the command meant to? */
  verify(after: MailboxSmtpState): boolean;
}

export type CommandDefinition = ReadCommand | ChangeCommand;
