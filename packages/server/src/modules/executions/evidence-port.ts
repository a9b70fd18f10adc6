import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';

// Where a recorded report came from: what evidence is keyed by (it follows the artifacts the
// same run built, not the run that deploys them).
export interface EvidenceOrigin {
  run: { id: string; project: string };
  job: { id: string; stageIdx: number; stage: string; environment: string | null };
  step: number;
  file: { id: string; digest: string; path: string; type: string };
  at: string;
}

// The evidence module implements it: reports are parsed when a runner uploads them, and a
// malformed one is refused (a DomainError with a stable code) before anything is written.
export interface EvidencePort {
  // Outside any transaction (parsing a large report takes a while). Undefined for `file`.
  parse(input: { type: string; path: string; bytes: Uint8Array }): ParsedEvidence | undefined;
  // In the upload's transaction; returns what the upload's ledger entry says of the report.
  record(
    tx: AnyTx,
    record: RecordAudit,
    input: { parsed: ParsedEvidence; origin: EvidenceOrigin },
  ): Promise<Record<string, unknown>>;
  // What a finished job produced, for its attestations.
  ofJob(db: AnyDb | AnyTx, jobId: string): Promise<JobEvidence>;
}

// Opaque to the execution engine: handed back to `record` as `parse` returned it.
export interface ParsedEvidence {
  readonly format: string;
}

export interface JobEvidence {
  tests?: {
    reports: { path: string; digest: string }[];
    passed: string[];
    failed: string[];
    skipped: string[];
  };
  sboms: {
    path: string;
    digest: string;
    format: 'cyclonedx' | 'spdx';
    encoding: 'json' | 'xml';
    specVersion: string;
    components: number;
    document?: unknown;
  }[];
}

// The attestations module implements it: provenance and attestations of what a job built,
// signed in the transaction that completes the job.
export interface AttestationPort {
  issueForJob(tx: AnyTx, record: RecordAudit, req: AttestationRequest): Promise<unknown[]>;
}

export interface AttestationRequest {
  run: {
    id: string;
    project: string;
    pipeline: string;
    pipelineVersion: number;
    contentHash: string;
    repository: string | null;
    branch: string;
    commit: string | null;
    inputs: Record<string, string>;
    createdBy: string;
    startedAt: string;
    finishedAt: string;
  };
  job: { id: string; stage: string };
  artifacts: { name: string; digest: string }[];
  tests?: JobEvidence['tests'];
  sboms?: JobEvidence['sboms'];
}
