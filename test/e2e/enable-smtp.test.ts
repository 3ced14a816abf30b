import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFixture, type TenantFixture } from '../../src/simulator/fixture';
import { openDb } from '../../src/store/db';
import { Store } from '../../src/store/store';
import { startBotProcess, type BotProcess } from '../support/bot-process';
import { botSettings, pendingEnable, rosterOf, tenantSuite, type SimCall } from '../support/harness';
import { actionVerbs, cardText, requestIdOf, type CardJson } from '../support/fake-connector';
import { TeamsClient, type TeamsUser } from '../support/teams';

/**
 * The walking skeleton end to end over real sockets: Teams-shaped activities into the bot
 * process, the bot's replies into a fake Bot Connector, the tenant changes in the simulator.
 */

const fixturePath = join(__dirname, '..', '..', 'fixtures', 'demo-tenant.json');
const fixture: TenantFixture = loadFixture(fixturePath);
const byName = (name: string): TeamsUser => {
  const u = fixture.users.find((x) => x.displayName === name);
  if (!u) throw new Error(`demo fixture has no ${name}`);
  return { id: u.id, name: u.displayName };
};
const members = (groupId: string | undefined) => new Set(fixture.groups?.find((g) => g.id === groupId)?.members ?? []);
const itStaff = members(fixture.localMode?.itStaffGroupId);
const approverIds = members(fixture.localMode?.approverGroupId);

const alex = byName('Alex Wilber'); // IT staff, not an approver
const megan = byName('Megan Bowen'); // approver
const bob = fixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;
const outsider = fixture.users.find((u) => !itStaff.has(u.id) && !approverIds.has(u.id) && u.mailbox)!;
const outsiderUser: TeamsUser = { id: outsider.id, name: outsider.displayName };

// The conversation the approval cards land in holds the whole (small) company.
const tenant = tenantSuite({ members: rosterOf(fixture.users.map((u) => ({ id: u.id, name: u.displayName }))) });
let bot: BotProcess;
let teams: TeamsClient;
let dataDir: string;
let happyPathRequestId = '';
const unknownUserQueries: string[] = [];
const failedRequestIds: string[] = [];

const successfulSets = async () => (await tenant.simulator.setCasMailboxCalls()).filter((c) => c.status === 200);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'smtp-gate-e2e-data-'));
  // The demo tenant, wired as the launcher wires it in local mode.
  bot = await startBotProcess(botSettings(tenant.simulator, { DATA_DIR: dataDir }));
  teams = new TeamsClient(bot.url, tenant.connector.url, fixture.tenant.id);
}, 60_000);
tenant.closeBeforeTenant(async () => {
  await bot?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await tenant.simulator.control('POST', '/_simulator/reset');
  tenant.connector.calls.length = 0;
});

/** IT staff asks, confirms; returns the request id and the approval card the approvers got. */
async function requestEnableForBob(): Promise<{ requestId: string; approvalCard: { card: CardJson; id: string } }> {
  const { requestId, messageStatus, confirmed, approval } = await pendingEnable({ connector: tenant.connector, bot: { teams } }, alex, 'enable SMTP for bob', { justification: 'the floor 2 scanner' });
  expect(messageStatus).toBe(200);
  expect(confirmed.status).toBe(200);
  expect(cardText(confirmed.body.value)).toContain('Waiting for approval');
  return { requestId, approvalCard: approval };
}

test('the approval card shows status to everyone and live buttons only to approvers other than the requester (refresh.userIds)', async () => {
  const { requestId, approvalCard } = await requestEnableForBob();
  expect(actionVerbs(approvalCard.card)).toEqual([]);
  // Teams ids (MRIs) from the conversation's roster, for the approvers in it but the requester.
  const userIds = approvalCard.card.refresh?.userIds ?? [];
  expect(new Set(userIds)).toEqual(new Set([...approverIds].filter((id) => id !== alex.id).map((id) => `29:${id}`)));
  expect(userIds).not.toContain(alex.id);
  expect(userIds.length).toBeLessThanOrEqual(60);
  expect(JSON.stringify(approvalCard.card.refresh)).not.toMatch(/bob@|SmtpClientAuthenticationDisabled/);

  const forMegan = await teams.press(megan, 'request.refresh', { requestId });
  expect(actionVerbs(forMegan.body.value)).toEqual(['request.approve', 'request.reject']);
  const forAlex = await teams.press(alex, 'request.refresh', { requestId });
  expect(actionVerbs(forAlex.body.value)).not.toContain('request.approve');
  const forBob = await teams.press(outsiderUser, 'request.refresh', { requestId });
  expect(actionVerbs(forBob.body.value)).toEqual([]);
  expect(cardText(forBob.body.value)).toContain('Waiting for approvals');
  expect(await successfulSets()).toHaveLength(0);
});

