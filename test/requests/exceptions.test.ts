import { actionVerbs, cardText, isApprovalCard, requestIdOf, type CardJson } from '../support/fake-connector';
import { botOnTenant, demoFixture, demoUser, requestOfCard, tenantSuite, type FakeConnector } from '../support/harness';

/**
 * The exceptions register (issue #5): every enable is a justified, expiring exception; `exceptions`
 * lists them and the mailboxes that have SMTP AUTH on without a request; approvers are reminded
 * before one ends and may extend it or let it lapse.
 */

const day = 24 * 3_600_000;
const alex = demoUser('Alex Wilber'); // IT staff
const megan = demoUser('Megan Bowen'); // approver
const adele = demoUser('Adele Vance'); // IT staff and approver
const upnOf = (name: string) => demoFixture.users.find((u) => u.displayName === name)!.userPrincipalName;
const idOf = (name: string) => demoFixture.users.find((u) => u.displayName === name)!.id;
const utc = (date: Date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

const tenant = tenantSuite();

beforeEach(async () => {
  await tenant.simulator.control('POST', '/_simulator/reset');
  tenant.connector.calls.length = 0;
});

/** A bot with its own store and clock, so one describe's jobs never come due in another. */
const botFor = (start: string) => botOnTenant(tenant, { name: 'exceptions', startsAt: start });

function inputsOf(card: CardJson | undefined): Record<string, unknown>[] {
  return (card?.body ?? []).filter((element) => typeof element.type === 'string' && element.type.startsWith('Input.'));
}

/** The entries of an `exceptions` card with buttons: their text and actions (an active exception's End now, or Adopt / Disable). */
function entriesWithButtons(card: CardJson): { text: string; actions: { verb?: string; data?: Record<string, unknown> }[] }[] {
  return (card.body ?? [])
    .filter((element) => element.type === 'Container')
    .map((container) => {
      const items = container.items as Record<string, unknown>[];
      const actionSet = items.find((item) => item.type === 'ActionSet') as { actions: { verb?: string; data?: Record<string, unknown> }[] } | undefined;
      return { text: items.filter((item) => item.type === 'TextBlock').map((item) => String(item.text)).join(' '), actions: actionSet?.actions ?? [] };
    })
    .filter((entry) => entry.actions.length > 0);
}

/** The unmanaged mailboxes an `exceptions` card flags: the entries offering Adopt and Disable. */
function unmanagedEntries(card: CardJson) {
  return entriesWithButtons(card).filter((entry) => entry.actions.some((a) => a.verb === 'exception.adopt'));
}

// Both bots live for the whole file: a port freed by one and reused by the next would meet a stale keep-alive socket.
const grantingBot = botFor('2026-11-23T09:00:00Z');
const expiryBot = botFor('2026-11-23T09:00:00Z');

describe('granting and listing exceptions', () => {
  const context = grantingBot;

  async function newPosts<T>(work: () => Promise<T>): Promise<{ result: T; posts: ReturnType<FakeConnector['postedCards']> }> {
    const before = tenant.connector.postedCards().length;
    const result = await work();
    await context.bot.server.drain();
    return { result, posts: tenant.connector.postedCards().slice(before) };
  }

  async function ask(user: typeof alex, text: string): Promise<CardJson> {
    const { posts } = await newPosts(() => context.bot.teams.message(user, text));
    return posts[0]!.card;
  }

  async function approvalCardFor(requestId: string) {
    return tenant.connector.waitFor('the approval card', () => tenant.connector.postedCards().find((p) => isApprovalCard(p.card) && requestOfCard(p.card) === requestId));
  }

  test('a justification in the message is recorded with the default 90-day expiry and shows in `exceptions`', async () => {
    const scanner = 'Floor 2 Scanner';
    const confirm = await ask(alex, `enable SMTP for ${upnOf(scanner)} for the floor 2 scanner`);
    expect(cardText(confirm)).toContain('Justification');
    expect(cardText(confirm)).toContain('the floor 2 scanner');
    expect(cardText(confirm)).toContain('Time-boxed: reverts automatically 90 days after it is applied.');
    expect(inputsOf(confirm)).toEqual([]);
    const requestId = requestIdOf(confirm);
    expect(JSON.stringify(confirm.actions)).not.toMatch(/scanner2@|SmtpClientAuthenticationDisabled|floor 2/);

    await context.bot.teams.press(alex, 'request.confirm', { requestId });
    await context.bot.server.drain();
    const approval = await approvalCardFor(requestId);
    expect(cardText(approval.card)).toContain('the floor 2 scanner');
    await context.bot.teams.press(megan, 'request.approve', { requestId });
    await context.bot.server.drain();
    expect(await tenant.simulator.mailboxOf(idOf(scanner))).toEqual({ smtpClientAuthenticationDisabled: false });

    const until = utc(new Date(context.clock.now().getTime() + 90 * day));
    const list = cardText(await ask(alex, 'exceptions'));
    expect(list).toContain(`${scanner} (${upnOf(scanner)})`);
    expect(list).toContain('the floor 2 scanner');
    expect(list).toContain('Alex Wilber');
    expect(list).toContain('Megan Bowen');
    expect(list).toContain(until);

    const audit = await context.bot.server.store.auditEvents(requestId);
    expect(audit.find((e) => e.action === 'exception.created')?.detail).toMatchObject({ target: upnOf(scanner), justification: 'the floor 2 scanner', approvers: ['Megan Bowen'], permanent: false });
    const jobs = await context.bot.server.store.jobs(requestId);
    expect(jobs.filter((j) => j.state === 'scheduled').map((j) => [j.kind, j.runAt.toISOString()])).toEqual([
      ['exception.remind', new Date(context.clock.now().getTime() + 83 * day).toISOString()],
      ['request.revert', new Date(context.clock.now().getTime() + 90 * day).toISOString()],
    ]);
  }, 60_000);

  test('without a justification the card asks for one: Confirm with an empty or too long one is refused, then accepted', async () => {
    const confirm = await ask(alex, `enable SMTP for ${upnOf('Grady Archie')}`);
    expect(inputsOf(confirm)).toEqual([expect.objectContaining({ type: 'Input.Text', id: 'justification' })]);
    const requestId = requestIdOf(confirm);

    const empty = await context.bot.teams.press(alex, 'request.confirm', { requestId, justification: '   ' });
    expect(cardText(empty.body.value)).toContain('An SMTP AUTH exception needs a justification');
    expect(cardText(empty.body.value)).toContain('JUSTIFICATION_REQUIRED');
    expect(actionVerbs(empty.body.value)).toEqual(['request.confirm', 'request.cancel']);
    expect(inputsOf(empty.body.value)).toHaveLength(1);
    const missing = await context.bot.teams.press(alex, 'request.confirm', { requestId });
    expect(cardText(missing.body.value)).toContain('JUSTIFICATION_REQUIRED');
    const long = await context.bot.teams.press(alex, 'request.confirm', { requestId, justification: 'x'.repeat(301) });
    expect(cardText(long.body.value)).toContain('That justification is too long: keep it to 300 characters.');
    expect((await context.bot.server.store.getRequest(requestId))?.state).toBe('draft');

    const accepted = await context.bot.teams.press(alex, 'request.confirm', { requestId, justification: '  the label printer  ' });
    expect(cardText(accepted.body.value)).toContain('Waiting for approval');
    expect(cardText(accepted.body.value)).toContain('the label printer');
    expect(inputsOf(accepted.body.value)).toEqual([]);
    expect((await context.bot.server.store.getRequest(requestId))?.params.justification).toBe('the label printer');
    await context.bot.server.drain();
    expect(cardText((await approvalCardFor(requestId)).card)).toContain('the label printer');
    expect(await tenant.simulator.setCasMailboxCalls()).toHaveLength(0);
  }, 60_000);

  test('"permanent" needs the high-risk quorum: two approvers, then an exception without expiry', async () => {
    const jose = 'José Núñez';
    const confirm = await ask(alex, `enable SMTP for ${upnOf(jose)} permanently for the payroll app`);
    expect(cardText(confirm)).toContain('Approvals needed after you confirm: 2.');
    expect(cardText(confirm)).toContain('Permanent (no expiry)');
    expect(cardText(confirm)).not.toContain('Time-boxed');
    const requestId = requestIdOf(confirm);
    expect((await context.bot.server.store.getRequest(requestId))?.risk).toBe('high');

    await context.bot.teams.press(alex, 'request.confirm', { requestId });
    await context.bot.server.drain();
    await context.bot.teams.press(megan, 'request.approve', { requestId });
    await context.bot.server.drain();
    expect(await tenant.simulator.setCasMailboxCalls()).toHaveLength(0);
    await context.bot.teams.press(adele, 'request.approve', { requestId });
    await context.bot.server.drain();
    expect(await tenant.simulator.mailboxOf(idOf(jose))).toEqual({ smtpClientAuthenticationDisabled: false });

    const list = cardText(await ask(alex, 'exceptions'));
    expect(list).toContain(`${jose} (${upnOf(jose)})`);
    expect(list).toContain('the payroll app');
    expect(list).toMatch(/Megan Bowen, Adele Vance|Adele Vance, Megan Bowen/);
    expect(list).toContain('Permanent (no expiry)');
    expect((await context.bot.server.store.jobs(requestId)).filter((j) => j.state === 'scheduled')).toEqual([]);
  }, 60_000);

  test('`exceptions` flags mailboxes on without a request; "disable" drafts a disable request, "adopt" records an exception', async () => {
    const denied = cardText(await ask(demoUser('Bob Smith'), 'exceptions'));
    expect(denied).toContain('NOT_IT_STAFF');

    const card = await ask(megan, 'exceptions');
    expect(cardText(card)).toContain('Unmanaged (on without a request): 2');
    const entries = unmanagedEntries(card);
    expect(entries.map((e) => e.text)).toEqual([`Unmanaged: Adele Vance (${upnOf('Adele Vance')})`, `Unmanaged: 王伟 (${upnOf('王伟')})`]);
    expect(entries[0]!.actions.map((a) => a.verb)).toEqual(['exception.adopt', 'exception.disable']);
    expect(JSON.stringify(card)).not.toMatch(/"(userId|upn|identity)"/);
    for (const action of entries.flatMap((e) => e.actions)) expect(Object.keys(action.data!).sort()).toEqual(['item', 'reviewId', 'verb']);

    // Approvers may read the register; drafting a change stays with IT staff.
    const notStaff = await context.bot.teams.press(megan, 'exception.disable', entries[0]!.actions[1]!.data!);
    expect(cardText(notStaff.body.value)).toContain('NOT_IT_STAFF');

    const { result: disable, posts: disablePosts } = await newPosts(() => context.bot.teams.press(alex, 'exception.disable', entries[0]!.actions[1]!.data!));
    expect(cardText(disable.body.value)).toContain('A request to turn SMTP AUTH off for Adele Vance is below');
    expect(cardText(disablePosts[0]!.card)).toContain('Disable SMTP AUTH for Adele Vance');
    expect(actionVerbs(disablePosts[0]!.card)).toEqual(['request.confirm', 'request.cancel']);
    expect(await tenant.simulator.setCasMailboxCalls()).toHaveLength(0);

    const { posts: adoptPosts } = await newPosts(() => context.bot.teams.press(alex, 'exception.adopt', entries[1]!.actions[0]!.data!));
    const adopt = adoptPosts[0]!.card;
    expect(cardText(adopt)).toContain('Register the SMTP AUTH that is already on for 王伟'); // already on: registering it, not enabling it
    expect(inputsOf(adopt)).toHaveLength(1);
    const requestId = requestIdOf(adopt);
    await context.bot.teams.press(alex, 'request.confirm', { requestId, justification: 'the billing app' });
    await context.bot.server.drain();
    await context.bot.teams.press(megan, 'request.approve', { requestId });
    await context.bot.server.drain();
    const audit = await context.bot.server.store.auditEvents(requestId);
    expect(audit.find((e) => e.action === 'exception.adopted')?.detail).toMatchObject({ target: upnOf('王伟'), justification: 'the billing app' });
    // Adopting changed nothing in Exchange, so there is nothing to undo.
    const undo = await context.bot.teams.press(alex, 'request.undo', { requestId });
    expect(cardText(undo.body.value)).toContain('NOTHING_TO_UNDO');
    expect(actionVerbs(undo.body.value)).toEqual([]);

    const after = await ask(alex, 'exceptions');
    expect(cardText(after)).toContain(`王伟 (${upnOf('王伟')}) — adopted`);
    // IT staff may end an active exception early; an approver who is not IT staff sees no button for it.
    expect(entriesWithButtons(after).filter((e) => e.text.startsWith('王伟')).map((e) => e.actions.map((a) => a.verb))).toEqual([['exception.end']]);
    expect(entriesWithButtons(await ask(megan, 'exceptions')).flatMap((e) => e.actions.map((a) => a.verb))).not.toContain('exception.end');
    expect(cardText(after)).toContain('Unmanaged (on without a request): 1');
    expect(unmanagedEntries(after).map((e) => e.text)).toEqual([`Unmanaged: Adele Vance (${upnOf('Adele Vance')})`]);

    const tampered = await context.bot.teams.press(alex, 'exception.disable', { reviewId: entries[0]!.actions[1]!.data!.reviewId, item: '7' });
    expect(cardText(tampered.body.value)).toContain('BAD_ACTION_DATA');
  }, 60_000);
});

describe('reminders, extension and lapse', () => {
  const context = expiryBot;

  async function grant(upn: string, reason: string): Promise<string> {
    const before = tenant.connector.postedCards().length;
    await context.bot.teams.message(alex, `enable SMTP for ${upn} for ${reason}`);
    const confirm = await tenant.connector.waitFor('the confirmation card', () => tenant.connector.postedCards()[before]);
    const requestId = requestIdOf(confirm.card);
    await context.bot.teams.press(alex, 'request.confirm', { requestId });
    await context.bot.server.drain();
    await context.bot.teams.press(megan, 'request.approve', { requestId });
    await context.bot.server.drain();
    return requestId;
  }

  function reminders() {
    return tenant.connector.postedCards().filter((p) => actionVerbs(p.card).includes('exception.extend'));
  }

  test('approvers are reminded 7 days before; "let it lapse" is recorded; at expiry SMTP AUTH goes off, once', async () => {
    const bob = demoFixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;
    const requestId = await grant(bob.userPrincipalName, 'the floor 2 scanner');
    const endsAt = new Date(context.clock.now().getTime() + 90 * day);
    expect(await tenant.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: false });

    context.clock.advance(83 * day - 60_000);
    expect(await context.bot.server.runDueJobs()).toBe(0);
    context.clock.advance(2 * 60_000);
    expect(await context.bot.server.runDueJobs()).toBe(1);
    const [reminder] = reminders();
    expect(cardText(reminder!.card)).toContain('The SMTP AUTH exception for Bob Smith ends soon');
    expect(cardText(reminder!.card)).toContain(`It ends on ${utc(endsAt)}`);
    expect(cardText(reminder!.card)).toContain('the floor 2 scanner');
    expect(actionVerbs(reminder!.card)).toEqual(['exception.extend', 'exception.lapse']);
    expect(reminder!.card.actions!.map((a) => Object.keys(a.data!).sort())).toEqual([['requestId', 'verb'], ['requestId', 'verb']]);

    const outsider = await context.bot.teams.press(demoUser('Bob Smith'), 'exception.lapse', { requestId });
    expect(cardText(outsider.body.value)).toContain('NOT_APPROVER');
    const lapse = await context.bot.teams.press(megan, 'exception.lapse', { requestId });
    expect(cardText(lapse.body.value)).toContain(`Megan Bowen chose to let the exception for Bob Smith lapse: SMTP AUTH goes off on ${utc(endsAt)}.`);

    context.clock.advance(7 * day);
    expect(await context.bot.server.runDueJobs()).toBe(1);
    expect(await tenant.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: bob.mailbox!.smtpClientAuthenticationDisabled });
    expect((await tenant.simulator.setCasMailboxCalls()).map((c) => c.parameters?.SmtpClientAuthenticationDisabled)).toEqual([false, bob.mailbox!.smtpClientAuthenticationDisabled]);
    context.clock.advance(day);
    expect(await context.bot.server.runDueJobs()).toBe(0);
    expect(await tenant.simulator.setCasMailboxCalls()).toHaveLength(2);

    const actions = (await context.bot.server.store.auditEvents(requestId)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['exception.created', 'exception.reminded', 'exception.lapse-chosen', 'exception.lapsed']));
    const late = await context.bot.teams.press(megan, 'exception.extend', { requestId });
    expect(cardText(late.body.value)).toContain('EXCEPTION_NOT_ACTIVE');
  }, 60_000);

  test('"extend" is a new request under the same gating; once approved the old expiry no longer applies', async () => {
    const jose = demoFixture.users.find((u) => u.displayName === 'José Núñez')!;
    const requestId = await grant(jose.userPrincipalName, 'the payroll app');
    context.clock.advance(83 * day + 60_000);
    expect(await context.bot.server.runDueJobs()).toBe(1);
    expect(reminders().length).toBeGreaterThan(0);

    const before = tenant.connector.postedCards().length;
    const extend = await context.bot.teams.press(megan, 'exception.extend', { requestId });
    expect(cardText(extend.body.value)).toContain('Megan Bowen asked to extend the exception for José Núñez. The extension is waiting for approval.');
    await context.bot.server.drain();
    const approval = await tenant.connector.waitFor('the extension approval card', () => tenant.connector.postedCards().slice(before).find((p) => cardText(p.card).includes('Enable SMTP AUTH for José Núñez')));
    const extensionId = requestOfCard(approval.card)!;
    expect(cardText(approval.card)).toContain('the payroll app');
    const own = await context.bot.teams.press(megan, 'request.approve', { requestId: extensionId });
    expect(cardText(own.body.value)).toContain('SELF_APPROVAL');
    await context.bot.teams.press(adele, 'request.approve', { requestId: extensionId });
    await context.bot.server.drain();

    const newEnd = new Date(context.clock.now().getTime() + 90 * day);
    context.clock.advance(7 * day);
    expect(await context.bot.server.runDueJobs()).toBe(0);
    expect(await tenant.simulator.mailboxOf(jose.id)).toEqual({ smtpClientAuthenticationDisabled: false });

    const audit = await context.bot.server.store.auditEvents(extensionId);
    expect(audit.find((e) => e.action === 'exception.extended')?.detail).toMatchObject({ target: jose.userPrincipalName, to: newEnd.toISOString(), approvers: ['Adele Vance'] });
    const before2 = tenant.connector.postedCards().length;
    await context.bot.teams.message(alex, 'exceptions');
    const list = cardText((await tenant.connector.waitFor('the list', () => tenant.connector.postedCards()[before2])).card);
    // The register shows the latest grant: who asked for the extension and who approved it.
    expect(list).toContain(utc(newEnd));
    expect(list).toMatch(/Requested by\nMegan Bowen\nApproved by\nAdele Vance/);
  }, 60_000);

  test('a second "Extend" points at the first; approved after the lapse, the extension renews the exception with what it restores to', async () => {
    const stefan = demoFixture.users.find((u) => u.displayName === 'Ștefan Popescu')!;
    const requestId = await grant(stefan.userPrincipalName, 'the door controller');
    expect(await tenant.simulator.mailboxOf(stefan.id)).toEqual({ smtpClientAuthenticationDisabled: false });

    context.clock.advance(90 * day - 60_000);
    await context.bot.server.runDueJobs(); // the reminder
    const posted = tenant.connector.postedCards().length;
    await context.bot.teams.press(megan, 'exception.extend', { requestId });
    await context.bot.server.drain();
    const approval = await tenant.connector.waitFor('the extension approval card', () => tenant.connector.postedCards().slice(posted).find((p) => cardText(p.card).includes('Enable SMTP AUTH for Ștefan Popescu')));
    const extensionId = requestOfCard(approval.card)!;
    const again = await context.bot.teams.press(adele, 'exception.extend', { requestId });
    expect(cardText(again.body.value)).toContain('Megan Bowen already asked to extend the exception for Ștefan Popescu');
    expect(cardText(again.body.value)).toContain(extensionId);
    await context.bot.server.drain();
    expect(tenant.connector.postedCards().slice(posted).filter((p) => cardText(p.card).includes('Enable SMTP AUTH for Ștefan Popescu'))).toHaveLength(1);

    // Nobody approves in time: the exception lapses and SMTP AUTH goes back to inheriting ($null).
    context.clock.advance(2 * 60_000);
    await context.bot.server.runDueJobs();
    expect(await tenant.simulator.mailboxOf(stefan.id)).toEqual({ smtpClientAuthenticationDisabled: null });

    await context.bot.teams.press(adele, 'request.approve', { requestId: extensionId });
    await context.bot.server.drain();
    expect(await tenant.simulator.mailboxOf(stefan.id)).toEqual({ smtpClientAuthenticationDisabled: false });
    const renewed = (await context.bot.server.store.activeExceptions(demoFixture.tenant.id)).find((e) => e.targetUserId === stefan.id);
    expect(renewed).toMatchObject({ requestId: extensionId, originRequestId: requestId, adopted: false, restoreValue: null });
    expect((await context.bot.server.store.auditEvents(extensionId)).map((e) => e.action)).toContain('exception.renewed');

    // When the renewed exception lapses, the mailbox inherits the organization setting again.
    context.clock.advance(91 * day);
    await context.bot.server.runDueJobs();
    expect(await tenant.simulator.mailboxOf(stefan.id)).toEqual({ smtpClientAuthenticationDisabled: null });
  }, 60_000);
});
