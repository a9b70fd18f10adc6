import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { AttestationService } from '../attestations/index.ts';
import type { AuditService } from '../audit/index.ts';
import type { ChangeService } from '../changes/index.ts';
import type { DeploymentService } from '../deployments/index.ts';
import type { EvidenceService } from '../evidence/index.ts';
import type { DeploymentRecord, ExecutionReads } from '../executions/index.ts';
import type { Ledger } from '../ledger/index.ts';
import type { PipelineService } from '../pipelines/index.ts';
import type { PolicyService } from '../policies/index.ts';
import type { ProjectService } from '../projects/index.ts';
import type { ResourceService } from '../resources/index.ts';
import type { ScmService } from '../scm/index.ts';

// What the dossier reads, each through the owning module's read methods (never its tables).
export interface DossierSources {
  readonly database: Database;
  readonly clock: Clock;
  readonly executions: ExecutionReads;
  readonly deployments: Pick<DeploymentService, 'stageRecord'>;
  readonly changes: { readonly requests: Pick<ChangeService['requests'], 'read'> };
  readonly scm: Pick<ScmService, 'reviewTrail'>;
  readonly projects: Pick<ProjectService, 'environment'>;
  readonly resources: Pick<ResourceService, 'version' | 'history'>;
  readonly pipelines: Pick<PipelineService, 'version'>;
  readonly policies: Pick<PolicyService, 'decisionsAbout'>;
  readonly evidence: Pick<EvidenceService, 'summaries'>;
  readonly attestations: Pick<AttestationService, 'ofDigests' | 'bundleText'>;
  readonly audit: Pick<AuditService, 'list'>;
  readonly ledger: Pick<Ledger, 'service' | 'checkpointNow'>;
}

/** A section with nothing in it says so, and why: never silently empty. */
export interface NotCollected {
  readonly collected: false;
  readonly reason: string;
}

export const notCollected = (reason: string): NotCollected => ({ collected: false, reason });

export function isNotCollected(v: unknown): v is NotCollected {
  return typeof v === 'object' && v !== null && (v as { collected?: unknown }).collected === false;
}

// What one collection pass knows about the deployment, shared by every section.
export interface DossierSubject {
  readonly deployment: DeploymentRecord;
  // The change request the run named (input or trigger `change`) and the ticket (`ticket`).
  readonly changeId: string | undefined;
  readonly ticket: string | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

export function subjectOf(deployment: DeploymentRecord): DossierSubject {
  return {
    deployment,
    changeId: str(deployment.inputs.change) ?? str(deployment.trigger.change),
    ticket: str(deployment.inputs.ticket) ?? str(deployment.trigger.ticket),
  };
}