test('IT staff enables SMTP AUTH for bob: confirm, one approval, exactly one Set-CASMailbox, verified and audited', async () => {
  const { requestId, approvalCard } = await requestEnableForBob();
  const confirmCard = tenant.connector.postedCards()[0]!.card;
  expect(cardText(confirmCard)).toContain(bob.displayName);
  expect(cardText(confirmCard)).toMatch(/Mailbox setting|Organization setting/);
  expect(actionVerbs(confirmCard)).toEqual(['request.confirm', 'request.cancel']);
  expect(JSON.stringify(confirmCard.actions)).not.toMatch(/bob@|SmtpClientAuthenticationDisabled|false/);
  expect(await successfulSets()).toHaveLength(0);

  const approved = await teams.press(megan, 'request.approve', { requestId });
  expect(approved.status).toBe(200);
  expect(approved.body.statusCode).toBe(200);
  expect(approved.body.type).toBe('application/vnd.microsoft.card.adaptive');

  const done = await tenant.connector.waitFor('the approval card updated to done', () => tenant.connector.updates(approvalCard.id).find((c) => cardText(c).includes('Done, verified')));
  expect(cardText(done)).toContain('Megan Bowen');
  const sets = await tenant.simulator.setCasMailboxCalls();
  expect(sets).toHaveLength(1);
  expect(sets[0]!.parameters).toEqual({ Identity: bob.userPrincipalName, SmtpClientAuthenticationDisabled: false });
  expect(await tenant.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: false });

  // The requester's own copy of the card tells the same story.
  const requesterCopyId = tenant.connector.postedCards()[0]!.id;
  await tenant.connector.waitFor('the requester copy updated', () => tenant.connector.updates(requesterCopyId).find((c) => cardText(c).includes('Done, verified')));

  happyPathRequestId = requestId;
}, 60_000);

test('the same approval clicked twice, concurrently and again later, writes once; the second click is told why', async () => {
  const { requestId } = await requestEnableForBob();
  const [first, second] = await Promise.all([
    teams.press(megan, 'request.approve', { requestId }),
    teams.press(megan, 'request.approve', { requestId }),
  ]);
  expect([first.status, second.status]).toEqual([200, 200]);
  const texts = [cardText(first.body.value), cardText(second.body.value)];
  expect(texts.filter((t) => /already decided|can't be changed any more/.test(t))).toHaveLength(1);
  await waitUntil(async () => (await successfulSets()).length === 1);
  const later = await teams.press(megan, 'request.approve', { requestId });
  expect(cardText(later.body.value)).toMatch(/can't be changed any more|already decided/);
  await new Promise((r) => setTimeout(r, 300));
  expect(await tenant.simulator.setCasMailboxCalls()).toHaveLength(1);
}, 60_000);

test('the requester cannot approve their own request, and a non-approver cannot approve at all', async () => {
  const { requestId } = await requestEnableForBob();
  const own = await teams.press(alex, 'request.approve', { requestId });
  expect(cardText(own.body.value)).toContain("You can't approve or reject your own request");
  expect(cardText(own.body.value)).toContain('SELF_APPROVAL');
  const stranger = await teams.press(outsiderUser, 'request.approve', { requestId });
  expect(cardText(stranger.body.value)).toContain('Only members of the approvers group can approve');
  expect(cardText(stranger.body.value)).toContain('NOT_APPROVER');
  await new Promise((r) => setTimeout(r, 300));
  expect(await tenant.simulator.setCasMailboxCalls()).toHaveLength(0);
  expect(await tenant.simulator.mailboxOf(bob.id)).toEqual(bob.mailbox);
}, 60_000);

test('an unknown user gets "no such user" naming what was searched, and no request', async () => {
  const query = "Zebediah O'Nobody";
  unknownUserQueries.push(query);
  await teams.message(alex, `enable SMTP for ${query}`);
  const reply = await tenant.connector.waitFor('the reply', () => tenant.connector.postedCards()[0]);
  expect(cardText(reply.card)).toContain(`I found no user matching “${query}”`);
  expect(cardText(reply.card)).toContain('USER_NOT_FOUND');
  expect(actionVerbs(reply.card)).toEqual([]);
}, 30_000);

test('a Set-CASMailbox answered with 500 leaves the request failed with a code the user sees, and the mailbox unchanged', async () => {
  const { requestId, approvalCard } = await requestEnableForBob();
  await tenant.simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'exchange', match: 'Set-CASMailbox', status: 500, times: 10 }] });
  await teams.press(megan, 'request.approve', { requestId });
  const failed = await tenant.connector.waitFor('the failure card', () => tenant.connector.updates(approvalCard.id).find((c) => cardText(c).includes('The change failed')));
  expect(cardText(failed)).toContain('TENANT_UNAVAILABLE');
  // The requester is told too (and the notice is in before the next test looks at the chat).
  await tenant.connector.waitFor('the requester\'s notice', () => tenant.connector.postedCards().find((p) => p.call.conversationId === `a:${alex.id}` && cardText(p.card).includes('failed (TENANT_UNAVAILABLE)')));
  expect(await successfulSets()).toHaveLength(0);
  expect(await tenant.simulator.mailboxOf(bob.id)).toEqual(bob.mailbox);
  failedRequestIds.push(requestId);
}, 60_000);

