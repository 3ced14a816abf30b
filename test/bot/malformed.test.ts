import fc from 'fast-check';
import { checkActivity } from '../../src/bot/validate';
import { demoFixture, demoUser, inProcessBotSuite } from '../support/harness';
import { fuzzRuns } from '../support/fuzz';
import { allVerbs } from '../../src/cards/verbs';
import { count, recordFigure } from '../support/figures';

/** Activities no Teams client sends: each gets a 400 that names the field, and no handler runs (issue #13, hole 8). */

const alex = demoUser('Alex Wilber');
const suite = inProcessBotSuite({ name: 'malformed', startsAt: '2026-11-23T09:00:00Z' });

function validMessage(): Record<string, unknown> {
  return {
    type: 'message', id: `m-${Math.random()}`, channelId: 'msteams', serviceUrl: suite.connector.url, locale: 'en-US', text: 'help',
    from: { id: `29:${alex.id}`, name: alex.name, aadObjectId: alex.id }, recipient: { id: '28:smtp-gate', name: 'SMTP Gate' },
    conversation: { id: `a:${alex.id}`, conversationType: 'personal', tenantId: demoFixture.tenant.id }, channelData: { tenant: { id: demoFixture.tenant.id } },
  };
}

async function post(body: unknown, contentType = 'application/json'): Promise<{ status: number; json: Record<string, any> | undefined }> {
  const res = await fetch(`http://127.0.0.1:${suite.bot.server.port}/api/messages`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: Record<string, any> | undefined;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, json };
}

const withoutKey = (key: string) => { const a = validMessage(); delete a[key]; return a; };

const cases: [string, string, () => unknown][] = [
  ['{}', 'type', () => ({})],
  ['no type', 'type', () => withoutKey('type')],
  ['a numeric type', 'type', () => ({ ...validMessage(), type: 7 })],
  ['text as an object', 'text', () => ({ ...validMessage(), text: { evil: true } })],
  ['a numeric verb (Action.Submit)', 'value.verb', () => ({ ...validMessage(), text: '', value: { verb: 5, requestId: 'x' } })],
  ['an invoke without value.action', 'value.action', () => ({ ...validMessage(), type: 'invoke', name: 'adaptiveCard/action', value: {} })],
  ['an invoke with a numeric verb', 'value.action.verb', () => ({ ...validMessage(), type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: 1 } } })],
  ['an invoke this bot does not answer', 'name', () => ({ ...validMessage(), type: 'invoke', name: 'composeExtension/query', value: {} })],
  ['no conversation', 'conversation', () => withoutKey('conversation')],
  ['a conversation without an id', 'conversation.id', () => ({ ...validMessage(), conversation: { tenantId: demoFixture.tenant.id } })],
  ['no serviceUrl', 'serviceUrl', () => withoutKey('serviceUrl')],
  ['from as a string', 'from', () => ({ ...validMessage(), from: 'alex' })],
  ['a tenant id as a number', 'channelData.tenant.id', () => ({ ...validMessage(), channelData: { tenant: { id: 42 } } })],
  ['an array', '(body)', () => [validMessage()]],
  ['a JSON string', '(body)', () => JSON.stringify('hello')],
  ['nesting 1,000 levels deep', '(body)', () => ({ ...validMessage(), value: JSON.parse('['.repeat(1000) + ']'.repeat(1000)) })],
];

const statuses: number[] = [];
afterAll(() => {
  if (statuses.length !== cases.length) return;
  recordFigure('malformed-activities', {
    suite: 'Malformed activities (hole 8)',
    tried: `${cases.length} malformed activity kinds ({}, no type, numeric type, text as an object, numeric verb, invoke without value.action, no conversation, 1,000-deep nesting, …)`,
    held: `${statuses.filter((s) => s === 400).length} × 400 naming the field, ${statuses.filter((s) => s >= 500).length} × 5xx, 0 reached a handler`,
  });
});

