import { SECURITY_DEFAULTS_CONDITIONAL_ACCESS_REFUSAL } from '../tenant/directory';
import type { StepKind } from './types';

/** What a read of security defaults observes: the switch, and the Conditional Access policies that keep Entra from turning it on. */
export interface SecurityDefaultsState {
  isEnabled: boolean;
  /** Conditional Access policies in any state (while one exists, Entra refuses to turn security defaults on). */
  conditionalAccessPolicies: { displayName: string; state: string }[];
}

/**
 * Entra security defaults: `PATCH /policies/identitySecurityDefaultsEnforcementPolicy {isEnabled}`.
 * They protect the whole tenant (MFA registration and prompts, legacy authentication blocked), so
 * turning them off is critical. Entra refuses to turn them on while Conditional Access policies
 * exist: the plan says so with Microsoft's words and writes nothing. Needs
 * Policy.ReadWrite.SecurityDefaults.
 */
export const securityDefaults: StepKind<boolean, SecurityDefaultsState> = {
  id: 'security-defaults',
  targetType: 'organization',
  risk: (desired) => (desired ? 'medium' : 'critical'),
  permission: 'Graph application permission Policy.ReadWrite.SecurityDefaults (PATCH /policies/identitySecurityDefaultsEnforcementPolicy)',
  async read(tenant) {
    const [isEnabled, policies] = await Promise.all([tenant.directory.getSecurityDefaultsEnabled(), tenant.directory.listConditionalAccessPolicies()]);
    return { isEnabled, conditionalAccessPolicies: policies.map((policy) => ({ displayName: policy.displayName, state: policy.state })) };
  },
  holds: (state, desired) => state.isEnabled === desired,
  valueOf: (state) => state.isEnabled,
  refusal: (state, desired) =>
    desired && !state.isEnabled && state.conditionalAccessPolicies.length > 0
      ? { code: 'SECURITY_DEFAULTS_BLOCKED', params: { total: state.conditionalAccessPolicies.length, policies: state.conditionalAccessPolicies.map((p) => p.displayName).join(', '), message: SECURITY_DEFAULTS_CONDITIONAL_ACCESS_REFUSAL } }
      : undefined,
  write: (tenant, _target, value) => tenant.directory.setSecurityDefaultsEnabled(value),
  operation: (target, value) => ({ operation: 'PATCH /policies/identitySecurityDefaultsEnforcementPolicy', identity: target.identity, parameters: { isEnabled: value } }),
  describe: (t, value) => t(value ? 'steps.security-defaults.on' : 'steps.security-defaults.off'),
  notes: (t, step) => (step.desired ? [t('policy.securityDefaults.enableEffect')] : [t('policy.securityDefaults.protects'), t('policy.securityDefaults.alternative')]),
};
