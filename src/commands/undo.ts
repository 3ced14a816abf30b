import { z } from 'zod';
import type { ReadCommand } from './types';

/**
 * A typed `undo`: takes back the asker's latest change that can be undone, or asks which one when
 * there are several. The undo is a new request for the reverse change, under the same gating.
 */
export const undo: ReadCommand = {
  id: 'undo',
  kind: 'read',
  phrases: {
    en: ['undo', 'undo last change', 'undo my last change', 'undo that', 'revert my last change', 'undo {user}', 'undo the change for {user}'],
    es: ['deshacer', 'deshaz', 'deshacer el ultimo cambio', 'deshaz el ultimo cambio', 'deshacer {user}', 'deshacer el cambio de {user}'],
    pt: ['desfazer', 'desfaz', 'desfazer a ultima alteracao', 'desfaca a ultima alteracao', 'desfazer {user}', 'desfazer a alteracao do {user}'],
    'zh-CN': ['撤销', '撤回', '撤销上一次更改', '撤销上次更改', '撤销 {user} 的更改', '撤销{user}的更改'],
    ro: ['anuleaza', 'anuleaza ultima modificare', 'anuleaza modificarea', 'anuleaza {user}', 'anuleaza modificarea pentru {user}'],
  },
  example: { en: 'undo', es: 'deshacer', pt: 'desfazer', 'zh-CN': '撤销', ro: 'anulează' },
  params: z.object({ user: z.string().trim().min(1).max(256).optional() }) as unknown as z.ZodType<Record<string, string>>,
  audience: 'it-staff',
  risk: 'read',
  run: async ({ undoLatest }, { user }) => undoLatest(user),
};
