import { authPolicyAllowSmtp } from '../../src/commands/auth-policy-allow-smtp';
import { authPolicyReset } from '../../src/commands/auth-policy-reset';
import { mfaDisable } from '../../src/commands/mfa-disable';
import { mfaEnable } from '../../src/commands/mfa-enable';
import { securityDefaultsDisable } from '../../src/commands/security-defaults-disable';
import { securityDefaultsEnable } from '../../src/commands/security-defaults-enable';
import { languages } from '../../src/i18n';
import { answerLanguage, understand } from '../../src/nlu/parse';
import type { TenantFixture } from '../../src/simulator/fixture';
import { actionVerbs, cardText, requestIdOf } from '../support/fake-connector';
import { demoFixture, demoUser, inProcessBotSuite } from '../support/harness';

/**
 * The policy commands from chat, against the simulator: security defaults, per-user MFA and a
 * user's Exchange authentication policy. Each says what the change means before anyone approves
 * it, is gated by its step's risk, writes once, and writes nothing when the target is already so.
 */

const alex = demoUser('Alex Wilber'); // IT staff
const megan = demoUser('Megan Bowen'); // approver
const adele = demoUser('Adele Vance'); // IT staff and approver

const suite = inProcessBotSuite({ name: 'policy-commands', startsAt: '2026-12-01T09:00:00Z' });

type Call = { service: string; method: string; path: string; cmdlet: string | null; parameters: Record<string, unknown> | null; status: number | null };
async function writes(): Promise<Call[]> {
  return (await suite.simulator.control<Call[]>('GET', '/_simulator/calls')).filter((c) => c.method === 'PATCH' || c.cmdlet?.startsWith('Set-'));
}

async function reset(change?: (fixture: TenantFixture) => void) {
  const fixture = structuredClone(demoFixture);
  change?.(fixture);
  await suite.simulator.control('POST', '/_simulator/reset', fixture);
  await suite.simulator.control('DELETE', '/_simulator/calls');
  suite.connector.calls.length = 0;
}

async function ask(text: string) {
  const posted = suite.connector.postedCards().length;
  await suite.bot.teams.message(alex, text);
  return suite.connector.waitFor(`the answer to "${text}"`, () => suite.connector.postedCards()[posted]);
}

