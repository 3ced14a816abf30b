import { z } from 'zod';
import { mailboxSmtpAuth } from '../steps/mailbox-smtp-auth';
import { mailboxOf, type ChangeCommand } from './types';

/**
 * `Set-CASMailbox -SmtpClientAuthenticationDisabled $false` for every mailbox of an Entra group
 * (transitive members: nested groups count), as one request with one approval. Each mailbox is a
 * step of its own (claimed, written once, read back, audited) and, once on, an exception of its own
 * in the register, with its own end and its own revert.
 *
 * High risk, whatever one mailbox's step says: one approval turns Basic authentication on for many
 * accounts at once — each one a password that can be sprayed over SMTP without MFA — and the
 * group's membership is the scope, so whoever can add a member to a nested group widens it. Two
 * approvers look at the member count and the list before it runs.
 */
export const smtpEnableGroup: ChangeCommand = {
  id: 'smtp-enable-group',
  kind: 'change',
  phrases: {
    en: ['enable smtp for group {group}', 'enable smtp for the group {group}', 'enable smtp auth for group {group}', 'turn on smtp for group {group}', 'allow smtp for group {group}'],
    es: ['habilita smtp para el grupo {group}', 'habilitar smtp para el grupo {group}', 'activa smtp para el grupo {group}', 'activar smtp para el grupo {group}'],
    pt: ['ativar smtp para o grupo {group}', 'ative smtp para o grupo {group}', 'habilitar smtp para o grupo {group}'],
    'zh-CN': ['为组 {group} 启用 smtp', '为 {group} 组启用 smtp', '为群组 {group} 启用 smtp', '启用组 {group} 的 smtp'],
    ro: ['activeaza smtp pentru grupul {group}', 'activati smtp pentru grupul {group}', 'porneste smtp pentru grupul {group}'],
  },
  example: { en: 'enable SMTP for group Scanners', es: 'habilita SMTP para el grupo Scanners', pt: 'ativar SMTP para o grupo Scanners', 'zh-CN': '为组 Scanners 启用 SMTP', ro: 'activează SMTP pentru grupul Scanners' },
  params: z.object({ group: z.string().trim().min(1).max(256) }),
  audience: 'it-staff',
  targets: 'group',
  plan: ({ members }) => (members ?? []).map((member) => ({ kind: mailboxSmtpAuth.id, target: mailboxOf(member), desired: false })),
  grantsException: true,
  minimumRisk: 'high',
};
