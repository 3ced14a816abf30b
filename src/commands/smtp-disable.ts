import { z } from 'zod';
import { mailboxSmtpAuth } from '../steps/mailbox-smtp-auth';
import { mailboxOf, type ChangeCommand } from './types';

/** `Set-CASMailbox -SmtpClientAuthenticationDisabled $true`: off for this mailbox whatever the org says. */
export const smtpDisable: ChangeCommand = {
  id: 'smtp-disable',
  kind: 'change',
  phrases: {
    en: ['disable smtp for {user}', 'disable smtp auth for {user}', 'disable smtp {user}', 'turn off smtp for {user}', 'block smtp for {user}'],
    es: ['deshabilita smtp para {user}', 'deshabilitar smtp para {user}', 'desactiva smtp para {user}', 'desactivar smtp para {user}'],
    pt: ['desativar smtp para o {user}', 'desativar smtp para a {user}', 'desativar smtp para {user}', 'desative smtp para {user}', 'desabilitar smtp para {user}'],
    'zh-CN': ['为 {user} 禁用 smtp', '为{user}禁用smtp', '禁用 {user} 的 smtp', '关闭 {user} 的 smtp', '禁用 smtp {user}'],
    ro: ['dezactiveaza smtp pentru {user}', 'dezactivati smtp pentru {user}', 'opreste smtp pentru {user}'],
  },
  example: { en: 'disable SMTP for bob', es: 'deshabilita SMTP para bob', pt: 'desativar SMTP para o bob', 'zh-CN': '为 bob 禁用 SMTP', ro: 'dezactivează SMTP pentru bob' },
  params: z.object({ user: z.string().trim().min(1).max(256) }),
  audience: 'it-staff',
  targets: 'user',
  plan: ({ user }) => [{ kind: mailboxSmtpAuth.id, target: mailboxOf(user!), desired: true }],
};
