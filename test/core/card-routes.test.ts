import { allVerbs, verbs, type Verb } from '../../src/cards/verbs';
import { cardRoutes, clickerRefusal, liveVerbs, stateRefusal, type CardHandlers, type Press } from '../../src/core/card-routes';
import { Dispatcher } from '../../src/core/dispatcher';
import { requestStates, type RequestRecord, type RequestState } from '../../src/model/requests';

/**
 * The route table is the one place a card verb is given meaning: who may press it, in which request
 * states, and what runs. A verb a card can carry with no route, or a route for a verb no card can
 * carry, fails here.
 */

const requester = '00000000-0000-4000-8000-00000000aaaa';
const target = '00000000-0000-4000-8000-00000000bbbb';
const someoneElse = '00000000-0000-4000-8000-00000000cccc';
const nobody = { itStaff: false, approver: false };
const approver = { itStaff: false, approver: true };
const itStaff = { itStaff: true, approver: false };

function request(state: RequestState): RequestRecord {
  return { id: 'r-1234567890', tenantId: 't', commandId: 'smtp-enable', state, risk: 'medium', requiredApprovals: 1, requesterId: requester, requesterName: 'Alex',
    targetUserId: target, targetUpn: 'bob@contoso.com', targetDisplayName: 'Bob', params: {}, language: 'en', conversation: {}, before: null, after: null,
    verified: null, errorCode: null, createdAt: new Date(0), updatedAt: new Date(0), expiresAt: new Date(0), plan: [] };
}

test('every verb declared in src/cards/verbs.ts has a route, and every route names a declared verb', () => {
  const routed = new Set(Object.keys(cardRoutes));
  expect([...allVerbs].filter((verb) => !routed.has(verb))).toEqual([]);
  expect([...routed].filter((verb) => !allVerbs.has(verb))).toEqual([]);
});

test("every route's handler is a card action the dispatcher has", async () => {
  const called: string[] = [];
  const recorder = new Proxy({}, { get: (_target, name) => async () => { called.push(String(name)); return { card: {} }; } }) as CardHandlers;
  for (const verb of Object.keys(cardRoutes) as Verb[]) {
    called.length = 0;
    await cardRoutes[verb].handle(recorder, {} as Press);
    expect([verb, called.length]).toEqual([verb, 1]);
    expect([verb, typeof (Dispatcher.prototype as unknown as Record<string, unknown>)[called[0]!]]).toEqual([verb, 'function']);
  }
});

test('approving: only while pending, only approvers, never the requester, never the person whose mailbox it changes', () => {
  const route = cardRoutes[verbs.approve];
  expect(requestStates.filter((state) => !stateRefusal(route, request(state)))).toEqual(['pending']);
  expect(stateRefusal(route, request('approved'))?.code).toBe('REQUEST_CLOSED');
  const pending = request('pending');
  expect(clickerRefusal(route, { userId: someoneElse, roles: approver }, pending)).toBeUndefined();
  expect(clickerRefusal(route, { userId: someoneElse, roles: itStaff }, pending)?.code).toBe('NOT_APPROVER');
  expect(clickerRefusal(route, { userId: requester, roles: approver }, pending)?.code).toBe('SELF_APPROVAL');
  expect(clickerRefusal(route, { userId: target, roles: approver }, pending)?.code).toBe('TARGET_APPROVAL');
  // The message says the first rule broken: your own request, then approvers only, then your own mailbox.
  expect(clickerRefusal(route, { userId: requester, roles: nobody }, pending)?.code).toBe('SELF_APPROVAL');
  expect(clickerRefusal(route, { userId: target, roles: nobody }, pending)?.code).toBe('NOT_APPROVER');
  // Rejecting a change to one's own mailbox stays possible; rejecting one's own request does not.
  expect(clickerRefusal(cardRoutes[verbs.reject], { userId: target, roles: approver }, pending)).toBeUndefined();
  expect(clickerRefusal(cardRoutes[verbs.reject], { userId: requester, roles: approver }, pending)?.code).toBe('SELF_APPROVAL');
});

