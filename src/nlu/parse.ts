import { commands } from '../commands/registry';
import type { CommandDefinition } from '../commands/types';
import { languages, type Language } from '../i18n';

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
}

const hour = 3_600_000;
const unitMs: Record<string, number> = {
  h: hour, hour: hour, hours: hour, hora: hour, horas: hour, ora: hour, ore: hour, 小时: hour, 个小时: hour,
  d: 24 * hour, day: 24 * hour, days: 24 * hour, dia: 24 * hour, dias: 24 * hour, zi: 24 * hour, zile: 24 * hour, 天: 24 * hour,
  w: 168 * hour, week: 168 * hour, weeks: 168 * hour, semana: 168 * hour, semanas: 168 * hour,
  saptamana: 168 * hour, saptamani: 168 * hour, 周: 168 * hour, 星期: 168 * hour, 个星期: 168 * hour,
};

/** A trailing duration in any of our languages, matched on folded text ("por 7 días" → "por 7 dias"). */
const trailingDuration = new RegExp(
  `[\\s,，]*(?:(?:for|por|durante|pentru|timp\\s+de)\\s+)?(\\d{1,4})\\s*(?:de\\s+)?(${Object.keys(unitMs).sort((a, b) => b.length - a.length).join('|')})\\s*$`, 'u');

/** A whole clause that is only a duration ("30 days", "30 de zile", "30 天"). */
const durationClause = new RegExp(`^(\\d{1,4})\\s*(?:de\\s+)?(${Object.keys(unitMs).sort((a, b) => b.length - a.length).join('|')})$`, 'u');

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
const latinMarkers = ['because', 'during', 'for', 'porque', 'durante', 'para', 'por', 'deoarece', 'fiindca', 'pentru', 'timp\\s+de'];
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
    const durationMs = duration ? Number(duration[1]) * unitMs[duration[2]!]! : 0;
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
  const durationMs = Number(found.match[1]) * unitMs[found.match[2]!]!;
  if (durationMs <= 0 || durationMs > 366 * 24 * hour) return undefined;
  return { rest: found.index, durationMs };
}

/**
 * Folds one character for matching: lower case, accents dropped (ă → a, é → e), while keeping
 * the folded text exactly as long as the original so captures can be cut from the original.
 */
function foldChar(ch: string): string {
  const base = ch.normalize('NFD')[0] ?? ch;
  const lower = base.toLowerCase();
  return lower.length === ch.length ? lower : ch.length === base.length ? base : ch;
}

export function fold(text: string): string {
  return Array.from(text, foldChar).join('');
}

interface CompiledPattern {
  command: CommandDefinition;
  language: Language;
  regex: RegExp;
  literalLength: number;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const cjk = /[\u3400-\u9fff]/;

function compile(command: CommandDefinition, language: Language, phrase: string): CompiledPattern {
  // A change may be followed by a reason and a duration ("… for bob for 30 days for the floor 2
  // scanner"): after a trailing {user} they start with a marker word, after a literal with anything.
  const tail = command.kind !== 'change' ? '' : phrase.trimEnd().endsWith('{user}') ? `(?<tail>${latinTailStart}.+)?` : '(?<tail>\\s*\\S.*)?';
  const parts = fold(phrase).split('{user}');
  const literal = (part: string) => part.trim().split(/\s+/).filter(Boolean).map(escapeRegex).join('\\s+');
  // Chinese is written with or without spaces around Latin words and names.
  const gap = cjk.test(phrase) ? '\\s*' : '\\s+';
  const pieces = parts.map(literal);
  const source = pieces.length === 1
    ? pieces[0]!
    : pieces.reduce((acc, piece, i) => i === 0 ? piece : `${acc}${acc ? gap : ''}(?<user>.+?)${piece ? gap + piece : ''}`, '');
  return { command, language, regex: new RegExp(`^${source}${tail}$`, 'du'), literalLength: parts.join('').replace(/\s+/g, '').length };
}

const patterns: CompiledPattern[] = commands.flatMap((command) =>
  languages.flatMap((language) => command.phrases[language].map((phrase) => compile(command, language, phrase))));

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

/** Utterance → command, arguments and the language it was written in; undefined when nothing matches. */
export function parseUtterance(text: string): ParsedUtterance | undefined {
  if (text.length > rawUtteranceMaxLength) return undefined;
  let original = cleanUtterance(text);
  if (original.length > utteranceMaxLength) return undefined;
  let folded = fold(original);
  let permanent = cjkPermanent.test(folded) ? true as const : undefined;
  if (permanent) {
    original = original.replace(cjkPermanent, '');
    folded = fold(original);
  }
  const trailing = peelTrailingModifiers(folded);
  original = original.slice(0, trailing.rest).trimEnd();
  folded = folded.slice(0, original.length);
  permanent ??= trailing.permanent;
  let best: { pattern: CompiledPattern; match: RegExpExecArray } | undefined;
  for (const pattern of patterns) {
    const match = pattern.regex.exec(folded);
    if (match && (!best || pattern.literalLength > best.pattern.literalLength)) best = { pattern, match };
  }
  if (!best) return undefined;
  const args: Record<string, string> = {};
  const span = best.match.indices?.groups?.user;
  if (span) args.user = original.slice(span[0], span[1]).trim();
  if (best.pattern.command.kind !== 'change') return { command: best.pattern.command, args, language: best.pattern.language };
  const tailSpan = best.match.indices?.groups?.tail;
  const tail = tailSpan ? parseTail(folded.slice(tailSpan[0], tailSpan[1]), original.slice(tailSpan[0], tailSpan[1])) : {};
  const durationMs = trailing.durationMs ?? tail.durationMs;
  const isPermanent = permanent ?? tail.permanent;
  return {
    command: best.pattern.command, args, language: best.pattern.language,
    ...(durationMs && !isPermanent ? { durationMs } : {}),
    ...(isPermanent ? { permanent: true as const } : {}),
    ...(tail.justification ? { justification: tail.justification } : {}),
    ...(tail.durationOutOfRange ? { durationOutOfRange: true as const } : {}),
  };
}

/** A best guess at the language of text no command matched, from its script and common words. */
export function guessLanguage(text: string): Language | undefined {
  const t = fold(text);
  if (cjk.test(t)) return 'zh-CN';
  if (/\b(pentru|activeaza|ajutor|stare|nu)\b/.test(t)) return 'ro';
  if (/\b(ativar|voce|nao|ajuda|do|da)\b/.test(t)) return 'pt';
  if (/\b(habilita|habilitar|ayuda|para|estado|que)\b/.test(t)) return 'es';
  return undefined;
}
