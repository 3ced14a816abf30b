import type { AuthenticationPolicy } from '../tenant';
import type { StepKind } from './types';

/** "Assign whichever existing policy allows Basic SMTP": resolved to a policy's name when the plan is read. */
export interface AllowBasicSmtp {
  allowBasicSmtp: true;
}

/** A policy's name, none (`$null`: the organization default applies), or the request to allow Basic SMTP. */
export type AuthenticationPolicyValue = string | null | AllowBasicSmtp;

export interface AuthenticationPolicyState {
  /** The user's own policy (Get-User), null when none is assigned. */
  policy: string | null;
  /** The organization's default (Get-OrganizationConfig), which applies without one of their own. */
  defaultPolicy: string | null;
  policies: AuthenticationPolicy[];
}

/** What an Exchange administrator would run to create a policy allowing Basic authentication for SMTP only (every other protocol stays blocked). */
export function newSmtpPolicyCommand(existing: readonly AuthenticationPolicy[]): string {
  const taken = new Set(existing.map((policy) => policy.name.toLowerCase()));
  const name = ['Allow Basic SMTP', 'Allow Basic SMTP only', 'SMTP Gate - Allow Basic SMTP'].find((candidate) => !taken.has(candidate.toLowerCase())) ?? `Allow Basic SMTP ${existing.length + 1}`;
  return `New-AuthenticationPolicy -Name "${name}" -AllowBasicAuthSmtp`;
}

const isAllow = (value: AuthenticationPolicyValue): value is AllowBasicSmtp => value !== null && typeof value === 'object';
const find = (state: AuthenticationPolicyState, name: string | null) => (name === null ? undefined : state.policies.find((policy) => policy.name.toLowerCase() === name.toLowerCase()));

/** Does Basic SMTP get through this layer? The user's own policy wins; without one the default applies; without either nothing blocks. */
function allowsBasicSmtp(state: AuthenticationPolicyState): boolean {
  const effective = state.policy ?? state.defaultPolicy;
  if (effective === null) return true;
  return find(state, effective)?.allowBasicAuthSmtp ?? true;
}

/** The existing policy to assign: one that allows Basic SMTP and the fewest other protocols (least privilege), then by name. */
function choose(state: AuthenticationPolicyState): AuthenticationPolicy | undefined {
  return state.policies
    .filter((policy) => policy.allowBasicAuthSmtp)
    .sort((a, b) => (a.otherBasicAuthProtocols?.length ?? 0) - (b.otherBasicAuthProtocols?.length ?? 0) || a.name.localeCompare(b.name))[0];
}

/**
 * A user's Exchange authentication policy: `Set-User -Identity -AuthenticationPolicy <name>|$null`.
 * Allowing Basic SMTP assigns an existing policy that allows it — SMTP Gate never creates or changes
 * a policy; when none exists the plan says so and gives the `New-AuthenticationPolicy` an admin
 * would run. Clearing the assignment lets the organization default apply. Needs the Exchange role
 * "Recipient Policies" for `-AuthenticationPolicy`.
 */
export const authenticationPolicy: StepKind<AuthenticationPolicyValue, AuthenticationPolicyState> = {
  id: 'authentication-policy',
  targetType: 'user',
  risk: () => 'high',
  permission: 'Exchange role "Recipient Policies" (Set-User -AuthenticationPolicy)',
  async read(tenant, target) {
    const [policy, defaultPolicy, policies] = await Promise.all([
      tenant.exchange.getUserAuthenticationPolicy(target.identity),
      tenant.exchange.getDefaultAuthenticationPolicy(),
      tenant.exchange.getAuthenticationPolicies(),
    ]);
    return policy === undefined ? undefined : { policy, defaultPolicy, policies };
  },
  holds: (state, desired) => (isAllow(desired) ? allowsBasicSmtp(state) : (state.policy?.toLowerCase() ?? null) === (desired?.toLowerCase() ?? null)),
  valueOf: (state) => state.policy,
  refusal: (state, desired) => (isAllow(desired) && !choose(state) ? { code: 'AUTH_POLICY_NONE_ALLOWS_SMTP', params: { command: newSmtpPolicyCommand(state.policies) } } : undefined),
  resolve: (state, desired) => (isAllow(desired) ? choose(state)!.name : desired),
  async write(tenant, target, value) {
    if (isAllow(value)) throw new Error('an authentication-policy step is written with a policy name or null, resolved when its plan is read');
    await tenant.exchange.setUserAuthenticationPolicy(target.identity, value);
  },
  operation: (target, value) => ({ operation: 'Set-User', cmdlet: 'Set-User', identity: target.identity, parameters: { AuthenticationPolicy: isAllow(value) ? null : value } }),
  describe: (t, value) => (isAllow(value) ? t('steps.authentication-policy.allowing') : value === null ? t('steps.authentication-policy.none') : t('steps.authentication-policy.policy', { policy: value })),
  notes(t, step) {
    const before = step.before;
    const current = before?.policy ? t('steps.authentication-policy.policy', { policy: before.policy }) : t('policy.authPolicy.none');
    if (typeof step.desired === 'string') {
      const chosen = before ? find(before, step.desired) : undefined;
      const others = chosen?.otherBasicAuthProtocols?.length ? t('policy.authPolicy.others', { protocols: chosen.otherBasicAuthProtocols.join(', ') }) : '';
      return [t('policy.authPolicy.allowEffect', { policy: step.desired, name: step.target.displayName, current, others })];
    }
    if (step.desired === null) {
      const fallbackPolicy = before ? find(before, before.defaultPolicy) : undefined;
      const fallback = fallbackPolicy
        ? t('policy.authPolicy.fallbackPolicy', { policy: fallbackPolicy.name, smtp: t(fallbackPolicy.allowBasicAuthSmtp ? 'policy.authPolicy.allows' : 'policy.authPolicy.blocks') })
        : t('policy.authPolicy.fallbackNone');
      return [t('policy.authPolicy.resetEffect', { name: step.target.displayName, current: before?.policy ?? '', fallback })];
    }
    return [];
  },
};
