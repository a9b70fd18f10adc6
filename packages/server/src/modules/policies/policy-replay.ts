import type { AnyDb } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors.ts';
import type { InputArchive } from './decision-log.ts';
import { policyErrors as E } from './errors.ts';
import { PolicyCache } from './policy-compiler.ts';
import { storedSpec } from './policy-integrity.ts';
import {
  canonicalInput,
  evaluateAll,
  type DecisionResult,
  type PolicyMessage,
  type PolicyRef,
} from './policy-evaluation.ts';
import type { DecisionPoint } from './policy-spec.ts';
import type { DecisionRow, KyselyPolicyStore, PolicyRow } from './policy-store.ts';

export interface Outcome {
  readonly result: DecisionResult;
  readonly deny: PolicyMessage[];
  readonly warn: PolicyMessage[];
  readonly errors: PolicyMessage[];
}

export interface Replay {
  readonly decision: string;
  readonly same: boolean;
  // What differs, when it does: result, deny, warn or errors.
  readonly differences: string[];
  readonly inputHash: string;
  readonly policies: PolicyRef[];
  readonly recorded: Outcome;
  readonly replayed: Outcome;
}

const recordedOutcome = (row: DecisionRow): Outcome => ({
  result: row.result as DecisionResult,
  deny: JSON.parse(row.deny) as PolicyMessage[],
  warn: JSON.parse(row.warn) as PolicyMessage[],
  errors: (JSON.parse(row.errors) as PolicyMessage[]).map(({ policy, version, message }) => ({
    policy,
    version,
    message,
  })),
});

// Versions are left out: a candidate (impact) has none yet, and a replay uses the same ones.
const key = (ms: readonly PolicyMessage[]) =>
  JSON.stringify(ms.map((m) => [m.policy, m.message]).sort());

export function differences(a: Outcome, b: Outcome): string[] {
  const out: string[] = [];
  if (a.result !== b.result) out.push('result');
  if (key(a.deny) !== key(b.deny)) out.push('deny');
  if (key(a.warn) !== key(b.warn)) out.push('warn');
  // Error texts (time limits) may vary; which policies failed may not.
  const failed = (ms: readonly PolicyMessage[]) => JSON.stringify(ms.map((m) => m.policy).sort());
  if (failed(a.errors) !== failed(b.errors)) out.push('errors');
  return out;
}

// Re-performance: a recorded decision evaluated again with the policy versions in force then
// and the recorded input (checked against its hash), at the recorded instant.
export class DecisionReplayer {
  private readonly cache = new PolicyCache();

  constructor(private readonly deps: { store: KyselyPolicyStore; archive: InputArchive }) {}

  async input(db: AnyDb, row: DecisionRow): Promise<{ text: string; hash: string }> {
    const text = await this.deps.archive.get(db, row.input_hash);
    if (text === undefined || canonicalInput(JSON.parse(text)).hash !== row.input_hash)
      throw new DomainError(E.POLICIES_INPUT_MISSING, undefined, { inputHash: row.input_hash });
    return { text, hash: row.input_hash };
  }

  async versionsOf(db: AnyDb, row: DecisionRow): Promise<PolicyRow[]> {
    const refs = JSON.parse(row.policies) as PolicyRef[];
    const rows: PolicyRow[] = [];
    for (const ref of refs) {
      const v = await this.deps.store.version(db, ref.project ?? '', ref.name, ref.version);
      if (!v || v.content_hash !== ref.hash || typeof storedSpec(v) === 'string')
        throw new DomainError(
          E.POLICIES_NOT_FOUND,
          `policy ${ref.name} v${ref.version} (${ref.hash}) is not stored, or not as it was applied`,
        );
      rows.push(v);
    }
    return rows;
  }

  evaluate(
    row: DecisionRow,
    rows: readonly PolicyRow[],
    input: { text: string; hash: string },
  ): Outcome {
    const recordedErrors = JSON.parse(row.errors) as PolicyMessage[];
    const missing = recordedErrors.filter((e) => e.version === 0).map((e) => e.policy);
    const ev = evaluateAll(
      this.cache,
      rows,
      missing,
      {
        point: row.point as DecisionPoint,
        project: row.project,
        environments: [],
        subject: { type: row.subject_type, id: row.subject_id },
        input: null,
        at: new Date(row.decided_at),
      },
      input,
    );
    return {
      result: ev.result,
      deny: ev.deny,
      warn: ev.warn,
      errors: [...ev.errors, ...recordedErrors.filter((e) => e.version === 0)],
    };
  }

  async replay(db: AnyDb, row: DecisionRow): Promise<Replay> {
    const input = await this.input(db, row);
    const rows = await this.versionsOf(db, row);
    const recorded = recordedOutcome(row);
    const replayed = this.evaluate(row, rows, input);
    const diff = differences(recorded, replayed);
    return {
      decision: row.id,
      same: diff.length === 0,
      differences: diff,
      inputHash: row.input_hash,
      policies: JSON.parse(row.policies) as PolicyRef[],
      recorded,
      replayed,
    };
  }

  recorded(row: DecisionRow): Outcome {
    return recordedOutcome(row);
  }
}
