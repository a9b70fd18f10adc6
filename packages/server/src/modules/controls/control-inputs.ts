import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { ControlFailure } from '../changes/index.ts';
import type { EnvironmentSpec } from '../projects/index.ts';
import type { ResourceDocument } from '../resources/index.ts';

// What the catalog reads, through the other modules' public surfaces. Every read takes the db
// or transaction to read with: inside a change's transaction the catalog sees the change.

export interface VersionedDocument<S = unknown> {
  readonly document: ResourceDocument<S>;
  readonly version: number;
  readonly contentHash: string;
}

export interface StreamStatus {
  readonly name: string;
  readonly version: number;
  readonly enabled: boolean;
  readonly actions: string[] | null;
  readonly nextSeq: number;
  readonly pending: number;
  readonly lastError: string | null;
  readonly lastAttemptAt: string | null;
  readonly lastDeliveryAt: string | null;
}

export interface ControlSources {
  inForce(db: AnyDb, kind: string): Promise<VersionedDocument[]>;
  streams(db: AnyDb): Promise<StreamStatus[]>;
  latestCheckpoint(db: AnyDb): Promise<{ size: number; createdAt: string } | undefined>;
  // Entries committed to the audit trail (the ledger's size to be).
  ledgerSize(db: AnyDb): Promise<number>;
  controlFailures(db: AnyDb, at: Date): Promise<ControlFailure[]>;
}

// The retention module reports a project's evidence retention; absent, the check says
// "not configured" (the installation does not report it).
export interface RetentionReader {
  // Reads through `db`: the catalog is evaluated inside the transaction of a change.
  yearsFor(project: string, db: AnyDb | AnyTx): Promise<number | undefined>;
}

// The parts of other kinds' specs the checks read (the kinds validate them when applied).
export interface FreezeWindowFields {
  enabled?: boolean;
  scope: { environmentTypes?: string[]; projects?: string[]; environments?: string[] };
}
export interface PipelineFields {
  stages: { name: string; type: 'ci' | 'deploy'; environment?: string; runnerPool?: string }[];
}
export interface PolicyFields {
  decisionPoint: string;
}
export interface ProjectFields {
  policies?: string[];
}

export interface ControlSnapshot {
  readonly at: Date;
  readonly environments: VersionedDocument<EnvironmentSpec>[];
  readonly projects: VersionedDocument<ProjectFields>[];
  readonly freezeWindows: VersionedDocument<FreezeWindowFields>[];
  readonly policies: VersionedDocument<PolicyFields>[];
  readonly pipelines: VersionedDocument<PipelineFields>[];
  readonly streams: StreamStatus[];
  readonly checkpoint: { size: number; createdAt: string } | undefined;
  readonly ledgerSize: number;
  readonly failures: ControlFailure[];
  // Years per project; undefined when no retention reader is wired.
  readonly retention: ReadonlyMap<string, number | undefined> | undefined;
}

export async function readSnapshot(
  db: AnyDb,
  sources: ControlSources,
  retention: RetentionReader | undefined,
  at: Date,
): Promise<ControlSnapshot> {
  const kind = <S>(k: string) => sources.inForce(db, k) as Promise<VersionedDocument<S>[]>;
  const environments = await kind<EnvironmentSpec>('Environment');
  let years: Map<string, number | undefined> | undefined;
  if (retention) {
    years = new Map();
    for (const p of new Set(environments.map((e) => e.document.metadata.project!)))
      years.set(p, await retention.yearsFor(p, db));
  }
  return {
    at,
    environments,
    projects: await kind<ProjectFields>('Project'),
    freezeWindows: await kind<FreezeWindowFields>('FreezeWindow'),
    policies: await kind<PolicyFields>('Policy'),
    pipelines: await kind<PipelineFields>('Pipeline'),
    streams: await sources.streams(db),
    checkpoint: await sources.latestCheckpoint(db),
    ledgerSize: await sources.ledgerSize(db),
    failures: await sources.controlFailures(db, at),
    retention: years,
  };
}
