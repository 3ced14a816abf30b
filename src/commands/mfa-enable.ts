import { z } from 'zod';
import { perUserMfa } from '../steps/per-user-mfa';
import { userOf, type ChangeCommand } from './types';

/** Turns a user's per-user MFA on (high). Its card says per-user MFA is legacy and what Microsoft recommends instead. */
export const mfaEnable: ChangeCommand = {
  id: 'mfa-enable',
  kind: 'change',
  phrases: {
    en: ['enable mfa for {user}', 'turn on mfa for {user}', 'enable per-user mfa for {user}', 'turn on per-user mfa for {user}'],
    es: ['activa mfa para {user}', 'activar mfa para {user}', 'activa la mfa de {user}', 'activar la mfa por usuario de {user}'],
    pt: ['ativar mfa para {user}', 'ativar o mfa do {user}', 'ativar o mfa da {user}', 'ative mfa para {user}'],
    'zh-CN': ['为 {user} 开启 mfa', '为{user}开启mfa', '开启 {user} 的 mfa', '启用 {user} 的 mfa'],
    ro: ['activeaza mfa pentru {user}', 'activati mfa pentru {user}', 'porneste mfa pentru {user}'],
  },
  example: { en: 'enable MFA for bob', es: 'activa MFA para bob', pt: 'ativar MFA para bob', 'zh-CN': '为 bob 开启 MFA', ro: 'activează MFA pentru bob' },
  params: z.object({ user: z.string().trim().min(1).max(256) }),
  audience: 'it-staff',
  targets: 'user',
  plan: ({ user }) => [{ kind: perUserMfa.id, target: userOf(user!), desired: 'enabled' }],
};
