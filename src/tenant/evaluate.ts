import { smtpState, type Finding, type MailboxSmtpState, type SmtpAuthEvaluation } from '../domain/smtp-auth';
export { blockersBeyondMailboxSetting, snapshotOf } from '../domain/smtp-auth';
import type { Tenant } from './tenant';
import type { ConditionalAccessPolicy, DirectoryUser, GraphBatchResponse } from './directory';
import type { AuthenticationPolicy } from './exchange';
import type { OrgSettings } from './org-settings';

export type { Finding, FindingCode, FindingLayer, SmtpAuthEvaluation } from '../domain/smtp-auth';

export interface EvaluateOptions {
  now?: () => Date;
  /** How far back a failed SMTP sign-in counts as recent. */
  signInWindowDays?: number;
}

interface SignIn {
  createdDateTime: string;
  status?: { errorCode?: number; failureReason?: string | null };
}

/** Grant controls a legacy (Basic auth) client can never satisfy, so the policy blocks it outright. */
const UNSATISFIABLE_BY_LEGACY_CLIENTS = new Set(['block', 'mfa', 'compliantDevice', 'domainJoinedDevice', 'approvedApplication', 'compliantApplication']);

/**
 * The one evaluation of SMTP AUTH for a mailbox, shared by status, confirmation, the post-change
 * check and diagnosis. Every layer that can block Basic SMTP AUTH on its own is read at once:
 * the mailbox's own values always (Get-CASMailbox, Get-User, its account, groups, sign-ins and
 * per-user MFA); the organization-wide ones (Get-TransportConfig, Get-OrganizationConfig,
 * Get-AuthenticationPolicy, security defaults, Conditional Access) only when the tenant's
 * short-lived copy is missing or stale (org-settings.ts). Graph's reads go in one `$batch`, per-user
 * MFA (beta only, so outside the v1.0 batch) beside it — two round trips deep at most.
 */
