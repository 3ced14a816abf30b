import * as AC from 'adaptivecards';
import { helpCard, messageCard, pickUserCard, requestCard, smtpStatusCard, type AdaptiveCard, type ApprovalView } from '../../src/cards/builders';
import { allVerbs } from '../../src/cards/verbs';
import { languages, translator } from '../../src/i18n';
import { requestStates, type MailboxSmtpState, type RequestRecord } from '../../src/model/requests';
import { exceptionReminderCard, exceptionsCard, type ExceptionsView } from '../../src/cards/builders';
import type { ExceptionRecord } from '../../src/model/requests';
import type { Finding } from '../../src/tenant';

const at = new Date('2026-11-23T10:00:00Z');
const before = { mailboxSmtpClientAuthenticationDisabled: null, orgSmtpClientAuthenticationDisabled: true, effectiveEnabled: false };
const request = (state: RequestRecord['state']): RequestRecord => ({
  id: '3f2a9c1e-0000-4000-8000-000000000001', tenantId: 't', commandId: 'smtp-enable', state, risk: 'medium', requiredApprovals: 1,
  requesterId: 'alex', requesterName: 'Alex Wilber', targetUserId: 'bob', targetUpn: 'bob@contoso.com', targetDisplayName: 'Bob Smith',
  params: {}, language: 'en', conversation: {}, before,
  after: state === 'succeeded' ? { ...before, mailboxSmtpClientAuthenticationDisabled: false, effectiveEnabled: true } : null,
  verified: state === 'succeeded' ? true : null, errorCode: state === 'failed' ? 'TENANT_UNAVAILABLE' : null,
  createdAt: at, updatedAt: at, expiresAt: at,
  plan: state === 'succeeded' ? [{
    kind: 'mailbox-smtp-auth', target: { type: 'mailbox', id: 'bob', identity: 'bob@contoso.com', displayName: 'Bob Smith' }, desired: false,
    status: 'applied', before, after: { ...before, mailboxSmtpClientAuthenticationDisabled: false, effectiveEnabled: true }, verified: true, errorCode: null,
  }] : [],
});

