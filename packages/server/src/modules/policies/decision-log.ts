import { createHash, randomUUID } from 'node:crypto';
import type { RequestContext } from '../../platform/context.ts';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import type { PolicyEvaluation } from './policy-evaluation.ts';
import type { DecisionRow, KyselyPolicyStore } from './policy-store.ts';

// Where decision inputs are kept: the evidence store, content-addressed.
export interface InputArchive {
  put(tx: AnyTx, body: string, at: Date): Promise<string>;
  get(db: AnyDb | AnyTx, digest: string): Promise<string | undefined>;
}

let sequence = 0;
// Ids sort in the order decisions were made, also within one clock instant.
const orderedId = () =>
  `pd_${Date.now().toString(36).padStart(9, '0')}${(sequence++ % 1_679_616).toString(36).padStart(4, '0')}${randomUUID().slice(0, 6)}`;

// Records a decision: its row, its input in the evidence store and its ledger entry, in the
// caller's transaction. An evaluation that repeats the last recorded decision for the same
// subject (same policy versions, same result and messages) is not recorded again: the gate
// re-evaluates a waiting deployment on every scheduler pass.
export class DecisionLog {
  constructor(private readonly deps: { store: KyselyPolicyStore; archive: InputArchive }) {}

  async write(
    tx: AnyTx,
    record: RecordAudit,
    actor: Pick<RequestContext, 'actor'>['actor'],
    ev: PolicyEvaluation,
  ): Promise<{ id: string; written: boolean }> {
    const fingerprint = createHash('sha256')
      .update(
        JSON.stringify([
          ev.point,
          ev.subject,
          ev.policies.map((p) => p.hash),
          ev.result,
          ev.deny,
          ev.warn,
          ev.errors.map((e) => e.policy),
          ev.missing,
        ]),
      )
      .digest('hex');
    const last = await this.deps.store.latestForSubject(tx, ev.point, ev.subject);
    if (last?.fingerprint === fingerprint) return { id: last.id, written: false };
    await this.deps.archive.put(tx, ev.canonicalInput, ev.at);
    const row: DecisionRow = {
      id: orderedId(),
      point: ev.point,
      project: ev.project,
      environment: ev.environment ?? '',
      subject_type: ev.subject.type,
      subject_id: ev.subject.id,
      policies: JSON.stringify(ev.policies),
      input_hash: ev.inputHash,
      result: ev.result,
      deny: JSON.stringify(ev.deny),
      warn: JSON.stringify(ev.warn),
      errors: JSON.stringify([...ev.errors, ...ev.missing.map(missingError)]),
      duration_us: ev.durationUs,
      fingerprint,
      actor: `${actor.type}:${actor.name}`,
      decided_at: ev.at.toISOString(),
    };
    await this.deps.store.insertDecision(tx, row);
    record({
      action: 'policies.decision.recorded',
      resource: { type: 'policy-decision', id: row.id },
      outcome: ev.result === 'allowed' ? 'succeeded' : 'denied',
      details: {
        point: ev.point,
        project: ev.project,
        ...(ev.environment ? { environment: ev.environment } : {}),
        subject: ev.subject,
        policies: ev.policies,
        inputHash: ev.inputHash,
        result: ev.result,
        deny: ev.deny.length,
        warn: ev.warn.length,
        errors: ev.errors.length + ev.missing.length,
        durationUs: ev.durationUs,
      },
    });
    return { id: row.id, written: true };
  }
}

const missingError = (name: string) => ({
  policy: name,
  version: 0,
  message: `bound policy ${name} does not exist`,
});
