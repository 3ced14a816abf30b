import { z } from 'zod';
import { smtpStatusCard } from '../cards/builders';
import type { ReadCommand } from './types';

export const smtpStatus: ReadCommand = {
  id: 'smtp-status',
  kind: 'read',
  phrases: {
    en: [
      'smtp status {user}', 'smtp status for {user}', 'smtp status of {user}', 'status {user}', 'status of {user}', 'check smtp for {user}', 'show smtp for {user}',
      'is smtp enabled for {user}', 'is smtp disabled for {user}', 'does {user} have smtp',
    ],
    es: [
      'estado smtp {user}', 'estado smtp de {user}', 'estado smtp para {user}', 'estado de smtp de {user}', 'smtp status {user}', 'estado de {user}',
      'tiene {user} smtp activado', 'esta smtp activado para {user}', 'esta smtp desactivado para {user}',
    ],
    pt: [
      'status smtp {user}', 'status smtp de {user}', 'status smtp do {user}', 'status smtp da {user}', 'estado smtp de {user}', 'smtp status {user}', 'verificar {user}',
      'o {user} tem smtp ativo', 'smtp esta ativo para {user}', 'smtp esta desativado para {user}',
    ],
    'zh-CN': [
      '{user} 的 smtp 状态', '{user}的smtp状态', '查看 {user} 的 smtp', 'smtp 状态 {user}', 'smtp状态 {user}', '查看 {user}',
      '{user} 的 smtp 开了吗', '{user} 的 smtp 是否启用', '{user} 的 smtp 是否禁用',
    ],
    ro: [
      'stare smtp {user}', 'stare smtp pentru {user}', 'starea smtp pentru {user}', 'status smtp {user}', 'smtp status {user}', 'verifica {user}',
      'are {user} smtp activat', 'este smtp activat pentru {user}', 'este smtp dezactivat pentru {user}',
    ],
  },
  example: { en: 'smtp status bob', es: 'estado smtp de bob', pt: 'status smtp do bob', 'zh-CN': 'bob 的 SMTP 状态', ro: 'stare SMTP pentru bob' },
  params: z.object({ user: z.string().trim().min(1).max(256) }),
  audience: 'it-staff',
  risk: 'read',
  run: async ({ t, resolveAndEvaluate, activeException }, { user: query }) => {
    const { user, evaluation } = await resolveAndEvaluate(query!);
    const exception = await activeException(user);
    // IT staff only, so the Fix button is theirs to press (the server checks again).
    return smtpStatusCard(t, user, evaluation, user.id, exception);
  },
};
