import { actionVerbs, cardText, type CardJson } from '../support/fake-connector';
import { demoFixture, demoUser, inProcessBotSuite } from '../support/harness';

/**
 * End users and the diagnosis, over real sockets: Teams-shaped activities into the bot, its cards
 * into a fake Bot Connector, the tenant in the simulator over HTTPS, the real store. Bob Smith is an
 * end user (in neither the IT staff nor the approver group); his mailbox has SMTP AUTH off and the
 * "Block legacy authentication" Conditional Access policy covers him.
 */

const bob = demoUser('Bob Smith');
const megan = demoUser('Megan Bowen'); // approver
const alex = demoUser('Alex Wilber'); // IT staff
const bobId = bob.id;
const policyName = demoFixture.conditionalAccessPolicies!.find((p) => p.state === 'enabled')!.displayName;

const ndr = `Your message couldn't be delivered.\nRemote Server returned '530 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information. [SN4PR0601CA0002.namprd06.prod.outlook.com]'`;

const suite = inProcessBotSuite({ name: 'self-service', startsAt: '2026-11-23T12:00:00Z' });

beforeEach(async () => {
  await suite.simulator.control('POST', '/_simulator/reset');
  suite.connector.calls.length = 0;
});

async function reply(user: typeof bob, text: string, locale?: string): Promise<CardJson> {
  const before = suite.connector.postedCards().length;
  await suite.bot.teams.message(user, text, locale ? { locale } : {});
  return (await suite.connector.waitFor('the reply', () => suite.connector.postedCards()[before])).card;
}

const inConversation = (userId: string) => suite.connector.postedCards().filter((p) => p.call.conversationId === `a:${userId}`);

/** Bob pastes the NDR and asks IT; returns the request id and the approvers' card as posted. */
async function bobAsksIt() {
  const card = await reply(bob, ndr);
  expect(actionVerbs(card)).toEqual(['selfservice.request']);
  const diagnosisId = card.actions![0]!.data!.diagnosisId;
  const posted = suite.connector.postedCards().length;
  const pressed = await suite.bot.teams.press(bob, 'selfservice.request', { diagnosisId, justification: 'The reception scanner sends as me' });
  await suite.bot.server.drain();
  const sent = cardText(pressed.body.value);
  expect(sent).toContain('I asked IT to enable SMTP AUTH for your mailbox.');
  const requestId = /Ref: ([0-9a-f-]{36})/.exec(sent)![1]!;
  const approval = await suite.connector.waitFor('the approvers\' card', () => suite.connector.postedCards().slice(posted).find((p) => cardText(p.card).includes('The reception scanner sends as me')));
  return { requestId, approval, diagnosis: card };
}

test('an end user pastes an NDR: their own diagnosis, the recognised line, meaning and fix worded for them, Ref codes, the retirement advice, and the Ask-IT button', async () => {
  const card = await reply(bob, ndr);
  const text = cardText(card);
  expect(text).toContain('Your SMTP AUTH check');
  expect(text).toContain("Remote Server returned '530 5.7.57");
  expect(text).toContain('SMTP AUTH is off for your mailbox.');
  expect(text).toContain("The mailbox's current settings below confirm it.");
  expect(text).toContain('What to do: IT can turn it on for your mailbox alone: press “Ask IT to enable SMTP AUTH for me”.');
  expect(text).toContain(`A Conditional Access policy (“${policyName}”) blocks older sign-ins`);
  for (const code of ['SMTP_AUTH_DISABLED_MAILBOX', 'CA_BLOCKS_LEGACY_AUTH', 'RECENT_SMTP_FAILURES', 'BASIC_AUTH_RETIREMENT']) expect(text).toContain(`Ref: ${code}`);
  expect(text).toContain('550 5.7.30');
  expect(card.body!.some((element) => element.type === 'Input.Text' && element.id === 'justification')).toBe(true);
  // Worded for an end user: no cmdlets, no admin-center paths.
  expect(text).not.toContain('Set-CASMailbox');
  expect(text).not.toContain('Entra admin center');
  expect(actionVerbs(card)).toEqual(['selfservice.request']);
  expect(await suite.simulator.setCasMailboxCalls()).toEqual([]);
}, 60_000);