const conditionalAccess: Finding = { code: 'CA_BLOCKS_LEGACY_AUTH', layer: 'conditional-access', detail: { policyId: 'p1', policyName: 'Block legacy authentication' } };
const perUserMfa: Finding = { code: 'PER_USER_MFA_ON', layer: 'per-user-mfa', detail: { perUserMfaState: 'enforced' } };
/** One of every blocker, details included, as evaluateSmtpAuth reports them. */
const everyBlocker: Finding[] = [
  { code: 'SMTP_AUTH_DISABLED_MAILBOX', layer: 'mailbox' },
  { code: 'SMTP_AUTH_DISABLED_TENANT', layer: 'org' },
  { code: 'ACCOUNT_DISABLED', layer: 'account' },
  { code: 'SECURITY_DEFAULTS_ON', layer: 'security-defaults' },
  perUserMfa,
  conditionalAccess,
  { code: 'AUTH_POLICY_BLOCKS_BASIC_SMTP', layer: 'authentication-policy', detail: { policyName: 'Block Basic Auth', assignedBy: 'user' } },
  { code: 'AUTH_POLICY_BLOCKS_BASIC_SMTP', layer: 'authentication-policy', detail: { policyName: 'Block Basic Auth', assignedBy: 'organization-default' } },
];
const recentFailures = (count: number): Finding => ({ code: 'RECENT_SMTP_FAILURES', layer: 'sign-ins', detail: { count: String(count), windowDays: '7', lastAt: '2026-11-22T08:15:00Z', lastErrorCode: '53003', lastFailureReason: 'Access has been blocked by Conditional Access policies.' } });
const retirement: Finding = { code: 'BASIC_AUTH_RETIREMENT', layer: 'advice' };
const enabledState: MailboxSmtpState = { mailboxSmtpClientAuthenticationDisabled: false, orgSmtpClientAuthenticationDisabled: true, effectiveEnabled: true };
const disabledState: MailboxSmtpState = { mailboxSmtpClientAuthenticationDisabled: true, orgSmtpClientAuthenticationDisabled: true, effectiveEnabled: false };
const statusViews = {
  'blocked by every layer, 2 recent failures': { state: before, effectiveEnabled: false, blockers: everyBlocker, findings: [...everyBlocker, recentFailures(2), retirement] },
  'blocked by Conditional Access, 1 recent failure': { state: enabledState, effectiveEnabled: false, blockers: [conditionalAccess], findings: [conditionalAccess, { code: 'SMTP_AUTH_ENABLED', layer: 'mailbox' }, recentFailures(1), retirement] },
  'working': { state: enabledState, effectiveEnabled: true, blockers: [], findings: [{ code: 'SMTP_AUTH_ENABLED', layer: 'mailbox' }, retirement] },
  'working, organization-wide settings reused from a read 30 s earlier': { state: enabledState, effectiveEnabled: true, blockers: [], findings: [{ code: 'SMTP_AUTH_ENABLED', layer: 'mailbox' }, retirement], orgSettingsAsOf: new Date('2026-11-23T09:59:30Z') },
  'no mailbox': { state: 'no-mailbox', effectiveEnabled: false, blockers: [{ code: 'NO_MAILBOX', layer: 'mailbox' }], findings: [{ code: 'NO_MAILBOX', layer: 'mailbox' }, retirement] },
} satisfies Record<string, Parameters<typeof smtpStatusCard>[2]>;
const bobStatus = (key: keyof typeof statusViews) => smtpStatusCard(translator('en'), { displayName: 'Bob Smith', userPrincipalName: 'bob@contoso.com' }, statusViews[key]);
const withEvaluation = (state: MailboxSmtpState, effectiveEnabled: boolean, blockers: Finding[]): MailboxSmtpState => ({ ...state, evaluation: { effectiveEnabled, blockers } });
/** The request variants the evaluation adds: warnings before the change, the verdict after it, a failure naming the permission. */
const evaluatedRequests: [string, RequestRecord, Finding[] | null | undefined][] = [
  ['draft that leaves Conditional Access and MFA blocking', { ...request('draft'), before: withEvaluation(disabledState, false, [everyBlocker[0]!, conditionalAccess, perUserMfa]) }, [conditionalAccess, perUserMfa]],
  ['pending that leaves Conditional Access blocking', { ...request('pending'), before: withEvaluation(disabledState, false, [everyBlocker[0]!, conditionalAccess]) }, [conditionalAccess]],
  ['draft that nothing else blocks', { ...request('draft'), before: withEvaluation(disabledState, false, [everyBlocker[0]!]) }, []],
  ['draft whose other layers could not be read', { ...request('draft'), before: { ...disabledState, evaluation: null } }, null],
  ['succeeded, still blocked by Conditional Access', { ...request('succeeded'), after: withEvaluation(enabledState, false, [conditionalAccess]) }, undefined],
  ['succeeded, SMTP AUTH now works', { ...request('succeeded'), after: withEvaluation(enabledState, true, []) }, undefined],
  ['succeeded disable, now blocked', { ...request('succeeded'), commandId: 'smtp-disable', after: withEvaluation(disabledState, false, [everyBlocker[0]!]) }, undefined],
  ['failed for want of a permission it names', { ...request('failed'), errorCode: 'TENANT_PERMISSION_DENIED', params: { errorParams: { service: 'graph', operation: 'GET /identity/conditionalAccess/policies', status: 403, permission: 'Policy.Read.All' } } }, undefined],
  ['failed for want of a permission, an older row without params', { ...request('failed'), errorCode: 'TENANT_PERMISSION_DENIED' }, undefined],
];

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
    ...Object.entries(statusViews).map(([name, view]): [string, AdaptiveCard] => [`status, ${name}`, smtpStatusCard(t, { displayName: 'Bob Smith', userPrincipalName: 'bob@contoso.com' }, view)]),
    ['message', messageCard(t, t('errors.USER_NOT_FOUND', { query: 'zed' }), 'USER_NOT_FOUND')],
    ['pick', pickUserCard(t, 'r1', 'bob', [{ id: 'u1', displayName: 'Bob Smith', userPrincipalName: 'bob@contoso.com' }, { id: 'u2', displayName: 'Bob Jones', userPrincipalName: 'bob.jones@contoso.com' }])],
    ['help', helpCard(t, ['enable SMTP for bob'])],
    ...evaluatedRequests.flatMap(([name, record, blockersLeft]) => (['requester', 'approvers'] as const).map((audience): [string, AdaptiveCard] => [`request ${name} for ${audience}`, requestCard(t, { request: record, approvals: [], blockersLeft }, audience, undefined, { live: true })])),
    ...requestStates.flatMap((state) => (['requester', 'approvers'] as const).map((audience): [string, AdaptiveCard] => [`request ${state} for ${audience}`, requestCard(t, { request: request(state), approvals: [] }, audience, undefined, { refreshUserIds: ['u-megan'] })])),
    ['request pending, refreshed for an approver', requestCard(t, { request: request('pending'), approvals: [] }, 'approvers', undefined, { live: true })],
  ];
  test.each(cards)('%s parses clean and shows no missing translation', (_, card) => {
    expect(validationErrors(card)).toEqual([]);
    const again = roundTrip(card);
    expect(again.body).toHaveLength(card.body.length);
    expect(again.actions ?? []).toHaveLength(card.actions?.length ?? 0);
    // i18next answers a missing key with the key itself.
    expect(shownText(card).filter((text) => /^(request|state|errors|action|card|help|pick|status|approvalsHere|finding|blocker|errorParams)\.[\w.-]+$/.test(text))).toEqual([]);
    expect(shownText(card).filter((text) => text.includes('{{'))).toEqual([]);
  });
});

