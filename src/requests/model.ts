import type { Risk } from '../config';
import type { Language } from '../i18n';
import type { Finding } from '../tenant/evaluate';

export const requestStates = [
  'draft', 'confirmed', 'pending', 'approved', 'executing', 'succeeded', 'failed',
  'rejected', 'cancelled', 'expired', 'reverted',
] as const;
export type RequestState = (typeof requestStates)[number];

/** The state machine of DESIGN.md "Requests and approvals": every edge the store may take. */
export const allowedTransitions: Readonly<Record<RequestState, readonly RequestState[]>> = {
  draft: ['confirmed', 'cancelled', 'expired'],
  confirmed: ['pending', 'approved', 'cancelled'],
  pending: ['approved', 'rejected', 'cancelled', 'expired'],
  approved: ['executing'],
  executing: ['succeeded', 'failed'],
  succeeded: ['reverted'],
  failed: [],
  rejected: [],
  cancelled: [],
  expired: [],
  reverted: [],
};

export const openStates: ReadonlySet<RequestState> = new Set(['draft', 'confirmed', 'pending']);

/** Opaque to the core: the bot edge makes it and reads it back to reach a conversation. */
export type ConversationRef = Record<string, unknown>;

export interface MailboxSmtpState {
  /** `Get-CASMailbox … SmtpClientAuthenticationDisabled`: null inherits the organization. */
  mailboxSmtpClientAuthenticationDisabled: boolean | null;
  /** `Get-TransportConfig … SmtpClientAuthenticationDisabled`. */
  orgSmtpClientAuthenticationDisabled: boolean;
  /** The mailbox value wins over the organization's. */
  effectiveEnabled: boolean;
  /**
   * Every other layer too, as the one evaluation (tenant/evaluate.ts) found it when this state was
   * read; kept in the request's before/after jsonb. Absent on rows written before it existed and
   * after a read that could not evaluate; null when a draft's evaluation failed (the card says so).
   */
  evaluation?: SmtpAuthSnapshot | null;
}

/** What blocked SMTP AUTH at one moment: the part of an evaluation a request keeps. */
export interface SmtpAuthSnapshot {
  /** True only when no layer blocks Basic SMTP AUTH. */
  effectiveEnabled: boolean;
  blockers: Finding[];
}

export interface RequestRecord {
  id: string;
  tenantId: string;
  commandId: string;
  state: RequestState;
  risk: Risk;
  requiredApprovals: number;
  requesterId: string;
  requesterName: string;
  targetUserId: string | null;
  targetUpn: string | null;
  targetDisplayName: string | null;
  params: Record<string, unknown>;
  language: Language;
  conversation: ConversationRef;
  before: MailboxSmtpState | null;
  after: MailboxSmtpState | null;
  verified: boolean | null;
  errorCode: string | null;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
}

export interface Approval {
  requestId: string;
  approverId: string;
  approverName: string;
  decision: 'approve' | 'reject';
  comment: string | null;
  at: Date;
}

/** An entry of the exceptions register: a mailbox with SMTP AUTH on, and why. */
export interface ExceptionRecord {
  id: string;
  tenantId: string;
  targetUserId: string;
  targetUpn: string;
  targetDisplayName: string;
  /** The request that governs it now: the grant, or the latest extension. */
  requestId: string;
  originRequestId: string;
  requesterId: string;
  requesterName: string;
  approverNames: string[];
  justification: string;
  /** null: permanent. */
  expiresAt: Date | null;
  /** The mailbox value that turns SMTP AUTH off again when it lapses. */
  restoreValue: boolean | null;
  adopted: boolean;
  state: 'active' | 'lapsed' | 'ended';
  createdAt: Date;
  updatedAt: Date;
}

/** One mailbox an `exceptions` card listed as unmanaged (SMTP AUTH on without a request). */
export interface UnmanagedMailbox {
  userId: string;
  userPrincipalName: string;
  displayName: string;
}

/** The longest justification an exception keeps (a device or app name, not an essay). */
export const justificationMaxLength = 300;
