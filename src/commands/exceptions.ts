import { z } from 'zod';
import { exceptionsCard } from '../cards/builders';
import type { ReadCommand } from './types';

/**
 * The exceptions register (issue #5; CIS Microsoft 365 6.5.4, CISA SCuBA MS.EXO.5.1): every mailbox
 * with SMTP AUTH on — granted ones with who asked, who approved, why and until when, and the ones
 * `Get-CASMailbox -Filter "SmtpClientAuthenticationDisabled -eq $false"` finds without a request.
 * Needs Exchange "View-Only Recipients" (Get-CASMailbox) and "View-Only Configuration" (Get-TransportConfig).
 */
export const exceptions: ReadCommand = {
  id: 'exceptions',
  kind: 'read',
  phrases: {
    en: ['exceptions', 'smtp exceptions', 'list exceptions', 'show exceptions', 'exceptions register', 'smtp auth exceptions'],
    es: ['excepciones', 'excepciones smtp', 'lista de excepciones', 'ver excepciones'],
    pt: ['excecoes', 'excecoes smtp', 'listar excecoes', 'ver excecoes', 'lista de excecoes'],
    'zh-CN': ['例外', 'smtp 例外', 'smtp例外', '例外列表', '查看例外', '例外清单'],
    ro: ['exceptii', 'exceptii smtp', 'lista exceptiilor', 'arata exceptiile', 'exceptiile'],
  },
  example: { en: 'exceptions', es: 'excepciones', pt: 'exceções', 'zh-CN': 'SMTP 例外', ro: 'excepții' },
  params: z.object({}),
  audience: 'it-staff-or-approver',
  risk: 'read',
  run: async ({ t, exceptionsRegister }) => exceptionsCard(t, await exceptionsRegister()),
};
