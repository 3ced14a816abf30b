import { z } from 'zod';
import { mailboxSmtpAuth } from '../steps/mailbox-smtp-auth';
import { mailboxOf, type ChangeCommand } from './types';

/** `Set-CASMailbox -SmtpClientAuthenticationDisabled $false`: the mailbox value wins over the org's. */
export const smtpEnable: ChangeCommand = {
  id: 'smtp-enable',
  kind: 'change',
  phrases: {
    en: ['enable smtp for {user}', 'enable smtp auth for {user}', 'enable smtp {user}', 'turn on smtp for {user}', 'allow smtp for {user}'],
    es: ['habilita smtp para {user}', 'habilitar smtp para {user}', 'activa smtp para {user}', 'activar smtp para {user}', 'habilita smtp a {user}'],
    pt: ['ativar smtp para o {user}', 'ativar smtp para a {user}', 'ativar smtp para {user}', 'ative smtp para {user}', 'habilitar smtp para {user}', 'ativa smtp para {user}'],
    'zh-CN': ['为 {user} 启用 smtp', '为{user}启用smtp', '给 {user} 启用 smtp', '启用 {user} 的 smtp', '开启 {user} 的 smtp', '启用 smtp {user}'],
    ro: ['activeaza smtp pentru {user}', 'activati smtp pentru {user}', 'activeaza smtp la {user}', 'porneste smtp pentru {user}'],
  },
  example: { en: 'enable SMTP for bob', es: 'habilita SMTP para bob', pt: 'ativar SMTP para o bob', 'zh-CN': '为 bob 启用 SMTP', ro: 'activează SMTP pentru bob' },
  params: z.object({ user: z.string().trim().min(1).max(256) }),
  audience: 'it-staff',
  targets: 'user',
  plan: ({ user }) => [{ kind: mailboxSmtpAuth.id, target: mailboxOf(user!), desired: false }],
  grantsException: true,
};