test('a pasted NDR is answered in the language the person reads: their Teams locale, or the words they wrote around it — not Microsoft\'s English', async () => {
  const inSpanishTeams = cardText(await reply(bob, ndr, 'es-ES'));
  expect(inSpanishTeams).toContain('Tu comprobación de SMTP AUTH');
  expect(inSpanishTeams).toContain('Referencia: SMTP_AUTH_DISABLED_MAILBOX');
  expect(inSpanishTeams).not.toContain('Your SMTP AUTH check');
  const inChineseTeams = cardText(await reply(bob, ndr, 'zh-CN'));
  expect(inChineseTeams).not.toContain('Your SMTP AUTH check');
  expect(inChineseTeams).toMatch(/[\u4e00-\u9fff]/u);
  // Their own words say Spanish, in an English Teams.
  const ownWords = cardText(await reply(bob, `mi impresora no envía correo y dice:\n${ndr}`, 'en-US'));
  expect(ownWords).toContain('Tu comprobación de SMTP AUTH');
  // One word of their own is not enough to override their Teams language.
  expect(cardText(await reply(bob, `recibí este error: ${ndr}`, 'es-ES'))).toContain('Tu comprobación de SMTP AUTH');
  expect(cardText(await reply(bob, ndr, 'en-US'))).toContain('Your SMTP AUTH check');
}, 60_000);

test('self-service end to end: pasted bounce → Ask IT → approver approves → mailbox changed → the end user is told, with what still blocks', async () => {
  const { requestId, approval } = await bobAsksIt();
  const approvalText = cardText(approval.card);
  expect(approvalText).toContain('Bob Smith');
  expect(approvalText).toContain('SMTP_AUTH_DISABLED_MAILBOX');
  expect(approvalText).toContain("Remote Server returned '530 5.7.57");

  await suite.bot.teams.press(megan, 'request.approve', { requestId });
  await suite.bot.server.drain();
  expect(await suite.simulator.mailboxOf(bobId)).toEqual({ smtpClientAuthenticationDisabled: false });
  const calls = await suite.simulator.setCasMailboxCalls();
  expect(calls.map((c) => c.parameters)).toEqual([{ Identity: 'bob@contoso.com', SmtpClientAuthenticationDisabled: false }]);

  const told = await suite.connector.waitFor('bob told it is done', () => inConversation(bobId).map((p) => cardText(p.card)).find((t) => t.includes('done and verified')));
  expect(told).toContain(`SMTP AUTH is still blocked by: Conditional Access policy “${policyName}”`);
  expect(inConversation(bobId).map((p) => cardText(p.card)).some((t) => t.includes('was approved'))).toBe(true);
}, 60_000);

test('a rejected self-service request tells the end user the approver\'s reason, and nothing is written', async () => {
  const { requestId } = await bobAsksIt();
  await suite.bot.teams.press(megan, 'request.reject', { requestId, comment: 'Use the scan-to-folder share instead' });
  await suite.bot.server.drain();
  const told = await suite.connector.waitFor('bob told it was rejected', () => inConversation(bobId).map((p) => cardText(p.card)).find((t) => t.includes('was rejected')));
  expect(told).toContain('Megan Bowen said: Use the scan-to-folder share instead');
  expect(await suite.simulator.setCasMailboxCalls()).toEqual([]);
}, 60_000);

