import { z } from 'zod';
import { securityDefaults } from '../steps/security-defaults';
import { organizationOf, type ChangeCommand } from './types';

/** Turns Entra security defaults off (critical: two approvals). Its card says what else they protect and names the Conditional Access alternative: a legacy-authentication block that excludes a group of SMTP devices. */
export const securityDefaultsDisable: ChangeCommand = {
  id: 'security-defaults-disable',
  kind: 'change',
  phrases: {
    en: ['disable security defaults', 'turn off security defaults', 'switch off security defaults', 'security defaults off'],
    es: ['desactiva los valores predeterminados de seguridad', 'desactivar los valores predeterminados de seguridad', 'desactivar valores predeterminados de seguridad', 'desactiva security defaults'],
    pt: ['desativar os padroes de seguranca', 'desative os padroes de seguranca', 'desativar padroes de seguranca', 'desativar security defaults'],
    'zh-CN': ['关闭安全默认值', '禁用安全默认值', '停用安全默认值'],
    ro: ['dezactiveaza valorile implicite de securitate', 'dezactivati valorile implicite de securitate', 'dezactiveaza security defaults'],
  },
  example: { en: 'disable security defaults', es: 'desactiva los valores predeterminados de seguridad', pt: 'desativar os padrões de segurança', 'zh-CN': '关闭安全默认值', ro: 'dezactivează valorile implicite de securitate' },
  params: z.object({}),
  audience: 'it-staff',
  targets: 'organization',
  plan: ({ tenantId }) => [{ kind: securityDefaults.id, target: organizationOf(tenantId), desired: false }],
};
