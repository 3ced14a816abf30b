import { z } from 'zod';
import { helpCard } from '../cards/builders';
import type { ReadCommand } from './types';

export const help: ReadCommand = {
  id: 'help',
  kind: 'read',
  phrases: {
    en: ['help', 'what can you do', '?'],
    es: ['ayuda', 'que puedes hacer'],
    pt: ['ajuda', 'o que voce faz', 'o que voce pode fazer'],
    'zh-CN': ['帮助', '你能做什么'],
    ro: ['ajutor', 'ce poti face'],
  },
  example: { en: 'help', es: 'ayuda', pt: 'ajuda', 'zh-CN': '帮助', ro: 'ajutor' },
  params: z.object({}),
  audience: 'everyone',
  risk: 'read',
  run: async ({ t, examples }) => helpCard(t, examples()),
};
