import type { GraphDirectory } from '../tenant';

export interface Roles {
  itStaff: boolean;
  approver: boolean;
}

/**
 * Roles come from Entra group membership, looked up live with checkMemberGroups and cached for at
 * most a minute (DESIGN.md) — never from anything a card sends back.
 */
export class RoleLookup {
  private readonly cache = new Map<string, { at: number; roles: Roles }>();

  constructor(
    private readonly directory: GraphDirectory,
    private readonly groups: { itStaffGroupId: string; approverGroupId: string },
    private readonly now: () => Date,
    private readonly ttlMs = 60_000,
  ) {}

  async rolesOf(userId: string): Promise<Roles> {
    const cached = this.cache.get(userId);
    if (cached && this.now().getTime() - cached.at < this.ttlMs) return cached.roles;
    const member = new Set(await this.directory.memberOf(userId, [this.groups.itStaffGroupId, this.groups.approverGroupId]));
    const roles = { itStaff: member.has(this.groups.itStaffGroupId), approver: member.has(this.groups.approverGroupId) };
    this.cache.set(userId, { at: this.now().getTime(), roles });
    return roles;
  }
}
