import * as parse from '../../src/nlu/parse';
import { cardText } from '../support/fake-connector';
import { demoUser, inProcessBotSuite, pendingEnable, rosterOf } from '../support/harness';

/** Text a person (or an attacker) sends the bot that is not a command: it gets a clear answer, fast. */

const alex = demoUser('Alex Wilber');
const megan = demoUser('Megan Bowen');
const suite = inProcessBotSuite({ name: 'abuse', startsAt: '2026-11-23T09:00:00Z', members: rosterOf([alex, megan]) });

/** Alex asks to enable SMTP AUTH for someone and confirms; resolves with the request id once it waits for approval. */
async function pendingRequestFor(user: string): Promise<string> {
  const { requestId } = await pendingEnable(suite, alex, `enable SMTP for ${user} for the floor 2 scanner`, { justification: 'floor 2 scanner' });
  expect((await suite.bot.server.store.getRequest(requestId))?.state).toBe('pending');
  return requestId;
}


async function reply(text: string, options: { tenantId?: string; locale?: string } = {}) {
  const before = suite.connector.postedCards().length;
  const status = await suite.bot.teams.message(alex, text, options);
  const posted = await suite.connector.waitFor('the reply', () => suite.connector.postedCards()[before]);
  return { status, text: cardText(posted.card) };
}

describe('hole 1: a long message (issue #13)', () => {
  test('"a" + 100,000 dots + "x" is answered at once that it is too long, and /healthz is not held up', async () => {
    const started = Date.now();
    const [answer, health] = await Promise.all([
      reply('a' + '.'.repeat(100_000) + 'x'),
      fetch(`http://127.0.0.1:${suite.bot.server.port}/healthz`).then((r) => r.status),
    ]);
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('too long');
    expect(answer.text).toContain(String(parse.utteranceMaxLength));
    expect(health).toBe(200);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('another tenant\'s message is refused before its text is read', async () => {
    const spy = jest.spyOn(parse, 'parseUtterance');
    try {
      const answer = await reply('enable SMTP for bob', { tenantId: '11111111-2222-4333-8444-555555555555' });
      expect(answer.text).toContain('only works for the organization that installed it');
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});

describe('hole 2: text a database cannot hold, and an approval recorded while its request stayed pending (issue #13)', () => {
  test('`smtp status bob\\u0000` is answered with bob\'s status, not an internal error', async () => {
    const answer = await reply('smtp status bob\u0000');
    expect(answer.text).not.toContain('Something went wrong');
    expect(answer.text).toContain('Bob');
  });

  test('an approve whose comment holds a lone surrogate is recorded, audited and applied, the comment kept readable', async () => {
    const requestId = await pendingRequestFor('bob');
    const writesBefore = (await suite.simulator.setCasMailboxCalls()).length;
    const answer = await suite.bot.teams.press(megan, 'request.approve', { requestId, comment: 'ok \ud800 for now\u0000' });
    await suite.bot.server.drain();
    expect(answer.status).toBe(200);
    expect(cardText(answer.body.value)).not.toContain('Something went wrong');
    const request = await suite.bot.server.store.getRequest(requestId);
    expect(request?.state).toBe('succeeded');
    expect((await suite.simulator.setCasMailboxCalls()).length).toBe(writesBefore + 1);
    const [approval] = await suite.bot.server.store.approvals(requestId);
    expect(approval).toMatchObject({ approverId: megan.id, decision: 'approve', comment: 'ok \ufffd for now' });
    const actions = (await suite.bot.server.store.auditEvents(requestId)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['request.approve', 'request.transition']));
  });

  test('a request left pending with its quorum met (as the old two-step recording could) is approved and applied by the next job pass', async () => {
    const requestId = await pendingRequestFor('jose.nunez@contoso.com');
    const writesBefore = (await suite.simulator.setCasMailboxCalls()).length;
    // What the failure left: the approval row, and nothing after it.
    await suite.bot.server.store.db.query('INSERT INTO approvals (request_id, approver_id, approver_name, decision, comment, at) VALUES ($1,$2,$3,$4,$5,$6)',
      [requestId, megan.id, megan.name, 'approve', null, suite.clock.now()]);
    await suite.bot.server.runDueJobs();
    await suite.bot.server.drain();
    expect((await suite.bot.server.store.getRequest(requestId))?.state).toBe('succeeded');
    expect((await suite.simulator.setCasMailboxCalls()).length).toBe(writesBefore + 1);
    const reconciled = (await suite.bot.server.store.auditEvents(requestId)).find((e) => e.action === 'request.reconciled');
    expect(reconciled?.detail).toMatchObject({ outcome: 'decided-approved' });
  });
});
