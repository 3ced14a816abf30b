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

test('no two codes say the same thing: in every language each message can be told apart', () => {
  // Object keys are unique by construction; what can collide is the text a person reads.
  for (const language of languages) {
    const t = translator(language);
    const byText = new Map<string, string[]>();
    for (const [code, entry] of Object.entries(errorCatalog)) {
      const text = t(entry.messageKey, { query: 'x', name: 'x', upn: 'x', state: 'x', names: 'x', max: 1 });
      byText.set(text, [...(byText.get(text) ?? []), code]);
    }
    expect({ language, shared: [...byText.values()].filter((codes) => codes.length > 1) }).toEqual({ language, shared: [] });
  }
});
