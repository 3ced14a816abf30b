import { z } from 'zod';
import { authenticationPolicy } from '../steps/authentication-policy';
import { userOf, type ChangeCommand } from './types';

/** Assigns a user an existing Exchange authentication policy that allows Basic SMTP (high). When none exists it says so and gives the New-AuthenticationPolicy an admin would run; it never creates one. */
export const authPolicyAllowSmtp: ChangeCommand = {
  id: 'auth-policy-allow-smtp',
  kind: 'change',
  phrases: {
    en: ['allow basic smtp for {user}', 'auth policy allow smtp for {user}', 'authentication policy allow smtp for {user}', 'assign smtp auth policy to {user}'],
    es: ['permite smtp basico para {user}', 'permitir smtp basico para {user}', 'directiva de autenticacion smtp para {user}'],
    pt: ['permita smtp basico para {user}', 'liberar smtp basico para {user}', 'libere smtp basico para {user}', 'politica de autenticacao smtp para {user}'],
    'zh-CN': ['为 {user} 允许基本 smtp', '为{user}允许基本smtp', '允许 {user} 使用基本 smtp'],
    ro: ['permite smtp de baza pentru {user}', 'permiteti smtp de baza pentru {user}', 'politica de autentificare smtp pentru {user}'],
  },
  example: { en: 'allow basic SMTP for bob', es: 'permite SMTP básico para bob', pt: 'liberar SMTP básico para bob', 'zh-CN': '为 bob 允许基本 SMTP', ro: 'permite SMTP de bază pentru bob' },
  params: z.object({ user: z.string().trim().min(1).max(256) }),
  audience: 'it-staff',
  targets: 'user',
  plan: ({ user }) => [{ kind: authenticationPolicy.id, target: userOf(user!), desired: { allowBasicSmtp: true } }],
};
