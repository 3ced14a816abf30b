import { approvalsHere } from './approvals-here';
import { help } from './help';
import { exceptions } from './exceptions';
import { orgStatus } from './org-status';
import { securityDefaultsDisable } from './security-defaults-disable';
import { securityDefaultsEnable } from './security-defaults-enable';
import { mfaDisable } from './mfa-disable';
import { mfaEnable } from './mfa-enable';
import { authPolicyAllowSmtp } from './auth-policy-allow-smtp';
import { authPolicyReset } from './auth-policy-reset';
import { orgSmtpDisable } from './org-smtp-disable';
import { orgSmtpEnable } from './org-smtp-enable';
import { smtpDisable } from './smtp-disable';
import { smtpReset } from './smtp-reset';
import { smtpEnable } from './smtp-enable';
import { smtpEnableGroup } from './smtp-enable-group';
import { smtpDisableGroup } from './smtp-disable-group';
import { smtpStatus } from './smtp-status';
import { undo } from './undo';
import { requests } from './requests';
import { sameIntents } from '../steps/plan';
import type { StepIntent } from '../steps/types';
import type { ChangeCommand, CommandDefinition, PlanContext } from './types';

/** Every command the bot understands; adding one is one file and one line here. */
export const commands: readonly CommandDefinition[] = [help, smtpStatus, smtpEnable, smtpDisable, smtpReset, approvalsHere, exceptions, undo, orgStatus,
  securityDefaultsDisable, securityDefaultsEnable, mfaDisable, mfaEnable, authPolicyAllowSmtp, authPolicyReset,
  orgSmtpEnable, orgSmtpDisable, smtpEnableGroup, smtpDisableGroup, requests];

export function commandById(id: string): CommandDefinition | undefined {
  return commands.find((c) => c.id === id);
}

/** The change command whose plan for this context is exactly these steps (undo titles its request by it). */
export function commandForIntents(intents: readonly StepIntent[], context: PlanContext): ChangeCommand | undefined {
  return commands.find((c): c is ChangeCommand => c.kind === 'change' && (c.targets === 'organization' || context.user !== undefined) && sameIntents(c.plan(context), intents));
}