test('asking IT twice points at the request already waiting: one request, one approval card', async () => {
  const { requestId } = await bobAsksIt();
  const again = await reply(bob, 'diagnose me');
  const posted = suite.connector.postedCards().length;
  const pressed = await suite.bot.teams.press(bob, 'selfservice.request', { diagnosisId: again.actions![0]!.data!.diagnosisId, justification: 'Still broken' });
  await suite.bot.server.drain();
  expect(cardText(pressed.body.value)).toContain('You already asked for this; it is waiting for the approvers.');
  expect(cardText(pressed.body.value)).toContain(`Ref: ${requestId}`);
  expect(suite.connector.postedCards().slice(posted)).toEqual([]);
}, 60_000);

test('the Ask-IT button needs a justification, and another user cannot press someone else\'s', async () => {
  const card = await reply(bob, 'diagnose me');
  const diagnosisId = card.actions![0]!.data!.diagnosisId;
  const empty = await suite.bot.teams.press(bob, 'selfservice.request', { diagnosisId, justification: ' ' });
  expect(cardText(empty.body.value)).toContain('Ref: JUSTIFICATION_REQUIRED');
  const forged = await suite.bot.teams.press(alex, 'selfservice.request', { diagnosisId, justification: 'mine now' });
  expect(cardText(forged.body.value)).toContain('Ref: BAD_ACTION_DATA');
  await suite.bot.server.drain();
  expect(suite.connector.postedCards().some((p) => cardText(p.card).includes('mine now'))).toBe(false);
}, 60_000);

test('a diagnosis is kept 30 days for Ask IT, then dropped by the job pass: the old button says to paste the bounce again, and no request is made', async () => {
  const old = await reply(bob, ndr);
  const oldId = old.actions![0]!.data!.diagnosisId;
  suite.clock.advance(29 * 86_400_000);
  const recent = await reply(bob, ndr);
  const recentId = recent.actions![0]!.data!.diagnosisId;
  suite.clock.advance(2 * 86_400_000);
  await suite.bot.server.runDueJobs();
  expect(await suite.bot.server.store.getSetting(`diagnosis:${oldId}`)).toBeUndefined();
  expect(await suite.bot.server.store.getSetting(`diagnosis:${recentId}`)).toBeDefined();

  const posted = suite.connector.postedCards().length;
  const pressed = await suite.bot.teams.press(bob, 'selfservice.request', { diagnosisId: oldId, justification: 'The reception scanner sends as me' });
  const text = cardText(pressed.body.value);
  expect(text).toContain('This check is more than 30 days old, so it can no longer be sent to IT. Paste the bounce again for a fresh check.');
  expect(text).toContain('Ref: DIAGNOSIS_EXPIRED');
  await suite.bot.server.drain();
  expect(suite.connector.postedCards().slice(posted)).toEqual([]);
  // The one from two days ago still reaches IT.
  const asked = await suite.bot.teams.press(bob, 'selfservice.request', { diagnosisId: recentId, justification: 'The reception scanner sends as me' });
  expect(cardText(asked.body.value)).toContain('I asked IT to enable SMTP AUTH for your mailbox.');
  await suite.bot.server.drain();
}, 60_000);

test.each([
  ['diagnose alex', 'I can only check your own mailbox.'],
  ['smtp status alex', 'I can only check your own mailbox.'],
  ['diagnose 535 5.7.139 Authentication unsuccessful for alex', 'I can only check your own mailbox.'],
  ['enable SMTP for alex', 'Changes to SMTP AUTH are made by IT staff (members of “IT Staff”)'],
  ['fix 5.7.57 for alex', 'Fixing is for IT staff (members of “IT Staff”)'],
])('an end user asking %j never sees another user\'s state: who can do it and the self-service path', async (text, expected) => {
  const card = await reply(bob, text);
  const shown = cardText(card);
  expect(shown).toContain(expected);
  expect(shown).toContain('diagnose me');
  expect(shown).not.toContain('alexw@contoso.com');
  expect(shown).not.toContain('SmtpClientAuthenticationDisabled');
  expect(actionVerbs(card)).toEqual([]);
}, 60_000);

