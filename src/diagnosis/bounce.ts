/**
 * Finds the SMTP reply inside whatever a person pasted (the finding codes "from the bounce text"): an Outlook NDR ("Remote Server returned '…'"), a device or log line, an exception from
 * smtplib, System.Net.Mail, Send-MailMessage, nodemailer, PHPMailer, MailKit or Java Mail, or a
 * bare mention ("I got a 5.7.57"), with the person's words around it in any of our languages.
 *
 * Exchange Online translates its reply text into the mailbox's or tenant's language, but the
 * enhanced status code (RFC 3463 `class.subject.detail`) always stays: the parser keys on the code
 * and classifies the variant of `5.7.139` from the words that follow it, in each language; when it
 * cannot, the code alone decides (`AUTH_UNSUCCESSFUL`) and the tenant's state narrows it later.
 *
 * Linear in the input: the text is capped, each code is looked at within a bounded window, and
 * no regular expression here can backtrack over more than that window.
 */

/** Finding codes read from a bounce; they never change meaning (cards show them as "Ref: CODE"). */
export type BounceCode =
  | 'CLIENT_NOT_AUTHENTICATED'
  | 'SMTP_AUTH_DISABLED_TENANT'
  | 'SMTP_AUTH_DISABLED_MAILBOX'
  | 'SECURITY_DEFAULTS_BLOCK'
  | 'MFA_OR_CA_BLOCK'
  | 'BASIC_AUTH_DISABLED'
  | 'BAD_CREDENTIALS'
  | 'ACCOUNT_LOCKED'
  | 'BASIC_AUTH_NOT_SUPPORTED_SUBMISSION'
  | 'SEND_AS_DENIED'
  | 'IP_BLOCKED'
  | 'AUTH_UNSUCCESSFUL'
  | 'NOT_SMTP_AUTH';

export interface BounceFinding {
  code: BounceCode;
  /** The enhanced status code as written ("5.7.139"), or null when only the wording was recognised. */
  enhancedStatus: string | null;
  /** The three-digit reply code before it ("535"), when there is one. */
  replyCode: string | null;
  /** The recognised line, to show back to the person (trimmed, at most `lineMaxLength` characters). */
  line: string;
  /** Every other code found in the text, most specific first (the winner is not repeated). */
  others: BounceCode[];
}

/** Teams caps a message near 28 KB; anything past this is not where a reply hides in practice. */
export const bounceInputMaxLength = 12_000;
export const lineMaxLength = 300;
/** How many status codes are looked at, so a pasted log of thousands of lines stays fast. */
const maxCodes = 64;
/** How far after a code its reply text is read to tell the 5.7.139 variants apart. */
const variantWindow = 320;

/** Most specific first: the highest rank in the text wins (`5.7.139 … for the Mailbox` over `5.7.57`). */
const specificity: Record<BounceCode, number> = {
  SMTP_AUTH_DISABLED_MAILBOX: 100,
  SMTP_AUTH_DISABLED_TENANT: 100,
  SECURITY_DEFAULTS_BLOCK: 100,
  MFA_OR_CA_BLOCK: 100,
  BASIC_AUTH_DISABLED: 100,
  ACCOUNT_LOCKED: 100,
  BAD_CREDENTIALS: 95,
  BASIC_AUTH_NOT_SUPPORTED_SUBMISSION: 90,
  SEND_AS_DENIED: 80,
  AUTH_UNSUCCESSFUL: 60,
  IP_BLOCKED: 50,
  CLIENT_NOT_AUTHENTICATED: 40,
  NOT_SMTP_AUTH: 10,
};

/** Lower case, accents dropped ("autenticação" → "autenticacao", "ș" → "s"), so keywords match once. */
function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase();
}

/**
 * The variants of `535 5.7.139 Authentication unsuccessful, …` and what each says in English and
 * in Exchange's Spanish, Portuguese, Chinese and Romanian wordings (matched on folded text).
 * Order matters: "the user is locked by your organization's security defaults policy" names
 * security defaults, not a lockout.
 */
