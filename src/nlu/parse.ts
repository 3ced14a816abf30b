import type { CommandDefinition } from '../commands/types';
import type { Language } from '../i18n';
import { canonicalize, correctTypos, evaluate, isEmptyRun, languageEvidence, languagesOf, patterns, present, targetKind, type Evaluation, type TargetKind, type Word } from './match';
import { fold, tokenize } from './text';

export { fold } from './text';

export interface ParsedUtterance {
  command: CommandDefinition;
  args: Record<string, string>;
  language: Language;
  /** "… for 7 days": a time-boxed change that reverts by itself. */
  durationMs?: number;
  /** "… permanently": no expiry (an SMTP AUTH exception that needs the high-risk quorum). */
  permanent?: true;
  /** "… for the floor 2 scanner": why the change is needed (the device or app), as written. */
  justification?: string;
  /** "… for 400 days" / "for 0 days": a duration outside 1 hour – 366 days, refused rather than read as a reason. */
  durationOutOfRange?: true;
  /**
   * Every language the words could be ("smtp status bob" is English, Portuguese and Romanian alike);
   * `language` is the likeliest. Empty when no word tells, so the reader's Teams locale decides.
   */
  languages: Language[];
  /** What the slot captured: someone by name, the asker ("me", "para mí", "我"), the organization, a group. */
  target?: { slot: string; kind: TargetKind; text: string };
  /** A command word was typed wrong and put right ("enabel"). */
  corrected?: true;
}

/** A command that could be meant, with the text that runs it (for a "did you mean …?" button). */
export interface Suggestion {
  command: CommandDefinition;
  text: string;
}

/** Everything the bot can make of a message, so nothing typed ends in a bare "didn't understand". */
export type Understanding =
  | { kind: 'command'; parsed: ParsedUtterance }
  /** "smtp status", "enable smtp": the command is clear, who it is for is not. */
  | { kind: 'missing-target'; command: CommandDefinition; slot: string; language: Language; languages: Language[] }
  /** "enable for bob", "smtp bob": close to one or more commands. */
  | { kind: 'near-miss'; suggestions: Suggestion[]; language: Language; languages: Language[] }
  /** No command at all: help. `tooLong` when the text is over the limit. */
  | { kind: 'unknown'; languages: Language[]; tooLong?: true };

const cjk = /[\u3400-\u9fff]/u;
const hour = 3_600_000;
const unitMs: Record<string, number> = {
  h: hour, hour: hour, hours: hour, hora: hour, horas: hour, ora: hour, ore: hour, 小时: hour, 个小时: hour,
  d: 24 * hour, day: 24 * hour, days: 24 * hour, dia: 24 * hour, dias: 24 * hour, zi: 24 * hour, zile: 24 * hour, 天: 24 * hour,
  w: 168 * hour, week: 168 * hour, weeks: 168 * hour, semana: 168 * hour, semanas: 168 * hour,
  saptamana: 168 * hour, saptamani: 168 * hour, 周: 168 * hour, 星期: 168 * hour, 个星期: 168 * hour,
};

/** Numbers people write as words before a unit ("a week", "dos días", "uma semana", "o zi", "两天"), folded. */
const numberWords: Record<string, number> = {
  a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, fourteen: 14, thirty: 30,
  un: 1, una: 1, uno: 1, dos: 2, tres: 3, cuatro: 4, cinco: 5, seis: 6, siete: 7, ocho: 8, diez: 10, quince: 15, treinta: 30,
  um: 1, uma: 1, dois: 2, duas: 2, quatro: 4, sete: 7, oito: 8, dez: 10, quinze: 15, trinta: 30,
  o: 1, doua: 2, doi: 2, trei: 3, patru: 4, cinci: 5, sapte: 7, opt: 8, zece: 10, treizeci: 30,
  一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9, 十: 10,
};
const byLength = (a: string, b: string) => b.length - a.length;
const latinNumberWords = Object.keys(numberWords).filter((w) => !cjk.test(w)).sort(byLength).join('|');
const cjkNumberWords = Object.keys(numberWords).filter((w) => cjk.test(w)).join('');
/** "7", "seven", "两": digits, or a number word followed by a space (Latin) or nothing (Chinese). */
const amount = `(\\d{1,4}|(?:${latinNumberWords})(?=\\s)|[${cjkNumberWords}])`;
const amountOf = (text: string) => /^\d+$/.test(text) ? Number(text) : numberWords[text] ?? 0;
const units = Object.keys(unitMs).sort(byLength).join('|');

