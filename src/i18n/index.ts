import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import i18next, { type i18n } from 'i18next';

export const languages = ['en', 'es', 'pt', 'zh-CN', 'ro'] as const;
export type Language = (typeof languages)[number];

export type Translate = ((key: string, params?: Record<string, string | number>) => string) & {
  /** The language this translator writes, for formatting dates and numbers to match (Intl). */
  readonly language?: Language;
};

const localesDir = join(__dirname, '..', '..', 'locales');

/**
 * One language's strings: `locales/<lng>.json` plus every `locales/<lng>/<area>.json`, so each area
 * of the bot keeps its strings in a file of its own. A key defined twice is a mistake, not an override.
 */
export function loadLocale(language: Language): Record<string, unknown> {
  const files = [join(localesDir, `${language}.json`)];
  const dir = join(localesDir, language);
  if (existsSync(dir)) files.push(...readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, f)));
  const merged: Record<string, unknown> = {};
  for (const file of files) mergeInto(merged, JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>, file, '');
  return merged;
}

function isTree(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>, file: string, prefix: string): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (existing === undefined) {
      if (isTree(value)) {
        const tree: Record<string, unknown> = {};
        mergeInto(tree, value, file, `${prefix}${key}.`);
        target[key] = tree;
      } else {
        target[key] = value;
      }
    } else if (isTree(existing) && isTree(value)) {
      mergeInto(existing, value, file, `${prefix}${key}.`);
    } else {
      throw new Error(`locale key ${prefix}${key} is defined twice (again in ${file})`);
    }
  }
}

function loadResources(): Record<Language, Record<string, unknown>> {
  return Object.fromEntries(languages.map((lng) => [lng, loadLocale(lng)])) as Record<Language, Record<string, unknown>>;
}

let instance: i18n | undefined;

function getInstance(): i18n {
  if (!instance) {
    instance = i18next.createInstance();
    void instance.init({
      resources: Object.fromEntries(Object.entries(loadResources()).map(([lng, translation]) => [lng, { translation }])),
      fallbackLng: 'en',
      supportedLngs: [...languages],
      initAsync: false,
      interpolation: { escapeValue: false },
      returnNull: false,
      showSupportNotice: false,
    });
  }
  return instance;
}

/**
 * Chinese sets numbers against the characters around them ("过去7天内有3次"), whatever a string's
 * author typed: a space between a Chinese character (or full-width punctuation) and a number goes.
 * Latin words keep theirs ("Microsoft 365 未…", "SMTP AUTH").
 */
export function noSpacesAroundNumbers(text: string): string {
  return text.replace(/(^|[\u3400-\u9fff（，；：、。])[ \u00a0]*(\d[\d.,]*)(?:[ \u00a0]+(?=[\u3400-\u9fff]))?/gu, '$1$2')
    .replace(/([\u3400-\u9fff（，；：、。])[ \u00a0]+(?=\d)/gu, '$1');
}

const translators = new Map<Language, Translate>();

/** Parameter names i18next reads as options of the lookup (plural forms, context, …), not as values. */
const i18nextOptions = new Set(['count', 'context', 'ordinal', 'defaultValue', 'lng', 'lngs', 'fallbackLng', 'ns', 'keySeparator', 'nsSeparator',
  'returnObjects', 'returnDetails', 'joinArrays', 'postProcess', 'interpolation', 'skipInterpolation', 'replace']);
const placeholder = /\{\{(\w+)\}\}/g;

/**
 * A string of this language whose only markup is `{{name}}` placeholders (no nesting, formats or
 * plural forms): filled in directly, as i18next would with escaping off. Anything else: undefined.
 */
function simpleTemplate(language: Language, key: string): string | undefined {
  const value = getInstance().getResource(language, 'translation', key) as unknown;
  if (typeof value !== 'string' || value.includes('$t(')) return undefined;
  return value.replace(placeholder, '').includes('{{') ? undefined : value;
}

/**
 * The strings are fixed once loaded, so a string without parameters is looked up (and tidied) once
 * per language and kept: a status card asks for dozens of them on every turn. One with parameters
 * and nothing but `{{name}}` placeholders, all given, is filled in without going through i18next.
 */
export function translator(language: Language): Translate {
  let translate = translators.get(language);
  if (!translate) {
    const t = getInstance().getFixedT(language);
    const tidy = language === 'zh-CN' ? noSpacesAroundNumbers : (text: string) => text;
    const plain = new Map<string, string>();
    const templates = new Map<string, string | null>();
    const fill = (key: string, params: Record<string, string | number>): string | undefined => {
      let template = templates.get(key);
      if (template === undefined) templates.set(key, (template = simpleTemplate(language, key) ?? null));
      if (template === null) return undefined;
      for (const name of Object.keys(params)) if (i18nextOptions.has(name)) return undefined;
      let missing = false;
      const text = template.replace(placeholder, (_, name: string) => {
        const value = params[name];
        if (value === undefined) missing = true;
        return String(value);
      });
      return missing ? undefined : text;
    };
    translate = Object.assign((key: string, params?: Record<string, string | number>) => {
      if (params !== undefined && Object.keys(params).length > 0) return tidy(fill(key, params) ?? t(key, params));
      let text = plain.get(key);
      if (text === undefined) {
        text = tidy(t(key, {}));
        plain.set(key, text);
      }
      return text;
    }, { language });
    translators.set(language, translate);
  }
  return translate;
}

/** Maps a Teams locale ("pt-BR", "zh-cn", "es-MX") onto one of our languages. */
export function languageFromLocale(locale: string | undefined | null): Language | undefined {
  if (!locale) return undefined;
  const lower = locale.toLowerCase();
  if (lower.startsWith('zh')) return 'zh-CN';
  const base = lower.split(/[-_]/)[0];
  return languages.find((l) => l === base);
}

export function localeKeys(language: Language): string[] {
  const flatten = (o: Record<string, unknown>, prefix = ''): string[] => Object.entries(o).flatMap(([k, v]) =>
    v && typeof v === 'object' ? flatten(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`]);
  return flatten(loadResources()[language]);
}
