import type { ConditionalAccessPolicy } from './directory';
import { blocksLegacyClients } from './evaluate';
import type { Tenant } from './tenant';

/** One Conditional Access policy that blocks legacy authentication (SMTP AUTH among it). */
export interface LegacyAuthBlock {
  id: string;
  displayName: string;
  /** `enabled` enforces it; `enabledForReportingButNotEnforced` only logs what it would do. */
  state: string;
  /** How many groups and users it leaves out: the exceptions an admin made for devices. */
  excludedGroups: number;
  excludedUsers: number;
}

export interface AuthenticationPolicyStatus {
  name: string;
  allowBasicAuthSmtp: boolean;
  /** The organization's default policy (Get-OrganizationConfig): it applies to every user without one of their own. */
  isDefault: boolean;
  /** Users assigned this policy directly (Get-User). */
  assignedUsers: number;
}

/** Every organization-wide SMTP AUTH layer, read at once: what `org-status` shows. */
export interface OrgSmtpStatus {
  /** Get-TransportConfig: true = SMTP AUTH off for every mailbox that inherits. */
  orgSmtpClientAuthenticationDisabled: boolean;
  securityDefaultsEnabled: boolean;
  /** How many Conditional Access policies exist, in any state (while any exists, Entra will not turn security defaults on). */
  conditionalAccessPolicyCount: number;
  legacyAuthBlocks: LegacyAuthBlock[];
  authenticationPolicies: AuthenticationPolicyStatus[];
  defaultAuthenticationPolicy: string | null;
  /** Mailboxes by their own SmtpClientAuthenticationDisabled: false (on), true (off), null (inherit). */
  mailboxes: { on: number; off: number; inherit: number };
  /** Entra object ids of the mailboxes explicitly on: the register tells which of them have an exception. */
  explicitlyOnUserIds: string[];
}

/** Reads the organization's layers in parallel: two Graph calls, five Exchange cmdlets. */
export async function readOrgSmtpStatus(tenant: Tenant): Promise<OrgSmtpStatus> {
  const [transport, securityDefaultsEnabled, policies, authenticationPolicies, defaultAuthenticationPolicy, assignments, mailboxes] = await Promise.all([
    tenant.exchange.getTransportConfig(),
    tenant.directory.getSecurityDefaultsEnabled(),
    tenant.directory.listConditionalAccessPolicies(),
    tenant.exchange.getAuthenticationPolicies(),
    tenant.exchange.getDefaultAuthenticationPolicy(),
    tenant.exchange.listUserAuthenticationPolicies(),
    tenant.exchange.countCasMailboxesBySetting(),
  ]);
  const assigned = new Map<string, number>();
  for (const row of assignments) {
    if (row.authenticationPolicy === null) continue;
    const key = row.authenticationPolicy.toLowerCase();
    assigned.set(key, (assigned.get(key) ?? 0) + 1);
  }
  return {
    orgSmtpClientAuthenticationDisabled: transport.smtpClientAuthenticationDisabled,
    securityDefaultsEnabled,
    conditionalAccessPolicyCount: policies.length,
    legacyAuthBlocks: policies.filter((policy) => policy.state !== 'disabled' && blocksLegacyClients(policy)).map(legacyAuthBlock),
    authenticationPolicies: authenticationPolicies.map((policy) => ({
      name: policy.name,
      allowBasicAuthSmtp: policy.allowBasicAuthSmtp,
      isDefault: defaultAuthenticationPolicy !== null && policy.name.toLowerCase() === defaultAuthenticationPolicy.toLowerCase(),
      assignedUsers: assigned.get(policy.name.toLowerCase()) ?? 0,
    })),
    defaultAuthenticationPolicy,
    mailboxes: { on: mailboxes.on, off: mailboxes.off, inherit: mailboxes.inherit },
    explicitlyOnUserIds: mailboxes.onUserIds,
  };
}

function legacyAuthBlock(policy: ConditionalAccessPolicy): LegacyAuthBlock {
  return {
    id: policy.id,
    displayName: policy.displayName,
    state: policy.state,
    excludedGroups: policy.conditions?.users?.excludeGroups?.length ?? 0,
    excludedUsers: policy.conditions?.users?.excludeUsers?.length ?? 0,
  };
}
