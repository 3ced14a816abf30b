import { actionVerbs, cardText, requestIdOf, type CardJson } from '../support/fake-connector';
import { demoFixture, demoUser, inProcessBotSuite, type SimCall } from '../support/harness';

/**
 * IT staff and the diagnosis, over real sockets (Teams-shaped activities, the simulator over HTTPS,
 * the real store): `diagnose <user>`, `diagnose <pasted> for <user>`, `fix`, and the Fix button.
 * Bob's mailbox is off and Conditional Access covers him; 王伟's SMTP AUTH works.
 */

const alex = demoUser('Alex Wilber'); // IT staff
const megan = demoUser('Megan Bowen'); // approver
const bob = demoFixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;

const suite = inProcessBotSuite({ name: 'diagnosis-it', startsAt: '2026-11-23T12:00:00Z' });

beforeEach(async () => {
  await suite.simulator.control('POST', '/_simulator/reset');
  suite.connector.calls.length = 0;
});

async function reply(text: string, locale?: string): Promise<CardJson> {
  const before = suite.connector.postedCards().length;
  await suite.bot.teams.message(alex, text, locale ? { locale } : {});
  return (await suite.connector.waitFor('the reply', () => suite.connector.postedCards()[before])).card;
}

/** Exchange's Set-* cmdlets and Graph's writes (a PATCH keeps its JSON body as the call's parameters), in order. */
const writes = async () => (await suite.simulator.control<SimCall[]>('GET', '/_simulator/calls')).filter((c) => c.cmdlet?.startsWith('Set-') || (c.service === 'graph' && (c as SimCall & { method?: string }).method === 'PATCH'));

test('diagnose bob: IT wording — the cmdlet, the exact place in the Entra admin center and the group to add him to — Fix offered, nothing written', async () => {
  const card = await reply('diagnose bob');
  const text = cardText(card);
  expect(text).toContain('Diagnosis for Bob Smith');
  expect(text).toContain('Set-CASMailbox -Identity bob@contoso.com -SmtpClientAuthenticationDisabled $false');
  expect(text).toContain('Entra ID › Conditional Access › Policies › “Block legacy authentication” › Assignments › Users › Exclude: the policy already excludes the group “SMTP AUTH exceptions”. Add Bob Smith to that group');
  expect(text).toContain('Ref: BASIC_AUTH_RETIREMENT');
  expect(text).toContain('SMTP.SendAsApp');
  expect(actionVerbs(card)).toEqual(['diagnosis.fix']);
  expect(await suite.simulator.setCasMailboxCalls()).toEqual([]);
}, 60_000);

test('diagnose <pasted NDR> for bob: the recognised line, the bounce\'s finding, then his state', async () => {
  const text = cardText(await reply("diagnose Remote Server returned '550 5.7.30 Basic authentication is not supported for Client Submission.' for bob"));
  expect(text).toContain("Remote Server returned '550 5.7.30");
  expect(text).toContain('Ref: BASIC_AUTH_NOT_SUPPORTED_SUBMISSION');
  expect(text).toContain('Ref: SMTP_AUTH_DISABLED_MAILBOX');
  expect(await suite.simulator.setCasMailboxCalls()).toEqual([]);
}, 60_000);

test('"arregla el 5.7.57 de bob": one request in Spanish for the mailbox step, approved, exactly one write', async () => {
  const draft = await reply('arregla el 5.7.57 de bob');
  expect(cardText(draft)).toContain('Habilitar SMTP AUTH para Bob Smith');
  // The layer a mailbox change cannot remove is named before anyone approves; the diagnosis travels with it.
  expect(cardText(draft)).toContain('Block legacy authentication');
  expect(cardText(draft)).toContain('CLIENT_NOT_AUTHENTICATED, SMTP_AUTH_DISABLED_MAILBOX, CA_BLOCKS_LEGACY_AUTH');
  const requestId = requestIdOf(draft);
  await suite.bot.teams.press(alex, 'request.confirm', { requestId, justification: 'Escáner de la planta 2' });
  await suite.bot.server.drain();
  await suite.bot.teams.press(megan, 'request.approve', { requestId });
  await suite.bot.server.drain();
  const calls = await suite.simulator.setCasMailboxCalls();
  expect(calls.map((c) => c.parameters)).toEqual([{ Identity: 'bob@contoso.com', SmtpClientAuthenticationDisabled: false }]);
  expect(await suite.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: false });
}, 60_000);

test.each([['fix 王伟'], ['修复 王伟 的 5.7.57']])('%s: nothing blocks, so no request and no write', async (text) => {
  const card = await reply(text);
  expect(cardText(card)).toMatch(/there is nothing to fix|无需修复/);
  expect(actionVerbs(card)).toEqual([]);
  expect(await writes()).toEqual([]);
}, 60_000);

