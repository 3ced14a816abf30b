import { randomUUID } from 'node:crypto';
import { processedActivityRetentionMs } from '../../src/requests/jobs';
import { cardText, isApprovalCard } from '../support/fake-connector';
import { demoFixture, demoUser, draftRequest, inProcessBotSuite, rosterOf } from '../support/harness';
import { recordFigure } from '../support/figures';

/** Redeliveries, a forged tenant, old activity ids and a change to one's own mailbox (issue #13, hole 9). */

const alex = demoUser('Alex Wilber');
const megan = demoUser('Megan Bowen');
const suite = inProcessBotSuite({ name: 'replays', startsAt: '2026-11-23T09:00:00Z', members: rosterOf([alex, megan]) });

const postsTo = (conversationId: string) => suite.connector.calls.filter((c) => c.method === 'POST' && c.conversationId === conversationId).length;

async function draftFor(user: string): Promise<string> {
  return (await draftRequest(suite, alex, `enable SMTP for ${user} for the floor 2 scanner`)).requestId;
}

test('20 concurrent redeliveries of one Action.Submit are answered once', async () => {
  const requestId = await draftFor('jose.nunez@contoso.com');
  const before = postsTo(`a:${alex.id}`);
  const id = randomUUID();
  const statuses = await Promise.all(Array.from({ length: 20 }, () => suite.bot.teams.submit(alex, { verb: 'request.confirm', requestId, justification: 'floor 2 scanner' }, { id })));
  await suite.bot.server.drain();
  expect(statuses.every((s) => s === 200)).toBe(true);
  // One answer to the click, and the one approval card the confirmation posts for approvers.
  const posted = suite.connector.calls.filter((c) => c.method === 'POST' && c.conversationId === `a:${alex.id}`).slice(before).map((c) => c.activity.attachments?.[0]?.content);
  expect(posted.filter((card) => !isApprovalCard(card))).toHaveLength(1);
  expect(posted.filter((card) => isApprovalCard(card))).toHaveLength(1);
  recordFigure('submit-replays', {
    suite: 'Redelivered Action.Submit (hole 9)',
    tried: '20 concurrent redeliveries of one Action.Submit (same activity id)',
    held: `${posted.filter((card) => !isApprovalCard(card)).length} answer posted, 1 state move, 1 approval card`,
  });
  expect((await suite.bot.server.store.getRequest(requestId))?.state).toBe('pending');
  expect((await suite.bot.server.store.auditEvents(requestId)).filter((e) => e.action === 'request.transition' && e.detail.to === 'pending')).toHaveLength(1);
});

test('5 redeliveries of one message get one answer', async () => {
  const before = postsTo(`a:${alex.id}`);
  const id = randomUUID();
  await Promise.all(Array.from({ length: 5 }, () => suite.bot.teams.message(alex, 'help', { id })));
  expect(postsTo(`a:${alex.id}`) - before).toBe(1);
});

test('an error is not kept as the answer: a redelivery after it is answered afresh', async () => {
  await suite.simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'graph', status: 503, retryAfterSeconds: 0 }] });
  const id = randomUUID();
  const before = suite.connector.postedCards().length;
  try {
    await suite.bot.teams.message(alex, 'smtp status jose.nunez@contoso.com', { id });
    const failed = await suite.connector.waitFor('the error card', () => suite.connector.postedCards()[before]);
    expect(cardText(failed.card)).not.toContain('José Núñez');
  } finally {
    await suite.simulator.control('DELETE', '/_simulator/faults');
  }
  await suite.bot.teams.message(alex, 'smtp status jose.nunez@contoso.com', { id });
  const answered = await suite.connector.waitFor('the status card', () => suite.connector.postedCards()[before + 1]);
  expect(cardText(answered.card)).toContain('José Núñez');
}, 60_000);

test('activity ids are forgotten after a day (Teams redelivers within seconds), by the job pass', async () => {
  const count = async () => Number((await suite.bot.server.store.db.query<{ n: string }>('SELECT count(*) AS n FROM processed_activities'))[0]!.n);
  await suite.bot.teams.message(alex, 'help');
  expect(await count()).toBeGreaterThan(0);
  suite.clock.advance(processedActivityRetentionMs + 60_000);
  await suite.bot.server.runDueJobs();
  expect(await count()).toBe(0);
});

test('an activity whose conversation.tenantId differs from channelData.tenant.id is refused', async () => {
  const before = suite.connector.postedCards().length;
  const activity = {
    type: 'message', id: randomUUID(), channelId: 'msteams', serviceUrl: suite.connector.url, locale: 'en-US', text: 'smtp status jose.nunez@contoso.com',
    from: { id: `29:${alex.id}`, name: alex.name, aadObjectId: alex.id }, recipient: { id: '28:smtp-gate' },
    conversation: { id: `a:${alex.id}`, conversationType: 'personal', tenantId: demoFixture.tenant.id },
    channelData: { tenant: { id: '11111111-2222-4333-8444-555555555555' } },
  };
  const res = await fetch(`http://127.0.0.1:${suite.bot.server.port}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
  expect(res.status).toBe(200);
  const answer = await suite.connector.waitFor('the refusal', () => suite.connector.postedCards()[before]);
  expect(cardText(answer.card)).toContain('only works for the organization that installed it');
});

test('the person whose mailbox a change is for cannot approve it', async () => {
  const requestId = await draftFor('meganb@contoso.com');
  await suite.bot.teams.press(alex, 'request.confirm', { requestId, justification: 'floor 2 scanner' });
  await suite.bot.server.drain();
  expect((await suite.bot.server.store.getRequest(requestId))?.state).toBe('pending');
  const answer = await suite.bot.teams.press(megan, 'request.approve', { requestId });
  expect(cardText(answer.body.value)).toContain("can't approve a change to your own mailbox");
  expect(await suite.bot.server.store.approvals(requestId)).toEqual([]);
  expect((await suite.bot.server.store.getRequest(requestId))?.state).toBe('pending');
});
