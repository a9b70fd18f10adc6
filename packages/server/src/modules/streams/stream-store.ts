import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import {
  fetchPage,
  type KeyColumn,
  type PageOf,
  type PageRequest,
} from '../../platform/db/keyset.ts';

interface DestinationsTable {
  name: string;
  spec: string;
  version: number;
}

interface CursorsTable {
  name: string;
  next_seq: number;
  last_error: string | null;
  last_attempt_at: string | null;
  last_delivery_at: string | null;
  /** Size of the last ledger checkpoint delivered (`checkpoints: true`), null before any. */
  checkpoint_size: number | null;
}

interface SecretsTable {
  name: string;
  sealed: string;
  updated_at: string;
}

interface StreamTables {
  stream_destinations: DestinationsTable;
  stream_cursors: CursorsTable;
  stream_secrets: SecretsTable;
}

export type DestinationRow = DestinationsTable & CursorsTable;

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<StreamTables>;
const byName: KeyColumn<DestinationRow>[] = [
  { column: 'd.name', type: 'string', value: (r) => r.name },
];

export class KyselyStreamStore {
  async upsertDestination(db: Db, row: DestinationsTable, startSeq: number): Promise<void> {
    await k(db)
      .insertInto('stream_destinations')
      .values(row)
      .onConflict((oc) => oc.column('name').doUpdateSet({ spec: row.spec, version: row.version }))
      .execute();
    await k(db)
      .insertInto('stream_cursors')
      .values({
        name: row.name,
        next_seq: startSeq,
        last_error: null,
        last_attempt_at: null,
        last_delivery_at: null,
        checkpoint_size: null,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  }

  async destinations(db: Db): Promise<DestinationRow[]> {
    const rows = await k(db)
      .selectFrom('stream_destinations as d')
      .innerJoin('stream_cursors as c', 'c.name', 'd.name')
      .select([
        'd.name',
        'd.spec',
        'd.version',
        'c.next_seq',
        'c.last_error',
        'c.last_attempt_at',
        'c.last_delivery_at',
        'c.checkpoint_size',
      ])
      .orderBy('d.name')
      .execute();
    return rows.map((r) => ({
      ...r,
      next_seq: Number(r.next_seq),
      checkpoint_size: r.checkpoint_size === null ? null : Number(r.checkpoint_size),
    }));
  }

  async destinationsPage(db: Db, page: PageRequest): Promise<PageOf<DestinationRow>> {
    const q = k(db)
      .selectFrom('stream_destinations as d')
      .innerJoin('stream_cursors as c', 'c.name', 'd.name')
      .select([
        'd.name',
        'd.spec',
        'd.version',
        'c.next_seq',
        'c.last_error',
        'c.last_attempt_at',
        'c.last_delivery_at',
        'c.checkpoint_size',
      ]);
    const rows = await fetchPage(q, byName, page);
    return {
      items: rows.items.map((r) => ({
        ...r,
        next_seq: Number(r.next_seq),
        checkpoint_size: r.checkpoint_size === null ? null : Number(r.checkpoint_size),
      })),
      next: rows.next,
    };
  }

  async destinationExists(db: Db, name: string): Promise<boolean> {
    const r = await k(db)
      .selectFrom('stream_destinations')
      .select('name')
      .where('name', '=', name)
      .executeTakeFirst();
    return r !== undefined;
  }

  /** Moves the cursor forward only (never back), so a slow duplicate sender cannot rewind it. */
  async advance(db: Db, name: string, nextSeq: number, at: string): Promise<void> {
    await k(db)
      .updateTable('stream_cursors')
      .set({ next_seq: nextSeq, last_error: null, last_attempt_at: at, last_delivery_at: at })
      .where('name', '=', name)
      .where('next_seq', '<', nextSeq)
      .execute();
  }

  /** Moves the checkpoint cursor forward only. */
  async advanceCheckpoint(db: Db, name: string, size: number, at: string): Promise<void> {
    await k(db)
      .updateTable('stream_cursors')
      .set({ checkpoint_size: size, last_error: null, last_attempt_at: at, last_delivery_at: at })
      .where('name', '=', name)
      .where((eb) => eb.or([eb('checkpoint_size', 'is', null), eb('checkpoint_size', '<', size)]))
      .execute();
  }

  async recordFailure(db: Db, name: string, error: string, at: string): Promise<void> {
    await k(db)
      .updateTable('stream_cursors')
      .set({ last_error: error, last_attempt_at: at })
      .where('name', '=', name)
      .execute();
  }

  async setSecret(db: Db, row: SecretsTable): Promise<void> {
    await k(db)
      .insertInto('stream_secrets')
      .values(row)
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({ sealed: row.sealed, updated_at: row.updated_at }),
      )
      .execute();
  }

  async secret(db: Db, name: string): Promise<SecretsTable | undefined> {
    return k(db)
      .selectFrom('stream_secrets')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
  }

  async secrets(db: Db): Promise<SecretsTable[]> {
    return k(db).selectFrom('stream_secrets').selectAll().orderBy('name').execute();
  }

  // For re-sealing under a new key: only while the value is still `from`.
  async replaceSecret(db: Db, name: string, from: string, to: string): Promise<boolean> {
    const r = await k(db)
      .updateTable('stream_secrets')
      .set({ sealed: to })
      .where('name', '=', name)
      .where('sealed', '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
