import type { Language } from '../i18n';
import { parseBounce } from '../diagnosis/bounce';

/**
 * What someone asks of the diagnosis side, in any of our languages: their own status ("what's my
 * SMTP status?", "diagnose me"), someone else's ("diagnose bob", "diagnose <pasted> for bob"), or a
 * fix ("fix 5.7.57 for bob", "arregla el 5.7.57 de bob", "修复 bob 的 5.7.57", "repară 5.7.57
 * pentru bob", "corrige o 5.7.57 do bob"). A pasted bounce without a command is handled by the
 * dispatcher once no command matched.
 */
export interface DiagnosisIntent {
  kind: 'diagnose' | 'fix';
  /** The asker's own mailbox. */
  self: boolean;
  /** Who, as written, when not the asker. */
  user?: string;
  /** Text that came with the request (a bounce, a code), as written. */
  pasted?: string;
  language: Language;
  /**
   * Every language the words could be, `language` first ("diagnosticar a maria" is Spanish and
   * Portuguese alike): the reader's Teams locale picks among them (`intentLanguage`).
   */
  languages?: Language[];
}

/** Lower case, accents and Teams markup dropped, whitespace folded; for matching only. */
function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase();
}

function clean(text: string): string {
  // Bounded tag bodies: an unclosed "<" repeated thousands of times must not be rescanned each time.
  return text.replace(/<at>[^<]{0,256}<\/at>/gi, ' ').replace(/<[^<>]{1,256}>/g, ' ').replace(/&nbsp;/g, ' ').trim();
}

const selfPhrases: { language: Language; pattern: RegExp }[] = [
  { language: 'en', pattern: /^(?:diagnose (?:me|my (?:mailbox|account|smtp(?: auth)?))|what(?:'|’)?s my smtp(?: auth)? status|what is my smtp(?: auth)? status|(?:check )?my smtp(?: auth)? status|check my smtp(?: auth)?|why can(?:'|’)?t i send(?: mail| email)?)$/ },
  { language: 'es', pattern: /^(?:diagnosticame|diagnostica(?:r)? mi (?:buzon|cuenta|smtp)|(?:cual es )?mi estado (?:de )?smtp|(?:revisa|comprueba) mi smtp|por que no puedo enviar(?: correo)?)$/ },
  { language: 'pt', pattern: /^(?:diagnostica-me|diagnosticar-me|diagnostique-me|diagnosticar a minha caixa|(?:qual (?:e|eh) )?o? ?meu status (?:do )?smtp|(?:verificar|verifica) o meu smtp|porque nao consigo enviar(?: email| e-mail)?)$/ },
  { language: 'zh-CN', pattern: /^(?:诊断我(?:的邮箱)?|我的 ?smtp(?: ?auth)? ?状态(?:怎么样|如何|是什么)?|检查我的 ?smtp|为什么我发不了邮件)$/ },
  { language: 'ro', pattern: /^(?:diagnosticheaza-ma|diagnosticheaza-mi (?:cutia|contul)|(?:care (?:e|este) )?starea mea smtp|(?:verifica|verificati) smtp-ul meu|de ce nu pot trimite(?: e-mail| mail)?)$/ },
];

type Kind = DiagnosisIntent['kind'];

/**
 * Each way of writing a verb (folded) and every language it is a word of, the likeliest first:
 * "diagnosticar" and "resolver" are Spanish and Portuguese alike, "repara" Romanian, Spanish and
 * Portuguese, so the verb alone does not tell the language; the words around it may.
 */
const verbs: Record<Kind, Record<string, Language[]>> = {
  diagnose: { diagnose: ['en'], diagnostica: ['es', 'pt', 'ro'], diagnosticar: ['es', 'pt'], diagnosticheaza: ['ro'] },
  fix: {
    fix: ['en'], arregla: ['es'], arreglar: ['es'], soluciona: ['es', 'pt'], solucionar: ['es', 'pt'],
    corrige: ['pt', 'es'], corrigir: ['pt'], corrija: ['pt', 'es'], resolve: ['pt', 'en'], resolver: ['pt', 'es'],
    repara: ['ro', 'es', 'pt'], reparati: ['ro'], rezolva: ['ro'],
  },
};

