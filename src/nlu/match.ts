import { commands } from '../commands/registry';
import type { CommandDefinition } from '../commands/types';
import { languages, type Language } from '../i18n';
import { conceptToken, ignorable, lexicon } from './lexicon';
import { editDistance, fold, tokenize, type Token } from './text';

/**
 * Matching without a central switch: every command's phrases (src/commands/*.ts) are rewritten
 * with the lexicon (locales/<lng>/nlu.json) into keywords — "enable smtp for {user}" becomes
 * {~enable, ~smtp} and a {user} slot. An utterance matches a phrase when it holds all of its
 * keywords, in any order; what is left, minus the words that only frame a request ("please",
 * "for", "the", "的", "吗"), is the target. A command added with phrases gets all of this for free.
 */

/** A word of an utterance or phrase after the lexicon: a concept token (`~enable`) or the word itself. */
export interface Word {
  canon: string;
  /** Span in the text it came from. */
  start: number;
  end: number;
  /** The folded words it stands for ("turn", "on"). */
  surfaces: string[];
  /** A typo corrected into a known word ("enabel" → "enable"). */
  corrected: boolean;
}

export function canonicalize(tokens: (Token & { corrected?: boolean })[]): Word[] {
  const { entries, longest, prefixes } = lexicon();
  const words: Word[] = [];
  for (let i = 0; i < tokens.length;) {
    let length = 0;
    let canon = '';
    // Longest entry starting here, growing the key only while some entry still starts with it.
    let key = '';
    for (let n = 1; n <= Math.min(longest, tokens.length - i); n++) {
      key = n === 1 ? tokens[i]!.text : `${key} ${tokens[i + n - 1]!.text}`;
      if (!prefixes.has(key)) break;
      const found = entries.get(key);
      if (found) { length = n; canon = found; }
    }
    if (!length) { length = 1; canon = tokens[i]!.text; }
    const span = tokens.slice(i, i + length);
    words.push({ canon, start: span[0]!.start, end: span[span.length - 1]!.end, surfaces: span.map((t) => t.text), corrected: span.some((t) => t.corrected === true) });
    i += length;
  }
  // "turn SMTP on": the verb stands where its first word does, its particle goes.
  const { split } = lexicon();
  for (let i = 0; i < words.length; i++) {
    const first = words[i]!.canon;
    outer: for (let j = i + 2; j < Math.min(words.length, i + 6); j++) {
      for (const verb of split) {
        if (verb.first !== first || words[j]!.surfaces.join(' ') !== verb.last) continue;
        words[i] = { ...words[i]!, canon: verb.concept };
        words[j] = { ...words[j]!, canon: '~ignore' };
        break outer;
      }
    }
  }
  return words;
}

export interface Pattern {
  command: CommandDefinition;
  language: Language;
  phrase: string;
  /** Concept tokens and words the utterance must hold, in the phrase's order. */
  keywords: string[];
  /** The `{name}` the phrase captures, if any. */
  slot?: string;
  /** Where the slot stands among the keywords (0 = before the first). */
  slotAt: number;
}

function compile(command: CommandDefinition, language: Language, phrase: string): Pattern | undefined {
  const pieces = phrase.split(/\{(\w+)\}/);
  const keywords: string[] = [];
  /** Framing words as written (`=what`), for a phrase that has nothing else. */
  const all: string[] = [];
  let slot: string | undefined;
  let slotAt = 0;
  pieces.forEach((piece, i) => {
    if (i % 2 === 1) { slot ??= piece; slotAt = keywords.length; return; }
    const folded = fold(piece);
    for (const word of canonicalize(tokenize(folded))) {
      all.push(ignorable.has(word.canon) ? `=${word.surfaces.join(' ')}` : word.canon);
      if (!ignorable.has(word.canon)) keywords.push(word.canon);
    }
  });
  // A phrase made only of framing words ("what can you do") must be said as it is; one without a
  // target that ends on one ("security defaults on") needs that word too.
  const last = all[all.length - 1];
  if (!slot && keywords.length && last?.startsWith('=')) keywords.push(last);
  const required = keywords.length ? keywords : all;
  if (!required.length) return undefined;
  return { command, language, phrase, keywords: required, slot, slotAt };
}

let compiled: ReturnType<typeof compileAll> | undefined;