test('a card action carries a known verb and a request id, never the target or the value', () => {
  const t = translator('en');
  for (const [state, audience] of [['draft', 'requester'], ['pending', 'approvers'], ['pending', 'requester']] as const) {
    const card = requestCard(t, { request: request(state), approvals: [] }, audience, undefined, { live: true });
    expect(card.actions?.length).toBeGreaterThan(0);
    for (const action of card.actions ?? []) {
      expect(allVerbs.has(String(action.verb))).toBe(true);
      expect(Object.keys(action.data as object).sort()).toEqual(['requestId', 'verb']);
    }
  }
});

test('only the requester confirms a draft and only approvers see approve/reject', () => {
  const t = translator('en');
  const verbsOf = (state: RequestRecord['state'], audience: 'requester' | 'approvers', view: ApprovalView = { live: true }) => (requestCard(t, { request: request(state), approvals: [] }, audience, undefined, view).actions ?? []).map((a) => a.verb);
  expect(verbsOf('draft', 'requester')).toEqual(['request.confirm', 'request.cancel']);
  expect(verbsOf('draft', 'approvers')).toEqual([]);
  expect(verbsOf('pending', 'approvers')).toEqual(['request.approve', 'request.reject']);
  expect(verbsOf('succeeded', 'approvers')).toEqual(['request.undo']);
  // A request that found the mailbox as it left it (an adopted exception) has nothing to undo.
  const unchanged = { ...request('succeeded'), after: before, plan: [] };
  expect(requestCard(t, { request: unchanged, approvals: [] }, 'approvers').actions ?? []).toEqual([]);
  expect(verbsOf('failed', 'approvers')).toEqual([]);
  // Posted copies: status for every viewer, refreshed into buttons for the listed approvers only.
  const posted = requestCard(t, { request: request('pending'), approvals: [] }, 'approvers', undefined, { refreshUserIds: ['u-megan', 'u-adele'] });
  expect(posted.actions ?? []).toEqual([]);
  expect(posted.refresh).toMatchObject({ action: { type: 'Action.Execute', verb: 'request.refresh', data: { requestId: '3f2a9c1e-0000-4000-8000-000000000001' } }, userIds: ['u-megan', 'u-adele'] });
  // More approvers than Teams refreshes for (60): everyone sees the buttons; the server still checks.
  expect(verbsOf('pending', 'approvers', { refreshUserIds: null })).toEqual(['request.approve', 'request.reject']);
});

