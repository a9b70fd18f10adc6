import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import { systemActor, type RequestContext } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import type { EvidenceDocuments } from '../evidence/index.ts';
import type { BlobUse, ExecutionReads } from '../executions/index.ts';
import type { GuardState } from './guard-check.ts';
import { retentionPermissions as P } from './permissions.ts';

export interface FixitySourceCount {
  checked: number;
  mismatched: number;
  firstDigest: string | null;
  lastDigest: string | null;
}

export interface FixityMismatch {
  source: 'blob' | 'document';
  digest: string;
  // What the stored bytes hash to now.
  actual: string;
  sizeRecorded: number | null;
  sizeActual: number;
  // Where a damaged blob is used (run files naming it); empty for documents (policy inputs).
  usedBy: BlobUse[];
}

export interface FixityResult {
  checkedAt: string;
  durationMs: number;
  blobs: FixitySourceCount;
  documents: FixitySourceCount;
  mismatches: FixityMismatch[];
  // The database's retention triggers: a dropped or disabled one is reported with each check.
  guards: GuardState;
}

const pageSize = 200;
const sha256 = (data: Buffer | string) =>
  'sha256:' + createHash('sha256').update(data).digest('hex');

// Re-hashes every stored blob (executions) and evidence document (evidence) and compares each
// with the digest it is stored under. Each run is one `retention.fixity.checked` entry and one
// `retention.fixity.mismatch` entry per damaged item: a superuser who rewrites content with
// the triggers dropped is found here and in the ledger.
export class FixityCheck {
  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      clock: Clock;
      executions: ExecutionReads;
      documents: EvidenceDocuments;
      // When the last check was recorded (the ledger), so a restart does not reset the schedule.
      lastChecked: () => Promise<string | undefined>;
      guards: () => Promise<GuardState>;
    },
  ) {}

  async runOnDemand(ctx: RequestContext): Promise<FixityResult> {
    await ctx.guard.require(P['retention.fixity.check'], {}, { type: 'Fixity', id: 'store' });
    return this.run(ctx);
  }

  // The leader's duty: checks when the interval has passed since the last recorded check.
  async due(intervalMs: number): Promise<FixityResult | undefined> {
    const last = await this.deps.lastChecked();
    if (last && this.deps.clock.now().getTime() - Date.parse(last) < intervalMs) return undefined;
    return this.run({ actor: systemActor, requestId: `fixity-${randomUUID()}` });
  }

  async run(ctx: Pick<RequestContext, 'actor' | 'requestId'>): Promise<FixityResult> {
    const started = this.deps.clock.now();
    const t0 = performance.now();
    const db = this.deps.database.db;
    const mismatches: FixityMismatch[] = [];
    const blobs = count();
    for (let after: string | undefined; ;) {
      const page = await this.deps.executions.blobPage(db, { afterDigest: after, limit: pageSize });
      for (const b of page) {
        const bytes = Buffer.from(b.contentBase64, 'base64');
        const actual = sha256(bytes);
        tally(blobs, b.digest);
        if (actual !== b.digest || bytes.length !== b.size) {
          blobs.mismatched++;
          mismatches.push({
            source: 'blob',
            digest: b.digest,
            actual,
            sizeRecorded: b.size,
            sizeActual: bytes.length,
            usedBy: await this.deps.executions.blobUses(db, b.digest),
          });
        }
      }
      if (page.length < pageSize) break;
      after = page.at(-1)!.digest;
    }
    const documents = count();
    for (let after: string | undefined; ;) {
      const page = await this.deps.documents.page(db, { afterDigest: after, limit: pageSize });
      for (const d of page) {
        const actual = sha256(d.body);
        tally(documents, d.digest);
        if (actual !== d.digest) {
          documents.mismatched++;
          mismatches.push({
            source: 'document',
            digest: d.digest,
            actual,
            sizeRecorded: null,
            sizeActual: Buffer.byteLength(d.body),
            usedBy: [],
          });
        }
      }
      if (page.length < pageSize) break;
      after = page.at(-1)!.digest;
    }
    const guards = await this.deps.guards();
    const result: FixityResult = {
      checkedAt: started.toISOString(),
      durationMs: Math.round(performance.now() - t0),
      blobs,
      documents,
      mismatches,
      guards,
    };
    await this.deps.uow.run(ctx, async (_tx, record) => {
      record({
        action: 'retention.fixity.checked',
        resource: { type: 'Fixity', id: 'store' },
        outcome: mismatches.length || !guards.intact ? 'failed' : 'succeeded',
        details: {
          blobs,
          documents,
          mismatched: mismatches.length,
          durationMs: result.durationMs,
          guardsMissing: guards.missing,
        },
      });
      for (const m of mismatches)
        record({
          action: 'retention.fixity.mismatch',
          resource: { type: m.source === 'blob' ? 'Blob' : 'EvidenceDocument', id: m.digest },
          outcome: 'failed',
          details: {
            digest: m.digest,
            actual: m.actual,
            sizeRecorded: m.sizeRecorded,
            sizeActual: m.sizeActual,
            usedBy: m.usedBy,
          },
        });
    });
    return result;
  }
}

function count(): FixitySourceCount {
  return { checked: 0, mismatched: 0, firstDigest: null, lastDigest: null };
}

function tally(c: FixitySourceCount, digest: string): void {
  c.checked++;
  c.firstDigest ??= digest;
  c.lastDigest = digest;
}