/** Compiled once, on first use, from the registry as it is then (commands register at import). */
export function patterns() {
  compiled ??= compileAll(commands);
  return compiled;
}

/**
 * Understands these commands instead of the registry's (none: the registry again). For tests that
 * prove a command gets the tolerant matching from its phrases alone.
 */
export function useCommands(list?: readonly CommandDefinition[]): void {
  compiled = list ? compileAll(list) : undefined;
}

function compileAll(source: readonly CommandDefinition[]) {
  const list: Pattern[] = [];
  const phraseWordLanguages = new Map<string, Set<Language>>();
  for (const command of source) {
    for (const language of languages) {
      for (const phrase of command.phrases[language] ?? []) {
        const pattern = compile(command, language, phrase);
        if (pattern) list.push(pattern);
        for (const token of tokenize(fold(phrase.replace(/\{\w+\}/g, ' ')))) {
          const set = phraseWordLanguages.get(token.text) ?? new Set<Language>();
          set.add(language);
          phraseWordLanguages.set(token.text, set);
        }
      }
    }
  }
  const known = new Set<string>([...lexicon().words, ...phraseWordLanguages.keys()]);
  const vocabulary = new Map<number, string[]>();
  for (const word of known) {
    if (word.length < 4 || !/^[a-z-]+$/.test(word)) continue;
    const list = vocabulary.get(word.length) ?? [];
    list.push(word);
    vocabulary.set(word.length, list);
  }
  // Words only commands use ("exceptions", "excepciones", "help"): unlikely to be someone's name.
  const commandWords = new Set(list.flatMap((p) => p.keywords.filter((k) => !k.startsWith('~') && !k.startsWith('='))));
  return { patterns: list, commandWords, phraseWordLanguages, vocabulary, known };
}

/** How far a typo may be from the word meant: one edit for short words, two from seven letters. */
const allowedEdits = (length: number) => (length >= 7 ? 2 : 1);

/**
 * Command words typed wrong ("enabel", "habilta", "stauts") put right: a word we do not know, of
 * four letters or more, within one or two edits of exactly one nearest word we do. Names are
 * never changed in what is captured: captures are cut from the text as written.
 */
export function correctTypos(tokens: Token[], limit = 24): (Token & { corrected?: boolean })[] {
  const { vocabulary, known } = patterns();
  const seen = new Map<string, string | undefined>();
  const nearest = (text: string): string | undefined => {
    const max = allowedEdits(text.length);
    let best: string | undefined;
    let bestDistance = max + 1;
    for (let length = text.length - max; length <= text.length + max; length++) {
      for (const word of vocabulary.get(length) ?? []) {
        // People rarely get the first letter wrong ("enabel", "habilta", "stauts"); swapping it is one edit.
        if (word[0] !== text[0] && !(word[0] === text[1] && word[1] === text[0])) continue;
        const distance = editDistance(text, word, Math.min(max, bestDistance));
        if (distance < bestDistance) { best = word; bestDistance = distance; }
      }
    }
    return bestDistance <= max ? best : undefined;
  };
  return tokens.map((token, index) => {
    if (index >= limit || token.cjk || token.text.length < 4 || !/^[a-z-]+$/.test(token.text) || known.has(token.text)) return token;
    if (!seen.has(token.text)) seen.set(token.text, nearest(token.text));
    const best = seen.get(token.text);
    return best ? { ...token, text: best, corrected: true } : token;
  });
}

export interface Run { first: number; last: number; trimmedFirst: number; trimmedLast: number }

export interface Evaluation {
  pattern: Pattern;
  matched: number;
  /** Indices of the utterance words that matched keywords. */
  used: Uint8Array;
  inOrder: boolean;
  corrected: number;
  /** Runs of words left over, in order; `trimmed*` without the framing words at their edges. */
  runs: Run[];
}

