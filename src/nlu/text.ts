/**
 * Text handling shared by the parser: folding (case and accents), cleaning what Teams adds, and
 * tokens that remember where they came from so captures are cut from the text as written.
 * Everything here is one pass over the input.
 */

const cjkChar = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/u;
export const hasCjk = (text: string) => cjkChar.test(text);

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
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    // ASCII needs no normalization: most of what people type, and cheap on long text.
    out += code < 0x80 ? (code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : ch) : ch === '’' ? "'" : foldChar(ch);
  }
  return out;
}

export interface Token {
  /** Folded surface ("seán" → "sean"). */
  text: string;
  /** Span in the original text. */
  start: number;
  end: number;
  cjk: boolean;
}

const wordChar = /[\p{L}\p{M}\p{N}]/u;
const innerChar = /[\p{L}\p{M}\p{N}'._@+\-]/u;

/**
 * Words (letters and digits, with inner apostrophes, dots, @, + and hyphens so "O'Brien",
 * "josé.núñez@contoso.com" and "approvals-here" stay whole) and single CJK characters, which
 * Chinese writes without spaces. `folded` must be `fold(original)`.
 */
export function tokenize(folded: string, limit = 400): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < folded.length && tokens.length < limit) {
    const ch = folded[i]!;
    if (cjkChar.test(ch)) {
      tokens.push({ text: ch, start: i, end: i + 1, cjk: true });
      i++;
      continue;
    }
    if (!wordChar.test(ch)) { i++; continue; }
    let j = i + 1;
    while (j < folded.length && !cjkChar.test(folded[j]!) && innerChar.test(folded[j]!)) j++;
    // A word ends on a letter or digit: "bob." and "O'Brien'" lose the punctuation.
    let end = j;
    while (end > i + 1 && !wordChar.test(folded[end - 1]!)) end--;
    tokens.push({ text: folded.slice(i, end), start: i, end, cjk: false });
    i = j;
  }
  return tokens;
}

/** Damerau–Levenshtein (optimal string alignment), stopping early above `max`; three rolling rows. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, before[j - 2]! + 1);
      current[j] = v;
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length]!;
}
