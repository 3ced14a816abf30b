import { z } from 'zod';
import { authenticationPolicy } from '../steps/authentication-policy';
import { userOf, type ChangeCommand } from './types';

/** Clears a user's own Exchange authentication policy (high): the organization default applies again. */
export const authPolicyReset: ChangeCommand = {
  id: 'auth-policy-reset',
  kind: 'change',
  phrases: {
    en: ['reset auth policy for {user}', 'clear auth policy for {user}', 'reset authentication policy for {user}', 'clear authentication policy for {user}'],
    es: ['restablece la directiva de autenticacion de {user}', 'restablecer la directiva de autenticacion de {user}', 'quita la directiva de autenticacion de {user}'],
    pt: ['redefinir a politica de autenticacao de {user}', 'redefinir a politica de autenticacao do {user}', 'redefinir a politica de autenticacao da {user}', 'remover a politica de autenticacao de {user}'],
    'zh-CN': ['重置 {user} 的身份验证策略', '清除 {user} 的身份验证策略', '为 {user} 重置身份验证策略'],
    ro: ['reseteaza politica de autentificare pentru {user}', 'resetati politica de autentificare pentru {user}', 'elimina politica de autentificare pentru {user}'],
  },
  example: { en: 'reset auth policy for bob', es: 'restablece la directiva de autenticación de bob', pt: 'redefinir a política de autenticação de bob', 'zh-CN': '重置 bob 的身份验证策略', ro: 'resetează politica de autentificare pentru bob' },
  params: z.object({ user: z.string().trim().min(1).max(256) }),
  audience: 'it-staff',
  targets: 'user',
  plan: ({ user }) => [{ kind: authenticationPolicy.id, target: userOf(user!), desired: null }],
};
