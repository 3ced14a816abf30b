/**
 * Text as PostgreSQL and JSON can hold it (issue #13, hole 2): a NUL byte cannot be stored in `text`
 * or `jsonb`, and a lone UTF-16 surrogate is not valid JSON for `jsonb`. Both come from clients as
 * `\u0000` / `\ud800` escapes. Cleaned once at the edge, every later step can store what it got.
 */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function cleanText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u0000/g, '').replace(loneSurrogate, '\uFFFD');
}

/** At most `max` UTF-16 units, never cutting a surrogate pair in half. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/** Deeper than this, an activity is not something Teams sends: refused rather than walked. */
export const maxJsonDepth = 32;

export class TooDeepError extends Error {
  constructor() {
    super(`nested deeper than ${maxJsonDepth} levels`);
    this.name = 'TooDeepError';
  }
}

/** Every string (keys too) of parsed JSON through cleanText; throws TooDeepError past maxJsonDepth. */
export function cleanJson(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= maxJsonDepth) throw new TooDeepError();
  if (Array.isArray(value)) return value.map((v) => cleanJson(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[cleanText(k)] = cleanJson(v, depth + 1);
  return out;
}
