import { sql, type Kysely } from 'kysely';
import type { AnyDb, AnyTx, DialectName } from '../../platform/db/database.ts';

export interface SealingKeyRow {
  key_id: string;
  registered_at: string;
  retired_at: string | null;
}

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<{ sealing_keys: SealingKeyRow }>;

export class KyselySealingKeyStore {
  constructor(private readonly dialect: DialectName) {}

  /** Serializes registrations across replicas (SQLite serializes every writer already). */
  async lock(tx: AnyTx): Promise<void> {
    if (this.dialect === 'postgres')
      await sql`lock table sealing_keys in share row exclusive mode`.execute(tx);
  }

  async all(db: Db): Promise<SealingKeyRow[]> {
    return k(db).selectFrom('sealing_keys').selectAll().orderBy('registered_at').execute();
  }

  async register(db: Db, keyId: string, at: string): Promise<void> {
    await k(db)
      .insertInto('sealing_keys')
      .values({ key_id: keyId, registered_at: at, retired_at: null })
      .onConflict((oc) => oc.column('key_id').doNothing())
      .execute();
  }

  /** Retires every key but `keep`; returns the ids retired. */
  async retireAllBut(db: Db, keep: string, at: string): Promise<string[]> {
    const rows = await k(db)
      .updateTable('sealing_keys')
      .set({ retired_at: at })
      .where('key_id', '!=', keep)
      .where('retired_at', 'is', null)
      .returning('key_id')
      .execute();
    return rows.map((r) => r.key_id);
  }
}
