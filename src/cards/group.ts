import { errorText } from '../errors';
import type { Translate } from '../i18n';
import { awaitsLateCheck, type RequestRecord } from '../model/requests';
import { groupCardListLimit, groupOf, type GroupMember, type GroupParams } from '../domain/group-change';
import type { PlanStep } from '../steps/types';
import type { AdaptiveCard } from './card';

/**
 * The parts of a group change's cards (`smtp-enable-group`): what the group holds and what will
 * change before the decision, "n of m" while it runs, then every mailbox's result, the failed ones
 * named with why. A plan of 200 steps is never listed step by step: a card stays readable and under
 * Teams' size limit.
 */

const paragraph = (text: string, extra: Record<string, unknown> = {}) => ({ type: 'TextBlock', text, wrap: true, ...extra });

/** Names, at most {@link groupCardListLimit}, then "and N more". */
export function nameList(t: Translate, members: readonly GroupMember[]): Record<string, unknown>[] {
  return [
    ...members.slice(0, groupCardListLimit).map((m) => paragraph(`• ${m.displayName} (${m.userPrincipalName})`, { spacing: 'None' })),
    ...(members.length > groupCardListLimit ? [paragraph(t('group.more', { count: members.length - groupCardListLimit }), { isSubtle: true, spacing: 'None' })] : []),
  ];
}

const memberOf = (step: PlanStep): GroupMember => ({ id: step.target.id, displayName: step.target.displayName, userPrincipalName: step.target.identity });

/** Steps settled so far (applied or failed): what "n of m" counts. */
export function settledSteps(request: Pick<RequestRecord, 'plan'>): number {
  return request.plan.filter((step) => step.status === 'applied' || step.status === 'failed').length;
}

/** The group lines of a request's card, in place of the step-by-step plan; [] for a request that is not a group change. */
export function groupLines(t: Translate, request: RequestRecord): Record<string, unknown>[] {
  const group = groupOf(request);
  if (!group) return [];
  const plan = request.plan ?? [];
  const lines: Record<string, unknown>[] = [paragraph(t('group.members', { count: group.members, name: group.displayName }), { spacing: 'Medium' })];
  const skipped = group.skipped.length ? [paragraph(t('group.skipped', { count: group.skipped.length }), { weight: 'Bolder', spacing: 'Medium' }), ...nameList(t, group.skipped)] : [];
  const alreadySo = group.alreadySo ? [paragraph(t('group.alreadySoCount', { count: group.alreadySo }), { spacing: 'Small' })] : [];
  if (['draft', 'confirmed', 'pending', 'approved', 'rejected', 'cancelled', 'expired'].includes(request.state)) {
    // An extension of the group's exceptions writes only the mailboxes that are off by the time it runs.
    const heading = typeof request.params.extendsGroupOf === 'string' ? 'group.willExtend' : 'group.willChange';
    lines.push(paragraph(t(heading, { count: plan.length }), { weight: 'Bolder', spacing: 'Small' }), ...nameList(t, plan.map(memberOf)), ...alreadySo, ...skipped);
    return lines;
  }
  if (request.state === 'executing') {
    lines.push(paragraph(t('group.progress', { done: settledSteps(request), total: plan.length }), { weight: 'Bolder', spacing: 'Small' }));
    return lines;
  }
  const applied = plan.filter((step) => step.status === 'applied');
  const failed = plan.filter((step) => step.status === 'failed');
  const notRun = plan.filter((step) => step.status === 'pending' || step.status === 'writing');
  lines.push(paragraph(t('group.applied', { applied: applied.length, total: plan.length }), { weight: 'Bolder', spacing: 'Small', color: failed.length ? 'Warning' : 'Good' }));
  if (failed.length) {
    // By cause: what went wrong, said once, then the mailboxes it happened to.
    const byCode = new Map<string, PlanStep[]>();
    for (const step of failed) byCode.set(step.errorCode ?? 'INTERNAL', [...(byCode.get(step.errorCode ?? 'INTERNAL') ?? []), step]);
    lines.push(paragraph(t('group.failed', { count: failed.length }), { weight: 'Bolder', color: 'Attention', spacing: 'Medium' }));
    for (const [code, steps] of byCode) lines.push(paragraph(`${errorText(t, code)} (${code})`, { isSubtle: true, spacing: 'Small' }), ...nameList(t, steps.map(memberOf)));
    if (request.state === 'succeeded') lines.push(paragraph(t('group.retryHint'), { isSubtle: true }));
  }
  lines.push(...lateWriteLines(t, request));
  if (notRun.length) lines.push(paragraph(t('group.notRun', { count: notRun.length }), { weight: 'Bolder', spacing: 'Medium' }), ...nameList(t, notRun.map(memberOf)));
  lines.push(...alreadySo, ...skipped);
  return lines;
}

