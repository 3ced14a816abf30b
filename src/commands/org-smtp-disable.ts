import { z } from 'zod';
import { orgSmtpAuth } from '../steps/org-smtp-auth';
import { organizationOf, type ChangeCommand } from './types';

/**
 * `Set-TransportConfig -SmtpClientAuthenticationDisabled $true`: SMTP AUTH off for every mailbox
 * that follows the organization. Low risk; the card lists the mailboxes that keep it on by their
 * own setting (`Get-CASMailbox -Filter "SmtpClientAuthenticationDisabled -eq $false"`).
 */
export const orgSmtpDisable: ChangeCommand = {
  id: 'org-smtp-disable',
  kind: 'change',
  phrases: {
    en: ['disable smtp for the organization', 'disable smtp for the organisation', 'disable smtp for the org', 'disable smtp auth for the organization', 'disable org smtp', 'turn off smtp for the organization', 'disable smtp org-wide'],
    es: ['deshabilita smtp para la organizacion', 'deshabilitar smtp para la organizacion', 'desactiva smtp para la organizacion', 'desactivar smtp para la organizacion'],
    pt: ['desativar smtp para a organizacao', 'desative smtp para a organizacao', 'desabilitar smtp para a organizacao'],
    'zh-CN': ['为组织禁用 smtp', '为整个组织禁用 smtp', '禁用组织的 smtp', '为组织禁用smtp'],
    ro: ['dezactiveaza smtp pentru organizatie', 'dezactiveaza smtp pentru toata organizatia', 'dezactivati smtp pentru organizatie'],
  },
  example: { en: 'disable SMTP for the organization', es: 'deshabilita SMTP para la organización', pt: 'desativar SMTP para a organização', 'zh-CN': '为组织禁用 SMTP', ro: 'dezactivează SMTP pentru organizație' },
  params: z.object({}),
  audience: 'it-staff',
  targets: 'organization',
  plan: ({ tenantId }) => [{ kind: orgSmtpAuth.id, target: organizationOf(tenantId), desired: true }],
  notes: async (tenant) => {
    const own = (await tenant.exchange.listCasMailboxes(false)).map((m) => `${m.displayName ?? m.identity} (${m.primarySmtpAddress ?? m.identity})`).sort();
    return own.length
      ? [{ key: 'orgSmtp.disableKeepsOn', params: { mailboxes: own.length }, list: own }]
      : [{ key: 'orgSmtp.disableNoneKeepOn' }];
  },
};
