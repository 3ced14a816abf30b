import { smtpState, type Finding, type MailboxSmtpState, type SmtpAuthEvaluation } from '../domain/smtp-auth';
export { blockersBeyondMailboxSetting, snapshotOf } from '../domain/smtp-auth';
import type { Tenant } from './tenant';
import { addressQuery, odataString, type ConditionalAccessPolicy, type DirectoryUser, type GraphBatchRequest, type GraphBatchResponse, type PerUserMfaState, type UserResolution } from './directory';
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
 * Where the evaluation's reads address the mailbox: by its object id once the user is known, or —
 * before the lookup has answered — by the address it was asked for (Graph takes a UPN wherever it
 * takes an id; Exchange's -Identity takes either).
 */
interface Subject {
  graphKey: string;
  identity: string;
  /** The `$filter` clause that picks the user's own sign-ins. */
  signIns: string;
}

/** A read that may fail without failing the others: kept until we know whether its answer is wanted. */
type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(read: Promise<T>): Promise<Settled<T>> {
  return read.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
}

function unwrap<T>(read: Settled<T>): T {
  if (!read.ok) throw read.error;
  return read.value;
}

interface Layers {
  mailbox: Settled<Awaited<ReturnType<Tenant['exchange']['getCasMailbox']>>>;
  userPolicy: Settled<string | null | undefined>;
  org: Settled<OrgSettings>;
  graph: Map<string, GraphBatchResponse>;
  perUserMfaState: Settled<PerUserMfaState>;
  reused: { settings: OrgSettings; readAt: Date } | undefined;
}

/**
 * Every layer's reads at once: Exchange's two per-mailbox cmdlets, one Graph `$batch`, the beta
 * per-user MFA read, and the organization-wide settings unless the tenant's short-lived copy is
 * fresh. With a `lookup` of the user riding in the batch, the reads are speculative: a failed one
 * does not end the others, since the caller only learns from the lookup whether its answer is wanted.
 */
async function readLayers(tenant: Tenant, subject: Subject, options: EvaluateOptions, lookup?: GraphBatchRequest): Promise<Layers> {
  const now = (options.now ?? (() => new Date()))();
  const since = new Date(now.getTime() - (options.signInWindowDays ?? 7) * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const userPath = `/users/${encodeURIComponent(subject.graphKey)}`;
  const signInFilter = `${subject.signIns} and clientAppUsed eq 'Authenticated SMTP' and status/errorCode ne 0 and createdDateTime ge ${since}`;
  const reused = tenant.orgSettings.fresh(now);
  const generation = tenant.orgSettings.generation;
  const guard = <T>(read: Promise<T>): Promise<Settled<T>> => (lookup ? settle(read) : read.then((value) => ({ ok: true as const, value })));

  const [mailbox, userPolicy, orgExchange, graph, perUserMfaState] = await Promise.all([
    guard(tenant.exchange.getCasMailbox(subject.identity)),
    guard(tenant.exchange.getUserAuthenticationPolicy(subject.identity)),
    reused ? undefined : Promise.all([tenant.exchange.getTransportConfig(), tenant.exchange.getDefaultAuthenticationPolicy(), tenant.exchange.getAuthenticationPolicies()]),
    tenant.directory.batch([
      // A lookup riding along answers the account's state itself.
      lookup ?? { id: 'account', method: 'GET' as const, url: `${userPath}?$select=id,accountEnabled` },
      ...(reused ? [] : [
        { id: 'securityDefaults', method: 'GET' as const, url: '/policies/identitySecurityDefaultsEnforcementPolicy' },
        { id: 'conditionalAccess', method: 'GET' as const, url: '/identity/conditionalAccess/policies' },
      ]),
      { id: 'groups', method: 'POST', url: `${userPath}/getMemberGroups`, body: { securityEnabledOnly: false } },
      { id: 'signIns', method: 'GET', url: `/auditLogs/signIns?$filter=${encodeURIComponent(signInFilter)}&$top=50` },
    ]),
    guard(tenant.directory.getPerUserMfaState(subject.graphKey)),
  ]);

  let org: Settled<OrgSettings>;
  if (reused) {
    org = { ok: true, value: reused.settings };
  } else {
    const [transport, defaultAuthenticationPolicy, authenticationPolicies] = orgExchange!;
    org = await settle((async () => {
      const settings: OrgSettings = {
        orgSmtpClientAuthenticationDisabled: transport.smtpClientAuthenticationDisabled,
        defaultAuthenticationPolicy,
        authenticationPolicies,
        securityDefaultsEnabled: (ok(tenant, graph, 'securityDefaults', 'GET /policies/identitySecurityDefaultsEnforcementPolicy') as { isEnabled?: boolean }).isEnabled === true,
        conditionalAccessPolicies: ((ok(tenant, graph, 'conditionalAccess', 'GET /identity/conditionalAccess/policies') as { value?: ConditionalAccessPolicy[] }).value ?? []),
      };
      tenant.orgSettings.keep(generation, settings, now);
      return settings;
    })());
  }
  return { mailbox, userPolicy, org, graph, perUserMfaState, reused };
}

function ok(tenant: Tenant, graph: Map<string, GraphBatchResponse>, id: string, operation: string): unknown {
  const answer = graph.get(id) as GraphBatchResponse;
  if (answer.status >= 200 && answer.status < 300) return answer.body;
  throw tenant.directory.batchError(operation, answer);
}

/**
 * The one evaluation of SMTP AUTH for a mailbox, shared by status, confirmation, the post-change
 * check and diagnosis. Every layer that can block Basic SMTP AUTH on its own is read at once:
 * the mailbox's own values always (Get-CASMailbox, Get-User, its account, groups, sign-ins and
 * per-user MFA); the organization-wide ones (Get-TransportConfig, Get-OrganizationConfig,
 * Get-AuthenticationPolicy, security defaults, Conditional Access) only when the tenant's
 * short-lived copy is missing or stale (org-settings.ts). Graph's reads go in one `$batch`, per-user
 * MFA (beta only, so outside the v1.0 batch) beside it — one round trip deep.
 */
export async function evaluateSmtpAuth(tenant: Tenant, user: DirectoryUser, options: EvaluateOptions = {}): Promise<SmtpAuthEvaluation> {
  const subject = { graphKey: user.id, identity: user.userPrincipalName, signIns: `userId eq '${user.id}'` };
  return assemble(tenant, user, await readLayers(tenant, subject, options), options);
}

/**
 * `smtp status someone@contoso.com` in one round trip instead of two: when the query is an address,
 * the user lookup rides in the evaluation's Graph `$batch`, and every read addresses the mailbox by
 * that address. The evaluation is kept only when the lookup finds exactly one user whose UPN is that
 * address; for a mail or proxy address, several people or nobody, the reads are dropped and the
 * caller has the resolution, as `resolveUser` gives it, to evaluate (or refuse) as before.
 */
export async function resolveAndEvaluate(tenant: Tenant, query: string, options: EvaluateOptions = {}): Promise<{ resolution: UserResolution; evaluation?: SmtpAuthEvaluation }> {
  const address = addressQuery(query);
  if (!address) return { resolution: await tenant.directory.resolveUser(query) };
  const subject = { graphKey: address, identity: address, signIns: `userPrincipalName eq ${odataString(address)}` };
  const layers = await readLayers(tenant, subject, options, tenant.directory.addressLookup('lookup', address));
  const resolution = tenant.directory.addressAnswer(layers.graph.get('lookup')!);
  if (resolution.kind !== 'found' || resolution.user.userPrincipalName.toLowerCase() !== address.toLowerCase()) return { resolution };
  return { resolution, evaluation: assemble(tenant, resolution.user, layers, options) };
}

function assemble(tenant: Tenant, user: DirectoryUser, layers: Layers, options: EvaluateOptions): SmtpAuthEvaluation {
  const { graph, reused } = layers;
  const mailbox = unwrap(layers.mailbox);
  const userPolicy = unwrap(layers.userPolicy);
  const org = unwrap(layers.org);
  const perUserMfaState = unwrap(layers.perUserMfaState);
  const accountEnabled = graph.has('account')
    ? (ok(tenant, graph, 'account', 'GET /users/{id}') as { accountEnabled?: boolean }).accountEnabled ?? user.accountEnabled
    : user.accountEnabled;
  const securityDefaultsEnabled = org.securityDefaultsEnabled;
  const caPolicies = org.conditionalAccessPolicies;
  const groupIds = new Set(((ok(tenant, graph, 'groups', 'POST /users/{id}/getMemberGroups') as { value?: string[] }).value ?? []).map((id) => id.toLowerCase()));
  // Sign-in logs need Entra ID P1: without it Graph answers 403, which only means "no evidence here".
  const signInAnswer = graph.get('signIns') as GraphBatchResponse;
  const withoutP1 = signInAnswer.status === 403 && /NonPremiumTenant/i.test(JSON.stringify(signInAnswer.body));
  const signIns = withoutP1 ? null : ((ok(tenant, graph, 'signIns', 'GET /auditLogs/signIns') as { value?: SignIn[] }).value ?? []);

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
