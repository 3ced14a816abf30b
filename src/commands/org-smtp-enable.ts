import { z } from 'zod';
import { orgSmtpAuth } from '../steps/org-smtp-auth';
import { organizationOf, type ChangeCommand } from './types';

/**
 * `Set-TransportConfig -SmtpClientAuthenticationDisabled $false`: SMTP AUTH on for every mailbox
 * that follows the organization (its own setting is `$null`). High risk: the card says how many
 * mailboxes that is, and offers the per-mailbox change instead.
 */
export const orgSmtpEnable: ChangeCommand = {
  id: 'org-smtp-enable',
  kind: 'change',
  phrases: {
    en: ['enable smtp for the organization', 'enable smtp for the organisation', 'enable smtp for the org', 'enable smtp auth for the organization', 'enable org smtp', 'turn on smtp for the organization', 'enable smtp org-wide'],
    es: ['habilita smtp para la organizacion', 'habilitar smtp para la organizacion', 'activa smtp para la organizacion', 'activar smtp para la organizacion'],
    pt: ['ativar smtp para a organizacao', 'ative smtp para a organizacao', 'habilitar smtp para a organizacao'],
    'zh-CN': ['为组织启用 smtp', '为整个组织启用 smtp', '启用组织的 smtp', '为组织启用smtp'],
    ro: ['activeaza smtp pentru organizatie', 'activeaza smtp pentru toata organizatia', 'activati smtp pentru organizatie'],
  },
  example: { en: 'enable SMTP for the organization', es: 'habilita SMTP para la organización', pt: 'ativar SMTP para a organização', 'zh-CN': '为组织启用 SMTP', ro: 'activează SMTP pentru organizație' },
  params: z.object({}),
  audience: 'it-staff',
  targets: 'organization',
  plan: ({ tenantId }) => [{ kind: orgSmtpAuth.id, target: organizationOf(tenantId), desired: false }],
  notes: async (tenant) => {
    const inheriting = await tenant.exchange.listCasMailboxes(null);
    return [
      { key: 'orgSmtp.enableWarning', params: { mailboxes: inheriting.length }, tone: 'warning' },
      { key: 'orgSmtp.perMailboxAlternative' },
    ];
  },
};