/** A trailing duration in any of our languages, matched on folded text ("por 7 días" → "por 7 dias"). */
const trailingDuration = new RegExp(
  `[\\s,，]*(?:(?:for|por|durante|pentru|timp\\s+de)\\s+)?${amount}\\s*(?:de\\s+)?(${units})\\s*$`, 'u');

/** A whole clause that is only a duration ("30 days", "30 de zile", "30 天", "a week"). */
const durationClause = new RegExp(`^${amount}\\s*(?:de\\s+)?(${units})$`, 'u');

/** "permanently", "para siempre", "pentru totdeauna", "永久": no expiry. Matched on folded text. */
const permanentWords = [
  'permanently', 'permanent', 'forever', 'for ever', 'ever', 'no expiry', 'without expiry',
  'permanentemente', 'permanente', 'siempre', 'para siempre', 'sin caducidad', 'sempre', 'para sempre', 'sem prazo',
  'permanenta', 'pentru totdeauna', 'totdeauna', 'definitiv', '永久', '长期',
];
const permanentAlternatives = [...permanentWords].sort((a, b) => b.length - a.length).map((w) => w.replace(/ /g, '\\s+')).join('|');
const permanentClause = new RegExp(`^(?:${permanentAlternatives})$`, 'u');
const trailingPermanent = new RegExp(`(?:[\\s,，]+|^)(?:(?:for|para|pentru)\\s+)?(?:permanently|permanent|forever|permanentemente|permanente|para\\s+siempre|para\\s+sempre|permanenta|pentru\\s+totdeauna|definitiv)\\s*$`, 'u');
/** Chinese puts "permanently" before the verb ("为 bob 永久启用 SMTP"): taken out wherever it stands. */
const cjkPermanent = /永久(?:地)?/u;

/**
 * Words that open a clause after the command: a reason ("for the floor 2 scanner", "para el
 * escáner", "pentru scanerul", "为 2 楼扫描仪") or a duration ("for 30 days", "durante 30 días").
 */
const latinMarkers = ['because\\s+of', 'because', 'during', 'for', 'porque', 'durante', 'para', 'por', 'deoarece', 'fiindca', 'pentru', 'timp\\s+de'];
const cjkMarkers = ['为期', '为了', '因为', '用于', '为'];
const latinMarker = `(?:\\s+|\\s*[,，;；]\\s*)(?:${latinMarkers.join('|')})\\s+`;
/** Where the clauses after a trailing {user} may start: a marker word, or "permanently" itself. */
const latinTailStart = `(?:${latinMarker}|\\s+(?=(?:permanently|permanent|permanentemente|permanente|permanenta|definitiv|forever)(?:\\s|$)))`;
const anyMarker = new RegExp(`${latinMarker}|\\s*[,，;；]?\\s*(?:${cjkMarkers.join('|')})\\s*`, 'gu');

/**
 * The trailing patterns are unanchored at the start, so a regex engine tries them at every position:
 * on a long run of commas that is quadratic. A modifier is a few words long, so they run on the last
 * characters only, and the separators before the match are then taken back over by a loop.
 */
const trailingWindow = 64;
function execAtEnd(pattern: RegExp, text: string): { index: number; match: RegExpExecArray } | undefined {
  // The window starts after a separator (or at the start), so `^` in a pattern means what it says.
  let offset = Math.max(0, text.length - trailingWindow);
  while (offset > 0 && !/[\s,，]/u.test(text[offset - 1]!)) offset--;
  const match = pattern.exec(text.slice(offset));
  if (!match) return undefined;
  let index = offset + match.index;
  if (match.index === 0) while (index > 0 && /[\s,，]/u.test(text[index - 1]!)) index--;
  return { index, match };
}

