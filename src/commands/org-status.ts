import { z } from 'zod';
import { orgStatusCard } from '../cards/org-status';
import type { ReadCommand } from './types';

/**
 * Every layer that decides SMTP AUTH beyond one mailbox: the organization setting
 * (Get-TransportConfig), security defaults, Conditional Access policies that block legacy
 * authentication, Exchange authentication policies, mailboxes on/off/inherit, the exceptions
 * register in numbers, and Microsoft's Basic-auth retirement notice (MC786329). Reads only.
 */
export const orgStatus: ReadCommand = {
  id: 'org-status',
  kind: 'read',
  phrases: {
    en: ['org status', 'organization status', 'organisation status', 'org smtp status', 'smtp org status', 'tenant status', 'smtp status of the organization', 'security defaults status', 'are security defaults on'],
    es: ['estado de la organizacion', 'estado smtp de la organizacion', 'estado del inquilino', 'estado org', 'estado de la org', 'estado de los valores predeterminados de seguridad'],
    pt: ['status da organizacao', 'status smtp da organizacao', 'status do locatario', 'estado da organizacao', 'status dos padroes de seguranca'],
    'zh-CN': ['组织状态', '组织 smtp 状态', '组织的 smtp 状态', '租户状态', 'smtp 组织状态', '安全默认值状态'],
    ro: ['starea organizatiei', 'stare organizatie', 'starea smtp a organizatiei', 'stare smtp organizatie', 'stare tenant', 'starea valorilor implicite de securitate'],
  },
  example: { en: 'org status', es: 'estado de la organización', pt: 'status da organização', 'zh-CN': '组织状态', ro: 'starea organizației' },
  params: z.object({}),
  audience: 'it-staff-or-approver',
  risk: 'read',
  run: async ({ t, orgStatus: read }) => orgStatusCard(t, await read()),
};