describe('what an admin reads about the layers that block SMTP AUTH', () => {
  const en = translator('en');
  const text = (card: AdaptiveCard) => shownText(card).join('\n');
  const requestText = (name: string, audience: 'requester' | 'approvers' = 'requester') => {
    const [, record, blockersLeft] = evaluatedRequests.find(([n]) => n === name)!;
    return text(requestCard(en, { request: record, approvals: [], blockersLeft }, audience, undefined, { live: true }));
  };

  test('status names each blocker with its details and code, then the recent failures and the retirement', () => {
    const status = text(bobStatus('blocked by every layer, 2 recent failures'));
    expect(status).toContain('⛔ SMTP AUTH is blocked by:');
    expect(status).toContain('• Conditional Access policy “Block legacy authentication” blocks legacy authentication (SMTP AUTH included) for this user.');
    expect(status).toContain('Per-user MFA is enforced for this account');
    expect(status).toContain('Exchange authentication policy “Block Basic Auth” (assigned to this user)');
    expect(status).toContain("Exchange authentication policy “Block Basic Auth” (the organization's default)");
    expect(status).toContain('2 failed SMTP AUTH sign-ins in the last 7 days; the latest at 2026-11-22 08:15 UTC (error 53003).');
    expect(status).toContain('Ref: CA_BLOCKS_LEGACY_AUTH');
    expect(status).toContain('Ref: BASIC_AUTH_RETIREMENT');
    expect(text(bobStatus('blocked by Conditional Access, 1 recent failure'))).toContain('1 failed SMTP AUTH sign-in in the last 7 days, at 2026-11-22 08:15 UTC');
  });

  test('status of a mailbox nothing blocks says it works; one without a mailbox says so', () => {
    expect(text(bobStatus('working'))).toContain('✅ SMTP AUTH will work for Bob Smith: no layer blocks it.');
    expect(text(bobStatus('working'))).toContain('Ref: SMTP_AUTH_ENABLED');
    expect(text(bobStatus('no mailbox'))).toContain('This user has no Exchange Online mailbox.');
  });

  test('the confirmation and approval cards warn about every blocker the change leaves in place', () => {
    expect(requestText('draft that leaves Conditional Access and MFA blocking')).toContain('⚠️ Even after this change, SMTP AUTH stays blocked by: Conditional Access policy “Block legacy authentication”; per-user MFA (enforced).');
    expect(requestText('pending that leaves Conditional Access blocking', 'approvers')).toContain('⚠️ Even after this change, SMTP AUTH stays blocked by: Conditional Access policy “Block legacy authentication”.');
    expect(requestText('pending that leaves Conditional Access blocking', 'approvers')).toContain('Ref: CA_BLOCKS_LEGACY_AUTH');
    expect(requestText('draft that nothing else blocks')).toContain('Nothing else blocks SMTP AUTH for Bob Smith: it will work once this change is applied.');
    expect(requestText('draft whose other layers could not be read')).toContain("I couldn't check the other layers");
  });

  test('a request row from before the evaluation renders as it always did', () => {
    const old = text(requestCard(en, { request: request('draft'), approvals: [] }, 'requester'));
    expect(old).not.toMatch(/stays blocked|Nothing else blocks|couldn't check/);
    const done = text(requestCard(en, { request: request('succeeded'), approvals: [] }, 'requester'));
    expect(done).toContain('Done, verified');
    expect(done).not.toMatch(/will now work|still blocked/);
  });

  test('the result card says whether SMTP AUTH now works, and what still blocks it', () => {
    expect(requestText('succeeded, SMTP AUTH now works')).toContain('✅ SMTP AUTH will now work for Bob Smith.');
    expect(requestText('succeeded, still blocked by Conditional Access')).toContain('⚠️ The mailbox setting is now on, but SMTP AUTH is still blocked by: Conditional Access policy “Block legacy authentication”.');
    expect(requestText('succeeded, still blocked by Conditional Access')).toMatch(/SMTP AUTH for this mailbox\n⛔ Blocked/);
    expect(requestText('succeeded disable, now blocked')).toContain('SMTP AUTH is now blocked for Bob Smith.');
  });

  test('a failure for want of a permission names it; an older row without it still reads cleanly', () => {
    expect(requestText('failed for want of a permission it names')).toContain('is missing a permission for this: Policy.Read.All.');
    expect(requestText('failed for want of a permission, an older row without params')).toContain('is missing a permission for this: one Microsoft did not name (see the logs).');
  });
});

describe('exceptions register cards (issue #5)', () => {
  const exception = (overrides: Partial<ExceptionRecord> = {}): ExceptionRecord => ({
    id: 'e1', tenantId: 't', targetUserId: 'u-scanner', targetUpn: 'scanner2@contoso.com', targetDisplayName: 'Floor 2 Scanner',
    requestId: '3f2a9c1e-0000-4000-8000-000000000001', originRequestId: '3f2a9c1e-0000-4000-8000-000000000001', requesterId: 'alex', requesterName: 'Alex Wilber',
    approverNames: ['Megan Bowen'], justification: 'the floor 2 scanner', expiresAt: new Date('2027-02-21T09:00:00Z'), restoreValue: true,
    adopted: false, state: 'active', createdAt: at, updatedAt: at, ...overrides,
  });
  const unmanaged = (n: number) => Array.from({ length: n }, (_, i) => ({ userId: `u${i}`, userPrincipalName: `user${i}@contoso.com`, displayName: `User ${i}` }));
  const views: [string, ExceptionsView][] = [
    ['empty', { managed: [], unmanaged: [], reviewId: null, orgSmtpEnabled: false }],
    ['managed, permanent, adopted and unmanaged, org on', { managed: [exception(), exception({ id: 'e2', expiresAt: null, approverNames: [] }), exception({ id: 'e3', adopted: true, justification: '' })], unmanaged: unmanaged(2), reviewId: 'review-0001', orgSmtpEnabled: true }],
    ['longer than one card', { managed: Array.from({ length: 40 }, (_, i) => exception({ id: `e${i}` })), unmanaged: unmanaged(30), reviewId: 'review-0001', orgSmtpEnabled: false }],
  ];
  const draftWithout = { ...request('draft'), params: {} };
  const draftPermanent = { ...request('draft'), risk: 'high' as const, requiredApprovals: 2, params: { justification: 'the floor 2 scanner', permanent: true } };

  describe.each(languages)('in %s', (language) => {
    const t = translator(language);
    const cards: [string, AdaptiveCard][] = [
      ...views.map(([name, view]): [string, AdaptiveCard] => [`exceptions: ${name}`, exceptionsCard(t, view)]),
      ['reminder', exceptionReminderCard(t, exception())],
      ['draft asking for a justification', requestCard(t, { request: draftWithout, approvals: [] }, 'requester')],
      ['permanent draft', requestCard(t, { request: draftPermanent, approvals: [] }, 'requester')],
    ];
    test.each(cards)('%s parses clean and shows no missing translation', (_, card) => {
      expect(validationErrors(card)).toEqual([]);
      expect(roundTrip(card).body).toHaveLength(card.body.length);
      expect(shownText(card).filter((text) => /^(exceptions|action|request|errors|card)\.[\w.-]+$/.test(text))).toEqual([]);
      expect(shownText(card).filter((text) => text.includes('{{'))).toEqual([]);
    });
  });

  test('the list caps each section and says how many more; its buttons carry a review id and an item number only', () => {
    const en = translator('en');
    const card = exceptionsCard(en, views[2]![1]);
    const text = shownText(card).join('\n');
    expect(text).toContain('Exceptions granted through SMTP Gate: 40');
    expect(text).toContain('…and 25 more.');
    expect(text).toContain('…and 15 more.');
    const actions = card.body.flatMap((b) => ((b.items as Record<string, unknown>[] | undefined) ?? [])).filter((i) => i.type === 'ActionSet').flatMap((i) => i.actions as Record<string, unknown>[]);
    expect(actions).toHaveLength(30);
    for (const action of actions) {
      expect(allVerbs.has(String(action.verb))).toBe(true);
      expect(Object.keys(action.data as object).sort()).toEqual(['item', 'reviewId', 'verb']);
    }
    expect(JSON.stringify(actions)).not.toContain('@contoso.com');
  });

  test('a draft without a justification asks for one in an input; with one it shows it', () => {
    const en = translator('en');
    expect(requestCard(en, { request: draftWithout, approvals: [] }, 'requester').body.filter((b) => b.type === 'Input.Text').map((b) => b.id)).toEqual(['justification']);
    const given = requestCard(en, { request: draftPermanent, approvals: [] }, 'requester');
    expect(given.body.filter((b) => b.type === 'Input.Text')).toEqual([]);
    expect(shownText(given).join('\n')).toContain('Permanent exception: it never expires, so it needs the high-risk quorum (2 approvals).');
    expect(requestCard(en, { request: draftWithout, approvals: [] }, 'approvers').body.filter((b) => b.type === 'Input.Text')).toEqual([]);
  });
});
