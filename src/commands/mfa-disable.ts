import { z } from 'zod';
import { perUserMfa } from '../steps/per-user-mfa';
import { userOf, type ChangeCommand } from './types';

/** Turns a user's per-user MFA off (high). Its card says per-user MFA is legacy and what Microsoft recommends instead. */
export const mfaDisable: ChangeCommand = {
  id: 'mfa-disable',
  kind: 'change',
  phrases: {
    en: ['disable mfa for {user}', 'turn off mfa for {user}', 'disable per-user mfa for {user}', 'turn off per-user mfa for {user}'],
    es: ['desactiva mfa para {user}', 'desactivar mfa para {user}', 'desactiva la mfa de {user}', 'desactivar la mfa por usuario de {user}'],
    pt: ['desativar mfa para {user}', 'desativar o mfa do {user}', 'desativar o mfa da {user}', 'desative mfa para {user}'],
    'zh-CN': ['为 {user} 关闭 mfa', '为{user}关闭mfa', '关闭 {user} 的 mfa', '禁用 {user} 的 mfa'],
    ro: ['dezactiveaza mfa pentru {user}', 'dezactivati mfa pentru {user}', 'opreste mfa pentru {user}'],
  },
  example: { en: 'disable MFA for bob', es: 'desactiva MFA para bob', pt: 'desativar MFA para bob', 'zh-CN': '为 bob 关闭 MFA', ro: 'dezactivează MFA pentru bob' },
  params: z.object({ user: z.string().trim().min(1).max(256) }),
  audience: 'it-staff',
  targets: 'user',
  plan: ({ user }) => [{ kind: perUserMfa.id, target: userOf(user!), desired: 'disabled' }],
};