/** Peels "for 7 days" and "permanently" off the end, in any order. */
function peelTrailingModifiers(folded: string): { rest: number; durationMs?: number; permanent?: true } {
  let rest = folded.length;
  let durationMs: number | undefined;
  let permanent: true | undefined;
  for (;;) {
    const head = folded.slice(0, rest);
    const duration = durationMs === undefined ? extractDuration(head) : undefined;
    if (duration && duration.rest > 0) {
      durationMs = duration.durationMs;
      rest = duration.rest;
      continue;
    }
    const forever = permanent ? undefined : execAtEnd(trailingPermanent, head);
    if (forever && forever.index > 0) {
      permanent = true;
      rest = forever.index;
      continue;
    }
    return { rest, durationMs, permanent };
  }
}

/** Reads the clauses after the command: durations, "permanently", and the rest is the justification. */
function parseTail(folded: string, original: string): { durationMs?: number; permanent?: true; justification?: string; durationOutOfRange?: true } {
  const cuts: { start: number; end: number }[] = [];
  anyMarker.lastIndex = 0;
  for (let m = anyMarker.exec(folded); m; m = anyMarker.exec(folded)) {
    if (m[0].length === 0) { anyMarker.lastIndex++; continue; }
    cuts.push({ start: m.index, end: m.index + m[0].length });
  }
  const clauses: { markerStart: number; start: number; end: number }[] = [];
  let start = 0;
  let markerStart = 0;
  for (const cut of cuts) {
    clauses.push({ markerStart, start, end: cut.start });
    markerStart = cut.start;
    start = cut.end;
  }
  clauses.push({ markerStart, start, end: folded.length });
  const result: { durationMs?: number; permanent?: true; justification?: string; durationOutOfRange?: true } = {};
  let reason: { start: number; end: number } | undefined;
  for (const clause of clauses) {
    const text = folded.slice(clause.start, clause.end).trim();
    if (!text) continue;
    const duration = durationClause.exec(text);
    const durationMs = duration ? amountOf(duration[1]!) * unitMs[duration[2]!]! : 0;
    if (duration && durationMs > 0 && durationMs <= 366 * 24 * hour && result.durationMs === undefined) {
      result.durationMs = durationMs;
    } else if (duration && (durationMs <= 0 || durationMs > 366 * 24 * hour)) {
      result.durationOutOfRange = true;
    } else if (permanentClause.test(text) || permanentClause.test(folded.slice(clause.markerStart, clause.end).trim().replace(/^[,，;；]\s*/u, ''))) {
      result.permanent = true;
    } else {
      reason = { start: reason?.start ?? clause.start, end: clause.end };
    }
  }
  if (reason) result.justification = original.slice(reason.start, reason.end).trim();
  return result;
}

/** Splits "bob for 7 days" into the rest and the duration; at most a year. */
export function extractDuration(folded: string): { rest: number; durationMs: number } | undefined {
  const found = execAtEnd(trailingDuration, folded);
  if (!found) return undefined;
  const durationMs = amountOf(found.match[1]!) * unitMs[found.match[2]!]!;
  if (durationMs <= 0 || durationMs > 366 * 24 * hour) return undefined;
  return { rest: found.index, durationMs };
}

/**
 * The longest utterance we read, after cleaning: a command, a user and a reason fit many times over
 * (a justification is at most 300 characters). Longer text is refused before any pattern runs, so no
 * message can hold the event loop (issue #13, hole 1).
 */
export const utteranceMaxLength = 1_000;
/** Raw text longer than this is refused without even cleaning it (room for Teams' mention markup). */
export const rawUtteranceMaxLength = 4 * utteranceMaxLength;

const isSpace = (ch: string) => /\s/.test(ch);
const trailingJunk = new Set([...'.!?。！？,，']);

/**
 * Teams prefixes channel messages with the bot's @mention; people add punctuation. One pass, no
 * backtracking: `<at>…</at>` mentions and other tags become a space, `&nbsp;` too, runs of white
 * space become one space, and trailing punctuation goes.
 */
