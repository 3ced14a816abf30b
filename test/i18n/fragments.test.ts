import { languages, loadLocale, translator } from '../../src/i18n';

describe('locale fragments', () => {
  test.each(languages)('%s: strings from locales/<lng>/*.json join the main file without redefining a key', (language) => {
    // Throws when a fragment defines a key that the main file or another fragment already has.
    const locale = loadLocale(language);
    expect(Object.keys(locale)).toEqual(expect.arrayContaining(['card', 'state', 'finding']));
    expect(translator(language)('card.ref', { code: 'X' })).toContain('X');
  });
});
