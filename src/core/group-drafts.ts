import type { ChangeCommand } from '../commands/types';
import type { Risk } from '../config';
import { AppError } from '../errors';
import { highestRisk, planRisk, readPlan, stateKey } from '../steps/plan';
import type { PlanStep } from '../steps/types';
import type { DirectoryGroup, DirectoryUser, Tenant } from '../tenant';
import type { GroupMember, GroupParams } from '../domain/group-change';
import { readMailboxStates } from '../tenant/smtp-state';


export type GroupTarget = { kind: 'found'; group: DirectoryGroup } | { kind: 'ambiguous'; candidates: DirectoryGroup[] };

/** Resolves the group an admin named, like a user: GROUP_NOT_FOUND when no group has that name, id or address. */
export async function resolveGroupTarget(tenant: Tenant, query: string): Promise<GroupTarget> {
  const resolution = await tenant.directory.resolveGroup(query);
  if (resolution.kind === 'none') throw new AppError('GROUP_NOT_FOUND', { query });
  return resolution;
}

export interface GroupPlan {
  group: GroupParams;
  /** The mailboxes to write, each read now. */
  steps: PlanStep[];
  risk: Risk;
}

/**
 * The plan of a group change: one mailbox step per member (nested groups flattened, each user
 * once), members without a mailbox skipped and listed, mailboxes already as asked dropped. An empty
 * group is GROUP_EMPTY; a group whose members have no mailbox at all is GROUP_NO_MAILBOXES. The
 * risk is the highest of the steps' and the command's own minimum (a permanent enable is high).
 */
export async function planGroupChange(tenant: Tenant, command: ChangeCommand, group: DirectoryGroup, tenantId: string, permanent: boolean): Promise<GroupPlan> {
  const members = await tenant.directory.groupUsers(group.id);
  if (members.length === 0) throw new AppError('GROUP_EMPTY', { name: group.displayName });
  const states = await readMailboxStates(tenant.exchange);
  const withMailbox: DirectoryUser[] = [];
  const skipped: GroupMember[] = [];
  for (const member of members) {
    if (states.has(member.id.toLowerCase())) withMailbox.push(member);
    else skipped.push({ id: member.id, displayName: member.displayName, userPrincipalName: member.userPrincipalName });
  }
  if (withMailbox.length === 0) throw new AppError('GROUP_NO_MAILBOXES', { name: group.displayName, members: members.length });
  const intents = command.plan({ tenantId, members: withMailbox });
  const known = new Map<string, unknown>(intents.map((intent) => [stateKey(intent), states.get(intent.target.id.toLowerCase())]));
  const { steps } = await readPlan(tenant, intents, known);
  const risk = highestRisk([steps.length ? planRisk(steps) : 'low', command.minimumRisk ?? 'low', ...(permanent ? ['high' as const] : [])]);
  return {
    group: { id: group.id, displayName: group.displayName, members: members.length, alreadySo: withMailbox.length - steps.length, skipped },
    steps,
    risk,
  };
}
