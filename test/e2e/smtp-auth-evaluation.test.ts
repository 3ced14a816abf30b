import { actionVerbs, cardText, type CardJson } from '../support/fake-connector';
import { demoFixture, demoUser, inProcessBotSuite, pendingEnable, type SimCall } from '../support/harness';

/**
 * The one evaluation of SMTP AUTH, as an admin reads it on the cards, over real sockets: Teams-shaped
 * activities into the bot, its cards into a fake Bot Connector, the tenant in the simulator. In the
 * demo tenant bob's mailbox is off and the "Block legacy authentication" Conditional Access policy
 * covers him; the floor 2 scanner's mailbox is off but it is excluded from that policy.
 */

const alex = demoUser('Alex Wilber'); // IT staff
const megan = demoUser('Megan Bowen'); // approver
const bob = demoFixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;
const scanner = demoFixture.users.find((u) => u.userPrincipalName === 'scanner2@contoso.com')!;
const policyName = demoFixture.conditionalAccessPolicies!.find((p) => p.state === 'enabled')!.displayName;

// The demo tenant's failed SMTP sign-ins are from 20–23 November 2026: "recent" from here.
const suite = inProcessBotSuite({ name: 'evaluation', startsAt: '2026-11-23T12:00:00Z' });

beforeEach(async () => {
  await suite.simulator.control('POST', '/_simulator/reset');
  await suite.simulator.control('DELETE', '/_simulator/faults');
  suite.connector.calls.length = 0;
});

async function reply(user: typeof alex, text: string): Promise<CardJson> {
  await suite.bot.teams.message(user, text);
  return (await suite.connector.waitFor('the reply', () => suite.connector.postedCards()[0])).card;
}

/** Alex asks and confirms; returns the request, the confirmation card, the answer to Confirm and the approvers' copy as posted. */
async function requestAndConfirm(text: string) {
  // An enable says why it is needed (the exceptions register); the card's input travels with Confirm.
  const { requestId, confirmation, confirmed, approval } = await pendingEnable(suite, alex, text, { justification: 'Scan to email from a device that only speaks SMTP AUTH' });
  return { requestId, confirm: confirmation, confirmed: confirmed.body.value, approval };
}

async function approve(requestId: string, approvalCardId: string): Promise<CardJson> {
  await suite.bot.teams.press(megan, 'request.approve', { requestId });
  await suite.bot.server.drain();
  return suite.connector.waitFor('the approvers\' card updated to done', () => suite.connector.updates(approvalCardId).find((c) => cardText(c).includes('Done')));
}

const calls = () => suite.simulator.control<SimCall[]>('GET', '/_simulator/calls');

test('smtp status for bob names every layer that blocks him, the Conditional Access policy by name, and his failed SMTP sign-ins', async () => {
  const card = await reply(alex, 'smtp status bob');
  const text = cardText(card);
  expect(text).toContain('SMTP AUTH for this mailbox\n⛔ Blocked');
  expect(text).toContain('⛔ SMTP AUTH is blocked by:');
  expect(text).toContain('• The mailbox setting turns SMTP AUTH off (SmtpClientAuthenticationDisabled = $true).');
  expect(text).toContain(`• Conditional Access policy “${policyName}” blocks legacy authentication (SMTP AUTH included) for this user.`);
  expect(text).toContain('Ref: SMTP_AUTH_DISABLED_MAILBOX');
  expect(text).toContain('Ref: CA_BLOCKS_LEGACY_AUTH');
  expect(text).toContain('2 failed SMTP AUTH sign-ins in the last 7 days; the latest at 2026-11-22 08:15 UTC (error 53003).');
  expect(text).toContain('Microsoft is retiring Basic authentication for SMTP AUTH');
  // The mailbox setting is something SMTP Gate can change: the card offers Fix (issue #9).
  expect(actionVerbs(card)).toEqual(['diagnosis.fix']);

  const tenantCalls = await calls();
  expect(tenantCalls.filter((c) => c.cmdlet === 'Set-CASMailbox')).toEqual([]);
  // Exchange's five reads go out once each, in parallel; Graph's layers share one $batch.
  expect(tenantCalls.filter((c) => c.service === 'exchange').map((c) => c.cmdlet).sort())
    .toEqual(['Get-AuthenticationPolicy', 'Get-CASMailbox', 'Get-OrganizationConfig', 'Get-TransportConfig', 'Get-User']);
}, 60_000);

test('smtp status in Chinese for 王伟, whom nothing blocks, says SMTP AUTH works', async () => {
  const text = cardText(await reply(alex, '王伟 的 smtp 状态'));
  expect(text).toContain('✅ 王伟 可以使用 SMTP AUTH：没有任何层阻止它。');
  expect(text).toContain('参考编号：SMTP_AUTH_ENABLED');
  expect(text).not.toContain('⛔');
}, 60_000);

