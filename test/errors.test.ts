import { errorCatalog } from '../src/errors';
import { languages, translator } from '../src/i18n';

test('every catalog code has a message in every language', () => {
  for (const language of languages) {
    const t = translator(language);
    for (const [code, entry] of Object.entries(errorCatalog)) {
      expect(entry.messageKey).toBe(`errors.${code}`);
      const text = t(entry.messageKey, { query: 'x', name: 'x', upn: 'x', state: 'x', names: 'x' });
      expect([language, code, text === entry.messageKey ? 'missing' : 'ok']).toEqual([language, code, 'ok']);
    }
  }
});

test('catalog message keys are unique', () => {
  const keys = Object.values(errorCatalog).map((e) => e.messageKey);
  expect(new Set(keys).size).toBe(keys.length);
});
