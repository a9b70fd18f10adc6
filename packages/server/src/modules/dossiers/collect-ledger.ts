import { DomainError } from '../../platform/errors.ts';
import type { StoredAuditEntry } from '../audit/index.ts';
import { leafBytes, type CheckpointRow } from '../ledger/index.ts';
import type { DossierSources, DossierSubject } from './dossier-sources.ts';
import { dossierErrors as E } from './errors.ts';

export interface LedgerRefs {
  readonly stages: readonly string[];
  readonly change: string | null;
  readonly ticket: string | null;
  readonly approvals: readonly string[];
  readonly policyDecisions: readonly string[];
  readonly attestations: readonly string[];
  readonly originRuns: readonly string[];
  readonly resources: readonly { kind: string; id: string; version: number; contentHash: string }[];
}

export interface CollectedLedger {
  readonly checkpoint: CheckpointRow;
  readonly entries: readonly StoredAuditEntry[];
  readonly leaves: readonly { index: number; leaf: Uint8Array }[];
  readonly proofs: readonly Uint8Array[][];
}

const page = 1000;
const detailRun = (e: StoredAuditEntry) => (e.details as { run?: unknown } | null)?.run;

// Every ledger entry of the change, each with its inclusion proof to one signed checkpoint
// that covers them all. The tree's leaf index is the entry's seq (seq starts at 0).
export async function collectLedger(
  src: DossierSources,
  subject: DossierSubject,
  refs: LedgerRefs,
): Promise<CollectedLedger> {
  const d = subject.deployment;
  const found = new Map<number, StoredAuditEntry>();
  const add = (e: StoredAuditEntry) => found.set(e.seq, e);

  const byResource = async (
    type: string,
    id: string,
    keep: (e: StoredAuditEntry) => boolean = () => true,
  ): Promise<StoredAuditEntry[]> => {
    const out: StoredAuditEntry[] = [];
    let afterSeq = -1;
    for (;;) {
      const rows = await src.audit.list({
        resourceType: type,
        resourceId: id,
        afterSeq,
        limit: page,
      });
      for (const e of rows) if (keep(e)) out.push(e);
      if (rows.length < page) return out;
      afterSeq = rows.at(-1)!.seq;
    }
  };
  const inWindow = async (
    since: string,
    until: string,
    keep: (e: StoredAuditEntry) => boolean,
  ): Promise<void> => {
    let afterSeq = -1;
    for (;;) {
      const rows = await src.audit.list({ since, until, afterSeq, limit: page });
      for (const e of rows) if (keep(e)) add(e);
      if (rows.length < page) return;
      afterSeq = rows.at(-1)!.seq;
    }
  };

  // The run's own entries: the run, its stages, and whatever names it (jobs, steps, files).
  for (const e of await byResource('run', d.runId)) add(e);
  for (const s of refs.stages) for (const e of await byResource('stage', `${d.runId}/${s}`)) add(e);
  const end = new Date(
    new Date(d.finishedAt ?? src.clock.now().toISOString()).getTime() + 5_000,
  ).toISOString();
  await inWindow(d.runCreatedAt, end, (e) => detailRun(e) === d.runId);
  // The stage's approvals and votes, the change request, policy decisions, attestations.
  for (const id of refs.approvals)
    for (const e of await byResource('deployment-approval', id)) add(e);
  if (refs.change) for (const e of await byResource('change', refs.change)) add(e);
  // The ticket system told of the outcome (`changes.ticket.updated`).
  if (refs.ticket) for (const e of await byResource('change-ticket', refs.ticket)) add(e);
  for (const id of refs.policyDecisions)
    for (const e of await byResource('policy-decision', id)) add(e);
  for (const id of refs.attestations) for (const e of await byResource('attestation', id)) add(e);
  // Evidence and attestations of the runs that built the deployed digests (before it started).
  for (const origin of refs.originRuns) {
    const run = await src.executions.run(src.database.db, origin);
    if (!run) continue;
    await inWindow(
      run.createdAt,
      d.startedAt,
      (e) =>
        detailRun(e) === origin &&
        (/^executions\.[a-z]+\.recorded$/.test(e.action) || e.action.startsWith('attestations.')),
    );
  }
  // The apply and approval entries of the pipeline and environment versions in force.
  for (const r of refs.resources) {
    const entries = await byResource(r.kind, r.id, (e) => {
      const x = e.details as { version?: unknown; contentHash?: unknown } | null;
      return x?.version === r.version || x?.contentHash === r.contentHash;
    });
    for (const e of entries) {
      add(e);
      const approval = (e.details as { approval?: unknown } | null)?.approval;
      if (typeof approval === 'string')
        for (const a of await byResource('approval', approval)) add(a);
    }
  }

  const entries = [...found.values()].sort((a, b) => a.seq - b.seq);
  const newest = entries.at(-1)?.seq ?? -1;
  let checkpoint = await src.ledger.service.latestOrUndefined();
  // Entries the checkpointer has not integrated yet are integrated now, not left out.
  if (!checkpoint || checkpoint.size <= newest) checkpoint = await src.ledger.checkpointNow();
  if (checkpoint.size <= newest)
    throw new DomainError(
      E.DOSSIERS_LEDGER_INCOMPLETE,
      `the newest checkpoint covers ${checkpoint.size} entries; entry ${newest} is not in it yet`,
    );
  const proofs: Uint8Array[][] = [];
  for (const e of entries) {
    const p = await src.ledger.service.inclusionProof(e.seq, checkpoint.size);
    proofs.push(p.proof.map((h) => new Uint8Array(Buffer.from(h, 'base64'))));
  }
  return {
    checkpoint,
    entries,
    leaves: entries.map((e) => ({ index: e.seq, leaf: leafBytes(e) })),
    proofs,
  };
}