const variants: { code: BounceCode; words: RegExp; needsDisabledWord?: true }[] = [
  {
    code: 'SECURITY_DEFAULTS_BLOCK',
    words: /security defaults|(?:valores|configuraciones?|opciones) (?:predeterminad[ao]s )?de seguridad(?: predeterminad[ao]s)?|padroes de seguranca|configuracoes (?:padrao|predefinidas) de seguranca|seguranca padrao|安全默认|(?:valorile|setarile|parametrii) implicit[ei] (?:de|ale) securitat|implicite de securitate/,
  },
  {
    code: 'SMTP_AUTH_DISABLED_TENANT',
    words: /\btenant\b|inquilino|locatario|organizacao inteira|租户|entitat(?:ea|e) gazduit|chirias/,
    needsDisabledWord: true,
  },
  {
    code: 'SMTP_AUTH_DISABLED_MAILBOX',
    words: /mailbox|buzon|caixa de correio|caixa postal|邮箱|cutia postala|cutiei postale|casuta postala/,
    needsDisabledWord: true,
  },
  {
    code: 'MFA_OR_CA_BLOCK',
    words: /criteria|criterios|条件|criteriile|criteriilor/,
  },
  {
    code: 'BASIC_AUTH_DISABLED',
    words: /basic auth|autenticacion basica|autenticacao basica|基本身份验证|基本验证|autentificarea de baza|autentificare de baza|autentificarea basic/,
  },
  {
    code: 'BAD_CREDENTIALS',
    words: /credentials|credenciales|credenciais|凭据|凭证|用户名或密码|acreditari|credentialele|datele de autentificare|password (?:is|was) incorrect/,
  },
  {
    code: 'ACCOUNT_LOCKED',
    words: /\blocked\b|too many (?:failed|unsuccessful)|cuenta (?:esta )?bloqueada|demasiados intentos|conta (?:esta )?bloqueada|muitas tentativas|已锁定|被锁定|次数过多|cont(?:ul)? (?:este )?blocat|prea multe incercari/,
  },
];

/** "disabled" in the languages Exchange answers in, or the setting's own name. */
const disabledWord = /smtpclientauthentication|disabled|deshabilitad|desactivad|desabilitad|desativad|禁用|dezactivat/;