test('enable for bob: the confirmation and approval cards warn that Conditional Access still blocks him, and the result card says so after the write', async () => {
  const warning = `⚠️ Even after this change, SMTP AUTH stays blocked by: Conditional Access policy “${policyName}”.`;
  const { requestId, confirm, confirmed, approval } = await requestAndConfirm('enable SMTP for bob');
  expect(cardText(confirm.card)).toContain(warning);
  expect(cardText(confirm.card)).toContain('Ref: CA_BLOCKS_LEGACY_AUTH');
  expect(actionVerbs(confirm.card)).toEqual(['request.confirm', 'request.cancel']);
  expect(cardText(confirmed)).toContain(warning);
  expect(cardText(approval.card)).toContain(warning);

  const done = await approve(requestId, approval.id);
  expect(cardText(done)).toContain('Done, verified');
  expect(cardText(done)).toContain(`⚠️ The mailbox setting is now on, but SMTP AUTH is still blocked by: Conditional Access policy “${policyName}”.`);
  expect(cardText(done)).toContain('SMTP AUTH for this mailbox\n⛔ Blocked');
  expect(cardText(done)).not.toContain('will now work');
  expect(await suite.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: false });
  expect(await suite.simulator.setCasMailboxCalls()).toHaveLength(1);
}, 60_000);

test('enable for the scanner, which nothing else blocks: the cards say it will work, and afterwards that it does', async () => {
  const { requestId, confirm, approval } = await requestAndConfirm('enable SMTP for scanner2@contoso.com');
  expect(cardText(confirm.card)).toContain('Nothing else blocks SMTP AUTH for Floor 2 Scanner: it will work once this change is applied.');
  expect(cardText(confirm.card)).not.toContain('stays blocked');

  const done = await approve(requestId, approval.id);
  expect(cardText(done)).toContain('Done, verified');
  expect(cardText(done)).toContain('✅ SMTP AUTH will now work for Floor 2 Scanner.');
  const requesterCopy = await suite.connector.waitFor('the requester copy updated', () => suite.connector.updates(confirm.id).find((c) => cardText(c).includes('Done')));
  expect(cardText(requesterCopy)).toContain('✅ SMTP AUTH will now work for Floor 2 Scanner.');
  expect(await suite.simulator.mailboxOf(scanner.id)).toEqual({ smtpClientAuthenticationDisabled: false });
}, 60_000);

test('Spanish in, Spanish warning: "habilita SMTP para bob" names the Conditional Access policy in Spanish', async () => {
  const text = cardText(await reply(alex, 'habilita SMTP para bob'));
  expect(text).toContain(`⚠️ Incluso después de este cambio, SMTP AUTH sigue bloqueado por: la directiva de acceso condicional “${policyName}”.`);
}, 60_000);

test('when the evaluation after the write fails, the change still succeeds verified and the card leaves the verdict out', async () => {
  const { requestId, approval } = await requestAndConfirm('enable SMTP for scanner2@contoso.com');
  await suite.simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'graph', match: 'conditionalAccess', status: 503 }] });
  const done = await approve(requestId, approval.id);
  expect(cardText(done)).toContain('Done, verified: the setting was read back and matches.');
  expect(cardText(done)).not.toMatch(/will now work|still blocked/);
  expect(await suite.simulator.mailboxOf(scanner.id)).toEqual({ smtpClientAuthenticationDisabled: false });
  // The write once; the mailbox read twice: by the failed evaluation, then alone as the read-back.
  const tenantCalls = await calls();
  expect(tenantCalls.filter((c) => c.cmdlet === 'Set-CASMailbox')).toHaveLength(1);
  expect(tenantCalls.filter((c) => c.cmdlet === 'Get-CASMailbox' && c.parameters?.Identity === scanner.userPrincipalName).length).toBeGreaterThanOrEqual(2);
}, 60_000);

test('a draft whose other layers cannot be read goes ahead on the mailbox setting and says they were not checked', async () => {
  await suite.simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'graph', match: 'conditionalAccess', status: 403 }] });
  const card = await reply(alex, 'enable SMTP for bob');
  expect(cardText(card)).toContain("I couldn't check the other layers that can block SMTP AUTH");
  expect(cardText(card)).not.toContain('stays blocked');
  expect(actionVerbs(card)).toEqual(['request.confirm', 'request.cancel']);
}, 60_000);

test('smtp status when Microsoft 365 is briefly unavailable: a clear error in the user\'s language, with its code', async () => {
  await suite.simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'graph', match: 'conditionalAccess', status: 503 }] });
  const text = cardText(await reply(alex, 'estado smtp de bob'));
  expect(text).toContain('Microsoft 365 no respondió correctamente');
  expect(text).toContain('TENANT_UNAVAILABLE');
  expect(text).not.toContain('{{');
}, 60_000);

test('smtp status without the permission to read Conditional Access names the permission to grant', async () => {
  await suite.simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'graph', match: 'conditionalAccess', status: 403 }] });
  const text = cardText(await reply(alex, 'smtp status bob'));
  expect(text).toContain("SMTP Gate's app registration is missing a permission for this: Policy.Read.All.");
  expect(text).toContain('TENANT_PERMISSION_DENIED');
}, 60_000);

test('a change Exchange refuses for want of a role fails with a card that names the role', async () => {
  const { requestId, approval } = await requestAndConfirm('enable SMTP for bob');
  await suite.simulator.control('POST', '/_simulator/faults', { rules: [{ service: 'exchange', match: 'Set-CASMailbox', status: 403 }] });
  await suite.bot.teams.press(megan, 'request.approve', { requestId });
  await suite.bot.server.drain();
  const failed = await suite.connector.waitFor('the failure card', () => suite.connector.updates(approval.id).find((c) => cardText(c).includes('The change failed')));
  expect(cardText(failed)).toContain('The change failed (TENANT_PERMISSION_DENIED)');
  expect(cardText(failed)).toContain("SMTP Gate's app registration is missing a permission for this: Mail Recipients.");
  expect(await suite.simulator.mailboxOf(bob.id)).toEqual(bob.mailbox);
}, 60_000);