test('what\'s my SMTP status? in Spanish: the end user\'s own mailbox, in Spanish', async () => {
  const text = cardText(await reply(bob, '¿Cuál es mi estado SMTP?'));
  expect(text).toContain('bob@contoso.com');
  expect(text).toContain('Tu comprobación de SMTP AUTH');
  expect(text).toContain('Referencia: SMTP_AUTH_DISABLED_MAILBOX');
  expect(text).toContain('Referencia: BASIC_AUTH_RETIREMENT');
  expect(text).not.toContain('Your SMTP AUTH check');
}, 60_000);

/** Teams' installationUpdate when the app is added: to a personal chat, or to a team's channel. */
async function install(user: typeof bob, conversationType: 'personal' | 'channel', name: string | null = user.name): Promise<CardJson> {
  const before = suite.connector.postedCards().length;
  const conversationId = conversationType === 'personal' ? `a:${user.id}` : '19:general@thread.tacv2';
  const activity = {
    type: 'installationUpdate', action: 'add', id: `install-${user.id}-${conversationType}`, channelId: 'msteams', serviceUrl: suite.connector.url,
    timestamp: new Date().toISOString(), locale: 'en-US',
    from: { id: `29:${user.id}`, ...(name === null ? {} : { name }), aadObjectId: user.id }, recipient: { id: '28:smtp-gate', name: 'SMTP Gate' },
    conversation: { id: conversationId, conversationType, tenantId: demoFixture.tenant.id }, channelData: { tenant: { id: demoFixture.tenant.id } },
  };
  const res = await fetch(`http://127.0.0.1:${suite.bot.server.port}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
  await res.text();
  return (await suite.connector.waitFor('the welcome', () => suite.connector.postedCards()[before])).card;
}

test('installed in a personal chat, an end user is welcomed with what they can do: their own mailbox, a pasted bounce — no IT commands', async () => {
  const text = cardText(await install(bob, 'personal'));
  expect(text).toContain('Hi Bob Smith, I\'m SMTP Gate');
  expect(text).toContain('**Check SMTP AUTH for your own mailbox** — try: “diagnose me”');
  expect(text).toContain('— try: “I got a 5.7.57”');
  expect(text).not.toContain('enable SMTP for bob');
  expect(text).not.toContain('You\'re IT staff');
}, 60_000);

test('installed by someone Teams names no name for, the welcome greets them without one', async () => {
  const text = cardText(await install(megan, 'personal', null));
  expect(text).toContain('Hi, I\'m SMTP Gate');
  expect(text).not.toContain('Hi ,');
}, 60_000);

test('installed by IT staff, the welcome names their role and lists the IT commands with an example each', async () => {
  const text = cardText(await install(alex, 'personal'));
  expect(text).toContain('You\'re IT staff');
  expect(text).toContain('**Turn SMTP AUTH on for one mailbox (an exception: a reason, an end date, an approval)** — try: “enable SMTP for bob”');
  expect(text).toContain('Diagnose anyone\'s mailbox');
  expect(text).toContain('— try: “fix 5.7.57 for bob”');
}, 60_000);

test('installed in a team, the welcome says how to make a channel the approvals channel', async () => {
  const text = cardText(await install(alex, 'channel'));
  expect(text).toContain('an IT staff member @mentions me there with “approvals here”');
}, 60_000);

test('help lists only what this person may do, each with a line and an example', async () => {
  const forBob = cardText(await reply(bob, 'help'));
  expect(forBob).toContain('**Check SMTP AUTH for your own mailbox** — try: “diagnose me”');
  expect(forBob).not.toMatch(/enable SMTP for bob|approvals here|exceptions/);
  const forAlex = cardText(await reply(alex, 'help'));
  expect(forAlex).toContain('**Turn SMTP AUTH off for one mailbox** — try: “disable SMTP for bob”');
  expect(forAlex).toContain('**Post approval cards in this chat or channel** — try: “approvals here”');
}, 60_000);