export function cleanUtterance(text: string): string {
  const out: string[] = [];
  let lastWasSpace = true;
  const space = () => {
    if (!lastWasSpace) out.push(' ');
    lastWasSpace = true;
  };
  // The next '>' at or after a position; searched again only once passed, so each character is scanned once.
  let nextClose = -1;
  const closeAfter = (from: number) => {
    if (nextClose !== Infinity && nextClose < from) {
      const found = text.indexOf('>', from);
      nextClose = found < 0 ? Infinity : found;
    }
    return nextClose;
  };
  for (let i = 0; i < text.length;) {
    const ch = text[i]!;
    if (ch === '<') {
      if (text.slice(i, i + 4).toLowerCase() === '<at>') {
        const lt = text.indexOf('<', i + 4);
        if (lt >= 0 && text.slice(lt, lt + 5).toLowerCase() === '</at>') {
          space();
          i = lt + 5;
          continue;
        }
      }
      const gt = closeAfter(i + 1);
      if (gt !== Infinity && gt > i + 1) {
        space();
        i = gt + 1;
        continue;
      }
    } else if (ch === '&' && text.startsWith('&nbsp;', i)) {
      space();
      i += 6;
      continue;
    } else if (isSpace(ch)) {
      space();
      i++;
      continue;
    }
    out.push(ch);
    lastWasSpace = false;
    i++;
  }
  let end = out.length;
  while (end > 0 && (out[end - 1] === ' ' || trailingJunk.has(out[end - 1]!))) end--;
  return out.slice(0, end).join('').trim();
}

/** Whether a message is too long to read as a command (see utteranceMaxLength). */
export function utteranceTooLong(text: string): boolean {
  return text.length > rawUtteranceMaxLength || cleanUtterance(text).length > utteranceMaxLength;
}


/** Where the clauses after a target begin: "for", "para", "pentru", "because", "permanently", "，用于". */
const tailStart = new RegExp(`${latinTailStart}|\\s*[,，;；]?\\s*(?:${cjkMarkers.join('|')})`, 'u');

interface Scored {
  evaluation: Evaluation;
  score: number;
  target?: { first: number; last: number };
  /** Where the clauses after the target start in the text (a change's reason and duration). */
  tail: { start: number; end: number }[];
}

/** Scores one phrase against the words; undefined unless every keyword is there and the target fits its slot. */
function score(evaluation: Evaluation, words: Word[], folded: string): Scored | undefined {
  const { pattern } = evaluation;
  if (evaluation.matched < pattern.keywords.length) return undefined;
  const nonEmpty = evaluation.runs.filter((run) => !isEmptyRun(run));
  let unexplained = 0;
  let target: Scored['target'];
  const tail: Scored['tail'] = [];
  let rest = nonEmpty;
  if (pattern.slot) {
    const run = nonEmpty[0];
    if (run) {
      rest = nonEmpty.slice(1);
      let last = run.trimmedLast;
      if (pattern.command.kind === 'change') {
        // "bob for 30 days for the floor 2 scanner": the target ends where the first clause starts.
        const to = words[run.last]!.end;
        const marker = tailStart.exec(folded.slice(words[run.trimmedFirst]!.end, to));
        if (marker) {
          const cut = words[run.trimmedFirst]!.end + marker.index;
          while (last > run.trimmedFirst && words[last]!.start >= cut) last--;
          tail.push({ start: cut, end: to });
        }
      }
      target = { first: run.trimmedFirst, last };
    }
  }
  for (const run of rest) {
    if (pattern.command.kind === 'change' && pattern.slot) tail.push({ start: words[run.first]!.start, end: words[run.last]!.end });
    else unexplained += run.trimmedLast - run.trimmedFirst + 1;
  }
  let commandWordsInTarget = 0;
  if (target) {
    const { commandWords } = patterns();
    for (let i = target.first; i <= target.last; i++) if (commandWords.has(words[i]!.canon)) commandWordsInTarget++;
    const kind = targetKind(words.slice(target.first, target.last + 1)).kind;
    const slot = pattern.slot!;
    if (slot === 'user' && (kind === 'org' || kind === 'group')) return undefined;
    if (slot === 'group' && (kind === 'org' || kind === 'self')) return undefined;
  }
  // The phrase's own shape breaks ties: its keywords in its order, its target on the same side.
  const targetBeforeKeywords = target !== undefined && target.first < evaluation.used.indexOf(1);
  const sameSide = pattern.slot !== undefined && target !== undefined && targetBeforeKeywords === (pattern.slotAt === 0);
  const value = 100 * pattern.keywords.length - 10 * unexplained - 15 * commandWordsInTarget - 5 * evaluation.corrected
    + (evaluation.inOrder ? 3 : 0) + (sameSide ? 1 : 0);
  return { evaluation, score: value, target, tail };
}

