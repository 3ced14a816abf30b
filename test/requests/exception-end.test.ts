import { actionVerbs, cardText, isApprovalCard, requestIdOf, type CardJson } from '../support/fake-connector';
import { botOnTenant, demoFixture, demoUser, tenantSuite, type BotOnTenant } from '../support/harness';
import type { TeamsUser } from '../support/teams';

/**
 * Ending a granted exception early (issue #8): End now on the `exceptions` card drafts a request
 * that turns the mailbox's SMTP AUTH off — confirmed by the click, approved as its risk says (low:
 * QUORUM_LOW, none by default) — and when it succeeds the register ends the exception, audited,
 * with no revert left to run. The card says what is true at each moment; an old card's End is stale.
 */

const day = 86_400_000;
const alex = demoUser('Alex Wilber'); // IT staff
const megan = demoUser('Megan Bowen'); // approver
const adele = demoUser('Adele Vance'); // IT staff and approver
const bob = demoFixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;

const tenant = tenantSuite();

/** A bot of its own, with these settings, on the tenant as the fixture has it. */
function botWith(settings: Record<string, string>) {
  beforeAll(() => tenant.simulator.control('POST', '/_simulator/reset'));
  return botOnTenant(tenant, { name: 'exception-end', startsAt: '2026-11-23T09:00:00Z', settings });
}

async function newPosts(context: BotOnTenant, action: () => Promise<unknown>): Promise<CardJson[]> {
  const before = tenant.connector.postedCards().length;
  await action();
  await context.bot.server.drain();
  return tenant.connector.postedCards().slice(before).map((p) => p.card);
}

async function ask(context: BotOnTenant, user: TeamsUser, text: string): Promise<CardJson> {
  const [card] = await newPosts(context, () => context.bot.teams.message(user, text));
  return card!;
}

/** Bob's exception, granted: Alex asks, Megan approves. */
async function grantBob(context: BotOnTenant): Promise<string> {
  const requestId = requestIdOf(await ask(context, alex, 'enable SMTP for bob for the floor 2 scanner'));
  await newPosts(context, () => context.bot.teams.press(alex, 'request.confirm', { requestId }));
  await newPosts(context, () => context.bot.teams.press(megan, 'request.approve', { requestId }));
  expect(await tenant.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: false });
  return requestId;
}

/** The End now button on an `exceptions` card's entry for this person. */
function endButton(card: CardJson, name: string): Record<string, unknown> | undefined {
  const entry = (card.body ?? []).filter((e) => e.type === 'Container').find((c) => String((c.items as { text?: string }[])[0]?.text ?? '').startsWith(name));
  const set = (entry?.items as Record<string, unknown>[] | undefined)?.find((i) => i.type === 'ActionSet') as { actions: { verb: string; data: Record<string, unknown> }[] } | undefined;
  return set?.actions.find((a) => a.verb === 'exception.end')?.data;
}

