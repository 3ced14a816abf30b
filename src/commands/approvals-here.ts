import { z } from 'zod';
import { messageCard } from '../cards/builders';
import type { ReadCommand } from './types';

/** Makes this chat or channel the one approval cards are posted to. */
export const approvalsHere: ReadCommand = {
  id: 'approvals-here',
  kind: 'read',
  phrases: {
    en: ['approvals here', 'approvals-here', 'send approvals here', 'post approvals here'],
    es: ['aprobaciones aqui', 'enviar aprobaciones aqui'],
    pt: ['aprovacoes aqui', 'enviar aprovacoes aqui'],
    'zh-CN': ['审批发到这里', '在这里审批', '审批在这里'],
    ro: ['aprobari aici', 'trimite aprobarile aici'],
  },
  example: { en: 'approvals here', es: 'aprobaciones aquí', pt: 'aprovações aqui', 'zh-CN': '审批发到这里', ro: 'aprobări aici' },
  params: z.object({}),
  audience: 'it-staff',
  risk: 'read',
  run: async ({ t, conversation, setApprovalsConversation }) => {
    await setApprovalsConversation(conversation);
    return messageCard(t, t('approvalsHere.done'));
  },
};
