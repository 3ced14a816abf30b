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

const diagnoseVerbs: { language: Language; pattern: RegExp }[] = [
  { language: 'en', pattern: /^diagnose\s+/ },
  { language: 'es', pattern: /^diagnostica(?:r)?\s+(?:a\s+)?/ },
  { language: 'pt', pattern: /^diagnosticar?\s+(?:o\s+|a\s+)?/ },
  { language: 'ro', pattern: /^diagnosticheaza\s+(?:pe\s+)?/ },
  { language: 'zh-CN', pattern: /^诊断\s*/ },
];

const fixVerbs: { language: Language; pattern: RegExp }[] = [
  { language: 'en', pattern: /^fix\s+(?:the\s+)?/ },
  { language: 'es', pattern: /^(?:arregla|arreglar|soluciona|solucionar)\s+(?:el\s+|la\s+)?/ },
  { language: 'pt', pattern: /^(?:corrige|corrigir|corrija|resolve|resolver)\s+(?:o\s+|a\s+)?/ },
  { language: 'ro', pattern: /^(?:repara|reparati|rezolva)\s+/ },
  { language: 'zh-CN', pattern: /^修复\s*/ },
];

const selfWords = new Set(['me', 'myself', 'mi', 'yo', 'eu', 'mim', 'mine', 'ma', 'eu insumi', '我', '我自己']);

/** "… for bob", "… de bob", "… do bob", "… pentru bob", "… para o bob": the user at the end. */
const trailingUser = /(?:^|\s)(?:for|of|para(?:\s+(?:o|a))?|de|do|da|pentru|lui|al)\s+([\p{L}\p{N}@_'’-][\p{L}\p{N}@._'’-]*(?:\s[\p{L}\p{N}@_'’-][\p{L}\p{N}@._'’-]*){0,2})\s*[?!.]?$/u;

/** A diagnose or fix request with a pasted NDR fits well within this; the rest of a huge paste is not read. */
export const intentInputMaxLength = 16_000;

export function parseDiagnosisIntent(input: string): DiagnosisIntent | undefined {
  if (typeof input !== 'string') return undefined;
  const original = clean(input.length > intentInputMaxLength ? input.slice(0, intentInputMaxLength) : input);
  const firstLine = fold(original.replace(/^[¿¡\s]+/u, "").split('\n', 1)[0] ?? '').replace(/[\s\u3000]+/g, ' ').replace(/[\s?!.。！？,，]+$/u, '').trim();
  for (const { language, pattern } of selfPhrases) if (pattern.test(firstLine)) return { kind: 'diagnose', self: true, language };

  const folded = fold(original);
  for (const [kind, table] of [['diagnose', diagnoseVerbs], ['fix', fixVerbs]] as const) {
    for (const { language, pattern } of table) {
      const verb = pattern.exec(folded);
      if (!verb) continue;
      // Folding keeps lengths for the scripts we read here except decomposed accents; cut the original by words.
      const rest = original.slice(originalOffset(original, folded, verb[0].length)).trim();
      return { kind, language, ...splitTarget(rest, language) };
    }
  }
  return undefined;
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

function splitTarget(rest: string, language: Language): Pick<DiagnosisIntent, 'self' | 'user' | 'pasted'> {
  if (!rest) return { self: true };
  if (language === 'zh-CN') {
    // "修复 bob 的 5.7.57", "诊断 bob 的 <pasted>", "诊断 bob"
    const possessive = /^(.+?)\s*的\s*([\s\S]*)$/u.exec(rest);
    const who = (possessive ? possessive[1]! : rest).trim();
    const pasted = possessive?.[2]?.trim();
    if (!possessive && parseBounce(rest)) return { self: true, pasted: rest };
    return withUser(who, pasted || undefined);
  }
  const lastLine = rest.slice(rest.lastIndexOf('\n') + 1);
  const tail = trailingUser.exec(lastLine);
  if (tail) {
    const user = tail[1]!.trim();
    const before = rest.slice(0, rest.length - lastLine.length + tail.index).trim();
    // "for more information." ends a sentence, not a name: a user at the end only when what comes before is a bounce.
    if (before && parseBounce(before) && !/[.]$/.test(user)) return withUser(user, before);
  }
  if (parseBounce(rest)) return { self: true, pasted: rest };
  return withUser(rest, undefined);
}

function withUser(who: string, pasted: string | undefined): Pick<DiagnosisIntent, 'self' | 'user' | 'pasted'> {
  const cleaned = who.replace(/[?!.。！？]+$/u, '').trim();
  if (selfWords.has(fold(cleaned))) return { self: true, ...(pasted ? { pasted } : {}) };
  return { self: false, user: cleaned, ...(pasted ? { pasted } : {}) };
}