async function requestCount(): Promise<number> {
  return (await suite.bot.server.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM requests'))[0]!.n;
}

/** Alex confirms; Megan, then Adele approve while it is still pending. */
async function confirmAndApprove(requestId: string) {
  await suite.bot.teams.press(alex, 'request.confirm', { requestId });
  await suite.bot.server.drain();
  for (const approver of [megan, adele]) {
    if ((await suite.bot.server.store.getRequest(requestId))?.state !== 'pending') break;
    await suite.bot.teams.press(approver, 'request.approve', { requestId });
    await suite.bot.server.drain();
  }
  return suite.bot.server.store.getRequest(requestId);
}

const state = async () => suite.simulator.control<{ org: { securityDefaultsEnabled: boolean }; users: { userPrincipalName: string; perUserMfaState: string; authenticationPolicy: string | null }[] }>('GET', '/_simulator/state');
const userState = async (upn: string) => (await state()).users.find((u) => u.userPrincipalName === upn)!;

test('security-defaults-disable: the card says what else they protect and names the Conditional Access alternative; two approvals; one PATCH', async () => {
  await reset((fixture) => {
    fixture.org.securityDefaultsEnabled = true;
    fixture.conditionalAccessPolicies = [];
  });
  const confirm = await ask('disable security defaults');
  const text = cardText(confirm.card);
  expect(text).toContain('Security defaults protect the whole tenant, not only SMTP AUTH');
  expect(text).toContain('MFA for administrators at every sign-in');
  expect(text).toContain('“Block legacy authentication” for all users except a group of your SMTP devices');
  const done = await confirmAndApprove(requestIdOf(confirm.card));
  expect(done).toMatchObject({ state: 'succeeded', verified: true, risk: 'critical', requiredApprovals: 2 });
  expect((await writes()).map((c) => [c.method, c.path, c.parameters])).toEqual([['PATCH', '/v1.0/policies/identitySecurityDefaultsEnforcementPolicy', { isEnabled: false }]]);
  expect((await state()).org.securityDefaultsEnabled).toBe(false);
  const audit = (await suite.bot.server.store.auditEvents(done!.id)).filter((e) => e.action === 'tenant.write');
  expect(audit.map((e) => e.detail)).toEqual([expect.objectContaining({ stepKind: 'security-defaults', operation: 'PATCH /policies/identitySecurityDefaultsEnforcementPolicy', parameters: { isEnabled: false }, readBackMatched: true })]);

  // Asked again: already so, nothing drafted, nothing written.
  const before = await requestCount();
  await suite.simulator.control('DELETE', '/_simulator/calls');
  expect(cardText((await ask('disable security defaults')).card)).toContain('Already so');
  expect(await requestCount()).toBe(before);
  expect(await writes()).toEqual([]);
}, 90_000);

test("security-defaults-enable while Conditional Access policies exist: Entra's refusal in its words, no request, no write", async () => {
  await reset();
  const before = await requestCount();
  const answer = await ask('enable security defaults');
  const text = cardText(answer.card);
  expect(text).toContain('Entra refuses to turn security defaults on while the tenant has Conditional Access policies (2 here');
  expect(text).toContain('Your organization is currently using Conditional Access policies which prevents you from enabling security defaults.');
  expect(actionVerbs(answer.card)).toEqual([]);
  expect(await requestCount()).toBe(before);
  expect(await writes()).toEqual([]);
}, 60_000);

test('mfa-disable: per-user MFA is called legacy with what Microsoft recommends; high risk; the state reads back; again is already so', async () => {
  await reset();
  const confirm = await ask('disable MFA for José Núñez');
  const text = cardText(confirm.card);
  expect(text).toContain('Per-user MFA is the legacy way to require MFA. Microsoft recommends Conditional Access policies that require MFA');
  expect(text).toContain('Per-user MFA of José Núñez');
  const done = await confirmAndApprove(requestIdOf(confirm.card));
  expect(done).toMatchObject({ state: 'succeeded', verified: true, risk: 'high' });
  expect((await userState('jose.nunez@contoso.com')).perUserMfaState).toBe('disabled');
  expect((await writes()).map((c) => c.parameters)).toEqual([{ perUserMfaState: 'disabled' }]);

  await suite.simulator.control('DELETE', '/_simulator/calls');
  expect(cardText((await ask('disable MFA for José Núñez')).card)).toContain('Already so');
  // Enforced counts as enabled: nothing to turn on for Alex.
  expect(cardText((await ask('enable MFA for Alex Wilber')).card)).toContain('Already so');
  expect(await writes()).toEqual([]);
}, 90_000);

test('auth-policy-allow-smtp assigns the existing policy that allows Basic SMTP; auth-policy-reset clears it; each again is already so', async () => {
  await reset();
  // José's own policy blocks Basic SMTP; bob has none and no default applies, so nothing blocks him.
  expect(cardText((await ask('allow basic SMTP for bob')).card)).toContain('Already so');
  const confirm = await ask('allow basic SMTP for José Núñez');
  expect(cardText(confirm.card)).toContain('Assigns the existing policy “Allow Basic SMTP” to José Núñez (now: “Block Basic Auth”)');
  expect(cardText(confirm.card)).toContain('SMTP Gate never creates or changes authentication policies');
  expect(await confirmAndApprove(requestIdOf(confirm.card))).toMatchObject({ state: 'succeeded', verified: true, risk: 'high' });
  expect((await userState('jose.nunez@contoso.com')).authenticationPolicy).toBe('Allow Basic SMTP');
  expect(cardText((await ask('allow basic SMTP for José Núñez')).card)).toContain('Already so');

  const clear = await ask('reset auth policy for José Núñez');
  expect(cardText(clear.card)).toContain('the organization default then applies: no default policy');
  expect(await confirmAndApprove(requestIdOf(clear.card))).toMatchObject({ state: 'succeeded', verified: true });
  expect((await userState('jose.nunez@contoso.com')).authenticationPolicy).toBeNull();
  expect((await writes()).map((c) => [c.cmdlet, c.parameters])).toEqual([
    ['Set-User', { Identity: 'jose.nunez@contoso.com', AuthenticationPolicy: 'Allow Basic SMTP' }],
    ['Set-User', { Identity: 'jose.nunez@contoso.com', AuthenticationPolicy: null }],
  ]);
  expect(cardText((await ask('reset auth policy for José Núñez')).card)).toContain('Already so');
}, 120_000);

test('auth-policy-allow-smtp when no policy allows Basic SMTP: says so and gives the New-AuthenticationPolicy to run; creates nothing', async () => {
  await reset((fixture) => {
    fixture.authenticationPolicies = fixture.authenticationPolicies!.filter((policy) => !policy.allowBasicAuthSmtp);
  });
  const before = await requestCount();
  const text = cardText((await ask('allow basic SMTP for José Núñez')).card);
  expect(text).toContain('No Exchange authentication policy in this organization allows Basic SMTP');
  expect(text).toContain('New-AuthenticationPolicy -Name "Allow Basic SMTP" -AllowBasicAuthSmtp');
  expect(await requestCount()).toBe(before);
  expect(await writes()).toEqual([]);
}, 60_000);

test.each(languages)('every canonical phrase in %s means its policy command, in that language', (language) => {
  for (const command of [securityDefaultsDisable, securityDefaultsEnable, mfaDisable, mfaEnable, authPolicyAllowSmtp, authPolicyReset]) {
    for (const phrase of command.phrases[language]) {
      const text = phrase.replace('{user}', 'bob');
      const understood = understand(text);
      expect({ text, id: understood.kind === 'command' ? understood.parsed.command.id : understood.kind, language: answerLanguage(understood, undefined) }).toEqual({ text, id: command.id, language });
    }
  }
});
