import { randomUUID } from 'node:crypto';
import { ActivityTypes, ConversationState, TestAdapter, TurnContext, type Activity } from 'botbuilder';
import { ETagConflictError, StoreBotStorage } from '../../src/bot/storage';
import { pgliteDatabase, postgresAvailable, postgresDatabase, storeSuite, type TestDatabase } from '../support/databases';

/** botbuilder's Storage contract (as MemoryStorage behaves) over the real store, on both drivers. */
function storageContract(database: () => Promise<TestDatabase | undefined>) {
  const onStore = storeSuite(database);
  const test = (name: string, fn: (storage: StoreBotStorage) => Promise<void>) => onStore(name, (store) => fn(new StoreBotStorage(store)));

  test('an item round-trips, and every write gives it a new eTag', async (storage) => {
    const key = randomUUID();
    await storage.write({ [key]: { count: 1, nested: { list: [1, 'two'] } } });
    const first = (await storage.read([key]))[key];
    expect(first).toEqual({ count: 1, nested: { list: [1, 'two'] }, eTag: expect.any(String) });
    await storage.write({ [key]: { ...first, count: 2 } });
    const second = (await storage.read([key]))[key];
    expect(second).toEqual({ count: 2, nested: { list: [1, 'two'] }, eTag: expect.any(String) });
    expect(second?.eTag).not.toBe(first?.eTag);
  });

  test('reading absent keys returns only the items that exist', async (storage) => {
    const key = randomUUID();
    await storage.write({ [key]: { here: true } });
    expect(Object.keys(await storage.read([key, randomUUID()]))).toEqual([key]);
    expect(await storage.read([])).toEqual({});
  });

  test('a write with a stale eTag is refused and leaves the stored item alone', async (storage) => {
    const key = randomUUID();
    await storage.write({ [key]: { value: 'first' } });
    const stale = (await storage.read([key]))[key];
    await storage.write({ [key]: { ...stale, value: 'second' } });
    await expect(storage.write({ [key]: { ...stale, value: 'late' } })).rejects.toThrow(ETagConflictError);
    await expect(storage.write({ [key]: { ...stale, value: 'late' } })).rejects.toThrow(`Storage: error writing "${key}" due to eTag conflict.`);
    expect((await storage.read([key]))[key]).toMatchObject({ value: 'second' });
  });

  test("eTag '*' or no eTag overwrites whatever is stored", async (storage) => {
    const key = randomUUID();
    await storage.write({ [key]: { value: 'first' } });
    await storage.write({ [key]: { value: 'star', eTag: '*' } });
    expect((await storage.read([key]))[key]).toMatchObject({ value: 'star' });
    await storage.write({ [key]: { value: 'none' } });
    expect((await storage.read([key]))[key]).toMatchObject({ value: 'none' });
  });

  test('of 20 concurrent writers holding the same eTag exactly one wins', async (storage) => {
    const key = randomUUID();
    await storage.write({ [key]: { writer: -1 } });
    const read = (await storage.read([key]))[key];
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, writer) => storage.write({ [key]: { ...read, writer } })));
    const winners = results.flatMap((r, writer) => (r.status === 'fulfilled' ? [writer] : []));
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason)).toEqual(Array(19).fill(expect.any(ETagConflictError)));
    expect((await storage.read([key]))[key]).toMatchObject({ writer: winners[0] });
  });

  test('a write of several items with one stale eTag writes none of them', async (storage) => {
    const [fresh, stale] = [randomUUID(), randomUUID()];
    await storage.write({ [fresh]: { v: 1 }, [stale]: { v: 1 } });
    const before = await storage.read([fresh, stale]);
    await storage.write({ [stale]: { v: 2 } });
    await expect(storage.write({ [fresh]: { ...before[fresh], v: 3 }, [stale]: { ...before[stale], v: 3 } })).rejects.toThrow(ETagConflictError);
    const after = await storage.read([fresh, stale]);
    expect(after[fresh]).toEqual(before[fresh]);
    expect(after[stale]).toMatchObject({ v: 2 });
  });

  test('concurrent writes of the same keys named in opposite orders all land (no deadlock)', async (storage) => {
    const [a, b] = [randomUUID(), randomUUID()];
    const writes = Array.from({ length: 10 }, (_, n) => storage.write(n % 2 ? { [a]: { n }, [b]: { n } } : { [b]: { n }, [a]: { n } }));
    await expect(Promise.all(writes)).resolves.toHaveLength(10);
    const stored = await storage.read([a, b]);
    expect(stored[a]?.n).toBe(stored[b]?.n);
  });

  test('an item written with an eTag after it was deleted is stored afresh, as MemoryStorage does', async (storage) => {
    const key = randomUUID();
    await storage.write({ [key]: { v: 1 } });
    const read = (await storage.read([key]))[key];
    await storage.delete([key]);
    await storage.write({ [key]: { ...read, v: 2 } });
    expect((await storage.read([key]))[key]).toMatchObject({ v: 2 });
  });

  test('deleted items read as absent, and deleting a missing key is not an error', async (storage) => {
    const [kept, gone] = [randomUUID(), randomUUID()];
    await storage.write({ [kept]: { v: 1 }, [gone]: { v: 1 } });
    await storage.delete([gone, randomUUID()]);
    expect(Object.keys(await storage.read([kept, gone]))).toEqual([kept]);
  });

  test("botbuilder's ConversationState saves a property through it and loads it in a later turn", async (storage) => {
    const conversationState = new ConversationState(storage);
    const progress = conversationState.createProperty<{ step: string; attempts: number }>('progress');
    const activity: Partial<Activity> = {
      type: ActivityTypes.Message, channelId: 'msteams', text: 'enable smtp for bob',
      conversation: { id: `a:${randomUUID()}`, isGroup: false, conversationType: 'personal', name: '' },
      from: { id: '29:alex', name: 'Alex' }, recipient: { id: '28:bot', name: 'SMTP Gate' },
    };

    const firstTurn = new TurnContext(new TestAdapter(), activity);
    await conversationState.load(firstTurn);
    expect(await progress.get(firstTurn)).toBeUndefined();
    await progress.set(firstTurn, { step: 'confirm', attempts: 1 });
    await conversationState.saveChanges(firstTurn);

    const secondTurn = new TurnContext(new TestAdapter(), activity);
    await conversationState.load(secondTurn);
    expect(await progress.get(secondTurn)).toEqual({ step: 'confirm', attempts: 1 });
    await progress.set(secondTurn, { step: 'done', attempts: 2 });
    await conversationState.saveChanges(secondTurn);

    const stored = await storage.read([`msteams/conversations/${activity.conversation!.id}/`]);
    expect(Object.values(stored)).toEqual([{ progress: { step: 'done', attempts: 2 }, eTag: expect.any(String) }]);
  });
}

describe('bot storage on PGlite', () => {
  storageContract(async () => pgliteDatabase());
});

describe('bot storage on PostgreSQL', () => {
  storageContract(async () => ((await postgresAvailable()) ? postgresDatabase() : undefined));
});
