import { sql, type Kysely } from 'kysely';
import type { AnyDb, AnyTx, DialectName } from '../../platform/db/database.ts';

interface LedgerTileSegmentsTable {
  level: number;
  tile: number;
  start: number;
  hashes: Uint8Array;
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

interface LedgerCosignaturesTable {
  /** The witness's verifier key. */
  witness: string;
  size: number;
  /** The witness's note signature line (tlog-cosignature/v1), with its newline. */
  signature: string;
  /** The cosignature's own timestamp (POSIX seconds). */
  cosigned_at: number;
  created_at: string;
}

interface LedgerControlFailuresTable {
  code: string;
  seq: number;
  message: string;
  detected_at: string;
  detected_by: string;
}

interface LedgerTables {
  ledger_tile_segments: LedgerTileSegmentsTable;
  ledger_checkpoints: LedgerCheckpointsTable;
  ledger_keys: LedgerKeysTable;
  ledger_cosignatures: LedgerCosignaturesTable;
  ledger_control_failures: LedgerControlFailuresTable;
}

export type CheckpointRow = LedgerCheckpointsTable;
export type CosignatureRow = LedgerCosignaturesTable;
export type ControlFailureRow = LedgerControlFailuresTable;

export interface NodeHash {
  /** Tile level: tree level 8 * level. */
  readonly level: number;
  readonly idx: number;
  readonly hash: Uint8Array;
}

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<LedgerTables>;

const TILE_WIDTH = 256;
const HASH_BYTES = 32;

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

  /** Stores new node hashes, grouped into one segment per run of a tile. */
  async insertHashes(tx: AnyTx, hashes: readonly NodeHash[]): Promise<void> {
    const sorted = [...hashes].sort((x, y) => x.level - y.level || x.idx - y.idx);
    const rows: LedgerTileSegmentsTable[] = [];
    let run:
      { level: number; tile: number; start: number; parts: Uint8Array[]; next: number } | undefined;
    const flush = (): void => {
      if (run)
        rows.push({
          level: run.level,
          tile: run.tile,
          start: run.start,
          hashes: Buffer.concat(run.parts),
        });
      run = undefined;
    };
    for (const h of sorted) {
      const tile = Math.floor(h.idx / TILE_WIDTH);
      if (!run || run.level !== h.level || run.tile !== tile || run.next !== h.idx) {
        flush();
        run = { level: h.level, tile, start: h.idx % TILE_WIDTH, parts: [], next: h.idx };
      }
      run.parts.push(h.hash);
      run.next++;
    }
    flush();
    for (let i = 0; i < rows.length; i += 500)
      await k(tx)
        .insertInto('ledger_tile_segments')
        .values(rows.slice(i, i + 500))
        .execute();
  }

  /** Stored hashes of tile level `level`, positions [start, end), in order (stops at a hole). */
  async hashes(db: Db, level: number, start: number, end: number): Promise<Uint8Array[]> {
    if (end <= start) return [];
    const rows = await k(db)
      .selectFrom('ledger_tile_segments')
      .select(['tile', 'start', 'hashes'])
      .where('level', '=', level)
      .where('tile', '>=', Math.floor(start / TILE_WIDTH))
      .where('tile', '<=', Math.floor((end - 1) / TILE_WIDTH))
      .orderBy('tile', 'asc')
      .orderBy('start', 'asc')
      .execute();
    const out: Uint8Array[] = [];
    let next = start;
    for (const r of rows) {
      const bytes = new Uint8Array(r.hashes);
      const first = Number(r.tile) * TILE_WIDTH + Number(r.start);
      const count = Math.floor(bytes.length / HASH_BYTES);
      if (first > next) break;
      for (let i = next - first; i < count && next < end; i++, next++)
        out.push(bytes.slice(i * HASH_BYTES, (i + 1) * HASH_BYTES));
      if (next >= end) break;
    }
    return out;
  }

  async insertCosignature(db: Db, row: CosignatureRow): Promise<void> {
    await k(db)
      .insertInto('ledger_cosignatures')
      .values(row)
      .onConflict((oc) => oc.columns(['witness', 'size']).doNothing())
      .execute();
  }

  /** The largest size the witness cosigned, if any. */
  async latestCosignedSize(db: Db, witness: string): Promise<number | undefined> {
    const r = await k(db)
      .selectFrom('ledger_cosignatures')
      .select((eb) => eb.fn.max('size').as('size'))
      .where('witness', '=', witness)
      .executeTakeFirst();
    return r?.size === null || r?.size === undefined ? undefined : Number(r.size);
  }

  /** The largest checkpoint size cosigned by at least `witnesses` witnesses. */
  async cosignedSize(db: Db, witnesses: number): Promise<number | undefined> {
    const r = await k(db)
      .selectFrom('ledger_cosignatures')
      .select('size')
      .groupBy('size')
      .having((eb) => eb.fn.countAll(), '>=', witnesses)
      .orderBy('size', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? Number(r.size) : undefined;
  }

  async cosignaturesAt(db: Db, size: number): Promise<CosignatureRow[]> {
    const rows = await k(db)
      .selectFrom('ledger_cosignatures')
      .selectAll()
      .where('size', '=', size)
      .orderBy('witness')
      .execute();
    return rows.map((r) => ({ ...r, size: Number(r.size), cosigned_at: Number(r.cosigned_at) }));
  }

  /** Records a control failure once; returns whether it was new. */
  async recordControlFailure(db: Db, row: ControlFailureRow): Promise<boolean> {
    const r = await k(db)
      .insertInto('ledger_control_failures')
      .values(row)
      .onConflict((oc) => oc.columns(['code', 'seq']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async latestControlFailure(db: Db): Promise<ControlFailureRow | undefined> {
    const r = await k(db)
      .selectFrom('ledger_control_failures')
      .selectAll()
      .orderBy('detected_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? { ...r, seq: Number(r.seq) } : undefined;
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
