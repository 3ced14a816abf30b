import { languages, loadLocale, type Language } from '../../src/i18n';

/**
 * Which of our languages a piece of text is written in, from the fixed fragments of each locale:
 * a fragment (the text between placeholders, long enough to mean something) counts for a language
 * when no other language's strings contain it. A card in one language shows that language's only.
 */
const values = (tree: Record<string, unknown>): string[] => Object.values(tree).flatMap((v) => (v && typeof v === 'object' ? values(v as Record<string, unknown>) : typeof v === 'string' ? [v] : []));

const fragments = new Map<Language, string[]>();
const all = new Map<Language, string>(languages.map((l) => [l, values(omitLexicon(loadLocale(l))).join('\n')]));

function omitLexicon(tree: Record<string, unknown>): Record<string, unknown> {
  const nlu = tree.nlu as Record<string, unknown> | undefined;
  if (!nlu) return tree;
  const { lexicon: _lexicon, ...rest } = nlu;
  return { ...tree, nlu: rest };
}

for (const language of languages) {
  const own = values(omitLexicon(loadLocale(language)))
    .flatMap((v) => v.split(/\{\{[^}]*\}\}|[\n•]/))
    .map((p) => p.trim())
    .filter((p) => (language === 'zh-CN' ? (p.match(/[\u4e00-\u9fff]/g) ?? []).length >= 4 : p.length >= 12 && /\p{L}{4}/u.test(p)));
  fragments.set(language, [...new Set(own)].filter((p) => languages.every((other) => other === language || !all.get(other)!.includes(p))));
}

export function languagesIn(text: string): Language[] {
  return languages.filter((l) => fragments.get(l)!.some((p) => text.includes(p)));
}
