import i18next from 'i18next';
import { languages, loadLocale, localeKeys, noSpacesAroundNumbers, translator } from '../../src/i18n';

/**
 * A string with parameters whose only markup is `{{name}}` is filled in by the translator itself;
 * every string must still read exactly as i18next, set up as the bot sets it up, writes it.
 */
const reference = i18next.createInstance();
void reference.init({
  resources: Object.fromEntries(languages.map((lng) => [lng, { translation: loadLocale(lng) }])),
  fallbackLng: 'en', supportedLngs: [...languages], initAsync: false, interpolation: { escapeValue: false }, returnNull: false, showSupportNotice: false,
});

describe.each(languages)('strings with parameters in %s', (language) => {
  const t = translator(language);
  const expected = (key: string, params: Record<string, string | number>) => {
    const text = reference.getFixedT(language)(key, params);
    return language === 'zh-CN' ? noSpacesAroundNumbers(text) : text;
  };
  const templates = localeKeys(language)
    .map((key) => ({ key: key.replace(/_(zero|one|two|few|many|other)$/, ''), text: reference.getResource(language, 'translation', key) as unknown }))
    .filter((e): e is { key: string; text: string } => typeof e.text === 'string' && e.text.includes('{{'));

  test('each reads as i18next writes it: text (with $ in it), numbers, a count, a parameter left out', () => {
    expect(templates.length).toBeGreaterThan(20);
    for (const { key, text } of templates) {
      const names = [...new Set([...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]!))];
      const params: Record<string, string | number> = Object.fromEntries(names.map((name, i) => [name, i % 2 ? 3 : `“${name}” $& $1 O'Brien`]));
      expect({ key, text: t(key, params) }).toEqual({ key, text: expected(key, params) });
      expect({ key, text: t(key, { ...params, count: 1 }) }).toEqual({ key, text: expected(key, { ...params, count: 1 }) });
      const [first, ...rest] = names;
      const partial = Object.fromEntries(rest.map((name) => [name, params[name]!]));
      if (first && rest.length) expect({ key, text: t(key, partial) }).toEqual({ key, text: expected(key, partial) });
    }
  });

  test('a value that itself holds {{…}} (a display name can) is shown as written, and every placeholder is filled', () => {
    const text = t('diagnosis.fixNothing.blocked', { name: 'Bob {{name}}', blockers: 'X' });
    expect(text.split('Bob {{name}}')).toHaveLength(3);
    expect(text.replace(/Bob \{\{name\}\}/g, '')).not.toContain('{{');
  });
});
