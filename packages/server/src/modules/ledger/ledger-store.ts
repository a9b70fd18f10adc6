import { sql, type Kysely } from 'kysely';
import type { AnyDb, AnyTx, DialectName } from '../../platform/db/database.ts';

interface LedgerHashesTable {
  level: number;
  idx: number;
  hash: Uint8Array;
}

interface LedgerCheckpointsTable {
  size: number;
  root_hash: string;
  note: string;
  range_state: string;
  key_id: string;
  signed_by: string;
  created_at: string;
}

interface LedgerKeysTable {
  verifier_key: string;
  origin: string;
  created_at: string;
}

interface LedgerTables {
  ledger_hashes: LedgerHashesTable;
  ledger_checkpoints: LedgerCheckpointsTable;
  ledger_keys: LedgerKeysTable;
}

export type CheckpointRow = LedgerCheckpointsTable;

export interface NodeHash {
  /** Tile level: tree level 8 * level. */
  readonly level: number;
  readonly idx: number;
  readonly hash: Uint8Array;
}

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<LedgerTables>;

// Rows per multi-row INSERT: 3 parameters each stays far below SQLite's variable limit.
const insertChunk = 2000;

// Number of the PostgreSQL advisory lock held by the replica that builds and signs.
const leaderLockKey = 0x6c656467; // 'ledg'

export class KyselyLedgerStore {
  constructor(private readonly dialect: DialectName) {}

  async latestCheckpoint(db: Db): Promise<CheckpointRow | undefined> {
    return k(db)
      .selectFrom('ledger_checkpoints')
      .selectAll()
      .orderBy('size', 'desc')
      .limit(1)
      .executeTakeFirst()
      .then((r) => (r ? fix(r) : undefined));
  }

  async checkpointAt(db: Db, size: number): Promise<CheckpointRow | undefined> {
    const r = await k(db)
      .selectFrom('ledger_checkpoints')
      .selectAll()
      .where('size', '=', size)
      .executeTakeFirst();
    return r ? fix(r) : undefined;
  }

  /** Smallest checkpoint whose size is at least `size`. */
  async checkpointCovering(db: Db, size: number): Promise<CheckpointRow | undefined> {
    const r = await k(db)
      .selectFrom('ledger_checkpoints')
      .selectAll()
      .where('size', '>=', size)
      .orderBy('size', 'asc')
      .limit(1)
      .executeTakeFirst();
    return r ? fix(r) : undefined;
  }

  async listCheckpoints(
    db: Db,
    options: { afterSize?: number | undefined; limit: number },
  ): Promise<CheckpointRow[]> {
    let q = k(db).selectFrom('ledger_checkpoints').selectAll();
    if (options.afterSize !== undefined) q = q.where('size', '>', options.afterSize);
    const rows = await q.orderBy('size', 'asc').limit(options.limit).execute();
    return rows.map(fix);
  }

  async insertCheckpoint(tx: AnyTx, row: CheckpointRow): Promise<void> {
    await k(tx).insertInto('ledger_checkpoints').values(row).execute();
  }

  async insertHashes(tx: AnyTx, hashes: readonly NodeHash[]): Promise<void> {
    for (let i = 0; i < hashes.length; i += insertChunk) {
      const chunk = hashes.slice(i, i + insertChunk).map((h) => ({
        level: h.level,
        idx: h.idx,
        hash: this.dialect === 'postgres' ? Buffer.from(h.hash) : Buffer.from(h.hash),
      }));
      await k(tx).insertInto('ledger_hashes').values(chunk).execute();
    }
  }

  /** Stored hashes of tile level `level`, positions [start, end), in order. */
  async hashes(db: Db, level: number, start: number, end: number): Promise<Uint8Array[]> {
    const rows = await k(db)
      .selectFrom('ledger_hashes')
      .select(['idx', 'hash'])
      .where('level', '=', level)
      .where('idx', '>=', start)
      .where('idx', '<', end)
      .orderBy('idx', 'asc')
      .execute();
    const out: Uint8Array[] = [];
    for (const [i, r] of rows.entries()) {
      if (Number(r.idx) !== start + i) break;
      out.push(new Uint8Array(r.hash));
    }
    return out;
  }

  async keys(db: Db): Promise<LedgerKeysTable[]> {
    return k(db).selectFrom('ledger_keys').selectAll().orderBy('created_at', 'asc').execute();
  }

  async addKey(db: Db, row: LedgerKeysTable): Promise<void> {
    await k(db)
      .insertInto('ledger_keys')
      .values(row)
      .onConflict((oc) => oc.column('verifier_key').doNothing())
      .execute();
  }

  /**
   * Holds a dedicated connection and tries the leader lock on it (PostgreSQL). While `lead`
   * runs, this replica is the leader; the lock goes away with the connection if the process
   * dies. `lead` receives a probe that fails once the connection is lost.
   * Returns false at once when another replica holds the lock.
   */
  async withLeaderLock(
    db: AnyDb,
    lead: (probe: () => Promise<void>) => Promise<void>,
  ): Promise<boolean> {
    if (this.dialect !== 'postgres') {
      await lead(async () => {});
      return true;
    }
    return db.connection().execute(async (conn) => {
      const got = await sql<{
        ok: boolean;
      }>`select pg_try_advisory_lock(${leaderLockKey}) as ok`.execute(conn);
      if (!got.rows[0]?.ok) return false;
      try {
        await lead(async () => {
          await sql`select 1`.execute(conn);
        });
      } finally {
        await sql`select pg_advisory_unlock(${leaderLockKey})`.execute(conn).catch(() => {});
      }
      return true;
    });
  }
}

function fix(r: CheckpointRow): CheckpointRow {
  return { ...r, size: Number(r.size) };
}
