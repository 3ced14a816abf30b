import { translator, type Language } from '../../src/i18n';
import { cardText, isApprovalCard, requestIdOf, type CardJson } from '../support/fake-connector';
import { demoFixture, demoUser, inProcessBotSuite } from '../support/harness';
import { languagesIn } from '../support/languages';

/**
 * From chat to a changed mailbox in each language (issue #10): the requester writes in their
 * language from a Teams client set to another, an approver's Teams is in Portuguese, and every card
 * each of them sees stays in their language — through Confirm, the justification prompt, approval,
 * the result and the notice.
 */

const alex = demoUser('Alex Wilber'); // IT staff
const megan = demoUser('Megan Bowen'); // approver, Teams in Portuguese
const bob = demoFixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!;
const approvalsChannel = '19:approvals@thread.tacv2';
const suite = inProcessBotSuite({ name: 'languages', startsAt: '2026-11-23T09:00:00Z' });

const said: Record<Language, { text: string; locale: string }> = {
  en: { text: 'please turn on SMTP AUTH for bob', locale: 'es-ES' },
  es: { text: 'por favor habilita la autenticación SMTP para bob', locale: 'en-US' },
  pt: { text: 'se faz favor, ativa a autenticação SMTP para o bob', locale: 'en-US' },
  'zh-CN': { text: '请为 bob 启用 SMTP 身份验证', locale: 'en-US' },
  ro: { text: 'vă rog activați autentificarea SMTP pentru bob', locale: 'en-US' },
};

beforeAll(async () => {
  await suite.bot.teams.message(alex, 'approvals here', { conversationId: approvalsChannel });
  await suite.connector.waitFor('approvals here', () => suite.connector.postedCards().length > 0);
});

beforeEach(async () => {
  await suite.simulator.control('POST', '/_simulator/reset');
  suite.connector.calls.length = 0;
});

describe.each(Object.keys(said) as Language[])('written in %s', (language) => {
  test('every card the requester and the approver see is in their language, and the mailbox changes', async () => {
    const t = translator(language);
    const { text, locale } = said[language];
    const requesterSees: CardJson[] = [];
    const approverSees: CardJson[] = [];

    await suite.bot.teams.message(alex, text, { locale });
    const draft = await suite.connector.waitFor('the draft card', () => suite.connector.postedCards()[0]);
    requesterSees.push(draft.card);
    expect(cardText(draft.card)).toContain(t('request.title.smtp-enable', { name: 'Bob Smith' }));
    const requestId = requestIdOf(draft.card);

    // Confirm without a justification: the prompt is in the request's language, not the client's.
    const prompt = await suite.bot.teams.press(alex, 'request.confirm', { requestId }, { locale });
    requesterSees.push(prompt.body.value!);
    expect(cardText(prompt.body.value)).toContain(t('errors.JUSTIFICATION_REQUIRED'));
    const confirmed = await suite.bot.teams.press(alex, 'request.confirm', { requestId, justification: 'MFP-2 (HP 4200)' }, { locale });
    requesterSees.push(confirmed.body.value!);
    await suite.bot.server.drain();

    const approval = await suite.connector.waitFor('the approval card', () => suite.connector.postedCards().find((p) => p.call.conversationId === approvalsChannel && isApprovalCard(p.card)));
    // Megan's Teams asks for her own copy (refresh), then she approves: both in Portuguese.
    const refreshed = await suite.bot.teams.press(megan, 'request.refresh', { requestId }, { conversationId: approvalsChannel, locale: 'pt-BR' });
    approverSees.push(refreshed.body.value!);
    expect(cardText(refreshed.body.value)).toContain(translator('pt')('request.title.smtp-enable', { name: 'Bob Smith' }));
    const approved = await suite.bot.teams.press(megan, 'request.approve', { requestId }, { conversationId: approvalsChannel, locale: 'pt-BR' });
    approverSees.push(approved.body.value!);
    await suite.bot.server.drain();

    expect(await suite.bot.server.store.getRequest(requestId)).toMatchObject({ state: 'succeeded', verified: true });
    expect(await suite.simulator.mailboxOf(bob.id)).toEqual({ smtpClientAuthenticationDisabled: false });
    // What reached the requester's chat afterwards: the updated card and the notice.
    const inRequesterChat = suite.connector.calls.filter((c) => c.conversationId === `a:${alex.id}`).flatMap((c) => (c.activity.attachments ?? []).map((a) => a.content));
    expect(inRequesterChat.length).toBeGreaterThan(2);
    requesterSees.push(...inRequesterChat);
    // The copy in the approvals channel, for anyone Teams does not refresh for: the request's language.
    const channelCopies = [approval.card, ...suite.connector.updates(approval.id)];

    for (const card of [...requesterSees, ...channelCopies]) expect({ languages: languagesIn(cardText(card)), text: cardText(card) }).toMatchObject({ languages: [language] });
    for (const card of approverSees) expect({ languages: languagesIn(cardText(card)), text: cardText(card) }).toMatchObject({ languages: ['pt'] });
  }, 60_000);
});