describe('with the default quorum (a low-risk change needs no approval)', () => {
  const context = botWith({});

  test('End now turns SMTP AUTH off once, ends the exception, audits it, and the cards say so; an old End is refused', async () => {
    const grant = await grantBob(context);
    context.clock.advance(2 * day);
    const setsBefore = (await tenant.simulator.setCasMailboxCalls()).length;

    // Only IT staff get the button; an approver who is not IT staff reads the register without it.
    expect(endButton(await ask(context, megan, 'exceptions'), 'Bob Smith')).toBeUndefined();
    const data = endButton(await ask(context, alex, 'exceptions'), 'Bob Smith')!;
    expect(Object.keys(data).sort()).toEqual(['exceptionId', 'language', 'requestId', 'verb', 'view']);
    expect(JSON.stringify(data)).not.toMatch(/bob@|SmtpClientAuthenticationDisabled/);

    const forged = await context.bot.teams.press(megan, 'exception.end', data);
    expect(cardText(forged.body.value)).toContain('NOT_IT_STAFF');

    let answer: { body: { value?: CardJson } } | undefined;
    const before = tenant.connector.postedCards().length;
    const posted = await newPosts(context, async () => { answer = await context.bot.teams.press(alex, 'exception.end', data); });
    const postedIds = tenant.connector.postedCards().slice(before).map((p) => p.id);
    expect(cardText(answer!.body.value)).toContain('Ending the exception for Bob Smith early: the request that turns SMTP AUTH off is below.');
    // At the moment of the answer the request is on its way: the entry says so and offers no second End.
    expect(cardText(answer!.body.value)).toContain('Being ended early (asked by Alex Wilber)');
    expect(endButton(answer!.body.value!, 'Bob Smith')).toBeUndefined();

    const requestCard = posted.find((card) => cardText(card).includes('Disable SMTP AUTH for Bob Smith'))!;
    const endId = /Ref: ([0-9a-f-]{36})/.exec(cardText(requestCard))![1]!;
    const ended = await context.bot.server.store.getRequest(endId);
    expect([ended?.state, ended?.risk, ended?.requiredApprovals, ended?.params.endsException]).toEqual(['succeeded', 'low', 0, expect.any(String)]);
    expect(await tenant.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: true });
    const sets = (await tenant.simulator.setCasMailboxCalls()).slice(setsBefore);
    expect(sets.map((c) => c.parameters?.SmtpClientAuthenticationDisabled)).toEqual([true]);
    expect((await context.bot.server.store.activeExceptions(demoFixture.tenant.id)).map((e) => e.targetUserId)).not.toContain(bob.id);
    const audit = (await context.bot.server.store.auditEvents(endId)).map((e) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['exception.end-requested', 'tenant.write', 'exception.ended']));
    // The request's card below was brought up to date: done, and nothing is left to revert.
    const updated = postedIds.flatMap((id) => tenant.connector.updates(id));
    expect(updated.some((card) => cardText(card).includes('Disable SMTP AUTH for Bob Smith') && cardText(card).includes('Done'))).toBe(true);
    expect((await context.bot.server.store.jobs(grant)).filter((j) => j.state === 'scheduled')).toEqual([]);
    expect(cardText(await ask(context, alex, 'exceptions'))).not.toContain('Bob Smith (bob@contoso.com)');

    // The old card's End, pressed again: the exception is no longer active; nothing drafted, nothing written.
    const requests = (await context.bot.server.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM requests'))[0]!.n;
    const stale = await context.bot.teams.press(adele, 'exception.end', data);
    expect(cardText(stale.body.value)).toContain('EXCEPTION_NOT_ACTIVE');
    expect(cardText(stale.body.value)).toContain('SMTP AUTH exceptions');
    await context.bot.server.drain();
    expect((await context.bot.server.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM requests'))[0]!.n).toBe(requests);
    expect((await tenant.simulator.setCasMailboxCalls()).length).toBe(setsBefore + 1);
  }, 90_000);
});

describe('when the mailbox was turned off outside SMTP Gate', () => {
  const context = botWith({});

  test('End now writes nothing, ends the exception in the register, audits who saw it, and leaves no revert to run', async () => {
    const grant = await grantBob(context);
    // Someone turns Bob's SMTP AUTH off by hand: the tenant as the fixture has it (off), the register still says on.
    await tenant.simulator.control('POST', '/_simulator/reset');
    expect(await tenant.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: true });
    const data = endButton(await ask(context, alex, 'exceptions'), 'Bob Smith')!;
    const requests = (await context.bot.server.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM requests'))[0]!.n;
    const answer = await context.bot.teams.press(alex, 'exception.end', data);
    await context.bot.server.drain();
    expect(cardText(answer.body.value)).toContain("Bob Smith's mailbox already has SMTP AUTH off (it was changed outside SMTP Gate), so nothing was written: I ended the exception in the register.");
    expect(await tenant.simulator.setCasMailboxCalls()).toEqual([]);
    expect((await context.bot.server.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM requests'))[0]!.n).toBe(requests);
    expect((await context.bot.server.store.activeExceptions(demoFixture.tenant.id)).map((e) => e.targetUserId)).not.toContain(bob.id);
    const ended = (await context.bot.server.store.auditEvents(grant)).find((e) => e.action === 'exception.ended');
    expect(ended?.detail).toEqual(expect.objectContaining({ by: 'Alex Wilber', reason: 'already-off' }));
    expect((await context.bot.server.store.jobs(grant)).filter((j) => j.state === 'scheduled')).toEqual([]);
    // Pressed again: the exception is no longer active.
    expect(cardText((await context.bot.teams.press(adele, 'exception.end', data)).body.value)).toContain('EXCEPTION_NOT_ACTIVE');
  }, 90_000);
});

describe('with QUORUM_LOW=1 (a low-risk change needs one approval)', () => {
  const context = botWith({ QUORUM_LOW: '1' });

  test('End now drafts a request the approvers decide; until they do the exception stays, and a second End points at the first', async () => {
    await grantBob(context);
    const setsBefore = (await tenant.simulator.setCasMailboxCalls()).length;
    const data = endButton(await ask(context, alex, 'exceptions'), 'Bob Smith')!;
    const posted = await newPosts(context, () => context.bot.teams.press(alex, 'exception.end', data));
    const approval = posted.find(isApprovalCard)!;
    const endId = requestIdOf(posted.find((card) => actionVerbs(card).includes('request.cancel'))!);
    expect(cardText(approval)).toContain('Disable SMTP AUTH for Bob Smith');
    expect((await context.bot.server.store.getRequest(endId))?.state).toBe('pending');
    expect((await context.bot.server.store.activeExceptions(demoFixture.tenant.id)).map((e) => e.targetUserId)).toContain(bob.id);
    expect((await tenant.simulator.setCasMailboxCalls()).length).toBe(setsBefore);

    // Another copy of the register (Adele's, from before): already being ended, by whom.
    const second = await context.bot.teams.press(adele, 'exception.end', { ...data, language: 'es' });
    expect(cardText(second.body.value)).toContain('EXCEPTION_ALREADY_ENDING');
    expect(cardText(second.body.value)).toContain('Alex Wilber ya pidió finalizar esta excepción antes de tiempo');

    await newPosts(context, () => context.bot.teams.press(megan, 'request.approve', { requestId: endId }));
    expect(await tenant.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: true });
    expect((await context.bot.server.store.activeExceptions(demoFixture.tenant.id)).map((e) => e.targetUserId)).not.toContain(bob.id);
  }, 90_000);
});
