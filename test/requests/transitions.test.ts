import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config';
import type { Notifier } from '../../src/ports/notifier';
import { AppError } from '../../src/errors';
import { createLogger } from '../../src/log';
import { allowedTransitions, type RequestRecord, type RequestState } from '../../src/model/requests';
import { RequestLifecycle } from '../../src/requests/lifecycle';
import { openDb } from '../../src/store/db';
import { Store } from '../../src/store/store';
import { connectTenant } from '../../src/tenant';

/** Every edge the state machine does not have is an error with a code, and the row stays as it was. */

const at = new Date('2026-11-23T10:00:00Z');
const config = loadConfig({
  TENANT_ID: '7f3c1a2b-1111-4222-8333-944455566677',
  TENANT_CLIENT_ID: '33333333-3333-4333-8333-333333333333',
  TENANT_CLIENT_SECRET: 'unused',
  IT_STAFF_GROUP_ID: '11111111-1111-4111-8111-111111111111',
  APPROVER_GROUP_ID: '22222222-2222-4222-8222-222222222222',
});
// Moving a request never talks to Teams or the tenant: anything that tries fails the test loudly.
const unexpected = new Proxy({}, { get: (_, name) => () => { throw new Error(`unexpected call: ${String(name)}`); } });

let store: Store;
let lifecycle: RequestLifecycle;

beforeAll(async () => {
  store = new Store(await openDb({}));
  lifecycle = new RequestLifecycle({ config, store, tenant: connectTenant(config), notifier: unexpected as Notifier, logger: createLogger('silent'), now: () => at });
});

afterAll(async () => {
  await store.close();
});

/**
 * The state machine as the design states it, written out here rather than read from the table under
 * test: a wrong edge added to (or removed from) src/model/requests.ts fails below.
 */
const expected: Record<RequestState, RequestState[]> = {
  draft: ['confirmed', 'cancelled', 'expired'],
  confirmed: ['pending', 'approved', 'cancelled'],
  pending: ['approved', 'rejected', 'cancelled', 'expired'],
  approved: ['executing'],
  executing: ['succeeded', 'failed'],
  succeeded: ['reverted'],
  failed: [],
  rejected: [],
  cancelled: [],
  expired: [],
  reverted: [],
};
const states = Object.keys(expected) as RequestState[];
const illegal = states.flatMap((from) => states.filter((to) => !expected[from].includes(to)).map((to) => [from, to] as const));

test('the table in src/model/requests.ts is the expected one, edge for edge', () => {
  expect(Object.fromEntries(Object.entries(allowedTransitions).map(([from, to]) => [from, [...to].sort()]))).toEqual(
    Object.fromEntries(Object.entries(expected).map(([from, to]) => [from, [...to].sort()])));
});

test.each(illegal)('%s → %s is refused with ILLEGAL_TRANSITION', async (from, to) => {
  const request: RequestRecord = {
    id: randomUUID(), tenantId: config.TENANT_ID, commandId: 'smtp-disable', state: from, risk: 'low', requiredApprovals: 0,
    requesterId: 'alex', requesterName: 'Alex', targetUserId: 'bob', targetUpn: 'bob@contoso.com', targetDisplayName: 'Bob',
    params: {}, language: 'en', conversation: {}, before: null, after: null, verified: null, errorCode: null,
    createdAt: at, updatedAt: at, expiresAt: new Date(at.getTime() + 86_400_000), plan: [],
  };
  await store.insertRequest(request);
  const error = await lifecycle.move(request, to, 'alex').then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe('ILLEGAL_TRANSITION');
  expect((await store.getRequest(request.id))?.state).toBe(from);
  expect((await store.auditEvents(request.id)).filter((e) => e.action === 'request.transition')).toEqual([]);
});