function bestOf(words: Word[], folded: string): { full?: Scored; missing?: Scored } {
  let full: Scored | undefined;
  let missing: Scored | undefined;
  const has = present(words);
  for (const pattern of patterns().patterns) {
    if (!pattern.keywords.every(has)) continue;
    const scored = score(evaluate(pattern, words), words, folded);
    if (!scored) continue;
    if (pattern.slot && !scored.target) {
      if (!missing || scored.score > missing.score) missing = scored;
    } else if (!full || scored.score > full.score) {
      full = scored;
    }
  }
  return { full, missing };
}

/** The likeliest language: the phrase's when the words allow it; with no telling words, Chinese only for Chinese text. */
function pickLanguage(candidates: Language[], preferred: Language, text: string): Language {
  if (candidates.length === 0) return cjk.test(text) ? 'zh-CN' : preferred === 'zh-CN' ? 'en' : preferred;
  return candidates.includes(preferred) ? preferred : candidates[0]!;
}

/** The text that runs a command for a target, from its help example ("enable SMTP for bob"). */
export function commandText(command: CommandDefinition, language: Language, target: string | undefined): string {
  const example = command.example[language] ?? command.example.en;
  if (!target) return example;
  // Examples name their target "bob" (a person) or "Scanners" (a group, `smtp-enable-group`).
  return example.replace(/\bbob\b|\bScanners\b/u, () => target);
}

