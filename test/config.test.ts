import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, redactedConfigSummary, settingNames } from '../src/config';

const valid = {
  TENANT_ID: '7f3c1a2b-1111-4222-8333-944455566677',
  TENANT_CLIENT_ID: '33333333-3333-4333-8333-333333333333',
  TENANT_CLIENT_SECRET: 'very-secret-value',
  IT_STAFF_GROUP_ID: '11111111-1111-4111-8111-111111111111',
  APPROVER_GROUP_ID: '22222222-2222-4222-8222-222222222222',
};

test('defaults fill in everything optional', () => {
  const config = loadConfig(valid);
  expect(config).toMatchObject({ PORT: 3978, DATA_DIR: './.data', LOG_LEVEL: 'info', GRAPH_BASE_URL: 'https://graph.microsoft.com', QUORUM_MEDIUM: 1 });
});

test('each missing or bad value gets its own line naming the setting', () => {
  let error: unknown;
  try {
    loadConfig({ ...valid, TENANT_ID: 'not-a-guid', TENANT_CLIENT_SECRET: '', PORT: '99999', GRAPH_BASE_URL: 'graph' });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const problems = (error as ConfigError).problems;
  expect(problems).toEqual(expect.arrayContaining([
    'TENANT_ID: expected a GUID',
    'TENANT_CLIENT_SECRET: required but not set',
    expect.stringMatching(/^PORT: /),
    expect.stringMatching(/^GRAPH_BASE_URL: expected an absolute URL/),
  ]));
  expect(problems).toHaveLength(4);
});

test('an app id without its password is refused', () => {
  expect(() => loadConfig({ ...valid, MicrosoftAppId: 'bot-app' })).toThrow(/MicrosoftAppPassword/);
});

test('the logged summary never holds a secret', () => {
  const summary = redactedConfigSummary(loadConfig({ ...valid, MicrosoftAppId: 'bot', MicrosoftAppPassword: 'bot-password', DATABASE_URL: 'postgres://u:dbpass@h/db' }));
  const text = JSON.stringify(summary);
  expect(text).not.toMatch(/very-secret-value|bot-password|dbpass/);
  expect(summary).toMatchObject({ TENANT_CLIENT_SECRET: '[set]', MicrosoftAppPassword: '[set]', TENANT_ID: valid.TENANT_ID });
});

test('DATABASE_SCHEMA takes a plain schema name and refuses anything that would need quoting', () => {
  expect(loadConfig({ ...valid, DATABASE_SCHEMA: 'smtp_gate' }).DATABASE_SCHEMA).toBe('smtp_gate');
  expect(loadConfig(valid).DATABASE_SCHEMA).toBeUndefined();
  expect(() => loadConfig({ ...valid, DATABASE_SCHEMA: 'smtp-gate"; DROP SCHEMA public' })).toThrow(/DATABASE_SCHEMA: expected a schema name/);
});

test('every setting is in .env.sample with a one-line comment above it, and in the README\'s configuration table', () => {
  const sample = readFileSync(join(__dirname, '..', '.env.sample'), 'utf8').split('\n');
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Configuration'));
  const missing: string[] = [];
  for (const name of settingNames) {
    const line = sample.findIndex((l) => l.startsWith(`${name}=`));
    if (line < 1 || !sample[line - 1]!.startsWith('#')) missing.push(`.env.sample: ${name}`);
    if (!new RegExp(`\\|[^\\n]*\`${name}\``).test(table)) missing.push(`README: ${name}`);
  }
  expect(missing).toEqual([]);
});
