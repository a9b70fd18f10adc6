import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';

export interface DossierRow {
  id: string;
  deployment_id: string;
  final: number;
  manifest_sha256: string;
  size: number;
  created_at: string;
  created_by: string;
  zip: Uint8Array;
}

interface DossierTables {
  dossiers: DossierRow;
}

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<DossierTables>;

// Built dossiers, append-only (the database refuses UPDATE and DELETE).
export class KyselyDossierStore {
  async insert(db: Db, row: DossierRow): Promise<void> {
    await k(db)
      .insertInto('dossiers')
      .values({ ...row, zip: Buffer.from(row.zip) })
      .execute();
  }

  async final(db: Db, deploymentId: string): Promise<DossierRow | undefined> {
    const row = await k(db)
      .selectFrom('dossiers')
      .selectAll()
      .where('deployment_id', '=', deploymentId)
      .where('final', '=', 1)
      .executeTakeFirst();
    return row ? { ...row, size: Number(row.size), zip: new Uint8Array(row.zip) } : undefined;
  }

  /** Which of these deployments already have their final dossier. */
  async withFinal(db: Db, deploymentIds: readonly string[]): Promise<Set<string>> {
    if (deploymentIds.length === 0) return new Set();
    const rows = await k(db)
      .selectFrom('dossiers')
      .select('deployment_id')
      .where('deployment_id', 'in', [...deploymentIds])
      .where('final', '=', 1)
      .execute();
    return new Set(rows.map((r) => r.deployment_id));
  }

  async count(db: Db, deploymentId: string): Promise<number> {
    const row = await k(db)
      .selectFrom('dossiers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('deployment_id', '=', deploymentId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
