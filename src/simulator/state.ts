import type { FixtureGroup, FixtureUser, TenantFixture } from './fixture';

export type PerUserMfaState = FixtureUser['perUserMfaState'];

export type IdentityResolution<T> =
  | { kind: 'found'; value: T }
  | { kind: 'notFound' }
  | { kind: 'ambiguous'; matches: T[] };

/** The live tenant: a private copy of the fixture that the simulated APIs read and write. */
export class TenantState {
  private data: TenantFixture;

  constructor(fixture: TenantFixture) {
    this.data = structuredClone(fixture);
  }

  get tenant(): TenantFixture['tenant'] {
    return this.data.tenant;
  }

  get org(): TenantFixture['org'] {
    return this.data.org;
  }

  get users(): readonly FixtureUser[] {
    return this.data.users;
  }

  get groups(): readonly FixtureGroup[] {
    return this.data.groups ?? [];
  }

  get conditionalAccessPolicies(): NonNullable<TenantFixture['conditionalAccessPolicies']> {
    return this.data.conditionalAccessPolicies ?? [];
  }

  get authenticationPolicies(): NonNullable<TenantFixture['authenticationPolicies']> {
    return this.data.authenticationPolicies ?? [];
  }

  /** The `*.onmicrosoft.com` domain Microsoft gives every tenant; the first domain when the fixture has none. */
  get initialDomain(): string {
    const domains = this.data.tenant.domains;
    return domains.find((domain) => domain.toLowerCase().endsWith('.onmicrosoft.com')) ?? (domains[0] as string);
  }

  /** Entra accepts the tenant id or any of its verified domains wherever a tenant is named. */
  isThisTenant(idOrDomain: string): boolean {
    const wanted = idOrDomain.toLowerCase();
    return wanted === this.data.tenant.id.toLowerCase() || this.data.tenant.domains.some((domain) => domain.toLowerCase() === wanted);
  }

  userById(id: string): FixtureUser | undefined {
    const wanted = id.toLowerCase();
    return this.data.users.find((user) => user.id.toLowerCase() === wanted);
  }

  /** Graph's `/users/{id | userPrincipalName}`. */
  userByIdOrUpn(key: string): FixtureUser | undefined {
    const wanted = key.toLowerCase();
    return this.data.users.find((user) => user.id.toLowerCase() === wanted || user.userPrincipalName.toLowerCase() === wanted);
  }

  groupById(id: string): FixtureGroup | undefined {
    const wanted = id.toLowerCase();
    return this.groups.find((group) => group.id.toLowerCase() === wanted);
  }

  /** Transitive membership: through nested groups, as checkMemberGroups and transitiveMembers see it. */
  isMember(group: FixtureGroup, objectId: string): boolean {
    const wanted = objectId.toLowerCase();
    return this.transitiveMemberIds(group).some((member) => member === wanted);
  }

  /** Direct members: users and nested groups, in fixture order. */
  directMembers(group: FixtureGroup): (FixtureUser | FixtureGroup)[] {
    return group.members
      .map((id) => this.userById(id) ?? this.groupById(id))
      .filter((member): member is FixtureUser | FixtureGroup => member !== undefined);
  }

  /** Every object below the group (users and groups), each once, lower-case ids; cycles are harmless. */
  transitiveMemberIds(group: FixtureGroup): string[] {
    const seen = new Set<string>([group.id.toLowerCase()]);
    const order: string[] = [];
    const queue = [...group.members];
    while (queue.length > 0) {
      const id = (queue.shift() as string).toLowerCase();
      if (seen.has(id)) continue;
      seen.add(id);
      order.push(id);
      const nested = this.groupById(id);
      if (nested) queue.push(...nested.members);
    }
    return order;
  }

  groupByName(name: string): FixtureGroup | undefined {
    const wanted = name.toLowerCase();
    return this.groups.find((group) => group.displayName.toLowerCase() === wanted || group.mailNickname.toLowerCase() === wanted);
  }

  /** Exchange's recipient alias; Microsoft 365 derives it from the UPN's local part. */
  alias(user: FixtureUser): string {
    return user.userPrincipalName.slice(0, user.userPrincipalName.lastIndexOf('@'));
  }

  primarySmtpAddress(user: FixtureUser): string {
    return user.mail ?? user.userPrincipalName;
  }

  /** Every proxy address Exchange would list: the primary one and the initial-domain one. */
  smtpAddresses(user: FixtureUser): string[] {
    const primary = this.primarySmtpAddress(user);
    const routing = `${this.alias(user)}@${this.initialDomain}`;
    return primary.toLowerCase() === routing.toLowerCase() ? [primary] : [primary, routing];
  }

  /**
   * Exchange's `-Identity` for a recipient: alias, any SMTP address, UPN, or the Entra object id
   * (ExternalDirectoryObjectId), compared case-insensitively.
   */
  resolveRecipient(identity: string, options: { mailboxOnly: boolean }): IdentityResolution<FixtureUser> {
    const wanted = identity.trim().toLowerCase();
    const matches = this.data.users.filter((user) => {
      if (options.mailboxOnly && user.mailbox === null) return false;
      return (
        user.id.toLowerCase() === wanted ||
        user.userPrincipalName.toLowerCase() === wanted ||
        this.alias(user).toLowerCase() === wanted ||
        this.smtpAddresses(user).some((address) => address.toLowerCase() === wanted)
      );
    });
    if (matches.length === 0) return { kind: 'notFound' };
    if (matches.length > 1) return { kind: 'ambiguous', matches };
    return { kind: 'found', value: matches[0] as FixtureUser };
  }

  authenticationPolicyByName(name: string): NonNullable<TenantFixture['authenticationPolicies']>[number] | undefined {
    const wanted = name.toLowerCase();
    return this.authenticationPolicies.find((policy) => policy.name.toLowerCase() === wanted);
  }

  setMailboxSmtpClientAuthenticationDisabled(user: FixtureUser, value: boolean | null): void {
    if (!user.mailbox) throw new Error(`${user.userPrincipalName} has no mailbox`);
    user.mailbox.smtpClientAuthenticationDisabled = value;
  }

  setOrgSmtpClientAuthenticationDisabled(value: boolean): void {
    this.data.org.smtpClientAuthenticationDisabled = value;
  }

  setSecurityDefaultsEnabled(value: boolean): void {
    this.data.org.securityDefaultsEnabled = value;
  }

  setPerUserMfaState(user: FixtureUser, value: PerUserMfaState): void {
    user.perUserMfaState = value;
  }

  /** `Set-User -AuthenticationPolicy`: the policy's own name, or null to clear the assignment. */
  setUserAuthenticationPolicy(user: FixtureUser, policyName: string | null): void {
    user.authenticationPolicy = policyName;
  }

  /** What `GET /_simulator/state` answers (fixture-format.md). */
  snapshot(): {
    org: TenantFixture['org'];
    users: {
      id: string;
      userPrincipalName: string;
      mailbox: FixtureUser['mailbox'];
      perUserMfaState: PerUserMfaState;
      authenticationPolicy: string | null;
    }[];
  } {
    return structuredClone({
      org: this.data.org,
      users: this.data.users.map((user) => ({
        id: user.id,
        userPrincipalName: user.userPrincipalName,
        mailbox: user.mailbox,
        perUserMfaState: user.perUserMfaState,
        authenticationPolicy: user.authenticationPolicy ?? null,
      })),
    });
  }
}
