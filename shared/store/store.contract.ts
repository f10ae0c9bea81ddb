/**
 * The contract every DocumentStore adapter must pass. Adapter test files call `describeStoreContract` with a
 * factory; the factory opens *independent connections* to one database, so races are real races between
 * connections, not between two promises on one handle.
 */

import { ConflictError, CorruptDocumentError, DuplicateKeyError } from '../domain/errors';
import * as z from '../domain/zod';
import { createLeases } from './leases';
import { type DocumentStore, defineCollection } from './port';
import { ConflictRetriesExhaustedError, UNCHANGED, updateWithRetry } from './retry';

export interface StoreFactory {
  /** Opens a new connection to the test database (the same database for every call within one test). */
  connect(clock: () => number): Promise<DocumentStore>;
  /** Called after each test: drop the database. */
  reset(): Promise<void>;
  /** Writes raw JSON for a document, bypassing validation, to simulate corruption. */
  corrupt(collection: string, id: string, rawJson: string): Promise<void>;
}

const widgets = defineCollection({
  name: 'contractWidgets',
  schema: z.object({
    owner: z.string(),
    state: z.enum(['new', 'busy', 'done']),
    priority: z.number(),
    dueAt: z.nullable(z.number()),
    archived: z.boolean(),
    tags: z.array(z.string()),
  }),
  indexes: ['owner', 'state', 'priority', 'dueAt', 'archived'],
});
type Widget = z.output<typeof widgets.schema>;

/** How many times `countedWidgets`' schema ran: to check that a document is validated once per write or read. */
let parsesOfCounted = 0;
const countedWidgets = defineCollection({
  name: 'contractCounted',
  schema: widgets.schema.check(
    z.superRefine(() => {
      parsesOfCounted++;
    }),
  ),
});

const widget = (patch: Partial<Widget> = {}): Widget => ({
  owner: 'acct-1',
  state: 'new',
  priority: 1,
  dueAt: null,
  archived: false,
  tags: [],
  ...patch,
});

