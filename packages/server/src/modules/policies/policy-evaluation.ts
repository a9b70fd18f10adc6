import { createHash } from 'node:crypto';
import { canonicalJson } from '@custody/ledger';
import { evaluatePolicy, type PolicyCache } from './policy-compiler.ts';
import { storedSpec } from './policy-integrity.ts';
import type { DecisionPoint } from './policy-spec.ts';
import type { PolicyRow } from './policy-store.ts';

export interface PolicyMessage {
  readonly policy: string;
  readonly version: number;
  readonly message: string;
}

export interface PolicyRef {
  readonly name: string;
  readonly project: string | null;
  readonly version: number;
  readonly hash: string;
}

export type DecisionResult = 'allowed' | 'denied' | 'error';

export interface DecisionRequest {
  readonly point: DecisionPoint;
  readonly project: string;
  // The environment the decision is about, if one (deploy, approval).
  readonly environment?: string | undefined;
  // Environments the subject targets: their `policies` bind.
  readonly environments: readonly string[];
  readonly subject: { readonly type: string; readonly id: string };
  readonly input: unknown;
  readonly at: Date;
}

export interface PolicyEvaluation {
  readonly point: DecisionPoint;
  readonly project: string;
  readonly environment: string | undefined;
  readonly subject: { readonly type: string; readonly id: string };
  readonly at: Date;
  readonly policies: PolicyRef[];
  readonly canonicalInput: string;
  readonly inputHash: string;
  readonly result: DecisionResult;
  readonly deny: PolicyMessage[];
  readonly warn: PolicyMessage[];
  readonly errors: PolicyMessage[];
  readonly missing: string[];
  readonly durationUs: number;
}

export const policyLabel = (p: { name: string; project: string | null }) =>
  p.project ? `${p.project}/${p.name}` : p.name;

export const refOf = (row: PolicyRow): PolicyRef => ({
  name: row.name,
  project: row.project || null,
  version: row.version,
  hash: row.content_hash,
});

export interface CanonicalInput {
  readonly text: string;
  readonly hash: string;
  // The JSON value the text holds, when already at hand (saves parsing it again).
  readonly value?: unknown;
}

export function canonicalInput(input: unknown): CanonicalInput {
  // A JSON round trip first: what is recorded is exactly what a replay reads back.
  const value: unknown = JSON.parse(JSON.stringify(input ?? null));
  const text = canonicalJson(value);
  return { text, hash: 'sha256:' + createHash('sha256').update(text).digest('hex'), value };
}

// Every bound policy against one input, in order. Time limits and errors become `errors`;
// any error or missing policy makes the result `error`, which blocks (fail closed).
export function evaluateAll(
  cache: PolicyCache,
  rows: readonly PolicyRow[],
  missing: readonly string[],
  req: DecisionRequest,
  input: CanonicalInput = canonicalInput(req.input),
  failed: readonly PolicyMessage[] = [],
): PolicyEvaluation {
  const start = process.hrtime.bigint();
  // Plain JSON: the engine converts what each policy reads, on demand.
  const value: unknown = input.value !== undefined ? input.value : JSON.parse(input.text);
  const deny: PolicyMessage[] = [];
  const warn: PolicyMessage[] = [];
  const errors: PolicyMessage[] = [...failed];
  for (const row of rows) {
    const label = policyLabel(refOf(row));
    let outcome;
    try {
      const compiled = cache.get(row.content_hash, () => {
        const spec = storedSpec(row);
        if (typeof spec === 'string') throw new Error(`the stored policy ${spec}`);
        return spec;
      });
      outcome = evaluatePolicy(compiled, value, req.at);
    } catch (err) {
      outcome = { deny: [], warn: [], error: err instanceof Error ? err.message : String(err) };
    }
    const at = (message: string) => ({ policy: label, version: row.version, message });
    deny.push(...outcome.deny.map(at));
    warn.push(...outcome.warn.map(at));
    if (outcome.error) errors.push(at(outcome.error));
  }
  const result: DecisionResult =
    errors.length > 0 || missing.length > 0 ? 'error' : deny.length > 0 ? 'denied' : 'allowed';
  return {
    point: req.point,
    project: req.project,
    environment: req.environment,
    subject: req.subject,
    at: req.at,
    policies: rows.map(refOf),
    canonicalInput: input.text,
    inputHash: input.hash,
    result,
    deny,
    warn,
    errors,
    missing: [...missing],
    durationUs: Number((process.hrtime.bigint() - start) / 1000n),
  };
}
