import { languages, loadLocale, translator } from '../../src/i18n';

/** Counts go through i18next's plural rules in every language, and Chinese sets numbers without spaces (issue #10). */

const flatten = (tree: Record<string, unknown>, prefix = ''): [string, string][] => Object.entries(tree).flatMap(([k, v]) =>
  v && typeof v === 'object' ? flatten(v as Record<string, unknown>, `${prefix}${k}.`) : typeof v === 'string' ? [[`${prefix}${k}`, v] as [string, string]] : []);
const plural = /_(zero|one|two|few|many|other)$/;

describe.each(languages)('%s', (language) => {
  const entries = flatten(loadLocale(language));

  test('every string with a {{count}} is a plural form, so "1" and "5" read right', () => {
    expect(entries.filter(([key, value]) => value.includes('{{count}}') && !plural.test(key)).map(([key]) => key)).toEqual([]);
  });
});

test('Spanish says "falta 1" and "faltan 2"; Romanian "o aprobare" forms; Chinese has no spaces around numbers', () => {
  expect(translator('es')('request.waiting', { count: 1 })).toContain('falta 1');
  expect(translator('es')('request.waiting', { count: 2 })).toContain('faltan 2');
  expect(translator('ro')('request.waiting', { count: 1 })).toContain('mai este necesară 1');
  expect(translator('ro')('exceptions.permanentNote', { count: 20 })).toContain('20 de aprobări');
  const zh = translator('zh-CN');
  const rendered = flatten(loadLocale('zh-CN')).filter(([, v]) => /\{\{(count|days|max)\}\}/.test(v))
    .map(([key]) => zh(key.replace(plural, ''), { count: 3, days: 7, max: 300, at: '2026-11-22', error: '53003', message: 'x', policy: 'p', name: 'Bob', state: 's', scope: 's' }));
  expect(rendered.length).toBeGreaterThan(5);
  expect(rendered.filter((text) => /[\u3400-\u9fff（，；：] +\d|\d +[\u3400-\u9fff]/u.test(text))).toEqual([]);
});
