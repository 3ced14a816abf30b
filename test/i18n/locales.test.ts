import { loadLocale, type Language } from '../../src/i18n';

const translated = ['es', 'pt', 'zh-CN', 'ro'] as const;
type Translated = (typeof translated)[number];

/** Values that are the same as English on purpose. Keep these lists short. */
const untranslatable = new Set(['SMTP Gate']);
/** Words that are genuinely identical in a language; "Status" is the term Microsoft's pt-BR UI uses. */
const sameAsEnglish: Partial<Record<Translated, ReadonlySet<string>>> = { pt: new Set(['Status']) };

/** Microsoft identifiers, product names and emoji that must survive translation verbatim. */
const protectedTokens = [
  'SmtpClientAuthenticationDisabled',
  '$true',
  '$false',
  '$null',
  'SMTP AUTH',
  'Exchange Online',
  'Microsoft 365',
  'docs/permissions.md',
  'SMTP Gate',
  '✅',
  '⛔',
];

function load(language: Language): Record<string, unknown> {
  return loadLocale(language);
}

/** Flattens a locale into dotted key → leaf value (leaves are kept as-is so non-strings can be reported). */
function flatten(tree: Record<string, unknown>, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(tree)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of flatten(value as Record<string, unknown>, `${prefix}${key}.`)) out.set(k, v);
    } else {
      out.set(`${prefix}${key}`, value);
    }
  }
  return out;
}

function placeholders(value: string): string[] {
  return [...new Set([...value.matchAll(/\{\{\s*([^{}]+?)\s*\}\}/g)].map((m) => m[1]!))].sort();
}

const hasLetters = (value: string) => /\p{L}/u.test(value);

/** i18next plural keys (`days_one`, `days_few`, …) differ by language; they share a base key. */
const pluralSuffix = /_(zero|one|two|few|many|other)$/;
const baseKey = (key: string) => key.replace(pluralSuffix, '');
const pluralBases = (map: Map<string, unknown>) => new Set([...map.keys()].filter((k) => pluralSuffix.test(k)).map(baseKey));

const english = flatten(load('en'));
const locales = Object.fromEntries(translated.map((lng) => [lng, flatten(load(lng))])) as Record<Translated, Map<string, unknown>>;

describe('locales', () => {
  it('English has keys and only non-empty string values', () => {
    expect(english.size).toBeGreaterThan(0);
    const bad = [...english].filter(([, v]) => typeof v !== 'string' || v.trim() === '').map(([k]) => k);
    expect(bad).toEqual([]);
  });

  describe.each(translated)('%s', (lng) => {
    const locale = locales[lng];

    it('has exactly the same keys as English, with the plural forms its language needs', () => {
      const englishBases = new Set([...english.keys()].map(baseKey));
      const localeBases = new Set([...locale.keys()].map(baseKey));
      const missing = [...englishBases].filter((k) => !localeBases.has(k));
      const extra = [...localeBases].filter((k) => !englishBases.has(k));
      const categories = new Intl.PluralRules(lng).resolvedOptions().pluralCategories;
      const wrongPlurals = [...pluralBases(english)].filter((base) => {
        const forms = [...locale.keys()].filter((k) => baseKey(k) === base && k !== base).map((k) => k.slice(base.length + 1)).sort();
        return forms.join('|') !== [...categories].sort().join('|');
      });
      expect({ language: lng, missing, extra, wrongPlurals }).toEqual({ language: lng, missing: [], extra: [], wrongPlurals: [] });
    });

    it('has a non-empty string for every key', () => {
      const bad = [...locale].filter(([, v]) => typeof v !== 'string' || v.trim() === '').map(([k]) => k);
      expect(bad).toEqual([]);
    });

    it('uses the same {{placeholders}} as English in every string', () => {
      const mismatches: Record<string, { en: string[]; [lng: string]: string[] }> = {};
      for (const [key, value] of locale) {
        const en = english.get(key) ?? english.get(`${baseKey(key)}_other`);
        if (typeof en !== 'string' || typeof value !== 'string') continue;
        const expected = placeholders(en);
        const actual = placeholders(value);
        if (expected.join('|') !== actual.join('|')) mismatches[key] = { en: expected, [lng]: actual };
      }
      expect(mismatches).toEqual({});
    });

    it('translates every string that has words in it', () => {
      const untranslated = [...english]
        .filter(([key, en]) => typeof en === 'string' && locale.get(key) === en && hasLetters(en) && !untranslatable.has(en) && !sameAsEnglish[lng]?.has(en))
        .map(([key]) => key);
      expect(untranslated).toEqual([]);
    });

    it('keeps Microsoft identifiers and emoji verbatim', () => {
      const lost: Record<string, string[]> = {};
      for (const [key, en] of english) {
        const value = locale.get(key);
        if (typeof en !== 'string' || typeof value !== 'string') continue;
        const missing = protectedTokens.filter((token) => en.includes(token) && !value.includes(token));
        if (missing.length) lost[key] = missing;
      }
      expect(lost).toEqual({});
    });
  });

  it('Romanian uses comma-below ș/ț, not cedilla ş/ţ', () => {
    const cedilla = [...locales.ro].filter(([, v]) => typeof v === 'string' && /[şţŞŢ]/.test(v)).map(([k]) => k);
    expect(cedilla).toEqual([]);
  });
});
