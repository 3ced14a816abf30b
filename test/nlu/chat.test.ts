import { actionVerbs, cardText, requestIdOf, isApprovalCard } from '../support/fake-connector';
import { demoFixture, demoUser, inProcessBotSuite } from '../support/harness';

/** What a person typing to the bot sees when a message is not quite a command (issue #10). */

const alex = demoUser('Alex Wilber');
const megan = demoUser('Megan Bowen');
const bob = demoFixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;
const suite = inProcessBotSuite({ name: 'nlu-chat', startsAt: '2026-11-23T09:00:00Z' });

beforeEach(async () => {
  await suite.simulator.control('POST', '/_simulator/reset');
  suite.connector.calls.length = 0;
});

async function say(text: string, locale?: string) {
  const before = suite.connector.postedCards().length;
  await suite.bot.teams.message(alex, text, locale ? { locale } : {});
  return (await suite.connector.waitFor(`the answer to "${text}"`, () => suite.connector.postedCards()[before])).card;
}

const submitTexts = (card: Parameters<typeof cardText>[0]) =>
  (card?.actions ?? []).map((a) => (a.data as { msteams?: { type?: string; value?: string } } | undefined)?.msteams).filter((m) => m?.type === 'imBack').map((m) => m!.value);

test('a near miss offers "did you mean" with a button that sends the command, and the command runs', async () => {
  const card = await say('enable for bob');
  expect(cardText(card)).toContain('Did you mean');
  // SMTP first; per-user MFA can be enabled for a user too.
  expect(submitTexts(card)).toEqual(['enable SMTP for bob', 'enable MFA for bob']);
  const draft = await say(submitTexts(card)[0]!);
  expect(cardText(draft)).toContain('Enable SMTP AUTH for Bob Smith');
  expect(actionVerbs(draft)).toContain('request.confirm');
});

test('a command without a target asks who it is for, in the language it was written in; other text gets help, not an error', async () => {
  expect(cardText(await say('smtp status'))).toContain('Who is it for?');
  // A command said in full in between ends the wait.
  await say('enable smtp');
  await say('smtp status bob');
  expect(actionVerbs(await say('bob'))).not.toContain('request.confirm');
  expect(cardText(await say('estado smtp'))).toContain('¿Para quién es?');
  expect(cardText(await say('启用 SMTP'))).toContain('要为谁操作');
  const help = await say('please make me a sandwich');
  expect(cardText(help)).toContain('enable SMTP for bob');
});

test('a typed "undo" drafts the reverse of the asker\'s latest change; with nothing to undo it says so', async () => {
  expect(cardText(await say('undo'))).toContain('no recent change that can be undone');
  const draft = await say('enable SMTP for bob for the floor 2 scanner');
  const requestId = requestIdOf(draft);
  await suite.bot.teams.press(alex, 'request.confirm', { requestId });
  await suite.bot.server.drain();
  await suite.bot.teams.press(megan, 'request.approve', { requestId });
  await suite.bot.server.drain();
  expect(await suite.bot.server.store.getRequest(requestId)).toMatchObject({ state: 'succeeded' });
  expect(isApprovalCard(draft)).toBe(false);

  const reverse = await say('undo');
  const title = bob.mailbox!.smtpClientAuthenticationDisabled === null ? 'Reset SMTP AUTH for Bob Smith' : 'Disable SMTP AUTH for Bob Smith';
  expect(cardText(reverse)).toContain(title);
  expect(actionVerbs(reverse)).toContain('request.confirm');
  // Spanish, and for a named mailbox: the same change, the answer in Spanish.
  expect(cardText(await say('deshacer bob'))).toContain(bob.mailbox!.smtpClientAuthenticationDisabled === null ? 'Restablecer' : 'Deshabilitar');
  expect(await suite.simulator.setCasMailboxCalls()).toHaveLength(1);
}, 60_000);

test('nobody by that name: the closest names, each a button that runs the same command for them', async () => {
  const card = await say("smtp status for Sean O'Brian");
  expect(cardText(card)).toContain('I found no user matching');
  expect(submitTexts(card)).toContain("smtp status sean.o'brien@contoso.com");
  expect(cardText(await say(submitTexts(card)[0]!))).toContain("Seán O'Brien");
  const spanish = await say('habilita smtp para Stefan Popesku');
  expect(submitTexts(spanish)).toEqual(['habilita SMTP para stefan.popescu@contoso.com']);
});

test('the answer to "Who is it for?" completes the command that asked', async () => {
  expect(cardText(await say('enable smtp'))).toContain('Who is it for?');
  const draft = await say('bob');
  expect(cardText(draft)).toContain('Enable SMTP AUTH for Bob Smith');
  expect(actionVerbs(draft)).toContain('request.confirm');
  // Once only: "bob" again is no command.
  expect(actionVerbs(await say('bob'))).not.toContain('request.confirm');
  // A command said in full in between ends the wait.
  await say('enable smtp');
  await say('smtp status bob');
  expect(actionVerbs(await say('bob'))).not.toContain('request.confirm');
  expect(cardText(await say('estado smtp'))).toContain('¿Para quién es?');
  expect(cardText(await say('José Núñez'))).toContain('José Núñez');
});
