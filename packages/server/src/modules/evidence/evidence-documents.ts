import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';

type Db = AnyDb | AnyTx;

export interface EvidenceDocumentRow {
  digest: string;
  media_type: string;
  body: string;
  created_at: string;
}

const k = (db: Db) => db as unknown as Kysely<{ evidence_documents: EvidenceDocumentRow }>;

// Content-addressed documents kept as evidence (the inputs of policy decisions): stored once
// per digest, never changed, so a decision's input hash always finds the same bytes.
export class EvidenceDocuments {
  static digestOf(body: string): string {
    return 'sha256:' + createHash('sha256').update(body).digest('hex');
  }

  async put(db: Db, doc: { body: string; mediaType: string; at: Date }): Promise<string> {
    const digest = EvidenceDocuments.digestOf(doc.body);
    await k(db)
      .insertInto('evidence_documents')
      .values({
        digest,
        media_type: doc.mediaType,
        body: doc.body,
        created_at: doc.at.toISOString(),
      })
      .onConflict((oc) => oc.column('digest').doNothing())
      .execute();
    return digest;
  }

  // Documents in digest order, `limit` after `afterDigest` (the retention module's fixity check).
  async page(
    db: Db,
    page: { afterDigest?: string | undefined; limit: number },
  ): Promise<EvidenceDocumentRow[]> {
    let q = k(db).selectFrom('evidence_documents').selectAll();
    if (page.afterDigest !== undefined) q = q.where('digest', '>', page.afterDigest);
    return q.orderBy('digest').limit(page.limit).execute();
  }

  async get(db: Db, digest: string): Promise<EvidenceDocumentRow | undefined> {
    return k(db)
      .selectFrom('evidence_documents')
      .selectAll()
      .where('digest', '=', digest)
      .executeTakeFirst();
  }
}
