import { z } from 'zod';
import { mailboxSmtpAuth } from '../steps/mailbox-smtp-auth';
import { mailboxOf, type ChangeCommand } from './types';

/** `Set-CASMailbox -SmtpClientAuthenticationDisabled $null`: the mailbox follows the organization again. */
export const smtpReset: ChangeCommand = {
  id: 'smtp-reset',
  kind: 'change',
  phrases: {
    en: ['reset smtp for {user}', 'reset smtp auth for {user}', 'reset smtp {user}', 'inherit smtp for {user}'],
    es: ['restablece smtp para {user}', 'restablecer smtp para {user}', 'resetear smtp para {user}'],
    pt: ['redefinir smtp para o {user}', 'redefinir smtp para a {user}', 'redefinir smtp para {user}', 'resetar smtp para {user}'],
    'zh-CN': ['重置 {user} 的 smtp', '为 {user} 重置 smtp', '为{user}重置smtp', '重置 smtp {user}'],
    ro: ['reseteaza smtp pentru {user}', 'resetati smtp pentru {user}'],
  },
  example: { en: 'reset SMTP for bob', es: 'restablece SMTP para bob', pt: 'redefinir SMTP para o bob', 'zh-CN': '重置 bob 的 SMTP', ro: 'resetează SMTP pentru bob' },
  params: z.object({ user: z.string().trim().min(1).max(256) }),
  audience: 'it-staff',
  targets: 'user',
  plan: ({ user }) => [{ kind: mailboxSmtpAuth.id, target: mailboxOf(user!), desired: null }],
};
