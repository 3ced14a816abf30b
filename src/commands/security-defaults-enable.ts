import { z } from 'zod';
import { securityDefaults } from '../steps/security-defaults';
import { organizationOf, type ChangeCommand } from './types';

/** Turns Entra security defaults on. Entra refuses while Conditional Access policies exist: the plan answers with Microsoft's words and drafts nothing. */
export const securityDefaultsEnable: ChangeCommand = {
  id: 'security-defaults-enable',
  kind: 'change',
  phrases: {
    en: ['enable security defaults', 'turn on security defaults', 'switch on security defaults', 'security defaults on'],
    es: ['activa los valores predeterminados de seguridad', 'activar los valores predeterminados de seguridad', 'activar valores predeterminados de seguridad', 'activa security defaults'],
    pt: ['ativar os padroes de seguranca', 'ative os padroes de seguranca', 'ativar padroes de seguranca', 'ativar security defaults'],
    'zh-CN': ['开启安全默认值', '启用安全默认值'],
    ro: ['activeaza valorile implicite de securitate', 'activati valorile implicite de securitate', 'activeaza security defaults'],
  },
  example: { en: 'enable security defaults', es: 'activa los valores predeterminados de seguridad', pt: 'ativar os padrões de segurança', 'zh-CN': '开启安全默认值', ro: 'activează valorile implicite de securitate' },
  params: z.object({}),
  audience: 'it-staff',
  targets: 'organization',
  plan: ({ tenantId }) => [{ kind: securityDefaults.id, target: organizationOf(tenantId), desired: true }],
};