/** Utterance → what the bot can make of it: a command, a command missing its target, close calls, or nothing. */
export function understand(text: string): Understanding {
  if (text.length > rawUtteranceMaxLength) return { kind: 'unknown', languages: [], tooLong: true };
  let original = cleanUtterance(text);
  if (original.length > utteranceMaxLength) return { kind: 'unknown', languages: [], tooLong: true };
  let folded = fold(original);
  let permanent = cjkPermanent.test(folded) ? true as const : undefined;
  if (permanent) {
    original = original.replace(cjkPermanent, ' ');
    folded = fold(original);
  }
  const trailing = peelTrailingModifiers(folded);
  original = original.slice(0, trailing.rest).trimEnd();
  folded = folded.slice(0, original.length);
  permanent ??= trailing.permanent;

  const tokens = tokenize(folded);
  let words = canonicalize(tokens);
  let { full, missing } = bestOf(words, folded);
  if (!full && !missing && tokens.length <= 40) {
    words = canonicalize(correctTypos(tokens));
    ({ full, missing } = bestOf(words, folded));
  }

  if (full && (!missing || full.score >= missing.score)) {
    const { pattern } = full.evaluation;
    const inTarget = (i: number) => full!.target !== undefined && i >= full!.target.first && i <= full!.target.last;
    const candidates = languagesOf(words, inTarget);
    const language = pickLanguage(candidates, pattern.language, folded);
    const args: Record<string, string> = {};
    let target: ParsedUtterance['target'];
    if (pattern.slot && full.target) {
      const span = words.slice(full.target.first, full.target.last + 1);
      const kind = targetKind(span);
      let value = original.slice(words[full.target.first + kind.from]!.start, words[full.target.first + kind.to]!.end).trim();
      // "bob's SMTP": the possessive is not part of the name.
      value = value.replace(/['’]s$/u, '') || value;
      args[pattern.slot] = value;
      target = { slot: pattern.slot, kind: kind.kind, text: value };
    }
    const corrected = words.some((w, i) => w.corrected && full!.evaluation.used[i] === 1);
    const base: ParsedUtterance = {
      command: pattern.command, args, language, languages: candidates,
      ...(target ? { target } : {}), ...(corrected ? { corrected: true as const } : {}),
    };
    if (pattern.command.kind !== 'change') return { kind: 'command', parsed: base };
    const tailText = full.tail.map(({ start, end }) => ' ' + original.slice(start, end)).join('');
    const tail = tailText.trim() ? parseTail(fold(tailText), tailText) : {};
    const durationMs = trailing.durationMs ?? tail.durationMs;
    const isPermanent = permanent ?? tail.permanent;
    return {
      kind: 'command',
      parsed: {
        ...base,
        ...(durationMs && !isPermanent ? { durationMs } : {}),
        ...(isPermanent ? { permanent: true as const } : {}),
        ...(tail.justification ? { justification: tail.justification } : {}),
        ...(tail.durationOutOfRange ? { durationOutOfRange: true as const } : {}),
      },
    };
  }
  if (missing) {
    const { pattern } = missing.evaluation;
    const candidates = languagesOf(words);
    return { kind: 'missing-target', command: pattern.command, slot: pattern.slot!, language: pickLanguage(candidates, pattern.language, folded), languages: candidates };
  }

  // Close calls: phrases with at least half of their keywords and something left that could be the target.
  const candidates = languagesOf(words);
  const close = new Map<string, { matched: number; ratio: number; pattern: Evaluation['pattern']; target?: string }>();
  const has = present(words);
  for (const pattern of patterns().patterns) {
    if (pattern.keywords.length < 2 || !pattern.keywords.some(has)) continue;
    const evaluation = evaluate(pattern, words);
    if (evaluation.matched === 0 || evaluation.matched * 2 < pattern.keywords.length) continue;
    const run = evaluation.runs.find((r) => !isEmptyRun(r));
    if (pattern.slot && !run) continue;
    // "smtp" alone is no near miss of "smtp exceptions": a command without a target needs one of its own words.
    if (!pattern.slot && !pattern.keywords.some((k) => k !== '~smtp' && has(k))) continue;
    if (run && pattern.slot === 'user' && ['org', 'group'].includes(targetKind(words.slice(run.trimmedFirst, run.trimmedLast + 1)).kind)) continue;
    if (!pattern.slot && run) continue;
    const ratio = evaluation.matched / pattern.keywords.length;
    const previous = close.get(pattern.command.id);
    if (previous && previous.ratio >= ratio) continue;
    // The target offered is the words we do not know ("enable smtp for everyone" offers no "enable").
    let a = run?.trimmedFirst ?? 0;
    let b = run?.trimmedLast ?? -1;
    const named = (i: number) => !words[i]!.canon.startsWith('~') || words[i]!.canon === '~self';
    while (a <= b && !named(a)) a++;
    while (b >= a && !named(b)) b--;
    if (pattern.slot && a > b) continue;
    const targetText = pattern.slot ? original.slice(words[a]!.start, words[b]!.end).replace(/['’]s$/u, '') : undefined;
    close.set(pattern.command.id, { matched: evaluation.matched, ratio, pattern, target: targetText });
  }
  const ranked = [...close.values()].sort((a, b) => b.ratio - a.ratio || b.matched - a.matched).slice(0, 3);
  if (ranked.length) {
    const language = pickLanguage(candidates, ranked[0]!.pattern.language, folded);
    return {
      kind: 'near-miss', language, languages: candidates,
      suggestions: ranked.map(({ pattern, target }) => ({ command: pattern.command, text: commandText(pattern.command, language, target) })),
    };
  }
  return { kind: 'unknown', languages: candidates };
}

/**
 * Whether a message could be just a name, the answer to "Who is it for?": a few words, no polite
 * filler, no command words ("bob", "José Núñez", "for bob@contoso.com", "me").
 */
export function looksLikeAnswer(text: string): boolean {
  const cleaned = cleanUtterance(text);
  if (!cleaned || cleaned.length > 120) return false;
  const words = canonicalize(tokenize(fold(cleaned)));
  const named = new Set(['~self', '~org', '~group']);
  const latin = words.filter((w) => !/^[\u3400-\u9fff]$/u.test(w.canon));
  return words.length > 0 && latin.length <= 5 && words.length <= 12
    && words.every((w) => w.canon !== '~filler' && (!w.canon.startsWith('~') || w.canon === '~ignore' || named.has(w.canon)))
    && words.filter((w) => w.canon === '~ignore').length <= 1;
}

/** Utterance → command, arguments and the language it was written in; undefined when it is not one command. */
export function parseUtterance(text: string): ParsedUtterance | undefined {
  const understood = understand(text);
  return understood.kind === 'command' ? understood.parsed : undefined;
}

/** A best guess at the language of text no command matched, from its script and its words. */
export function guessLanguage(text: string): Language | undefined {
  const { languages: found } = wordEvidence(text);
  return found.length === 1 ? found[0] : undefined;
}

/** The languages a text's words tell, and how many words told any; Chinese characters tell Chinese outright. */
function wordEvidence(text: string): { languages: Language[]; tellingWords: number } {
  const folded = fold(cleanUtterance(text).slice(0, utteranceMaxLength));
  if (cjk.test(folded)) return { languages: ['zh-CN'], tellingWords: Number.POSITIVE_INFINITY };
  return languageEvidence(canonicalize(tokenize(folded)));
}

/** Where Microsoft's own words start in a paste: the first SMTP reply or enhanced status code. */
const statusCodeStart = /\b[245]\d\d[ -]+[245]\.\d{1,3}\.\d{1,3}\b|\b[245]\.\d{1,3}\.\d{1,3}\b|\b[245]\d\d\b/;
/** Past this, what comes before the first code is a pasted report (an NDR's header), not the person's own sentence. */
const leadInMaxLength = 200;
/** Exchange Online's English around the reply in a non-delivery report: pasted, not written by the person. */
const ndrWording = new RegExp([
  'undeliverable:?', "your message (?:couldn['’]t|could not|wasn['’]t|was not) (?:be )?delivered\\.?", 'delivery has failed to these recipients or groups:?',
  'remote server returned', 'diagnostic information for administrators:?', 'generating server:?', 'original message headers:?',
  'the following organization rejected your message:?', 'error details:?', 'reported error:?', 'message rejected:?',
].join('|'), 'giu');

/**
 * The language to answer a pasted bounce in. The SMTP reply is Microsoft's English whatever language
 * the person reads, so it does not count: only their own words before the first status code ("mi
 * escáner dice …", "am primit …", "我收到 …"), without an NDR's own English ("Your message couldn't be
 * delivered", "Remote Server returned"), when they are a sentence and not a pasted report. Those
 * words decide when they tell one language and either agree with the Teams locale or are at least
 * two telling words; otherwise the Teams locale; otherwise what the words suggest, or English.
 */
export function pastedTextLanguage(text: string, locale: Language | undefined): Language {
  const start = statusCodeStart.exec(text);
  const before = start ? text.slice(0, start.index) : text;
  if (before.length > leadInMaxLength) return locale ?? 'en';
  const evidence = wordEvidence(before.replace(ndrWording, ' '));
  const own = evidence.languages.length === 1 ? evidence.languages[0]! : undefined;
  if (own && (!locale || own === locale || evidence.tellingWords >= 2)) return own;
  return locale ?? own ?? 'en';
}

/**
 * The language to answer in: the one the person wrote in when the words tell, else their Teams
 * locale when the words allow it, else the likeliest, else English.
 */
export function answerLanguage(understood: Understanding, locale: Language | undefined): Language {
  const likeliest = understood.kind === 'command' ? understood.parsed.language : understood.kind === 'unknown' ? undefined : understood.language;
  const candidates = understood.kind === 'command' ? understood.parsed.languages : understood.languages;
  if (candidates.length === 1) return candidates[0]!;
  if (locale && (candidates.length === 0 || candidates.includes(locale))) return locale;
  return likeliest ?? candidates[0] ?? locale ?? 'en';
}

// Compiled at load, like the rest of the bot's tables, so the first message pays nothing extra.
patterns();
