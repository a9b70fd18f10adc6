import { canonicalJson } from '@custody/ledger';
import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import { leafHashHexWith, sharedLeafFields, type AuditEntry } from './audit-entry.ts';
import type { EntryAuthenticator } from './entry-mac.ts';

interface AuditEntriesTable {
  seq: number;
  created_at: string;
  actor_type: string;
  actor_id: string | null;
  actor_name: string;
  auth_method: string;
  actor_ip: string | null;
  action: string;
  resource_type: string;
  resource_id: string;
  outcome: string;
  request_id: string | null;
  details: string;
  leaf_hash: string;
  /** HMAC-SHA256 by the application (entry-mac.ts); null on rows from before it existed. */
  entry_mac: string | null;
}

interface AuditHeadTable {
  id: number;
  next_seq: number;
  /** The first seq written with an entry MAC (the audit trail's size at that migration). */
  macs_from: number;
}

export interface AuditTables {
  audit_entries: AuditEntriesTable;
  audit_head: AuditHeadTable;
}

export interface AuditFilter {
  actor?: string | undefined;
  action?: string | undefined;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
  outcome?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  afterSeq?: number | undefined;
  beforeSeq?: number | undefined;
  limit: number;
  order?: 'asc' | 'desc';
}

export interface StoredAuditEntry extends AuditEntry {
  readonly leafHash: string;
}

/** What the checkpointer reads: the stored leaf hash and the application's MAC over it. */
export interface AuthenticatedLeaf {
  readonly seq: number;
  readonly leafHash: string;
  readonly mac: string | null;
}

export class KyselyAuditStore {
  // Sequence numbers are gap-free and follow commit order: the head row is updated first and
  // stays locked until the surrounding transaction commits, so concurrent writers (even
  // across replicas) queue here, and a rolled-back transaction gives its numbers back.
  // All entries of one transaction go in one head update (which reserves their numbers) and
  // one multi-row insert, whatever their number. Each row carries the application's MAC.
  async appendMany(
    tx: AnyTx,
    entries: readonly Omit<AuditEntry, 'seq'>[],
    auth: EntryAuthenticator,
  ): Promise<void> {
    const db = tx as unknown as Kysely<AuditTables>;
    const head = await db
      .updateTable('audit_head')
      .set((eb) => ({ next_seq: eb('next_seq', '+', entries.length) }))
      .where('id', '=', 1)
      .returning('next_seq')
      .executeTakeFirstOrThrow();
    const first = Number(head.next_seq) - entries.length;
    const rows: AuditEntriesTable[] = [];
    const one = entries[0];
    const shared = one && sharedLeafFields(one.actor, one.time, one.requestId);
    for (const [i, entry] of entries.entries()) {
      const seq = first + i;
      // Stored as its canonical JSON: the same text the leaf hash covers, serialized once.
      const details = canonicalJson(entry.details);
      const leaf = leafHashHexWith(shared, entry, seq, details);
      rows.push({
        seq,
        created_at: entry.time,
        actor_type: entry.actor.type,
        actor_id: entry.actor.id,
        actor_name: entry.actor.name,
        auth_method: entry.actor.authMethod,
        actor_ip: entry.actor.ip,
        action: entry.action,
        resource_type: entry.resource.type,
        resource_id: entry.resource.id,
        outcome: entry.outcome,
        request_id: entry.requestId,
        details,
        leaf_hash: leaf,
        entry_mac: auth.mac(seq, leaf),
      });
    }
    // 15 columns per row: 500 rows stay far below SQLite's and PostgreSQL's parameter limits.
    for (let i = 0; i < rows.length; i += 500)
      await db
        .insertInto('audit_entries')
        .values(rows.slice(i, i + 500))
        .execute();
  }

  // Stored leaf hashes (hex) and MACs of committed entries after `afterSeq`, in seq order.
  async leafHashes(
    dbOrTx: AnyDb | AnyTx,
    afterSeq: number,
    limit: number,
  ): Promise<AuthenticatedLeaf[]> {
    const db = dbOrTx as unknown as Kysely<AuditTables>;
    const rows = await db
      .selectFrom('audit_entries')
      .select(['seq', 'leaf_hash', 'entry_mac'])
      .where('seq', '>', afterSeq)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ seq: Number(r.seq), leafHash: r.leaf_hash, mac: r.entry_mac }));
  }

  /** The first seq written with an entry MAC; earlier rows predate entry authentication. */
  async macsFrom(dbOrTx: AnyDb | AnyTx): Promise<number> {
    const db = dbOrTx as unknown as Kysely<AuditTables>;
    const head = await db
      .selectFrom('audit_head')
      .select('macs_from')
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    return Number(head.macs_from);
  }

  async list(dbOrTx: AnyDb | AnyTx, filter: AuditFilter): Promise<StoredAuditEntry[]> {
    const db = dbOrTx as unknown as Kysely<AuditTables>;
    let q = db.selectFrom('audit_entries').selectAll();
    if (filter.actor) q = q.where('actor_name', '=', filter.actor);
    if (filter.action) {
      q = filter.action.endsWith('*')
        ? q.where('action', 'like', `${filter.action.slice(0, -1)}%`)
        : q.where('action', '=', filter.action);
    }
    if (filter.resourceType) q = q.where('resource_type', '=', filter.resourceType);
    if (filter.resourceId) q = q.where('resource_id', '=', filter.resourceId);
    if (filter.outcome) q = q.where('outcome', '=', filter.outcome);
    if (filter.since) q = q.where('created_at', '>=', filter.since);
    if (filter.until) q = q.where('created_at', '<', filter.until);
    if (filter.afterSeq !== undefined) q = q.where('seq', '>', filter.afterSeq);
    if (filter.beforeSeq !== undefined) q = q.where('seq', '<', filter.beforeSeq);
    const rows = await q
      .orderBy('seq', filter.order ?? 'asc')
      .limit(filter.limit)
      .execute();
    return rows.map(fromRow);
  }

  async count(dbOrTx: AnyDb | AnyTx): Promise<number> {
    const db = dbOrTx as unknown as Kysely<AuditTables>;
    const head = await db
      .selectFrom('audit_head')
      .select('next_seq')
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    return Number(head.next_seq);
  }
}

export function fromRow(row: AuditEntriesTable): StoredAuditEntry {
  return {
    seq: Number(row.seq),
    time: row.created_at,
    actor: {
      type: row.actor_type as AuditEntry['actor']['type'],
      id: row.actor_id,
      name: row.actor_name,
      authMethod: row.auth_method as AuditEntry['actor']['authMethod'],
      ip: row.actor_ip,
    },
    action: row.action,
    resource: { type: row.resource_type, id: row.resource_id },
    outcome: row.outcome as AuditEntry['outcome'],
    requestId: row.request_id,
    details: parseDetails(row.details),
    leafHash: row.leaf_hash,
  };
}

// A row whose details were overwritten with something that is not JSON still reads (and then
// fails verification as a changed entry) instead of breaking every reader.
function parseDetails(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : { $unreadable: text };
  } catch {
    return { $unreadable: text };
  }
}