/**
 * What the late check found for the mailboxes whose writes timed out, each verdict with its names;
 * on a request done in part, before it has looked, that it will (a failed request's card says so already).
 */
function lateWriteLines(t: Translate, request: RequestRecord): Record<string, unknown>[] {
  const plan = request.plan ?? [];
  const waiting = plan.filter((step) => awaitsLateCheck(request, step));
  if (request.state === 'succeeded' && waiting.length) return [paragraph(t('group.late.unknown', { count: waiting.length }), { color: 'Warning', weight: 'Bolder', spacing: 'Medium' })];
  const lines: Record<string, unknown>[] = [];
  for (const outcome of ['undone', 'landed', 'changed-since', 'not-applied'] as const) {
    const steps = plan.filter((step) => step.lateWrite === outcome);
    if (!steps.length) continue;
    lines.push(paragraph(t(`group.late.${outcome}`, { count: steps.length }), { weight: 'Bolder', spacing: 'Medium' }));
    if (outcome !== 'not-applied') lines.push(...nameList(t, steps.map(memberOf)));
  }
  // The check gave up (Exchange could not be read): these may or may not have been written.
  const unknown = plan.filter((step) => step.status === 'failed' && step.lateWrite === 'unknown');
  if (unknown.length) {
    const retry = request.state === 'succeeded' && typeof request.params.undoneBy !== 'string';
    lines.push(paragraph(t(retry ? 'group.late.gaveUpRetry' : 'group.late.gaveUp', { count: unknown.length }), { color: 'Warning', weight: 'Bolder', spacing: 'Medium' }), ...nameList(t, unknown.map(memberOf)));
  }
  return lines;
}

/** A group change that is done with some mailboxes failed: its headline says so instead of "Done, verified". */
export function partlyDone(request: Pick<RequestRecord, 'plan' | 'state' | 'params'>): boolean {
  return request.state === 'succeeded' && groupOf(request) !== undefined && request.plan.some((step) => step.status === 'failed');
}

/** The failed steps of a group change that a Retry would write again. */
export function retryableSteps(request: Pick<RequestRecord, 'plan' | 'state' | 'params'>): number {
  if (request.state !== 'succeeded' || !groupOf(request) || typeof request.params.undoneBy === 'string') return 0;
  return request.plan.filter((step) => step.status === 'failed' && !awaitsLateCheck(request, step)).length;
}

/** The mailboxes of a failed group change whose late check gave up: what Check again reads. */
export function uncheckedSteps(request: Pick<RequestRecord, 'plan' | 'state' | 'params'>): number {
  if (request.state !== 'failed' || !groupOf(request)) return 0;
  return request.plan.filter((step) => step.status === 'failed' && step.lateWrite === 'unknown').length;
}

/** Every mailbox of the group already holds what was asked: no request, no write. */
export function groupAlreadySoCard(t: Translate, commandId: string, group: GroupParams): AdaptiveCard {
  return {
    type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.4',
    body: [
      { type: 'TextBlock', text: t('steps.alreadySo'), weight: 'Bolder', size: 'Medium', wrap: true },
      paragraph(t(`group.alreadySoAll.${commandId === 'smtp-disable-group' ? 'off' : 'on'}`, { count: group.alreadySo, name: group.displayName })),
      ...(group.skipped.length ? [paragraph(t('group.skipped', { count: group.skipped.length }), { weight: 'Bolder', spacing: 'Medium' }), ...nameList(t, group.skipped)] : []),
      paragraph(t('steps.nothingWritten'), { isSubtle: true, spacing: 'Medium' }),
    ],
  };
}

/**
 * Several groups match what was typed: one button each, titled with its name and mail nickname,
 * that sends the command again naming the group by its object id (Teams `imBack`), so it goes
 * through every check of a typed message. Entra allows two groups with one display name: the id
 * tells them apart.
 */
export function groupPickCard(t: Translate, query: string, choices: { title: string; text: string }[]): AdaptiveCard {
  return {
    type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.4',
    body: [
      { type: 'TextBlock', text: t('group.pickTitle', { query }), weight: 'Bolder', size: 'Medium', wrap: true },
      paragraph(t('group.pickPrompt')),
    ],
    actions: choices.map((choice) => ({ type: 'Action.Submit', title: choice.title, data: { msteams: { type: 'imBack', value: choice.text } } })),
  };
}
