import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commands } from '../../src/commands/registry';
import { EXCHANGE_APP_PERMISSION, exchangeRoleFor, exchangeRoleForParameter, graphPermissionFor } from '../../src/tenant/permissions';

/**
 * docs/permissions.md in step with the code: every permission and Exchange role src/tenant/permissions.ts
 * asks for is explained there, and every command the doc names is one the bot has (src/commands/registry.ts).
 */

const root = join(__dirname, '..', '..');
const commandIds = new Set(commands.map((c) => c.id));

/** The doc without fenced code blocks (PowerShell there names cmdlets, not commands). */
function prose(file: string): string {
  return readFileSync(join(root, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
}

/** Values settings take (`client-secret`, `user-specific`…): hyphenated words that are not commands. */
const settingValues = new Set([...readFileSync(join(root, 'src', 'config.ts'), 'utf8').matchAll(/z\.enum\(\[([^\]]*)\]/g)]
  .flatMap((m) => [...m[1]!.matchAll(/'([^']+)'/g)].map((v) => v[1]!)));

/**
 * Commands a doc names: every `word` in a table column headed "commands", and anywhere in the prose
 * a `hyphenated-word` (the shape of every command id) that is not a setting's value.
 */
function commandsNamedIn(file: string): string[] {
  const text = prose(file);
  const named = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const header = lines[i]!.split('|').map((c) => c.trim().toLowerCase());
    const column = header.indexOf('commands');
    if (column < 0 || !/^\|?\s*-{3}/.test(lines[i + 1] ?? '')) continue;
    for (let j = i + 2; j < lines.length && lines[j]!.trim().startsWith('|'); j++) {
      const cell = lines[j]!.split('|')[column] ?? '';
      for (const m of cell.matchAll(/`([a-z][a-z-]*)`/g)) named.add(m[1]!);
    }
  }
  for (const m of text.matchAll(/`([a-z]+(?:-[a-z]+)+)`/g)) if (!settingValues.has(m[1]!)) named.add(m[1]!);
  return [...named].sort();
}

test('every Graph permission, Exchange role and the Exchange app permission in src/tenant/permissions.ts is in docs/permissions.md', () => {
  const doc = prose('docs/permissions.md');
  const needed = new Set([...Object.values(graphPermissionFor), ...Object.values(exchangeRoleFor), ...Object.values(exchangeRoleForParameter), EXCHANGE_APP_PERMISSION]);
  expect([...needed].filter((p) => !doc.includes(`\`${p}\``))).toEqual([]);
  // And every cmdlet the code maps to a role.
  expect(Object.keys(exchangeRoleFor).filter((cmdlet) => !doc.includes(cmdlet))).toEqual([]);
});

test.each(['docs/permissions.md', 'docs/architecture.md', 'docs/deploy.md'])('%s names no command the bot does not have', (file) => {
  const named = commandsNamedIn(file);
  expect(named.filter((id) => !commandIds.has(id))).toEqual([]);
});

test('the check finds commands where the doc names them (it is not a check that always passes)', () => {
  expect(commandsNamedIn('docs/permissions.md')).toEqual(expect.arrayContaining(['smtp-enable', 'smtp-status']));
  expect(settingValues.has('managed-identity')).toBe(true);
});