describe('hole 8: malformed activities (issue #13)', () => {
  test.each(cases)('%s → 400 naming %s, and nothing reaches a handler', async (_name, field, body) => {
    const callsBefore = suite.connector.calls.length;
    const eventsBefore = (await suite.bot.server.store.auditEvents()).length;
    const answer = await post(body());
    statuses.push(answer.status);
    expect(answer.status).toBe(400);
    expect(answer.json?.error).toMatchObject({ code: 'BAD_ACTIVITY', field });
    expect(answer.json?.error.message).toMatch(/not an activity SMTP Gate can read/);
    expect(suite.connector.calls.length).toBe(callsBefore);
    expect((await suite.bot.server.store.auditEvents()).length).toBe(eventsBefore);
  });

  test('a body that is not JSON at all is refused, not a 500', async () => {
    const answer = await post('{"type":', 'application/json');
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
  });

  test('the well-formed message next to them is still answered', async () => {
    const before = suite.connector.postedCards().length;
    expect((await post(validMessage())).status).toBe(200);
    await suite.connector.waitFor('the help card', () => suite.connector.postedCards()[before]);
  });

  test('the validator never throws, and what it accepts has what the handlers read', () => {
    const activityish = fc.record({
      type: fc.oneof(fc.constantFrom('message', 'invoke', 'conversationUpdate', ''), fc.anything()),
      conversation: fc.oneof(fc.record({ id: fc.oneof(fc.string(), fc.anything()), tenantId: fc.anything() }, { requiredKeys: [] }), fc.anything()),
      serviceUrl: fc.oneof(fc.webUrl(), fc.anything()),
      from: fc.oneof(fc.record({ id: fc.oneof(fc.string(), fc.anything()), aadObjectId: fc.anything(), name: fc.anything() }, { requiredKeys: [] }), fc.anything()),
      text: fc.anything(),
      name: fc.oneof(fc.constant('adaptiveCard/action'), fc.anything()),
      value: fc.oneof(fc.record({ verb: fc.anything(), action: fc.oneof(fc.record({ verb: fc.anything(), data: fc.anything() }, { requiredKeys: [] }), fc.anything()) }, { requiredKeys: [] }), fc.anything()),
      channelData: fc.anything(),
    }, { requiredKeys: [] });
    let refused = 0;
    let accepted = 0;
    fc.assert(fc.property(fc.oneof(activityish, fc.anything()), (body) => {
      const check = checkActivity(body);
      if (check.ok) accepted++;
      else refused++;
      if (!check.ok) return typeof check.field === 'string' && typeof check.problem === 'string';
      const a = body as Record<string, any>;
      expect(typeof a.type).toBe('string');
      expect(typeof a.conversation.id).toBe('string');
      expect(a.text === undefined || a.text === null || typeof a.text === 'string').toBe(true);
      if (a.type === 'invoke') expect(typeof a.value.action.verb).toBe('string');
      return true;
    }), { numRuns: fuzzRuns });
    recordFigure('validator-fuzz', {
      suite: 'Activity validator, fuzzed',
      tried: `${count(refused + accepted)} fuzzed activity bodies (any JSON, and activity-shaped objects with wrong types)`,
      held: `0 throws; ${count(refused)} refused naming the field, ${count(accepted)} accepted, each with what the handlers read`,
    });
  });
});

describe('the invoke handler under fuzzed card actions', () => {
  const megan = demoUser('Megan Bowen');
  const value = fc.oneof(fc.string({ maxLength: 40 }), fc.uuid(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.object({ maxDepth: 2 }));
  const verb = fc.oneof(fc.constantFrom(...allVerbs), fc.string({ maxLength: 30 }));
  const data = fc.dictionary(fc.constantFrom('requestId', 'comment', 'justification', 'userId', 'reviewId', 'item', 'verb', '__proto__', 'constructor'), value, { maxKeys: 5 });

  test(`${fuzzRuns} fuzzed actions through the handler: each answered with a card, none thrown, nothing written`, async () => {
    const writesBefore = (await suite.simulator.setCasMailboxCalls()).length;
    const started = performance.now();
    let n = 0;
    await fc.assert(fc.asyncProperty(verb, data, fc.constantFrom(alex, megan), async (v, d, user) => {
      const result = await suite.bot.server.dispatcher.handleAction({
        activityId: `fuzz-${n++}`, tenantId: demoFixture.tenant.id, userId: user.id, userName: user.name, locale: 'en-US',
        conversation: { conversation: { id: `a:${user.id}` }, serviceUrl: suite.connector.url }, verb: v, data: d as Record<string, unknown>,
      });
      expect(result.card.body?.length).toBeGreaterThan(0);
      await result.followUp?.();
    }), { numRuns: fuzzRuns });
    const seconds = (performance.now() - started) / 1000;
    const writes = (await suite.simulator.setCasMailboxCalls()).length - writesBefore;
    expect(writes).toBe(0);
    recordFigure('invoke-fuzz', {
      suite: 'Card-action (invoke) handler, fuzzed',
      tried: `${count(n)} fuzzed verbs and data (known and random verbs, forged ids, odd types) from IT staff and an approver`,
      held: `${count(n)} answered with a card, 0 thrown, ${writes} writes to Exchange (${Math.round(seconds)} s, ${((seconds * 1000) / n).toFixed(1)} ms per action with its store writes)`,
    });
  // Each action reads and writes the store (its activity id, its audit event): 100,000 of them take
  // minutes under `npm run fuzz`, so the time allowed grows with the count.
  }, Math.max(300_000, fuzzRuns * 20));

  test('over HTTP, as Teams sends them, 100 of the same: 200 with a card every time', async () => {
    await fc.assert(fc.asyncProperty(verb, data, async (v, d) => {
      const answer = await suite.bot.teams.press(megan, v, d);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    }), { numRuns: 100 });
  }, 120_000);
});