test('a tenant that does not answer in time leaves the request failed with TENANT_TIMEOUT', async () => {
  const { requestId, approvalCard } = await requestEnableForBob();
  await tenant.simulator.control('POST', '/_simulator/faults', { latencyMs: 4000, rules: [] });
  await teams.press(megan, 'request.approve', { requestId });
  const failed = await tenant.connector.waitFor('the failure card', () => tenant.connector.updates(approvalCard.id).find((c) => cardText(c).includes('The change failed')), 40_000);
  expect(cardText(failed)).toContain('TENANT_TIMEOUT');
  await tenant.connector.waitFor('the requester\'s notice', () => tenant.connector.postedCards().find((p) => p.call.conversationId === `a:${alex.id}` && cardText(p.card).includes('failed (TENANT_TIMEOUT)')));
  await tenant.simulator.control('DELETE', '/_simulator/faults');
  failedRequestIds.push(requestId);
}, 60_000);

test('a message from another tenant gets a polite refusal and nothing else', async () => {
  await teams.message(alex, 'enable SMTP for bob', { tenantId: '11111111-2222-3333-4444-555555555555' });
  const reply = await tenant.connector.waitFor('the reply', () => tenant.connector.postedCards()[0]);
  expect(cardText(reply.card)).toContain('only works for the organization that installed it');
  const calls = await tenant.simulator.control<SimCall[]>('GET', '/_simulator/calls');
  expect(calls.filter((c) => c.service !== 'token')).toEqual([]);
}, 30_000);

test('smtp status answers with the state card and changes nothing', async () => {
  await teams.message(alex, 'smtp status bob');
  const reply = await tenant.connector.waitFor('the reply', () => tenant.connector.postedCards()[0]);
  expect(cardText(reply.card)).toContain(bob.displayName);
  expect(cardText(reply.card)).toMatch(/SMTP AUTH for this mailbox/);
  // Reads only; bob's mailbox setting is a blocker SMTP Gate can change, so the card offers Fix (issue #9).
  expect(actionVerbs(reply.card)).toEqual(['diagnosis.fix']);
  expect(await tenant.simulator.setCasMailboxCalls()).toHaveLength(0);
}, 30_000);

test('Teams redelivering the same activity is answered once, and makes no second request', async () => {
  const id = 'redelivered-activity-1';
  await teams.message(alex, 'enable SMTP for bob', { id });
  await teams.message(alex, 'enable SMTP for bob', { id });
  const [first] = await tenant.connector.waitFor('the reply', () => tenant.connector.postedCards().length >= 1 && tenant.connector.postedCards());
  expect(requestIdOf(first!.card)).toBeTruthy();
  await new Promise((r) => setTimeout(r, 300));
  expect(tenant.connector.postedCards()).toHaveLength(1);
}, 30_000);

test('Spanish in, Spanish out: "habilita SMTP para bob" gets a Spanish confirmation card', async () => {
  await teams.message(alex, 'habilita SMTP para bob');
  const reply = await tenant.connector.waitFor('the reply', () => tenant.connector.postedCards()[0]);
  expect(cardText(reply.card)).toContain('Habilitar SMTP AUTH para Bob Smith');
  expect((reply.card.actions ?? []).map((a) => a.title)).toEqual(['Confirmar', 'Cancelar']);
}, 30_000);

