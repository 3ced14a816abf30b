import type { Risk } from '../config';
import type { Language } from '../i18n';
import type { MailboxSmtpState } from '../domain/smtp-auth';
import type { PlanStep } from '../steps/types';

export type { MailboxSmtpState, SmtpAuthSnapshot } from '../domain/smtp-auth';

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
  /**
   * The ordered steps the change is made of (src/steps/), each with its own status, before and
   * after. Empty for a draft still waiting for its target, and for a change that only records an
   * exception (adopting a mailbox already on, extending one). Absent is read as empty.
   */
  plan: PlanStep[];
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

/** Write errors after which the write may still have reached the tenant: it timed out, or its connection was cut. */
export const ambiguousWriteErrors: ReadonlySet<string> = new Set(['TENANT_TIMEOUT', 'TENANT_UNAVAILABLE']);

/**
 * A failed step of a group change whose write may still land and that the late check has not read
 * back yet: a Retry leaves it alone, so a write that did land is never sent a second time.
 */
export function awaitsLateCheck(request: Pick<RequestRecord, 'params'>, step: PlanStep): boolean {
  return step.status === 'failed' && !step.lateWrite && !request.params.lateWrite && typeof step.writeErrorCode === 'string' && ambiguousWriteErrors.has(step.writeErrorCode);
}

/** The longest justification an exception keeps (a device or app name, not an essay). */
export const justificationMaxLength = 300;
