import type { Risk } from '../config';
import { AppError } from '../errors';
import type { Tenant } from '../tenant';
import { stepKindById } from './registry';
import type { Json, PlanStep, StepIntent } from './types';

const riskOrder: readonly Risk[] = ['read', 'low', 'medium', 'high', 'critical'];

/** The highest of the risks: a request's quorum comes from its riskiest step. */
export function highestRisk(risks: readonly Risk[]): Risk {
  return risks.reduce<Risk>((max, risk) => (riskOrder.indexOf(risk) > riskOrder.indexOf(max) ? risk : max), 'low');
}

export function planRisk(steps: readonly PlanStep[]): Risk {
  return highestRisk(steps.map((step) => stepKindById(step.kind).risk(step.desired, step.before ?? undefined)));
}

export interface ReadPlan {
  /** The steps still to do, each with the state it was read in. */
  steps: PlanStep[];
  /** Every intent with the state read for it (the dropped ones too): what an "already so" answer shows. */
  read: { intent: StepIntent; state: unknown }[];
}

/**
 * Reads each intent's current state (or takes the one the caller already read, keyed by kind and
 * target id) and keeps only the steps whose target does not hold the desired value yet. A target
 * that does not exist is left to the caller (undefined state: the step stays, and fails if run).
 */
export async function readPlan(tenant: Tenant, intents: readonly StepIntent[], known: ReadonlyMap<string, unknown> = new Map()): Promise<ReadPlan> {
  // At most 16 reads in flight: an undo of a group change reads hundreds of mailboxes.
  const read: { intent: StepIntent; state: unknown }[] = new Array(intents.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(16, intents.length) }, async () => {
    for (let index = next++; index < intents.length; index = next++) {
      const intent = intents[index]!;
      const key = stateKey(intent);
      read[index] = { intent, state: known.has(key) ? known.get(key) : await stepKindById(intent.kind).read(tenant, intent.target) };
    }
  }));
  const steps: PlanStep[] = [];
  for (const { intent, state } of read) {
    const kind = stepKindById(intent.kind);
    if (state !== undefined) {
      const refusal = kind.refusal?.(state, intent.desired);
      if (refusal) throw new AppError(refusal.code, refusal.params);
      if (kind.holds(state, intent.desired)) continue;
    }
    const desired = state !== undefined && kind.resolve ? kind.resolve(state, intent.desired) : intent.desired;
    steps.push(pendingStep({ ...intent, desired }, state));
  }
  return { steps, read };
}

export function pendingStep(intent: StepIntent, before: unknown): PlanStep {
  return { kind: intent.kind, target: intent.target, desired: intent.desired, status: 'pending', before: (before ?? null) as Json, after: null, verified: null, errorCode: null };
}

export function stateKey(intent: Pick<StepIntent, 'kind' | 'target'>): string {
  return `${intent.kind}:${intent.target.id}`;
}

/** Same steps, same order, same values: what tells which command a reverse plan is. */
export function sameIntents(a: readonly StepIntent[], b: readonly StepIntent[]): boolean {
  return a.length === b.length && a.every((x, i) => x.kind === b[i]!.kind && x.target.id === b[i]!.target.id && JSON.stringify(x.desired) === JSON.stringify(b[i]!.desired));
}

/**
 * The steps that undo a plan: every applied step that changed its target, in reverse order, each
 * back to the value read before it ran.
 */
export function reverseIntents(plan: readonly PlanStep[]): StepIntent[] {
  return plan
    .filter((step) => step.status === 'applied' && step.before !== null && !stepKindById(step.kind).holds(step.before, step.desired))
    .reverse()
    .map((step) => ({ kind: step.kind, target: step.target, desired: stepKindById(step.kind).valueOf(step.before) }));
}