export async function evaluateSmtpAuth(tenant: Tenant, user: DirectoryUser, options: EvaluateOptions = {}): Promise<SmtpAuthEvaluation> {
  const now = (options.now ?? (() => new Date()))();
  const since = new Date(now.getTime() - (options.signInWindowDays ?? 7) * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const userPath = `/users/${encodeURIComponent(user.id)}`;
  const signInFilter = `userId eq '${user.id}' and clientAppUsed eq 'Authenticated SMTP' and status/errorCode ne 0 and createdDateTime ge ${since}`;
  const identity = user.userPrincipalName;
  const reused = tenant.orgSettings.fresh(now);
  const generation = tenant.orgSettings.generation;

  const [mailbox, userPolicy, orgExchange, graph, perUserMfaState] = await Promise.all([
    tenant.exchange.getCasMailbox(identity),
    tenant.exchange.getUserAuthenticationPolicy(identity),
    reused ? undefined : Promise.all([tenant.exchange.getTransportConfig(), tenant.exchange.getDefaultAuthenticationPolicy(), tenant.exchange.getAuthenticationPolicies()]),
    tenant.directory.batch([
      { id: 'account', method: 'GET', url: `${userPath}?$select=id,accountEnabled` },
      ...(reused ? [] : [
        { id: 'securityDefaults', method: 'GET' as const, url: '/policies/identitySecurityDefaultsEnforcementPolicy' },
        { id: 'conditionalAccess', method: 'GET' as const, url: '/identity/conditionalAccess/policies' },
      ]),
      { id: 'groups', method: 'POST', url: `${userPath}/getMemberGroups`, body: { securityEnabledOnly: false } },
      { id: 'signIns', method: 'GET', url: `/auditLogs/signIns?$filter=${encodeURIComponent(signInFilter)}&$top=50` },
    ]),
    tenant.directory.getPerUserMfaState(user.id),
  ]);

  const ok = (id: string, operation: string): unknown => {
    const answer = graph.get(id) as GraphBatchResponse;
    if (answer.status >= 200 && answer.status < 300) return answer.body;
    throw tenant.directory.batchError(operation, answer);
  };
  let org: OrgSettings;
  if (reused) {
    org = reused.settings;
  } else {
    const [transport, defaultAuthenticationPolicy, authenticationPolicies] = orgExchange!;
    org = {
      orgSmtpClientAuthenticationDisabled: transport.smtpClientAuthenticationDisabled,
      defaultAuthenticationPolicy,
      authenticationPolicies,
      securityDefaultsEnabled: (ok('securityDefaults', 'GET /policies/identitySecurityDefaultsEnforcementPolicy') as { isEnabled?: boolean }).isEnabled === true,
      conditionalAccessPolicies: ((ok('conditionalAccess', 'GET /identity/conditionalAccess/policies') as { value?: ConditionalAccessPolicy[] }).value ?? []),
    };
    tenant.orgSettings.keep(generation, org, now);
  }
  const accountEnabled = (ok('account', 'GET /users/{id}') as { accountEnabled?: boolean }).accountEnabled ?? user.accountEnabled;
  const securityDefaultsEnabled = org.securityDefaultsEnabled;
  const caPolicies = org.conditionalAccessPolicies;
  const groupIds = new Set(((ok('groups', 'POST /users/{id}/getMemberGroups') as { value?: string[] }).value ?? []).map((id) => id.toLowerCase()));
  // Sign-in logs need Entra ID P1: without it Graph answers 403, which only means "no evidence here".
  const signInAnswer = graph.get('signIns') as GraphBatchResponse;
  const withoutP1 = signInAnswer.status === 403 && /NonPremiumTenant/i.test(JSON.stringify(signInAnswer.body));
  const signIns = withoutP1 ? null : ((ok('signIns', 'GET /auditLogs/signIns') as { value?: SignIn[] }).value ?? []);

  const blockers: Finding[] = [];
  const informative: Finding[] = [];
  let state: MailboxSmtpState | 'no-mailbox';
  if (!mailbox) {
    state = 'no-mailbox';
    blockers.push({ code: 'NO_MAILBOX', layer: 'mailbox' });
  } else {
    state = smtpState(mailbox.smtpClientAuthenticationDisabled, org.orgSmtpClientAuthenticationDisabled);
    if (mailbox.smtpClientAuthenticationDisabled === true) blockers.push({ code: 'SMTP_AUTH_DISABLED_MAILBOX', layer: 'mailbox' });
    else if (mailbox.smtpClientAuthenticationDisabled === null && org.orgSmtpClientAuthenticationDisabled) blockers.push({ code: 'SMTP_AUTH_DISABLED_TENANT', layer: 'org' });
    else informative.push({ code: 'SMTP_AUTH_ENABLED', layer: mailbox.smtpClientAuthenticationDisabled === null ? 'org' : 'mailbox' });
  }
  if (!accountEnabled) blockers.push({ code: 'ACCOUNT_DISABLED', layer: 'account' });
  if (securityDefaultsEnabled) blockers.push({ code: 'SECURITY_DEFAULTS_ON', layer: 'security-defaults' });
  if (perUserMfaState !== 'disabled') blockers.push({ code: 'PER_USER_MFA_ON', layer: 'per-user-mfa', detail: { perUserMfaState } });
  for (const policy of caPolicies) {
    if (conditionalAccessBlocksLegacyAuth(policy, user.id, groupIds)) {
      // The groups the policy already excludes: where a diagnosis tells the admin to add this user.
      const excludeGroupIds = (policy.conditions?.users?.excludeGroups ?? []).join(',');
      blockers.push({ code: 'CA_BLOCKS_LEGACY_AUTH', layer: 'conditional-access', detail: { policyId: policy.id, policyName: policy.displayName, ...(excludeGroupIds ? { excludeGroupIds } : {}) } });
    }
  }
  const policyBlock = authenticationPolicyBlock(userPolicy ?? null, org.defaultAuthenticationPolicy, org.authenticationPolicies);
  if (policyBlock) blockers.push({ code: 'AUTH_POLICY_BLOCKS_BASIC_SMTP', layer: 'authentication-policy', detail: policyBlock });
  if (signIns && signIns.length > 0) {
    const latest = signIns[0] as SignIn;
    informative.push({
      code: 'RECENT_SMTP_FAILURES',
      layer: 'sign-ins',
      detail: {
        count: String(signIns.length),
        windowDays: String(options.signInWindowDays ?? 7),
        lastAt: latest.createdDateTime,
        lastErrorCode: String(latest.status?.errorCode ?? ''),
        lastFailureReason: latest.status?.failureReason ?? '',
      },
    });
  }
  informative.push({ code: 'BASIC_AUTH_RETIREMENT', layer: 'advice' });

  return { state, effectiveEnabled: blockers.length === 0, blockers, findings: [...blockers, ...informative], ...(reused ? { orgSettingsAsOf: reused.readAt } : {}) };
}

/**
 * An enabled policy (report-only ones never block) that targets "other clients" (legacy
 * authentication, which SMTP AUTH is) or all client apps, covers the user — included directly,
 * through "All" or a group, and not excluded directly or through a group — and grants access only
 * with a control a Basic-auth client cannot satisfy. Role and guest conditions are not evaluated.
 */
export function conditionalAccessBlocksLegacyAuth(policy: ConditionalAccessPolicy, userId: string, groupIds: ReadonlySet<string>): boolean {
  if (policy.state !== 'enabled' || !blocksLegacyClients(policy)) return false;
  const users = policy.conditions?.users ?? {};
  const id = userId.toLowerCase();
  const lower = (values: string[] | undefined) => (values ?? []).map((value) => value.toLowerCase());
  const included = lower(users.includeUsers).includes('all') || lower(users.includeUsers).includes(id) || lower(users.includeGroups).some((g) => groupIds.has(g));
  const excluded = lower(users.excludeUsers).includes(id) || lower(users.excludeGroups).some((g) => groupIds.has(g));
  return included && !excluded;
}

/**
 * Whoever it covers, the policy targets "other clients" (legacy authentication, which SMTP AUTH
 * is) or all client apps and grants access only with a control a Basic-auth client cannot satisfy.
 * Says nothing about its state: report-only and disabled policies are described, not enforced.
 */
export function blocksLegacyClients(policy: ConditionalAccessPolicy): boolean {
  const apps = policy.conditions?.clientAppTypes ?? [];
  if (!apps.includes('other') && !apps.includes('all')) return false;
  const controls = policy.grantControls?.builtInControls ?? [];
  return controls.includes('block')
    || (controls.length > 0 && (policy.grantControls?.operator ?? 'OR').toUpperCase() === 'AND' && controls.some((c) => UNSATISFIABLE_BY_LEGACY_CLIENTS.has(c)))
    || (controls.length > 0 && controls.every((c) => UNSATISFIABLE_BY_LEGACY_CLIENTS.has(c)));
}

/** The user's own policy wins; without one, the organization's default applies (Exchange's precedence). */
function authenticationPolicyBlock(userPolicy: string | null, defaultPolicy: string | null, policies: AuthenticationPolicy[]): Record<string, string> | undefined {
  const name = userPolicy ?? defaultPolicy;
  if (!name) return undefined;
  const policy = policies.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
  if (!policy || policy.allowBasicAuthSmtp) return undefined;
  return { policyName: policy.name, assignedBy: userPolicy ? 'user' : 'organization-default' };
}
