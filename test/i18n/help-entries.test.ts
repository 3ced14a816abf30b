import { commands } from '../../src/commands/registry';
import { languages, loadLocale } from '../../src/i18n';

/**
 * `help` lists what this person may do, a line and an example each. A command without a line of its
 * own in a language showed as its bare example ("disable MFA for bob"), saying nothing of what it
 * changes: every command has its own description in every language's locale files (not English's).
 */
describe.each(languages)('%s', (language) => {
  const entries = ((loadLocale(language).diagnosis as { help?: { entries?: Record<string, { description?: string }> } }).help?.entries) ?? {};

  test.each(commands.map((c) => c.id))('help describes %s', (id) => {
    const description = entries[id]?.description ?? '';
    expect(description.trim()).not.toBe("");
    if (language !== 'en') expect(description).not.toBe(((loadLocale('en').diagnosis as { help: { entries: Record<string, { description: string }> } }).help.entries[id]?.description));
  });
});
