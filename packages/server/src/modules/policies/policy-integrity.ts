import { createHash } from 'node:crypto';
import { canonicalJson } from '@custody/ledger';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { PolicySpec } from './policy-spec.ts';
import type { PolicyRow } from './policy-store.ts';

// Whether the ledger holds the application of this policy version (its content hash in a
// `resources.policy.*` entry): the audit module answers.
export type AppliedInLedger = (
  db: AnyDb | AnyTx,
  policy: { project: string; name: string; hash: string },
) => Promise<boolean>;

export const documentHash = (document: unknown) =>
  'sha256:' + createHash('sha256').update(canonicalJson(document)).digest('hex');

// The spec a stored version really carries: its document must hash to its content hash. A row
// edited in the database (spec or hash) is refused rather than evaluated.
export function storedSpec(row: PolicyRow): PolicySpec | string {
  if (!row.document) return 'is stored without its document';
  let doc: { spec?: PolicySpec };
  try {
    doc = JSON.parse(row.document) as { spec?: PolicySpec };
  } catch {
    return 'has an unreadable stored document';
  }
  if (documentHash(doc) !== row.content_hash || !doc.spec)
    return `does not match its content hash ${row.content_hash} (changed outside Custody)`;
  return doc.spec;
}

// The checks before a version is first evaluated in this process: its document, and that the
// ledger recorded it being applied (a forged row with a matching hash has no ledger entry).
export async function verifyStored(
  db: AnyDb | AnyTx,
  row: PolicyRow,
  applied: AppliedInLedger | undefined,
): Promise<string | undefined> {
  const spec = storedSpec(row);
  if (typeof spec === 'string') return spec;
  if (
    applied &&
    !(await applied(db, { project: row.project, name: row.name, hash: row.content_hash }))
  )
    return `version ${row.version} (${row.content_hash}) has no ledger entry of being applied`;
  return undefined;
}
