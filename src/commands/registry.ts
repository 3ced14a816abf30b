import { approvalsHere } from './approvals-here';
import { help } from './help';
import { exceptions } from './exceptions';
import { orgStatus } from './org-status';
import { smtpDisable } from './smtp-disable';
import { smtpReset } from './smtp-reset';
import { smtpEnable } from './smtp-enable';
import { smtpStatus } from './smtp-status';
import { undo } from './undo';
import type { ChangeCommand, CommandDefinition } from './types';

/** Every command the bot understands; adding one is one file and one line here. */
export const commands: readonly CommandDefinition[] = [help, smtpStatus, smtpEnable, smtpDisable, smtpReset, approvalsHere, exceptions, undo, orgStatus];

export function commandById(id: string): CommandDefinition | undefined {
  return commands.find((c) => c.id === id);
}

/** The change that puts a mailbox's setting back to `value`: what undo and time-boxed reverts run. */
export function changeCommandSetting(value: boolean | null): ChangeCommand {
  const command = commands.find((c): c is ChangeCommand => c.kind === 'change' && c.desiredMailboxValue === value);
  if (!command) throw new Error(`no change command sets SmtpClientAuthenticationDisabled to ${value}`);
  return command;
}
