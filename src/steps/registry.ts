import { mailboxSmtpAuth } from './mailbox-smtp-auth';
import { orgSmtpAuth } from './org-smtp-auth';
import { securityDefaults } from './security-defaults';
import { perUserMfa } from './per-user-mfa';
import { authenticationPolicy } from './authentication-policy';
import type { Json, StepKind } from './types';

/** Every kind of step a plan may hold; adding one is one file and one line here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each kind has its own value type
export const stepKinds: readonly StepKind<any, any>[] = [mailboxSmtpAuth, orgSmtpAuth, securityDefaults, perUserMfa, authenticationPolicy];

export function stepKindById(id: string): StepKind<Json, unknown> {
  const kind = stepKinds.find((k) => k.id === id);
  if (!kind) throw new Error(`no step kind ${id}`);
  return kind as StepKind<Json, unknown>;
}
