import * as AC from 'adaptivecards';
import { helpCard, messageCard, pickUserCard, requestCard, smtpStatusCard, type AdaptiveCard } from '../../src/cards/builders';
import { allVerbs } from '../../src/cards/verbs';
import { languages, translator } from '../../src/i18n';
import { requestStates, type RequestRecord } from '../../src/requests/model';

const at = new Date('2026-11-23T10:00:00Z');
const before = { mailboxSmtpClientAuthenticationDisabled: null, orgSmtpClientAuthenticationDisabled: true, effectiveEnabled: false };
const request = (state: RequestRecord['state']): RequestRecord => ({
  id: '3f2a9c1e-0000-4000-8000-000000000001', tenantId: 't', commandId: 'smtp-enable', state, risk: 'medium', requiredApprovals: 1,
  requesterId: 'alex', requesterName: 'Alex Wilber', targetUserId: 'bob', targetUpn: 'bob@contoso.com', targetDisplayName: 'Bob Smith',
  params: {}, language: 'en', conversation: {}, before,
  after: state === 'succeeded' ? { ...before, mailboxSmtpClientAuthenticationDisabled: false, effectiveEnabled: true } : null,
  verified: state === 'succeeded' ? true : null, errorCode: state === 'failed' ? 'TENANT_UNAVAILABLE' : null,
  createdAt: at, updatedAt: at, expiresAt: at,
});

/** Parses a card with the Adaptive Cards library and returns its validation errors. */
function validationErrors(card: AdaptiveCard): string[] {
  const parsed = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  parsed.parse(card, context);
  const errors: string[] = [];
  for (let i = 0; i < context.eventCount; i++) errors.push(context.getEventAt(i).message);
  errors.push(...parsed.validateProperties().validationEvents.map((e) => e.message));
  return errors;
}

function shownText(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(shownText);
  if (!node || typeof node !== 'object') return [];
  const o = node as Record<string, unknown>;
  const own = ['text', 'title', 'value'].map((k) => o[k]).filter((v): v is string => typeof v === 'string');
  return [...own, ...Object.entries(o).filter(([k]) => k !== 'data').flatMap(([, v]) => shownText(v))];
}

/** What survives a parse and re-serialization: nothing of ours may be dropped as unknown. */
const roundTrip = (card: AdaptiveCard) => {
  const parsed = new AC.AdaptiveCard();
  parsed.parse(card);
  return parsed.toJSON() as unknown as AdaptiveCard;
};

describe.each(languages)('cards in %s', (language) => {
  const t = translator(language);
  const cards: [string, AdaptiveCard][] = [
    ['status', smtpStatusCard(t, { displayName: 'Bob Smith', userPrincipalName: 'bob@contoso.com' }, before)],
    ['message', messageCard(t, t('errors.USER_NOT_FOUND', { query: 'zed' }), 'USER_NOT_FOUND')],
    ['pick', pickUserCard(t, 'r1', 'bob', [{ id: 'u1', displayName: 'Bob Smith', userPrincipalName: 'bob@contoso.com' }, { id: 'u2', displayName: 'Bob Jones', userPrincipalName: 'bob.jones@contoso.com' }])],
    ['help', helpCard(t, ['enable SMTP for bob'])],
    ...requestStates.flatMap((state) => (['requester', 'approvers'] as const).map((audience): [string, AdaptiveCard] => [`request ${state} for ${audience}`, requestCard(t, { request: request(state), approvals: [] }, audience)])),
  ];
  test.each(cards)('%s parses clean and shows no missing translation', (_, card) => {
    expect(validationErrors(card)).toEqual([]);
    const again = roundTrip(card);
    expect(again.body).toHaveLength(card.body.length);
    expect(again.actions ?? []).toHaveLength(card.actions?.length ?? 0);
    // i18next answers a missing key with the key itself.
    expect(shownText(card).filter((text) => /^(request|state|errors|action|card|help|pick|status|approvalsHere)\.[\w.-]+$/.test(text))).toEqual([]);
  });
});

test('a card action carries a known verb and a request id, never the target or the value', () => {
  const t = translator('en');
  for (const [state, audience] of [['draft', 'requester'], ['pending', 'approvers'], ['pending', 'requester']] as const) {
    const card = requestCard(t, { request: request(state), approvals: [] }, audience);
    expect(card.actions?.length).toBeGreaterThan(0);
    for (const action of card.actions ?? []) {
      expect(allVerbs.has(String(action.verb))).toBe(true);
      expect(Object.keys(action.data as object).sort()).toEqual(['requestId', 'verb']);
    }
  }
});

test('only the requester confirms a draft and only approvers see approve/reject', () => {
  const t = translator('en');
  const verbsOf = (state: RequestRecord['state'], audience: 'requester' | 'approvers') => (requestCard(t, { request: request(state), approvals: [] }, audience).actions ?? []).map((a) => a.verb);
  expect(verbsOf('draft', 'requester')).toEqual(['request.confirm', 'request.cancel']);
  expect(verbsOf('draft', 'approvers')).toEqual([]);
  expect(verbsOf('pending', 'approvers')).toEqual(['request.approve', 'request.reject']);
  expect(verbsOf('succeeded', 'approvers')).toEqual(['request.undo']);
  expect(verbsOf('failed', 'approvers')).toEqual([]);
});
