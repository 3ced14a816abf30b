import { parseUtterance } from '../../src/nlu/parse';
import type { Language } from '../../src/i18n';
import type { Row } from './utterances/row';
import { en } from './utterances/en';
import { es } from './utterances/es';
import { pt } from './utterances/pt';
import { ro } from './utterances/ro';
import { zhCN } from './utterances/zh-CN';

/** At least 40 realistic utterances per language → the command and arguments they mean (issue #10). */
const tables: Record<Language, Row[]> = { en, es, pt, 'zh-CN': zhCN, ro };

describe.each(Object.entries(tables))('%s', (language, rows) => {
  test('has at least 40 utterances', () => expect(rows.length).toBeGreaterThanOrEqual(40));
  test.each(rows)('"%s" → %s %j', (text, command, args, extra = {}) => {
    const parsed = parseUtterance(text);
    expect(parsed && { command: parsed.command.id, args: parsed.args }).toEqual({ command, args });
    expect(parsed!.languages.length === 0 || parsed!.languages.includes(language as Language)).toBe(true);
    if (extra.days) expect(parsed!.durationMs).toBe(extra.days * 86_400_000);
    if (extra.hours) expect(parsed!.durationMs).toBe(extra.hours * 3_600_000);
    if (extra.permanent) expect(parsed!.permanent).toBe(true);
    if (extra.justification) expect(parsed!.justification).toBe(extra.justification);
    if (extra.target) expect(parsed!.target?.kind).toBe(extra.target);
  });
});
