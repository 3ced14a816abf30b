import { languages, loadLocale, type Language } from '../i18n';
import { fold, tokenize } from './text';

/**
 * The words people use for the same thing, per language, from `nlu.lexicon.<concept>` in the
 * locale files ("turn on", "habilitar", "开启" → enable; "SMTP AUTH", "authenticated SMTP",
 * "SMTP 身份验证" → smtp). Command phrases and utterances are both rewritten with it, so a command
 * that says "enable smtp for {user}" also understands "turn on authenticated SMTP for bob".
 */
export const concepts = ['smtp', 'enable', 'disable', 'reset', 'status', 'enabled', 'disabled', 'has', 'self', 'org', 'group', 'filler', 'ignore'] as const;
export type Concept = (typeof concepts)[number];

/** Concept tokens are written `~name` so they never collide with a word. */
export const conceptToken = (concept: Concept) => `~${concept}`;

/** Words that only frame a request ("please", "the", "for", "的", "吗"): skipped around a target, never keywords. */
export const ignorable = new Set([conceptToken('filler'), conceptToken('ignore')]);

export interface Lexicon {
  /** Token sequence (folded surfaces joined by a space) → concept token. */
  entries: Map<string, string>;
  /** The longest entry, in tokens. */
  longest: number;
  /** Every leading part of an entry ("turn", "turn on"), so a lookup stops as soon as nothing can match. */
  prefixes: Set<string>;
  /** Which languages use a folded word, for telling the language a message was written in. */
  wordLanguages: Map<string, Set<Language>>;
  /** Every single word of the lexicon, for typo correction. */
  words: Set<string>;
  /** Verbs split around their object ("turn SMTP on"): `turn * on` → the first word, then the last within four words. */
  split: { first: string; last: string; concept: string }[];
}

function build(): Lexicon {
  const entries = new Map<string, string>();
  const wordLanguages = new Map<string, Set<Language>>();
  const words = new Set<string>();
  const prefixes = new Set<string>();
  const split: Lexicon['split'] = [];
  let longest = 1;
  for (const language of languages) {
    const lexicon = ((loadLocale(language).nlu as Record<string, unknown> | undefined)?.lexicon ?? {}) as Record<string, string>;
    for (const concept of concepts) {
      const value = lexicon[concept];
      if (typeof value !== 'string') throw new Error(`locale ${language} has no nlu.lexicon.${concept}`);
      for (const surface of value.split('|')) {
        const gap = /^(\S+) \* (\S+)$/.exec(fold(surface.trim()));
        if (gap) { split.push({ first: gap[1]!, last: gap[2]!, concept: conceptToken(concept) }); continue; }
        const folded = fold(surface.trim());
        const tokens = tokenize(folded).map((t) => t.text);
        if (tokens.length === 0) continue;
        const key = tokens.join(' ');
        // A meaning wins over "ignore"/"filler" ("are" is Romanian "has", English "is"); otherwise the first language keeps it.
        const existing = entries.get(key);
        if (existing === undefined || (ignorable.has(existing) && !ignorable.has(conceptToken(concept)))) entries.set(key, conceptToken(concept));
        longest = Math.max(longest, tokens.length);
        for (let n = 1; n <= tokens.length; n++) prefixes.add(tokens.slice(0, n).join(' '));
        for (const word of tokens) {
          words.add(word);
          const set = wordLanguages.get(word) ?? new Set<Language>();
          set.add(language);
          wordLanguages.set(word, set);
        }
      }
    }
  }
  return { entries, longest, prefixes, wordLanguages, words, split };
}

let cached: Lexicon | undefined;
export function lexicon(): Lexicon {
  cached ??= build();
  return cached;
}