/** Wordings recognised without a code (a retyped screenshot, a client that drops the code). */
const wordingsWithoutCode: { code: BounceCode; words: RegExp }[] = [
  { code: 'SMTP_AUTH_DISABLED_MAILBOX', words: /smtpclientauthentication is disabled for the mailbox/ },
  { code: 'SMTP_AUTH_DISABLED_TENANT', words: /smtpclientauthentication is disabled for the tenant/ },
  { code: 'SECURITY_DEFAULTS_BLOCK', words: /locked by your organization'?s security defaults/ },
  { code: 'BASIC_AUTH_NOT_SUPPORTED_SUBMISSION', words: /basic authentication is not supported for client submission/ },
  { code: 'SEND_AS_DENIED', words: /does not have permissions to send as this sender/ },
  {
    code: 'CLIENT_NOT_AUTHENTICATED',
    words: /client (?:was )?not authenticated|requires a secure connection or the client was not authenticated|el cliente no se autentico|o cliente nao foi autenticado|客户端未通过身份验证|clientul nu (?:este|a fost) autentificat/,
  },
];

/**
 * An enhanced status code not glued to other digits or dots (so "10.5.7.139" or "v2.5.7.1" is not
 * one), optionally with its reply code in front: "535 5.7.139", "535: 5.7.139", "535-5.7.139",
 * "(535, b'5.7.139", "530 SMTP; 5.7.57". Every quantifier is bounded.
 */
const statusCode = /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)/g;
const replyCodeBefore = /\b([245]\d\d)\b[\s:,;'"(\-=bSMTP]{0,12}$/;

interface Candidate {
  code: BounceCode;
  enhancedStatus: string | null;
  replyCode: string | null;
  index: number;
}

/** The SMTP reply in pasted text, or undefined when there is none. Never throws. */
export function parseBounce(input: string): BounceFinding | undefined {
  if (typeof input !== 'string' || input.length === 0) return undefined;
  const text = input.length > bounceInputMaxLength ? input.slice(0, bounceInputMaxLength) : input;
  const candidates: Candidate[] = [];
  const positions: { index: number; end: number; enhanced: string }[] = [];
  statusCode.lastIndex = 0;
  for (let m = statusCode.exec(text); m && positions.length < maxCodes; m = statusCode.exec(text)) {
    positions.push({ index: m.index, end: m.index + m[0].length, enhanced: m[0] });
  }
  for (let i = 0; i < positions.length; i++) {
    const { index, end, enhanced } = positions[i]!;
    // A reply's words run until the next code (an NDR chains "5.7.57 … Error: 535 5.7.139 …").
    const windowEnd = Math.min(text.length, end + variantWindow, positions[i + 1]?.index ?? Infinity);
    const after = fold(text.slice(end, windowEnd));
    const before = text.slice(Math.max(0, index - 16), index);
    const reply = replyCodeBefore.exec(before)?.[1] ?? null;
    candidates.push({ code: classify(enhanced, after), enhancedStatus: enhanced, replyCode: reply, index });
  }
  if (candidates.length === 0) {
    const folded = fold(text);
    for (const wording of wordingsWithoutCode) {
      const match = wording.words.exec(folded);
      // Folding may change lengths slightly (decomposed accents); the line is found on the original.
      if (match) candidates.push({ code: wording.code, enhancedStatus: null, replyCode: null, index: approximateIndex(text, folded, match.index) });
    }
  }
  if (candidates.length === 0) return undefined;
  let best = candidates[0]!;
  for (const candidate of candidates) if (specificity[candidate.code] > specificity[best.code]) best = candidate;
  const others = [...new Set(candidates.filter((c) => c !== best).sort((a, b) => specificity[b.code] - specificity[a.code]).map((c) => c.code))]
    .filter((code) => code !== best.code);
  return { code: best.code, enhancedStatus: best.enhancedStatus, replyCode: best.replyCode, line: lineAround(text, best.index), others };
}

/** What one enhanced status code means, from the code and the words after it. */
function classify(enhanced: string, after: string): BounceCode {
  switch (enhanced) {
    case '5.7.57': return 'CLIENT_NOT_AUTHENTICATED';
    case '5.7.30': return 'BASIC_AUTH_NOT_SUPPORTED_SUBMISSION';
    case '5.7.60': return 'SEND_AS_DENIED';
    case '5.7.708': return 'IP_BLOCKED';
    case '5.7.3': return /locked|too many|bloquead|锁定|blocat/.test(after) ? 'ACCOUNT_LOCKED' : 'BAD_CREDENTIALS';
    case '5.7.139': {
      for (const variant of variants) {
        if (variant.words.test(after) && (!variant.needsDisabledWord || disabledWord.test(after))) return variant.code;
      }
      return 'AUTH_UNSUCCESSFUL';
    }
    default:
      // Older Exchange answered a Send As refusal with 5.7.1; the words say which one it is.
      if (enhanced === '5.7.1' && /permissions? to send as|send as this sender|enviar como|trimite ca|代表|发送为/.test(after)) return 'SEND_AS_DENIED';
      return 'NOT_SMTP_AUTH';
  }
}

/** Where a folded-text offset falls in the original (folding only ever shortens the text). */
function approximateIndex(original: string, folded: string, foldedIndex: number): number {
  if (original.length === folded.length) return foldedIndex;
  return Math.min(original.length - 1, Math.round(foldedIndex * (original.length / Math.max(1, folded.length))));
}

/** The line holding the code, trimmed; a very long line is cut around the code. */
function lineAround(text: string, index: number): string {
  const start = text.lastIndexOf('\n', index) + 1;
  const newline = text.indexOf('\n', index);
  const end = newline === -1 ? text.length : newline;
  let line = text.slice(start, end).replace(/\s+/g, ' ').trim();
  if (line.length > lineMaxLength) {
    // Keep the line's start (the "Remote Server returned" part) when the code is near enough to it.
    const from = index - start <= lineMaxLength - 160 ? start : Math.max(start, index - 80);
    const cut = text.slice(from, Math.min(end, from + lineMaxLength - 2)).replace(/\s+/g, ' ').trim();
    line = `${from > start ? '…' : ''}${cut}…`;
  }
  return line;
}
