import { DomainError } from '../../platform/errors.ts';
import { principalOf } from '../../platform/context.ts';
import type { ProjectService } from '../projects/index.ts';
import type { AnyTx } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import type { Actor } from '../../platform/context.ts';
import type { KindHandler } from '../resources/index.ts';
import { pipelineErrors } from './errors.ts';
import type { PipelineGovernance } from './pipeline-governance.ts';
import { pipelinePermissions as P } from './permissions.ts';
import { pipelineSpecSchema, type PipelineSpec } from './pipeline-spec.ts';
import type { KyselyPipelineStore } from './pipeline-store.ts';

// The policy engine's `custody.pipeline` decision point (policies module): refuses a version
// a bound policy denies, and records the decision.
export interface PipelinePolicyHook {
  enforce(
    tx: AnyTx,
    record: RecordAudit,
    actor: Actor,
    request: {
      point: 'pipeline';
      project: string;
      environments: readonly string[];
      subject: { type: string; id: string };
      at: Date;
      input: unknown;
    },
  ): Promise<unknown>;
}

// A pipeline that deploys to a production environment is governed: each new version opens
// an approval request that its author cannot decide (and runs check again when they start).
export function pipelineKind(deps: {
  store: KyselyPipelineStore;
  projects: ProjectService;
  governance: PipelineGovernance;
  policy?: PipelinePolicyHook | undefined;
  now?: () => Date;
}): KindHandler<PipelineSpec> {
  return {
    kind: 'Pipeline',
    scope: 'project',
    description: 'Stages and steps that build, test and deploy a project',
    spec: pipelineSpecSchema,
    applyPermission: P['pipelines.pipeline.apply'],
    readPermission: P['pipelines.pipeline.read'],
    async validate(tx, doc) {
      const project = doc.metadata.project!;
      if (!(await deps.projects.projectExists(project, tx)))
        throw new DomainError(
          pipelineErrors.PIPELINES_PROJECT_NOT_FOUND,
          `project ${project} does not exist`,
        );
      for (const [i, stage] of doc.spec.stages.entries()) {
        if (!stage.environment) continue;
        const env = await deps.projects.environment(project, stage.environment, tx);
        if (!env)
          throw new DomainError(
            pipelineErrors.PIPELINES_ENVIRONMENT_NOT_FOUND,
            `spec.stages[${i}].environment: environment ${stage.environment} does not exist in project ${project}`,
            { path: `spec.stages[${i}].environment` },
          );
        // A deploy stage runs in its environment's pool (which holds that environment's
        // credentials); a pipeline cannot send it elsewhere.
        const pool = env.spec.runnerPool ?? 'default';
        if (stage.runnerPool !== undefined && stage.runnerPool !== pool)
          throw new DomainError(
            pipelineErrors.PIPELINES_STAGE_POOL_CONFLICT,
            `spec.stages[${i}].runnerPool: stage ${stage.name} deploys to ${stage.environment}, which runs in pool ${pool}, not ${stage.runnerPool}`,
            { path: `spec.stages[${i}].runnerPool`, pool },
          );
      }
    },
    async admit(tx, doc, ctx, record) {
      if (!deps.policy) return;
      const project = doc.metadata.project!;
      const environments = [
        ...new Set(doc.spec.stages.flatMap((s) => (s.environment ? [s.environment] : []))),
      ];
      const envs = [];
      for (const name of environments) {
        const env = await deps.projects.environment(project, name, tx);
        if (env) envs.push({ name, type: env.type, runnerPool: env.spec.runnerPool ?? 'default' });
      }
      const at = deps.now?.() ?? new Date();
      await deps.policy.enforce(tx, record, ctx.actor, {
        point: 'pipeline',
        project,
        environments,
        subject: { type: 'pipeline', id: `${project}/${doc.metadata.name}` },
        at,
        input: {
          point: 'pipeline',
          at: at.toISOString(),
          project,
          pipeline: { name: doc.metadata.name, labels: doc.metadata.labels ?? {}, spec: doc.spec },
          author: { principal: principalOf(ctx.actor), type: ctx.actor.type, name: ctx.actor.name },
          environments: envs,
        },
      });
    },
    async materialize(tx, applied, ctx) {
      const project = applied.metadata.project!;
      const version = {
        project,
        name: applied.metadata.name,
        version: applied.version,
        contentHash: applied.contentHash,
        governed: false,
        author: principalOf(ctx.actor),
        spec: applied.spec,
      };
      const production = await deps.governance.productionEnvironments(version, tx);
      await deps.store.insertVersion(tx, {
        project,
        name: version.name,
        version: version.version,
        content_hash: version.contentHash,
        spec: JSON.stringify(applied.spec),
        // What it deployed to when applied (informational: runs decide again when they start).
        governed: production.length > 0 ? 1 : 0,
        author: version.author,
        created_at: new Date().toISOString(),
      });
      if (production.length === 0) return undefined;
      return { approval: await deps.governance.requestApproval(tx, ctx, version, production) };
    },
  };
}
