import type { Risk } from '../config';
import type { ErrorCode } from '../errors';
import type { Translate } from '../i18n';
import type { Tenant } from '../tenant';

/**
 * A step is one setting on one target: the unit a change request's plan is made of. Every kind of
 * step is declared in one file of this folder, implementing {@link StepKind}, and listed once in
 * `registry.ts`. The request machinery (requests/) claims, writes, reads back, audits, reconciles,
 * undoes and reverts every kind the same way; it never knows which setting it is touching.
 *
 * Values and observed states must be plain JSON (no Dates, no classes): they are kept in the
 * request's `plan` column.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What a step writes to. `id` is stable (an Entra object id, the tenant id); the rest is for people. */
export interface StepTarget {
  type: 'mailbox' | 'user' | 'organization';
  id: string;
  /** The identity the cmdlet or Graph call names (a UPN); the tenant id for the organization. */
  identity: string;
  displayName: string;
}

/** What a command asks for: this kind of setting, on this target, set to this value. */
export interface StepIntent<V = Json> {
  kind: string;
  target: StepTarget;
  desired: V;
}

/** How the audit names a write: the cmdlet (Exchange) or Graph operation, and its parameters. */
export interface StepOperation {
  /** `Set-CASMailbox`, `PATCH /policies/identitySecurityDefaultsEnforcementPolicy`… */
  operation: string;
  /** Set for Exchange cmdlets (kept as `cmdlet` in the audit, as before the plan model). */
  cmdlet?: string;
  identity: string;
  parameters: Record<string, Json>;
}

/**
 * One kind of setting SMTP Gate can change. `S` is what a read observes (it may carry more than
 * the value: the mailbox kind also reads the organization setting to say what is effective); `V`
 * is the value a write sets. Implement all of it in one file; see README.md in this folder.
 */
export interface StepKind<V = Json, S = unknown> {
  /** Stable id, kept in every request's plan: never rename one that has shipped. */
  id: string;
  /** The target type this kind writes to. */
  targetType: StepTarget['type'];
  /**
   * The risk of setting `desired` (the request's quorum is the highest risk among its steps).
   * `before` is what the plan read, when known.
   */
  risk(desired: V, before: S | undefined): Risk;
  /**
   * The row of docs/permissions.md this step's write needs: the Graph application permission or
   * the Exchange management role, e.g. `Exchange role "Mail Recipients" (Set-CASMailbox)`.
   */
  permission: string;
  /** Reads the current state; undefined when the target does not exist (no mailbox). */
  read(tenant: Tenant, target: StepTarget): Promise<S | undefined>;
  /** Does an observed state hold the desired value? Drops a step from a plan; verifies a read-back. */
  holds(state: S, desired: V): boolean;
  /** The value that puts the target back as it was observed: what undo and time-boxed reverts write. */
  valueOf(state: S): V;
  /** Writes the value. The same write sent twice must end the same as once (retries, reconciles). */
  write(tenant: Tenant, target: StepTarget, value: V): Promise<void>;
  /** The audit's name for the write of `value`. */
  operation(target: StepTarget, value: V): StepOperation;
  /** A value as a person reads it ("off for this mailbox", "follows the organization"). */
  describe(t: Translate, value: V): string;
  /**
   * Optional: a write Microsoft would refuse (or SMTP Gate will not make), known from the read —
   * Entra will not turn security defaults on while Conditional Access policies exist. The plan is
   * then answered with this error, in Microsoft's words where it has them: no request, no write.
   */
  refusal?(state: S, desired: V): { code: ErrorCode; params: Record<string, string | number> } | undefined;
  /**
   * Optional: the concrete value for a desired one that names an intent ("a policy that allows
   * Basic SMTP" → that policy's name), chosen from the read when the plan is made. The plan stores
   * the concrete value: it is what is approved, written, verified, audited and undone.
   */
  resolve?(state: S, desired: V): V;
  /** Optional: what the confirmation and approval cards say about this step beyond its value (what else it changes, what Microsoft recommends). */
  notes?(t: Translate, step: PlanStep<V, S>): string[];
}

/** Where a step of a request's plan is. Moves only forward: pending → writing → applied | failed. */
export type StepStatus = 'pending' | 'writing' | 'applied' | 'failed';

/** A step of a request's plan as the request keeps it (the `plan` jsonb column). */
export interface PlanStep<V = Json, S = unknown> extends StepIntent<V> {
  status: StepStatus;
  /** The state read when the plan was made: what undo and time-boxed reverts put back. */
  before: S | null;
  /** The read-back after the write (or the reconcile's read). */
  after: S | null;
  verified: boolean | null;
  errorCode: string | null;
  /** The write's own error when the step still counts as applied or failed otherwise (a time-out). */
  writeErrorCode?: string;
  /**
   * What the late check of a group change found for this mailbox's timed-out write: it never
   * reached Exchange, it landed and was put back (a failed request), it landed and counts as applied
   * (a request done in part), or another request changed the mailbox since and it was left alone;
   * `unknown` when the check gave up (Exchange could not be read on any attempt of its job).
   */
  lateWrite?: 'not-applied' | 'undone' | 'landed' | 'changed-since' | 'unknown';
}