test('several people match: a pick card, and picking one drafts the request for that person only', async () => {
  await teams.message(alex, 'enable SMTP for Bo');
  const pick = await tenant.connector.waitFor('the pick card', () => tenant.connector.postedCards()[0]);
  expect(cardText(pick.card)).toContain('Several people match');
  const jones = fixture.users.find((u) => u.displayName === 'Bob Jones')!;
  const choice = pick.card.actions!.find((a) => a.title.includes(jones.userPrincipalName))!;
  expect(choice.data).toEqual({ verb: 'user.pick', requestId: expect.any(String), userId: jones.id });
  const forged = await teams.press(alex, 'user.pick', { requestId: choice.data!.requestId, userId: fixture.users.find((u) => u.displayName === 'Alex Wilber')!.id });
  expect(cardText(forged.body.value)).toContain('BAD_ACTION_DATA');
  const picked = await teams.press(alex, 'user.pick', choice.data!);
  expect(cardText(picked.body.value)).toContain('Enable SMTP AUTH for Bob Jones');
  expect(actionVerbs(picked.body.value)).toEqual(['request.confirm', 'request.cancel']);
}, 30_000);

test('Action.Submit from older clients: the same verbs in a message value update the clicked card', async () => {
  await teams.message(alex, 'enable SMTP for bob');
  const confirm = await tenant.connector.waitFor('the confirmation card', () => tenant.connector.postedCards()[0]);
  const requestId = requestIdOf(confirm.card);
  expect(await teams.submit(alex, { verb: 'request.cancel', requestId }, { replyToId: confirm.id })).toBe(200);
  const updated = await tenant.connector.waitFor('the card updated', () => tenant.connector.updates(confirm.id)[0]);
  expect(cardText(updated)).toContain('Cancelled');
  const again = await teams.press(alex, 'request.confirm', { requestId });
  expect(cardText(again.body.value)).toContain("can't be changed any more: it is Cancelled");
}, 30_000);

test('tampered card data is refused with a clear card: unknown verb, missing or foreign request id', async () => {
  const unknown = await teams.press(alex, 'request.explode', { requestId: '00000000-0000-4000-8000-000000000000' });
  expect(cardText(unknown.body.value)).toContain('UNKNOWN_ACTION');
  const missing = await teams.press(megan, 'request.approve', {});
  expect(cardText(missing.body.value)).toContain('BAD_ACTION_DATA');
  const foreign = await teams.press(megan, 'request.approve', { requestId: '00000000-0000-4000-8000-000000000000' });
  expect(cardText(foreign.body.value)).toContain('REQUEST_NOT_FOUND');
  expect(await tenant.simulator.setCasMailboxCalls()).toHaveLength(0);
}, 30_000);

test('/healthz answers 503 while the tenant is unreachable and 200 again when it is back', async () => {
  expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
  await tenant.simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'graph', status: 503 }] });
  const down = await fetch(`${bot.url}/healthz`);
  expect(down.status).toBe(503);
  expect(await down.json()).toEqual({ store: 'ok', tenant: 'unreachable' });
  await tenant.simulator.control('DELETE', '/_simulator/faults');
  expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
}, 30_000);

test('the store holds the whole story: audit with before, after and approver; failed requests with their codes', async () => {
  await bot.stop();
  const store = new Store(await openDb({ dataDir }));
  try {
    const events = await store.auditEvents(happyPathRequestId);
    const write = events.find((e) => e.action === 'tenant.write');
    expect(write?.detail).toMatchObject({
      cmdlet: 'Set-CASMailbox', identity: bob.userPrincipalName, readBackMatched: true,
      before: { mailboxSmtpClientAuthenticationDisabled: bob.mailbox!.smtpClientAuthenticationDisabled },
      after: { mailboxSmtpClientAuthenticationDisabled: false, effectiveEnabled: true },
    });
    expect(events.find((e) => e.action === 'request.approve')?.actorId).toBe(megan.id);
    expect((await store.getRequest(happyPathRequestId))?.state).toBe('succeeded');
    const failed = await Promise.all(failedRequestIds.map((id) => store.getRequest(id)));
    expect(failed.map((r) => [r?.state, r?.errorCode])).toEqual([['failed', 'TENANT_UNAVAILABLE'], ['failed', 'TENANT_TIMEOUT']]);
    const created = await store.db.query<{ n: number }>("SELECT count(*)::int AS n FROM requests WHERE params->>'query' = $1", [unknownUserQueries[0]]);
    expect(created[0]!.n).toBe(0);
    const denied = (await store.auditEvents()).filter((e) => e.action === 'action.denied').map((e) => e.detail.reason);
    expect(denied).toEqual(expect.arrayContaining(['SELF_APPROVAL', 'NOT_APPROVER']));
  } finally {
    await store.close();
  }
}, 60_000);

async function waitUntil(probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
