import type { Risk } from '../config';
import type { Language } from '../i18n';

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