test('the Fix button on a diagnosis card drafts the fix below it, for the IT member to confirm', async () => {
  const card = await reply('diagnose bob');
  const fix = card.actions!.find((a) => a.verb === 'diagnosis.fix')!;
  const before = suite.connector.postedCards().length;
  const pressed = await suite.bot.teams.press(alex, 'diagnosis.fix', fix.data!);
  expect(cardText(pressed.body.value)).toContain('I drafted the fix for Bob Smith below');
  await suite.bot.server.drain();
  const draft = await suite.connector.waitFor('the drafted fix', () => suite.connector.postedCards()[before]);
  expect(actionVerbs(draft.card)).toEqual(['request.confirm', 'request.cancel']);
  expect(await suite.simulator.setCasMailboxCalls()).toEqual([]);
}, 60_000);

test('the Fix button pressed by an end user drafts nothing and says who can', async () => {
  const bobUser = demoUser('Bob Smith');
  const pressed = await suite.bot.teams.press(bobUser, 'diagnosis.fix', { verb: 'diagnosis.fix', userId: bob.id });
  expect(cardText(pressed.body.value)).toContain('Fixing is for IT staff');
  await suite.bot.server.drain();
  expect(suite.connector.postedCards()).toEqual([]);
}, 60_000);

test('fix for Seán, who needs two steps (his mailbox follows the organization, per-user MFA enforced): one request, exactly those two writes, mailbox first', async () => {
  const adele = demoUser('Adele Vance'); // approver
  const sean = demoFixture.users.find((u) => u.displayName === "Seán O'Brien")!;
  const draft = await reply(`fix ${sean.userPrincipalName}`);
  const text = cardText(draft);
  expect(text).toContain("Seán O'Brien");
  // Titled as the fix it is, not as the enable its first step is.
  expect(text).toContain("Fix SMTP AUTH for Seán O'Brien");
  expect(text).not.toContain('Enable SMTP AUTH for');
  const requestId = requestIdOf(draft);
  await suite.bot.teams.press(alex, 'request.confirm', { requestId, justification: 'Label printer in the warehouse' });
  await suite.bot.server.drain();
  // Per-user MFA is a high-risk step: two approvers.
  await suite.bot.teams.press(megan, 'request.approve', { requestId });
  await suite.bot.teams.press(adele, 'request.approve', { requestId });
  await suite.bot.server.drain();
  expect((await writes()).map((c) => [c.cmdlet ?? 'PATCH', c.parameters])).toEqual([
    ['Set-CASMailbox', { Identity: sean.userPrincipalName, SmtpClientAuthenticationDisabled: false }],
    ['PATCH', { perUserMfaState: 'disabled' }],
  ]);
  expect(await suite.simulator.mailboxOf(sean.id)).toEqual({ smtpClientAuthenticationDisabled: false });
}, 90_000);

test('"diagnosticar o bob" is answered in Portuguese about Bob Smith, whatever the Teams locale', async () => {
  for (const locale of [undefined, 'es-ES']) {
    const text = cardText(await reply('diagnosticar o bob', locale));
    expect(text).toContain('⛔ O SMTP AUTH está bloqueado para Bob Smith por:');
    expect(text).toContain('O que encontrei na caixa de correio de Bob Smith');
  }
  expect(await suite.simulator.setCasMailboxCalls()).toEqual([]);
}, 60_000);

test('"diagnosticar a bob" is Spanish or Portuguese: the Teams locale decides', async () => {
  expect(cardText(await reply('diagnosticar a bob', 'pt-BR'))).toContain('⛔ O SMTP AUTH está bloqueado para Bob Smith por:');
  expect(cardText(await reply('diagnosticar a bob', 'es-MX'))).toContain('⛔ SMTP AUTH está bloqueado para Bob Smith por:');
}, 60_000);

test('"Fix 5.7.57 for bob." drafts the fix for Bob, not for the asker', async () => {
  const draft = await reply('Fix 5.7.57 for bob.');
  const text = cardText(draft);
  expect(text).toContain('Enable SMTP AUTH for Bob Smith\nbob@contoso.com');
  expect(text).not.toContain('SMTP AUTH for Alex Wilber');
  expect(text).toContain('CLIENT_NOT_AUTHENTICATED, SMTP_AUTH_DISABLED_MAILBOX, CA_BLOCKS_LEGACY_AUTH');
  expect(actionVerbs(draft)).toEqual(['request.confirm', 'request.cancel']);
  expect(await suite.simulator.setCasMailboxCalls()).toEqual([]);
}, 60_000);
