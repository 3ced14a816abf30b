import { commands } from '../commands/registry';
import type { CommandDefinition } from '../commands/types';
import { languages, type Language } from '../i18n';

export interface ParsedUtterance {
  command: CommandDefinition;
  args: Record<string, string>;
  language: Language;
  /** "… for 7 days": a time-boxed change that reverts by itself. */
  durationMs?: number;
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
  `[\\s,，]*(?:(?:for|por|durante|pentru|timp\\s+de)\\s+)?(\\d{1,4})\\s*(${Object.keys(unitMs).sort((a, b) => b.length - a.length).join('|')})\\s*$`, 'u');

/** Splits "bob for 7 days" into the rest and the duration; at most a year. */
export function extractDuration(folded: string): { rest: number; durationMs: number } | undefined {
  const match = trailingDuration.exec(folded);
  if (!match) return undefined;
  const durationMs = Number(match[1]) * unitMs[match[2]!]!;
  if (durationMs <= 0 || durationMs > 366 * 24 * hour) return undefined;
  return { rest: match.index, durationMs };
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
  const parts = fold(phrase).split('{user}');
  const literal = (part: string) => part.trim().split(/\s+/).filter(Boolean).map(escapeRegex).join('\\s+');
  // Chinese is written with or without spaces around Latin words and names.
  const gap = cjk.test(phrase) ? '\\s*' : '\\s+';
  const pieces = parts.map(literal);
  const source = pieces.length === 1
    ? pieces[0]!
    : pieces.reduce((acc, piece, i) => i === 0 ? piece : `${acc}${acc ? gap : ''}(?<user>.+?)${piece ? gap + piece : ''}`, '');
  return { command, language, regex: new RegExp(`^${source}$`, 'du'), literalLength: parts.join('').replace(/\s+/g, '').length };
}

const patterns: CompiledPattern[] = commands.flatMap((command) =>
  languages.flatMap((language) => command.phrases[language].map((phrase) => compile(command, language, phrase))));

/** Teams prefixes channel messages with the bot's @mention; people add punctuation. */
export function cleanUtterance(text: string): string {
  return text
    .replace(/<at>[^<]*<\/at>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/[\s\u3000]+/g, ' ')
    .replace(/[\s.!?。！？,，]+$/u, '')
    .trim();
}

/** Utterance → command, arguments and the language it was written in; undefined when nothing matches. */
export function parseUtterance(text: string): ParsedUtterance | undefined {
  let original = cleanUtterance(text);
  let folded = fold(original);
  const duration = extractDuration(folded);
  if (duration) {
    original = original.slice(0, duration.rest);
    folded = folded.slice(0, duration.rest);
  }
  let best: { pattern: CompiledPattern; match: RegExpExecArray } | undefined;
  for (const pattern of patterns) {
    const match = pattern.regex.exec(folded);
    if (match && (!best || pattern.literalLength > best.pattern.literalLength)) best = { pattern, match };
  }
  if (!best) return undefined;
  const args: Record<string, string> = {};
  const span = best.match.indices?.groups?.user;
  if (span) args.user = original.slice(span[0], span[1]).trim();
  const timeBoxed = duration && best.pattern.command.kind === 'change' ? { durationMs: duration.durationMs } : {};
  return { command: best.pattern.command, args, language: best.pattern.language, ...timeBoxed };
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