export function describeStoreContract(adapterName: string, factory: StoreFactory): void {
  describe(`DocumentStore contract: ${adapterName}`, () => {
    let now = 1_700_000_000_000;
    const clock = () => now;
    const open: DocumentStore[] = [];
    const connect = async () => {
      const store = await factory.connect(clock);
      open.push(store);
      return store;
    };

    beforeEach(() => {
      now = 1_700_000_000_000;
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((store) => store.close()));
      await factory.reset();
    });

    it('inserts, reads back, updates with the version, and deletes', async () => {
      const items = (await connect()).collection(widgets);
      const inserted = await items.insert('w1', widget({ tags: ['a'] }));
      expect(inserted).toEqual({ id: 'w1', version: 1, expiresAt: null, data: widget({ tags: ['a'] }) });
      const updated = await items.update('w1', 1, widget({ state: 'busy' }));
      expect(updated.version).toBe(2);
      expect((await items.get('w1'))?.data.state).toBe('busy');
      expect(await items.delete('w1', 2)).toBe(true);
      expect(await items.get('w1')).toBeNull();
      expect(await items.delete('w1')).toBe(false);
    });

    it('refuses a second insert of the same id and keeps the first document', async () => {
      const items = (await connect()).collection(widgets);
      await items.insert('w1', widget({ priority: 1 }));
      await expect(items.insert('w1', widget({ priority: 2 }))).rejects.toBeInstanceOf(DuplicateKeyError);
      expect((await items.get('w1'))?.data.priority).toBe(1);
    });

    it('rejects a stale compare-and-set and a stale compare-and-delete', async () => {
      const items = (await connect()).collection(widgets);
      await items.insert('w1', widget());
      await items.update('w1', 1, widget({ state: 'busy' }));
      await expect(items.update('w1', 1, widget({ state: 'done' }))).rejects.toBeInstanceOf(ConflictError);
      await expect(items.delete('w1', 1)).rejects.toBeInstanceOf(ConflictError);
      expect((await items.get('w1'))?.data.state).toBe('busy');
    });

    it('lets exactly one of two connections win a race on the same version', async () => {
      const a = (await connect()).collection(widgets);
      const b = (await connect()).collection(widgets);
      await a.insert('w1', widget());
      const results = await Promise.allSettled([
        a.update('w1', 1, widget({ owner: 'writer-a' })),
        b.update('w1', 1, widget({ owner: 'writer-b' })),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]?.reason).toBeInstanceOf(ConflictError);
      const final = await a.get('w1');
      expect(final?.version).toBe(2);
      expect(['writer-a', 'writer-b']).toContain(final?.data.owner);
    });

    it('lets exactly one of many racing writers win each round of read-modify-write', async () => {
      const connections = await Promise.all([connect(), connect(), connect(), connect()]);
      const first = connections[0]!.collection(widgets);
      await first.insert('counter', widget({ priority: 0 }));
      // Each writer retries on conflict: the final count proves no increment was lost or applied twice.
      const increments = connections.flatMap((store) =>
        Array.from({ length: 10 }, async () => {
          const items = store.collection(widgets);
          for (;;) {
            const current = await items.get('counter');
            if (!current) throw new Error('counter vanished');
            try {
              await items.update('counter', current.version, { ...current.data, priority: current.data.priority + 1 });
              return;
            } catch (error) {
              if (!(error instanceof ConflictError)) throw error;
            }
          }
        }),
      );
      await Promise.all(increments);
      const final = await first.get('counter');
      expect(final?.data.priority).toBe(40);
      expect(final?.version).toBe(41);
    });

    it('loses no increment when racing writers go through the one retry rule', async () => {
      const connections = await Promise.all([connect(), connect(), connect(), connect()]);
      const first = connections[0]!.collection(widgets);
      await first.insert('counter', widget({ priority: 0 }));
      const policy = { attempts: 60, baseDelayMs: 1, maxDelayMs: 5 };
      await Promise.all(
        connections.flatMap((store) =>
          Array.from({ length: 10 }, () =>
            updateWithRetry(store.collection(widgets), 'counter', (c) => ({ ...c.data, priority: c.data.priority + 1 }), policy),
          ),
        ),
      );
      const final = await first.get('counter');
      expect(final?.data.priority).toBe(40);
      expect(final?.version).toBe(41);
    });

    it('gives up on a document that keeps changing under it with a typed error, and writes nothing for no change', async () => {
      const store = await connect();
      const rival = (await connect()).collection(widgets);
      const items = store.collection(widgets);
      await items.insert('hot', widget({ priority: 0 }));
      let tries = 0;
      // Another connection writes between every read and its write.
      const contested = {
        name: items.name,
        update: items.update.bind(items),
        get: async (id: string) => {
          tries++;
          const current = await items.get(id);
          if (current) await rival.update(id, current.version, { ...current.data, tags: [...current.data.tags, 'rival'] });
          return current;
        },
      };
      const lost = updateWithRetry(contested, 'hot', (current) => ({ ...current.data, priority: current.data.priority + 1 }), {
        attempts: 3,
        baseDelayMs: 1,
        maxDelayMs: 2,
      });
      const error = await lost.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConflictRetriesExhaustedError);
      expect((error as ConflictRetriesExhaustedError).code).toBe('CONFLICT_RETRIES_EXHAUSTED');
      expect((error as Error).cause).toBeInstanceOf(ConflictError);
      expect(tries).toBe(3);
      const before = await items.get('hot');
      const same = await updateWithRetry(items, 'hot', () => UNCHANGED);
      expect(same?.changed).toBe(false);
      expect((await items.get('hot'))?.version).toBe(before?.version);
      expect(await updateWithRetry(items, 'absent', () => widget())).toBeNull();
    });

    it('settles concurrent writes on one connection each on its own: a failing write fails alone', async () => {
      const store = await connect();
      const items = store.collection(widgets);
      await items.insert('kept', widget({ priority: 1 }));
      await items.insert('moved', widget({ priority: 1 }));
      // Issued together, as concurrent requests on one warm instance issue them.
      const [fresh, duplicate, stale, moved, batch, gone] = await Promise.allSettled([
        items.insert('fresh', widget({ priority: 2 })),
        items.insert('kept', widget({ priority: 99 })),
        items.update('kept', 7, widget({ priority: 99 })),
        items.update('moved', 1, widget({ priority: 3 })),
        store.commit([items.insertWrite('batched-1', widget()), items.insertWrite('batched-2', widget())]),
        items.delete('nothing-here'),
      ]);
      expect(fresh.status).toBe('fulfilled');
      expect(duplicate.status === 'rejected' && duplicate.reason).toBeInstanceOf(DuplicateKeyError);
      expect(stale.status === 'rejected' && stale.reason).toBeInstanceOf(ConflictError);
      expect(moved.status === 'fulfilled' && moved.value.version).toBe(2);
      expect(batch.status).toBe('fulfilled');
      expect(gone.status === 'fulfilled' && gone.value).toBe(false);
      const reader = (await connect()).collection(widgets);
      expect((await reader.get('kept'))?.data.priority).toBe(1);
      expect((await reader.get('moved'))?.data.priority).toBe(3);
      expect((await reader.get('fresh'))?.data.priority).toBe(2);
      expect((await reader.find({ where: { owner: 'acct-1' } })).map((w) => w.id).sort()).toEqual([
        'batched-1',
        'batched-2',
        'fresh',
        'kept',
        'moved',
      ]);
    });

    it('finds by indexed fields with ranges, order and limit', async () => {
      const items = (await connect()).collection(widgets);
      await items.insert('a', widget({ priority: 3, dueAt: 300 }));
      await items.insert('b', widget({ priority: 1, dueAt: 100, state: 'busy' }));
      await items.insert('c', widget({ priority: 2, dueAt: null, archived: true }));
      await items.insert('d', widget({ priority: 5, dueAt: 200, owner: 'acct-2' }));
      const ids = (docs: { id: string }[]) => docs.map((d) => d.id);

      expect(ids(await items.find({ where: { owner: 'acct-1' }, orderBy: { field: 'priority' } }))).toEqual(['b', 'c', 'a']);
      expect(ids(await items.find({ where: { dueAt: { lte: 250 } }, orderBy: { field: 'dueAt', direction: 'desc' } }))).toEqual(['d', 'b']);
      expect(ids(await items.find({ where: { dueAt: null } }))).toEqual(['c']);
      expect(ids(await items.find({ where: { archived: true } }))).toEqual(['c']);
      expect(ids(await items.find({ where: { archived: false, state: { in: ['new', 'busy'] } }, orderBy: { field: 'id' } }))).toEqual([
        'a',
        'b',
        'd',
      ]);
      expect(ids(await items.find({ where: { state: { in: [] } } }))).toEqual([]);
      expect(ids(await items.find({ orderBy: { field: 'priority', direction: 'desc' }, limit: 2 }))).toEqual(['d', 'a']);
    });

    it('matches a null field when the `in` list holds null, as equality with null does', async () => {
      const items = (await connect()).collection(widgets);
      await items.insert('a', widget({ dueAt: 300 }));
      await items.insert('b', widget({ dueAt: 100 }));
      await items.insert('c', widget({ dueAt: null }));
      const ids = async (values: (number | null)[]) =>
        (await items.find({ where: { dueAt: { in: values } }, orderBy: { field: 'id' } })).map((d) => d.id);
      expect(await ids([null, 100])).toEqual(['b', 'c']);
      expect(await ids([null])).toEqual(['c']);
      expect(await ids([300])).toEqual(['a']);
    });

    it('ignores a range with no bounds instead of matching nothing', async () => {
      const items = (await connect()).collection(widgets);
      await items.insert('a', widget({ priority: 3 }));
      await items.insert('b', widget({ priority: 1, owner: 'acct-2' }));
      const ids = (docs: { id: string }[]) => docs.map((d) => d.id);
      expect(ids(await items.find({ where: { priority: {} }, orderBy: { field: 'id' } }))).toEqual(['a', 'b']);
      expect(ids(await items.find({ where: { priority: { lt: undefined }, owner: 'acct-2' } }))).toEqual(['b']);
    });

    it('refuses a second insert of an identical document: the same body is not proof of the same write', async () => {
      const a = (await connect()).collection(widgets);
      const b = (await connect()).collection(widgets);
      await a.insert('w1', widget());
      await expect(b.insert('w1', widget())).rejects.toBeInstanceOf(DuplicateKeyError);
      await expect(a.insert('w1', widget())).rejects.toBeInstanceOf(DuplicateKeyError);
      const results = await Promise.allSettled([a.insert('w2', widget()), b.insert('w2', widget())]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason).toBeInstanceOf(DuplicateKeyError);
    });

    it('refuses to filter on a field that is not indexed', async () => {
      const items = (await connect()).collection(widgets);
      await expect(items.find({ where: { tags: 'x' } as never })).rejects.toThrow(/not an indexed field/);
    });

    it('hides expired documents at once, lets their id be reused, and purges them', async () => {
      const items = (await connect()).collection(widgets);
      await items.insert('temp', widget(), { expiresAt: now + 1000 });
      await items.insert('keep', widget());
      expect(await items.get('temp')).not.toBeNull();
      now += 1000;
      expect(await items.get('temp')).toBeNull();
      expect((await items.find()).map((d) => d.id)).toEqual(['keep']);
      await expect(items.update('temp', 1, widget())).rejects.toBeInstanceOf(ConflictError);

      const reborn = await items.insert('temp', widget({ priority: 9 }));
      expect(reborn.version).toBeGreaterThan(1); // a holder of the old version cannot write the new document
      await expect(items.update('temp', 1, widget())).rejects.toBeInstanceOf(ConflictError);

      await items.insert('old', widget(), { expiresAt: now - 1 });
      expect(await (await connect()).purgeExpired()).toBe(1);
      expect((await items.find({ orderBy: { field: 'id' } })).map((d) => d.id)).toEqual(['keep', 'temp']);
    });

    it('keeps, changes or clears the expiry on update as asked', async () => {
      const items = (await connect()).collection(widgets);
      await items.insert('w', widget(), { expiresAt: now + 1000 });
      expect((await items.update('w', 1, widget())).expiresAt).toBe(now + 1000);
      expect((await items.update('w', 2, widget(), { expiresAt: now + 5000 })).expiresAt).toBe(now + 5000);
      expect((await items.update('w', 3, widget(), { expiresAt: null })).expiresAt).toBeNull();
    });

    it('applies a write batch atomically: a failing write leaves nothing half-written', async () => {
      const store = await connect();
      const items = store.collection(widgets);
      await items.insert('existing', widget({ priority: 1 }));
      await items.insert('victim', widget({ priority: 1 }));

      await expect(
        store.commit([
          items.insertWrite('new-one', widget()),
          items.updateWrite('victim', 1, widget({ priority: 2 })),
          items.updateWrite('existing', 99, widget({ priority: 3 })), // stale: the whole batch must roll back
        ]),
      ).rejects.toBeInstanceOf(ConflictError);
      expect(await items.get('new-one')).toBeNull();
      expect((await items.get('victim'))?.data.priority).toBe(1);
      expect((await items.get('victim'))?.version).toBe(1);

      await expect(store.commit([items.deleteWrite('victim', 1), items.insertWrite('existing', widget())])).rejects.toBeInstanceOf(
        DuplicateKeyError,
      );
      expect(await items.get('victim')).not.toBeNull();

      await store.commit([
        items.insertWrite('new-one', widget()),
        items.updateWrite('victim', 1, widget({ priority: 2 })),
        items.deleteWrite('existing', 1),
      ]);
      expect(await items.get('new-one')).not.toBeNull();
      expect((await items.get('victim'))?.data.priority).toBe(2);
      expect(await items.get('existing')).toBeNull();
    });

    it('refuses to write a document that does not match its schema', async () => {
      const items = (await connect()).collection(widgets);
      await expect(items.insert('bad', { ...widget(), state: 'nonsense' } as never)).rejects.toBeInstanceOf(CorruptDocumentError);
      expect(() => items.updateWrite('bad', 1, { owner: 1 } as never)).toThrow(CorruptDocumentError);
      expect(await items.get('bad')).toBeNull();
    });

    it('validates a batch write once: a builder-made write is not parsed again, a hand-built one is', async () => {
      const store = await connect();
      const items = store.collection(countedWidgets);
      parsesOfCounted = 0;
      const insert = items.insertWrite('counted', widget());
      expect(parsesOfCounted).toBe(1);
      await store.commit([insert]);
      expect(parsesOfCounted).toBe(1);
      await store.commit([{ op: 'insert', collection: countedWidgets.name, id: 'by-hand', data: widget() }]);
      expect(parsesOfCounted).toBe(2);
      await expect(
        store.commit([{ op: 'insert', collection: countedWidgets.name, id: 'bad-by-hand', data: { ...widget(), state: 'nonsense' } }]),
      ).rejects.toBeInstanceOf(CorruptDocumentError);
      expect(await items.get('bad-by-hand')).toBeNull();
      parsesOfCounted = 0;
      expect((await items.get('counted'))?.data).toEqual(widget());
      expect(parsesOfCounted).toBe(1);
    });

    it('validates an insert and an update once each: what a write returns is not parsed again', async () => {
      const items = (await connect()).collection(countedWidgets);
      parsesOfCounted = 0;
      const inserted = await items.insert('once', widget());
      expect(parsesOfCounted).toBe(1);
      expect(inserted).toEqual({ id: 'once', version: 1, expiresAt: null, data: widget() });
      const updated = await items.update('once', 1, { ...widget(), state: 'done' });
      expect(parsesOfCounted).toBe(2);
      expect(updated).toEqual(await items.get('once'));
    });

    it('validates documents read back and reports corruption as a typed error', async () => {
      const items = (await connect()).collection(widgets);
      await items.insert('w', widget());
      await factory.corrupt(widgets.name, 'w', JSON.stringify({ owner: 'x', state: 'exploded' }));
      await expect(items.get('w')).rejects.toBeInstanceOf(CorruptDocumentError);
    });

    it('gives a lease to one owner at a time, across connections', async () => {
      const a = createLeases(await connect(), clock);
      const b = createLeases(await connect(), clock);
      const [first, second] = await Promise.all([a.acquire('job', 'A', 10_000), b.acquire('job', 'B', 10_000)]);
      expect([first, second].filter((lease) => lease !== null)).toHaveLength(1);
      const winner = first ?? second;
      expect(await a.holder('job')).toEqual({ owner: winner?.owner, until: now + 10_000 });
    });

    it('lets a lease be taken over only after it expires, and the old holder can then neither renew nor release it', async () => {
      const a = createLeases(await connect(), clock);
      const b = createLeases(await connect(), clock);
      const leaseA = await a.acquire('job', 'A', 10_000);
      expect(leaseA).not.toBeNull();
      now += 9_999;
      expect(await b.acquire('job', 'B', 10_000)).toBeNull();
      now += 1;
      const leaseB = await b.acquire('job', 'B', 10_000);
      expect(leaseB?.owner).toBe('B');
      expect(await a.renew(leaseA!, 10_000)).toBeNull();
      await a.release(leaseA!);
      expect((await b.holder('job'))?.owner).toBe('B');
    });

    it('never lets a holder whose lease expired and was purged renew or release the next holder’s lease', async () => {
      const store = await connect();
      const a = createLeases(store, clock);
      const b = createLeases(await connect(), clock);
      const stale = await a.acquire('job', 'A', 1_000);
      now += 1_000;
      await store.purgeExpired(); // the expired lease document is gone: the next insert starts afresh
      const fresh = await b.acquire('job', 'B', 10_000);
      expect(fresh?.version).toBe(stale?.version); // same version number, different incarnation
      expect(await a.renew(stale!, 10_000)).toBeNull();
      await a.release(stale!);
      expect((await b.holder('job'))?.owner).toBe('B');
    });

    it('renews and re-acquires a held lease, and frees it on release', async () => {
      const leases = createLeases(await connect(), clock);
      const lease = await leases.acquire('job', 'A', 1_000);
      now += 900;
      const renewed = await leases.renew(lease!, 1_000);
      expect(renewed?.until).toBe(now + 1_000);
      now += 900; // past the original expiry, inside the renewed one
      expect(await createLeases(await connect(), clock).acquire('job', 'B', 1_000)).toBeNull();
      const again = await leases.acquire('job', 'A', 5_000);
      expect(again?.until).toBe(now + 5_000);
      await leases.release(again!);
      expect(await leases.holder('job')).toBeNull();
      expect(await createLeases(await connect(), clock).acquire('job', 'B', 1_000)).not.toBeNull();
    });
  });
}