export function evaluate(pattern: Pattern, words: Word[]): Evaluation {
  const used = new Uint8Array(words.length);
  let matched = 0;
  let corrected = 0;
  let last = -1;
  let inOrder = true;
  for (const keyword of pattern.keywords) {
    let index = -1;
    const literal = keyword.startsWith('=') ? keyword.slice(1) : undefined;
    for (let i = 0; i < words.length; i++) {
      if (!used[i] && (literal === undefined ? words[i]!.canon === keyword : words[i]!.surfaces.join(' ') === literal)) { index = i; break; }
    }
    if (index < 0) continue;
    used[index] = 1;
    matched++;
    if (words[index]!.corrected) corrected++;
    if (index < last) inOrder = false;
    last = index;
  }
  const runs: Run[] = [];
  const keywordSet = new Set(pattern.keywords);
  for (let i = 0; i < words.length;) {
    if (used[i]) { i++; continue; }
    let j = i;
    while (j + 1 < words.length && !used[j + 1]) j++;
    let a = i;
    let b = j;
    // Framing words go, and so does a command word said twice ("check the smtp status of bob").
    const framing = (w: Word) => ignorable.has(w.canon) || (w.canon.startsWith('~') && keywordSet.has(w.canon));
    while (a <= b && framing(words[a]!)) a++;
    while (b >= a && framing(words[b]!)) b--;
    runs.push({ first: i, last: j, trimmedFirst: a, trimmedLast: b });
    i = j + 1;
  }
  return { pattern, matched, used, inOrder, corrected, runs };
}

export const isEmptyRun = (run: Run) => run.trimmedFirst > run.trimmedLast;

/** What an utterance holds, to skip at once the phrases it cannot match. */
export function present(words: Word[]): (keyword: string) => boolean {
  const canon = new Set(words.map((w) => w.canon));
  const surfaces = new Set(words.map((w) => w.surfaces.join(' ')));
  return (keyword) => (keyword.startsWith('=') ? surfaces.has(keyword.slice(1)) : canon.has(keyword));
}

/** What kind of thing a captured target is: someone, the asker, the whole organization, or a group. */
export type TargetKind = 'user' | 'self' | 'org' | 'group';

export function targetKind(words: Word[]): { kind: TargetKind; from: number; to: number } {
  const meaningful = words.map((w, i) => ({ w, i })).filter(({ w }) => !ignorable.has(w.canon));
  const all = { from: 0, to: words.length - 1 };
  if (meaningful.length && meaningful.every(({ w }) => w.canon === conceptToken('self'))) return { kind: 'self', ...all };
  if (meaningful.length === 1 && meaningful[0]!.w.canon === conceptToken('org')) return { kind: 'org', ...all };
  // "group Scanners", "the Scanners group", "grupul Scanners", "Scanners 组": the name without the word.
  const group = conceptToken('group');
  if (meaningful.length > 1 && meaningful[0]!.w.canon === group) return { kind: 'group', from: meaningful[1]!.i, to: meaningful[meaningful.length - 1]!.i };
  if (meaningful.length > 1 && meaningful[meaningful.length - 1]!.w.canon === group) return { kind: 'group', from: meaningful[0]!.i, to: meaningful[meaningful.length - 2]!.i };
  return { kind: 'user', ...all };
}

/**
 * The languages a text was written in, from its words outside the target: each word counts for
 * every language that uses it, words all our languages share ("smtp") count for none, Chinese
 * characters for Chinese. Several languages when the words do not tell them apart.
 */
export function languagesOf(words: Word[], skip: (index: number) => boolean = () => false): Language[] {
  return languageEvidence(words, skip).languages;
}

/** {@link languagesOf}, with how many words told anything: one word is thin evidence against a Teams locale. */
export function languageEvidence(words: Word[], skip: (index: number) => boolean = () => false): { languages: Language[]; tellingWords: number } {
  const { phraseWordLanguages } = patterns();
  const { wordLanguages } = lexicon();
  const score = new Map<Language, number>();
  let tellingWords = 0;
  words.forEach((word, index) => {
    if (skip(index)) return;
    let told = false;
    for (const surface of word.surfaces) {
      const set = new Set<Language>([...(wordLanguages.get(surface) ?? []), ...(phraseWordLanguages.get(surface) ?? [])]);
      if (/[\u3400-\u9fff]/u.test(surface)) set.add('zh-CN');
      if (set.size === 0 || set.size >= languages.length - 1) continue;
      told = true;
      for (const language of set) score.set(language, (score.get(language) ?? 0) + 1 / set.size);
    }
    if (told) tellingWords += 1;
  });
  const best = Math.max(0, ...score.values());
  if (best === 0) return { languages: [], tellingWords };
  return { languages: languages.filter((l) => (score.get(l) ?? 0) >= best - 1e-9), tellingWords };
}
