import { TenantHttpError } from '../tenant/http';
import type { PerUserMfaState } from '../tenant';
import type { StepKind } from './types';

/**
 * A user's per-user MFA (legacy): Graph beta `PATCH /users/{id}/authentication/requirements
 * {perUserMfaState}`. Anything but `disabled` blocks SMTP AUTH with a password for the mailbox.
 * Entra turns `enabled` into `enforced` by itself once the user has registered a method, so
 * `enforced` holds an `enabled` request. Needs Policy.ReadWrite.AuthenticationMethod.
 */
export const perUserMfa: StepKind<PerUserMfaState, { perUserMfaState: PerUserMfaState }> = {
  id: 'per-user-mfa',
  targetType: 'user',
  risk: () => 'high',
  permission: 'Graph application permission Policy.ReadWrite.AuthenticationMethod (PATCH /beta/users/{id}/authentication/requirements)',
  async read(tenant, target) {
    try {
      return { perUserMfaState: await tenant.directory.getPerUserMfaState(target.id) };
    } catch (error) {
      if (error instanceof TenantHttpError && error.status === 404) return undefined;
      throw error;
    }
  },
  holds: (state, desired) => state.perUserMfaState === desired || (desired === 'enabled' && state.perUserMfaState === 'enforced'),
  valueOf: (state) => state.perUserMfaState,
  write: (tenant, target, value) => tenant.directory.setPerUserMfaState(target.id, value),
  operation: (target, value) => ({ operation: 'PATCH /beta/users/{id}/authentication/requirements', identity: target.identity, parameters: { perUserMfaState: value } }),
  describe: (t, value) => t(`steps.per-user-mfa.${value}`),
  notes: (t, step) => [t('policy.mfa.legacy'), t(step.desired === 'disabled' ? 'policy.mfa.disableEffect' : 'policy.mfa.enableEffect', { name: step.target.displayName })],
};
