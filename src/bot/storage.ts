import { randomUUID } from 'node:crypto';
import type { Storage, StoreItems } from 'botbuilder';
import type { Store } from '../store/store';

/** Thrown when a write names an eTag the stored item no longer carries; the message is MemoryStorage's. */
export class ETagConflictError extends Error {
  constructor(readonly key: string) {
    super(`Storage: error writing "${key}" due to eTag conflict.`);
    this.name = 'ETagConflictError';
  }
}

export interface StoreBotStorageOptions {
  newETag?: () => string;
  now?: () => Date;
}

/**
 * botbuilder `Storage` (conversation and user state) in the bot_state table, so every instance
 * behind the load balancer sees the same state. Semantics follow botbuilder's MemoryStorage: an item
 * written with eTag '*' or none replaces whatever is stored, one written with any other eTag only
 * while the stored item still has it (or nothing is stored), and every write gets a new eTag.
 */
export class StoreBotStorage implements Storage {
  private readonly newETag: () => string;
  private readonly now: () => Date;

  constructor(private readonly store: Store, options: StoreBotStorageOptions = {}) {
    this.newETag = options.newETag ?? randomUUID;
    this.now = options.now ?? (() => new Date());
  }

  async read(keys: string[]): Promise<StoreItems> {
    if (!keys) throw new ReferenceError('Keys are required when reading.');
    const items: StoreItems = {};
    for (const row of await this.store.readBotState(keys)) items[row.key] = { ...row.value, eTag: row.etag };
    return items;
  }

  /** All changes are written, or none (a conflicting key is named in the error). */
  async write(changes: StoreItems): Promise<void> {
    if (!changes) throw new ReferenceError('Changes are required when writing.');
    const items = Object.entries(changes).map(([key, item]) => {
      const { eTag, ...value } = (item ?? {}) as Record<string, unknown>;
      const expectedEtag = typeof eTag === 'string' && eTag !== '' && eTag !== '*' ? eTag : null;
      return { key, value, expectedEtag, etag: this.newETag() };
    });
    if (items.length === 0) return;
    const conflictKey = await this.store.writeBotState(items, this.now());
    if (conflictKey !== undefined) throw new ETagConflictError(conflictKey);
  }

  async delete(keys: string[]): Promise<void> {
    if (!keys) throw new ReferenceError('Keys are required when deleting.');
    await this.store.deleteBotState(keys);
  }
}
