import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { languages, loadLocale } from '../../src/i18n';
import { concepts } from '../../src/nlu/lexicon';

/**
 * Every string the code asks for exists in every language, and every string in the locale files is
 * asked for somewhere (issue #10): a key nobody uses is a translation nobody checks.
 */

const root = join(__dirname, '..', '..', 'src');
const sourceFiles = (dir: string): string[] => readdirSync(dir).flatMap((f) => {
  const path = join(dir, f);
  return statSync(path).isDirectory() ? sourceFiles(path) : /\.(ts|js|mjs|cjs|html)$/.test(f) ? [path] : [];
});
const files = sourceFiles(root);
const read = (f: string) => readFileSync(f, 'utf8');
/** The audit tab's page reads the `tab` subtree itself: its t('title') is `tab.title`. */
const tabPage = files.filter((f) => f.includes(join('tab', 'static'))).map(read).join('\n')
  .replace(/\bt\(\s*(['"`])/g, (_m, quote: string) => `t(${quote}tab.`);
const source = [...files.filter((f) => !f.includes(join('tab', 'static'))).map(read), tabPage].join('\n');

const flatten = (tree: Record<string, unknown>, prefix = ''): string[] => Object.entries(tree).flatMap(([k, v]) =>
  v && typeof v === 'object' && !Array.isArray(v) ? flatten(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`]);
const plural = /_(zero|one|two|few|many|other)$/;
const base = (key: string) => key.replace(plural, '');

/** Keys written out whole ('request.waiting'), and the prefixes of keys built at run time (`finding.${code}`). */
const literals = new Set([...source.matchAll(/['"`]([A-Za-z][\w-]*(?:\.[\w-]+)+)['"`]/g)].map((m) => m[1]!));
const prefixes = [...new Set([...source.matchAll(/[`'"]([A-Za-z][\w-]*(?:\.[\w-]+)*\.)(?:\$\{|['"`]\s*\+)/g)].map((m) => m[1]!))];
/** The lexicon is read by concept name (src/nlu/lexicon.ts), not by key. */
const lexiconKeys = new Set(concepts.map((c) => `nlu.lexicon.${c}`));
/** Literal keys passed to a translator: t('…'), and the catalog's messageKey: '…'. */
const asked = new Set([...source.matchAll(/\bt\(\s*['"`]([A-Za-z][\w-]*(?:\.[\w-]+)+)['"`]/g), ...source.matchAll(/messageKey:\s*['"`]([\w.-]+)['"`]/g)].map((m) => m[1]!));

describe.each(languages)('%s', (language) => {
  const keys = new Set(flatten(loadLocale(language)).map(base));

  test('has every key the code asks for', () => {
    expect([...asked].filter((key) => !keys.has(key))).toEqual([]);
  });

  test('has no key the code never asks for', () => {
    const unused = [...keys].filter((key) => !lexiconKeys.has(key) && !literals.has(key) && !prefixes.some((p) => key.startsWith(p)));
    expect(unused).toEqual([]);
  });

  test('has the whole lexicon', () => {
    expect([...lexiconKeys].filter((key) => !keys.has(key))).toEqual([]);
  });
});