test('confirming and picking are the requester\'s, on a draft; cancelling also while pending', () => {
  for (const verb of [verbs.confirm, verbs.pickUser, verbs.cancel]) {
    expect(clickerRefusal(cardRoutes[verb], { userId: someoneElse, roles: { itStaff: true, approver: true } }, request('draft'))?.code).toBe('NOT_REQUESTER');
    expect(clickerRefusal(cardRoutes[verb], { userId: requester, roles: nobody }, request('draft'))).toBeUndefined();
  }
  expect(requestStates.filter((state) => !stateRefusal(cardRoutes[verbs.confirm], request(state)))).toEqual(['draft']);
  expect(requestStates.filter((state) => !stateRefusal(cardRoutes[verbs.cancel], request(state)))).toEqual(['draft', 'pending']);
});

test('undo is IT staff\'s, only on a change that succeeded; an exception\'s reminder answers say the exception is no longer active', () => {
  expect(requestStates.filter((state) => !stateRefusal(cardRoutes[verbs.undo], request(state)))).toEqual(['succeeded']);
  expect(clickerRefusal(cardRoutes[verbs.undo], { userId: requester, roles: approver }, request('succeeded'))?.code).toBe('NOT_IT_STAFF');
  expect(stateRefusal(cardRoutes[verbs.exceptionExtend], request('reverted'))?.code).toBe('EXCEPTION_NOT_ACTIVE');
  expect(clickerRefusal(cardRoutes[verbs.exceptionLapse], { userId: target, roles: nobody }, request('succeeded'))?.code).toBe('NOT_APPROVER');
  expect(clickerRefusal(cardRoutes[verbs.exceptionLapse], { userId: someoneElse, roles: itStaff }, request('succeeded'))).toBeUndefined();
});

test('ending an exception early is IT staff\'s, only while its request stands succeeded', () => {
  const route = cardRoutes[verbs.exceptionEnd];
  expect(requestStates.filter((state) => !stateRefusal(route, request(state)))).toEqual(['succeeded']);
  expect(stateRefusal(route, request('reverted'))?.code).toBe('EXCEPTION_NOT_ACTIVE');
  expect(clickerRefusal(route, { userId: someoneElse, roles: approver }, request('succeeded'))?.code).toBe('NOT_IT_STAFF');
  expect(clickerRefusal(route, { userId: someoneElse, roles: itStaff }, request('succeeded'))).toBeUndefined();
  expect(route.stale).toEqual(expect.arrayContaining(['exception-active', 'exception-not-ending']));
});

test('refresh is a read anyone may ask for in any state, and is not guarded against redelivery', () => {
  const route = cardRoutes[verbs.refresh];
  expect(requestStates.filter((state) => stateRefusal(route, request(state)))).toEqual([]);
  expect(clickerRefusal(route, { userId: someoneElse, roles: nobody }, request('pending'))).toBeUndefined();
  expect(route.once).toBe(false);
  // A list's refresh names no request: whoever it comes from gets their own list, read again.
  const list = cardRoutes[verbs.requestsRefresh];
  expect([list.subject, list.listed, list.states, list.once]).toEqual(['list', 'requests', undefined, false]);
  expect(clickerRefusal(list, { userId: someoneElse, roles: nobody })).toBeUndefined();
  // Every button that acts is acted on once: only the two refreshes, which read, are not.
  expect(Object.entries(cardRoutes).filter(([, r]) => !r.once).map(([verb]) => verb)).toEqual([verbs.refresh, verbs.requestsRefresh]);
});

test('the buttons a list offers are the ones the table would accept now', () => {
  const candidates = [verbs.cancel, verbs.approve, verbs.reject];
  expect(liveVerbs(request('pending'), { userId: requester, roles: approver }, candidates)).toEqual([verbs.cancel]);
  expect(liveVerbs(request('pending'), { userId: someoneElse, roles: approver }, candidates)).toEqual([verbs.approve, verbs.reject]);
  expect(liveVerbs(request('pending'), { userId: target, roles: approver }, candidates)).toEqual([verbs.reject]);
  expect(liveVerbs(request('executing'), { userId: requester, roles: approver }, candidates)).toEqual([]);
});
