import type { TenantFixture } from '../../src/simulator/fixture';
import { describeWithPostgres } from '../support/databases';
import { recordFigure } from '../support/figures';
import { cardText } from '../support/fake-connector';
import { demoFixture, demoUser, inProcessBotSuite, pendingEnable } from '../support/harness';
import type { TeamsUser } from '../support/teams';

/**
 * Five approves and five rejects on one request at once, on PostgreSQL: one decision wins, and every
 * clicker is told what really happened — nobody hears "Approved" about a request that ended rejected
 * (issue #13, hole 7).
 */
const alex = demoUser('Alex Wilber');
const approverGroup = demoFixture.localMode!.approverGroupId;
const approvers: TeamsUser[] = Array.from({ length: 10 }, (_, i) => ({ id: `00000000-0000-4000-8000-0000000b${String(i).padStart(4, '0')}`, name: `Approver ${i}` }));

function fixtureWithApprovers(): TenantFixture {
  const fixture = structuredClone(demoFixture);
  for (const [i, a] of approvers.entries()) {
    fixture.users.push({
      id: a.id, displayName: a.name, userPrincipalName: `approver${i}@contoso.com`, mail: `approver${i}@contoso.com`, givenName: 'Approver', surname: String(i),
      preferredLanguage: null, accountEnabled: true, mailbox: { smtpClientAuthenticationDisabled: null }, perUserMfaState: 'disabled',
    });
  }
  const group = fixture.groups!.find((g) => g.id === approverGroup)!;
  group.members = [...(group.members ?? []), ...approvers.map((a) => a.id)];
  return fixture;
}

describeWithPostgres('an approve/reject race on PostgreSQL', () => {
  const suite = inProcessBotSuite({ name: 'race', startsAt: '2026-11-23T09:00:00Z', database: 'postgres' });
  beforeAll(() => suite.simulator.control('POST', '/_simulator/reset', fixtureWithApprovers()));

  const rounds: { outcome: string; told: number; clickers: number; writes: number }[] = [];
  afterAll(() => {
    if (rounds.length !== 3) return;
    recordFigure('approve-reject-race', {
      suite: 'Approve/reject race on PostgreSQL (hole 7)',
      tried: `${rounds.length} rounds of 5 approves + 5 rejects on one request at once`,
      held: `1 decision per round (${rounds.map((r) => r.outcome).join(', ')}); ${rounds.reduce((n, r) => n + r.told, 0)} of ${rounds.reduce((n, r) => n + r.clickers, 0)} clickers told the real outcome; ${rounds.reduce((n, r) => n + r.writes, 0)} writes, one per approved round`,
    });
  });

  test.each([['first'], ['second'], ['third']])('round %s: 5 approves and 5 rejects at once, each clicker told the real outcome', async () => {
    const { requestId } = await pendingEnable(suite, alex, 'enable SMTP for jose.nunez@contoso.com for the floor 2 scanner', { justification: 'floor 2 scanner' });
    expect((await suite.bot.server.store.getRequest(requestId))?.state).toBe('pending');
    const writesBefore = (await suite.simulator.setCasMailboxCalls()).length;

    const answers = await Promise.all(approvers.map((a, i) => suite.bot.teams.press(a, i % 2 ? 'request.reject' : 'request.approve', { requestId })
      .then((answer) => ({ verb: i % 2 ? 'reject' : 'approve', status: answer.status, text: cardText(answer.body.value) }))));
    await suite.bot.server.drain();

    const final = (await suite.bot.server.store.getRequest(requestId))!;
    const decisions = await suite.bot.server.store.approvals(requestId);
    expect(decisions).toHaveLength(1);
    const rejected = decisions[0]!.decision === 'reject';
    expect(final.state).toBe(rejected ? 'rejected' : 'succeeded');
    expect((await suite.simulator.setCasMailboxCalls()).length - writesBefore).toBe(rejected ? 0 : 1);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      if (rejected) {
        expect(answer.text).toContain('Rejected');
        expect(answer.text).not.toMatch(/Approved — applying|Applying the change|Done/);
      } else {
        expect(answer.text).not.toContain('Rejected');
      }
    }
    // The loser clicks are told the request is closed, and in which state.
    expect(answers.filter((a) => a.text.includes("can't be changed any more"))).toHaveLength(9);
    rounds.push({ outcome: rejected ? 'rejected' : 'approved', told: answers.length, clickers: approvers.length, writes: (await suite.simulator.setCasMailboxCalls()).length - writesBefore });
    // Reset the mailbox for the next round.
    if (!rejected) await suite.simulator.control('POST', '/_simulator/reset', fixtureWithApprovers());
  }, 60_000);
});
