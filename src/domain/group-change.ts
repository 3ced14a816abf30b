/** What a group change keeps about its group: plain data, read by the cards, notifications and the dispatcher. */

/** A member of a group change as its card and the register name it. */
export interface GroupMember {
  id: string;
  displayName: string;
  userPrincipalName: string;
}

/** What a group request keeps about its group (`params.group`): what its cards show besides the plan. */
export interface GroupParams {
  id: string;
  displayName: string;
  /** Users below the group when drafted, nested groups flattened. */
  members: number;
  /** Members with a mailbox already as asked: dropped from the plan. */
  alreadySo: number;
  /** Members without an Exchange mailbox (no license, a shared account…): skipped, never written. */
  skipped: GroupMember[];
}

/** How many names a card lists under one heading before it says "and N more". */
export const groupCardListLimit = 15;

/** The request params of a group change, when it is one. */
export function groupOf(request: { params: Record<string, unknown> }): GroupParams | undefined {
  const group = request.params.group;
  return group && typeof group === 'object' && typeof (group as GroupParams).id === 'string' ? (group as GroupParams) : undefined;
}