/** The word between the verb and its object, per language: "diagnostica a bob", "diagnosticar o bob", "diagnostichează pe bob", "arregla el 5.7.57". */
const articles: Record<Kind, Partial<Record<Language, string[]>>> = {
  diagnose: { es: ['a'], pt: ['o', 'a'], ro: ['pe'] },
  fix: { en: ['the'], es: ['el', 'la', 'a'], pt: ['o', 'a'] },
};

const selfWords = new Set(['me', 'myself', 'mi', 'yo', 'eu', 'mim', 'mine', 'ma', 'eu insumi', '我', '我自己']);

const romanianLetters = /[ăâîșşțţ]/iu;

const chineseVerbs = /^(诊断|修复)\s*/u;

/** The word before a user named at the end, and the languages that say it so. */
const userPrepositions: Record<string, Language[]> = {
  for: ['en'], of: ['en'], de: ['es', 'pt'], para: ['es', 'pt'], 'para o': ['pt'], 'para a': ['pt'], do: ['pt'], da: ['pt'], pentru: ['ro'], lui: ['ro'], 'al lui': ['ro'], al: ['ro'],
};

/** "… for bob", "… de bob", "… do bob", "… pentru bob", "… para o bob": the user at the end (after its punctuation is gone). */
const trailingUser = /(?:^|\s)(for|of|para(?:\s+(?:o|a))?|de|do|da|pentru|(?:al\s+)?lui|al)\s+["“”‘«„]?([\p{L}\p{N}@_'’-][\p{L}\p{N}@._'’-]*(?:\s[\p{L}\p{N}@_'’-][\p{L}\p{N}@._'’-]*){0,2})$/iu;

/**
 * How Exchange Online's own sentences end after "for"/"para"/"pentru" ("Visit https://aka.ms/smtp_auth_disabled
 * for more information.", "…is not supported for Client Submission.", "…is disabled for the Mailbox."), in the
 * languages it answers in: the end of a pasted bounce, not a user (matched on folded text).
 */
const bounceEnding = /^(?:(?:obtener|obter|obtine|obtineti)\s+)?(?:(?:more|further|mas|mais|mai multe)\s+)?(?:information|info|informacion|informaciones|informacao|informacoes|informatii)(?:\s+suplimentare)?$|^(?:the\s+)?(?:client submission|mailbox|tenant)$/u;

/** What ends a sentence or closes a quote after a name: dropped ("Fix 5.7.57 for bob.", "诊断 “bob”。"). */
const closingPunctuation = new Set([...'.!?。！？"\'“”‘’«»„「」『』']);
const openingQuotes = /^["'“”‘’«„「『]+/u;

const closingOrComma = new Set([...closingPunctuation, ',', '，']);

/** Text without the given punctuation and spaces at its end; a loop from the end, so a long run of dots costs one pass. */
function trimEnd(text: string, punctuation: Set<string> = closingPunctuation): string {
  let end = text.length;
  while (end > 0 && (punctuation.has(text[end - 1]!) || /\s/u.test(text[end - 1]!))) end--;
  return text.slice(0, end);
}

/** The languages both allow, or the first ones when a cue does not fit them (a Portuguese verb with "for bob"). */
function narrow(candidates: Language[], cue: Language[] | undefined): Language[] {
  const both = cue ? candidates.filter((language) => cue.includes(language)) : [];
  return both.length ? both : candidates;
}

/**
 * The language to answer a request in: the one its words tell, else the reader's Teams locale when the
 * words allow it ("diagnosticar a maria" is Spanish and Portuguese alike), else the likeliest.
 */
export function intentLanguage(intent: DiagnosisIntent, locale: Language | undefined): Language {
  return locale && intent.languages?.includes(locale) ? locale : intent.language;
}

/** A diagnose or fix request with a pasted NDR fits well within this; the rest of a huge paste is not read. */
export const intentInputMaxLength = 16_000;

export function parseDiagnosisIntent(input: string): DiagnosisIntent | undefined {
  if (typeof input !== 'string') return undefined;
  const original = clean(input.length > intentInputMaxLength ? input.slice(0, intentInputMaxLength) : input);
  const firstLine = trimEnd(fold(original.replace(/^[¿¡\s]+/u, '').split('\n', 1)[0] ?? '').replace(/[\s\u3000]+/g, ' '), closingOrComma).trim();
  for (const { language, pattern } of selfPhrases) if (pattern.test(firstLine)) return { kind: 'diagnose', self: true, language, languages: [language] };

  const folded = fold(original);
  const chinese = chineseVerbs.exec(folded);
  if (chinese) {
    const rest = original.slice(originalOffset(original, folded, chinese[0].length)).trim();
    return { kind: chinese[1] === '修复' ? 'fix' : 'diagnose', language: 'zh-CN', languages: ['zh-CN'], ...chineseTarget(rest) };
  }
  const verb = /^(\S+)\s+/u.exec(folded);
  const kind = verb ? (['diagnose', 'fix'] as const).find((k) => Object.hasOwn(verbs[k], verb[1]!)) : undefined;
  if (!verb || !kind) return undefined;
  let cut = verb[0].length;
  // "repară" is Romanian only, "repara" Spanish and Portuguese too.
  let candidates = narrow(verbs[kind][verb[1]!]!, romanianLetters.test(original.slice(0, originalOffset(original, folded, cut))) ? ['ro'] : undefined);
  // "diagnosticar o bob" is Portuguese, "diagnosticar a bob" Spanish or Portuguese, "diagnostica pe bob" Romanian.
  const article = /^(\S+)\s+/u.exec(folded.slice(cut));
  const saying = article ? candidates.filter((language) => articles[kind][language]?.includes(article[1]!)) : [];
  if (article && saying.length) {
    candidates = saying;
    cut += article[0].length;
  }
  // Folding keeps lengths for the scripts we read here except decomposed accents; cut the original by words.
  const rest = original.slice(originalOffset(original, folded, cut)).trim();
  const target = splitTarget(rest);
  candidates = narrow(candidates, target.preposition);
  return { kind, language: candidates[0]!, languages: candidates, ...target.intent };
}

function originalOffset(original: string, folded: string, foldedOffset: number): number {
  if (original.length === folded.length) return foldedOffset;
  // Walk the original until its folded prefix is as long as the folded offset.
  let length = 0;
  for (let i = 0; i < original.length; i++) {
    if (length >= foldedOffset) return i;
    length += fold(original[i]!).length;
  }
  return original.length;
}

type Target = Pick<DiagnosisIntent, 'self' | 'user' | 'pasted'>;

/** "修复 bob 的 5.7.57", "诊断 bob 的 <pasted>", "诊断 bob", "诊断 <pasted>". */
function chineseTarget(rest: string): Target {
  if (!rest) return { self: true };
  const possessive = /^(.+?)\s*的\s*([\s\S]*)$/u.exec(rest);
  const who = (possessive ? possessive[1]! : rest).trim();
  const pasted = possessive?.[2]?.trim();
  // A bounce before "的" is the paste itself ("535 5.7.139 …邮箱的 SmtpClientAuthentication 已禁用"), not whose it is.
  if ((!possessive || parseBounce(who)) && parseBounce(rest)) return { self: true, pasted: rest };
  return withUser(who, pasted || undefined);
}

/** Who and what after the verb: "5.7.57 for bob", "<pasted NDR> for bob", "bob", "<pasted NDR>"; and the languages of the word before a user at the end. */
function splitTarget(rest: string): { intent: Target; preposition?: Language[] } {
  if (!rest) return { intent: { self: true } };
  const lastLine = rest.slice(rest.lastIndexOf('\n') + 1);
  const tail = trailingUser.exec(trimEnd(lastLine));
  if (tail) {
    const user = tail[2]!.trim();
    const before = rest.slice(0, rest.length - lastLine.length + tail.index).trim();
    // A user at the end only when what comes before is a bounce, and not when the words are the bounce's own ("for more information.").
    if (before && parseBounce(before) && !bounceEnding.test(fold(user))) {
      return { intent: withUser(user, before), preposition: userPrepositions[tail[1]!.toLowerCase().replace(/\s+/gu, ' ')] };
    }
  }
  if (parseBounce(rest)) return { intent: { self: true, pasted: rest } };
  return { intent: withUser(rest, undefined) };
}

function withUser(who: string, pasted: string | undefined): Target {
  const cleaned = trimEnd(who).replace(openingQuotes, '').trim();
  if (selfWords.has(fold(cleaned))) return { self: true, ...(pasted ? { pasted } : {}) };
  return { self: false, user: cleaned, ...(pasted ? { pasted } : {}) };
}
