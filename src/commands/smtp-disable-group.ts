import { z } from 'zod';
import { mailboxSmtpAuth } from '../steps/mailbox-smtp-auth';
import { mailboxOf, type ChangeCommand } from './types';

/**
 * `Set-CASMailbox -SmtpClientAuthenticationDisabled $true` for every mailbox of an Entra group
 * (transitive members). It moves toward the baseline, but it can stop every scanner and app of the
 * group at once, so it is gated at medium (one approver) rather than at one mailbox's low; each
 * mailbox that had an exception has it ended, one by one.
 */
export const smtpDisableGroup: ChangeCommand = {
  id: 'smtp-disable-group',
  kind: 'change',
  phrases: {
    en: ['disable smtp for group {group}', 'disable smtp for the group {group}', 'disable smtp auth for group {group}', 'turn off smtp for group {group}', 'block smtp for group {group}'],
    es: ['deshabilita smtp para el grupo {group}', 'deshabilitar smtp para el grupo {group}', 'desactiva smtp para el grupo {group}', 'desactivar smtp para el grupo {group}'],
    pt: ['desativar smtp para o grupo {group}', 'desative smtp para o grupo {group}', 'desabilitar smtp para o grupo {group}'],
    'zh-CN': ['为组 {group} 禁用 smtp', '为 {group} 组禁用 smtp', '为群组 {group} 禁用 smtp', '禁用组 {group} 的 smtp'],
    ro: ['dezactiveaza smtp pentru grupul {group}', 'dezactivati smtp pentru grupul {group}', 'opreste smtp pentru grupul {group}'],
  },
  example: { en: 'disable SMTP for group Scanners', es: 'deshabilita SMTP para el grupo Scanners', pt: 'desativar SMTP para o grupo Scanners', 'zh-CN': '为组 Scanners 禁用 SMTP', ro: 'dezactivează SMTP pentru grupul Scanners' },
  params: z.object({ group: z.string().trim().min(1).max(256) }),
  audience: 'it-staff',
  targets: 'group',
  plan: ({ members }) => (members ?? []).map((member) => ({ kind: mailboxSmtpAuth.id, target: mailboxOf(member), desired: true })),
  minimumRisk: 'medium',
};
