import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';

interface AttestationsTable {
  id: string;
  run_id: string;
  job_id: string;
  idx: number;
  project: string;
  predicate_type: string;
  subject_name: string;
  subject_digest: string;
  bundle: string;
  digest: string;
  payload_digest: string;
  created_at: string;
}

interface AttestationSubjectsTable {
  attestation_id: string;
  position: number;
  name: string;
  digest: string;
}

interface AttestationTables {
  attestations: AttestationsTable;
  attestation_subjects: AttestationSubjectsTable;
}

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<AttestationTables>;

export type AttestationRow = AttestationsTable;

export interface AttestationSubjectRow {
  readonly name: string;
  /** `sha256:<hex>` */
  readonly digest: string;
}

export interface AttestationWithSubjects {
  readonly row: AttestationRow;
  readonly subjects: readonly AttestationSubjectRow[];
}

export class KyselyAttestationStore {
  async insert(
    db: Db,
    row: AttestationRow,
    subjects: readonly AttestationSubjectRow[],
  ): Promise<void> {
    await k(db).insertInto('attestations').values(row).execute();
    if (subjects.length)
      await k(db)
        .insertInto('attestation_subjects')
        .values(subjects.map((s, position) => ({ attestation_id: row.id, position, ...s })))
        .execute();
  }

  async get(db: Db, id: string): Promise<AttestationRow | undefined> {
    return k(db).selectFrom('attestations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  // A run's attestations in the order they were issued, each with all its subjects.
  async listByRun(db: Db, runId: string): Promise<AttestationWithSubjects[]> {
    const rows = await k(db)
      .selectFrom('attestations')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('created_at')
      .orderBy('job_id')
      .orderBy('idx')
      .execute();
    if (rows.length === 0) return [];
    const subjects = await k(db)
      .selectFrom('attestation_subjects')
      .innerJoin('attestations', 'attestations.id', 'attestation_subjects.attestation_id')
      .select([
        'attestation_subjects.attestation_id',
        'attestation_subjects.position',
        'attestation_subjects.name',
        'attestation_subjects.digest',
      ])
      .where('attestations.run_id', '=', runId)
      .orderBy('attestation_subjects.attestation_id')
      .orderBy('attestation_subjects.position')
      .execute();
    const byId = new Map<string, AttestationSubjectRow[]>();
    for (const s of subjects) {
      let list = byId.get(s.attestation_id);
      if (!list) byId.set(s.attestation_id, (list = []));
      list.push({ name: s.name, digest: s.digest });
    }
    return rows.map((row) => ({ row, subjects: byId.get(row.id) ?? [] }));
  }

  // The attestations in a project whose subjects include one of `digests`.
  async bySubjects(
    db: Db,
    project: string,
    digests: readonly string[],
  ): Promise<
    { id: string; run_id: string; predicate_type: string; digest: string; subject: string }[]
  > {
    if (digests.length === 0) return [];
    return k(db)
      .selectFrom('attestation_subjects as s')
      .innerJoin('attestations as a', 'a.id', 's.attestation_id')
      .select(['a.id', 'a.run_id', 'a.predicate_type', 'a.digest', 's.digest as subject'])
      .where('a.project', '=', project)
      .where('s.digest', 'in', [...digests])
      .orderBy('a.created_at')
      .orderBy('a.id')
      .execute();
  }
}
