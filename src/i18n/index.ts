import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import i18next, { type i18n } from 'i18next';

export const languages = ['en', 'es', 'pt', 'zh-CN', 'ro'] as const;
export type Language = (typeof languages)[number];

export type Translate = (key: string, params?: Record<string, string | number>) => string;

const localesDir = join(__dirname, '..', '..', 'locales');

function loadResources(): Record<Language, Record<string, unknown>> {
  return Object.fromEntries(languages.map((lng) => [lng, JSON.parse(readFileSync(join(localesDir, `${lng}.json`), 'utf8'))])) as Record<Language, Record<string, unknown>>;
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

export function translator(language: Language): Translate {
  const t = getInstance().getFixedT(language);
  return (key, params) => t(key, params ?? {});
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
