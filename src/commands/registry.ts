import { approvalsHere } from './approvals-here';
import { help } from './help';
import { smtpEnable } from './smtp-enable';
import { smtpStatus } from './smtp-status';
import type { CommandDefinition } from './types';

/** Every command the bot understands; adding one is one file and one line here. */
export const commands: readonly CommandDefinition[] = [help, smtpStatus, smtpEnable, approvalsHere];

export function commandById(id: string): CommandDefinition | undefined {
  return commands.find((c) => c.id === id);
}
