import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { AnyTx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors.ts';
import type { ApprovalService } from '../approvals/index.ts';
import { principalOf } from '../approvals/index.ts';
import type { AppliedResource, KindHandler } from '../resources/index.ts';
import { environmentSpecSchema, type EnvironmentSpec } from './environment-spec.ts';
import { projectErrors } from './errors.ts';
import { projectPermissions as P } from './permissions.ts';
import type { EnvironmentChangeRow, KyselyProjectStore } from './project-store.ts';

export const environmentChangeSubject = 'environment-version';
export const environmentChangeId = (project: string, name: string, version: number) =>
  `${project}/${name}@${version}`;

interface Deps {
  store: KyselyProjectStore;
  approvals: ApprovalService;
  clock: Clock;
}

// Protection rules of a production environment are themselves a control: a new version of a
// production environment takes effect only when a second person approves it. Until then the
// gate keeps enforcing the version in force. Creating an environment, or tightening a
// pre-production one into production, takes effect at once (nothing weaker was in force).
export function environmentKind(deps: Deps): KindHandler<EnvironmentSpec> {
  return {
    kind: 'Environment',
    scope: 'project',
    description: 'A deployment target and its protection rules',
    spec: environmentSpecSchema,
    applyPermission: P['projects.environment.apply'],
    readPermission: P['projects.environment.read'],
    scopeOf: (doc) => ({ project: doc.metadata.project, environment: doc.metadata.name }),
    async validate(tx, doc) {
      if (!(await deps.store.projectExists(tx, doc.metadata.project!))) {
        throw new DomainError(
          projectErrors.PROJECTS_PROJECT_NOT_FOUND,
          `project ${doc.metadata.project} does not exist`,
        );
      }
    },
    async materialize(tx, doc, ctx) {
      const project = doc.metadata.project!;
      const name = doc.metadata.name;
      const inForce = await deps.store.environment(tx, project, name);
      // A newer version replaces any version still waiting.
      for (const waiting of await deps.store.pendingChanges(tx, project, name)) {
        await deps.store.closeChange(tx, waiting.approval_id, 'superseded');
        await deps.approvals.withdrawInTx(
          tx,
          ctx,
          waiting.approval_id,
          `superseded by version ${doc.version}`,
        );
      }
      if (!inForce || inForce.type !== 'production' || inForce.content_hash === doc.contentHash) {
        await upsert(tx, deps.store, doc);
        return undefined;
      }
      const author = principalOf(ctx.actor);
      const approval = await deps.approvals.requestInTx(tx, ctx, {
        subjectType: environmentChangeSubject,
        subjectId: environmentChangeId(project, name, doc.version),
        subjectHash: doc.contentHash,
        project,
        environment: name,
        summary: `production environment ${project}/${name} version ${doc.version} changes ${changedRules(JSON.parse(inForce.spec) as EnvironmentSpec, doc.spec).join(', ')} (version ${inForce.version} stays in force until approved)`,
        author,
      });
      await deps.store.insertChange(tx, {
        project,
        name,
        version: doc.version,
        type: doc.spec.type,
        spec: JSON.stringify(doc.spec),
        content_hash: doc.contentHash,
        author,
        approval_id: approval,
        state: 'pending',
        created_at: deps.clock.now().toISOString(),
      });
      return { approval };
    },
  };
}

// Puts an approved version in force, or closes a rejected one, in the decision's transaction.
export function registerEnvironmentApprovals(deps: Deps): void {
  deps.approvals.onDecided(environmentChangeSubject, async (tx, decided, ctx, record) => {
    const change = await deps.store.changeByApproval(tx, decided.id);
    if (!change || change.content_hash !== decided.subject.hash)
      throw new DomainError(
        projectErrors.PROJECTS_ENVIRONMENT_CHANGE_NOT_PENDING,
        `approval ${decided.id} does not belong to a waiting environment change`,
      );
    const approved = decided.state === 'approved';
    if (!(await deps.store.closeChange(tx, change.approval_id, approved ? 'applied' : 'rejected')))
      throw new DomainError(
        projectErrors.PROJECTS_ENVIRONMENT_CHANGE_NOT_PENDING,
        `version ${change.version} of ${change.project}/${change.name} is ${change.state}`,
      );
    if (approved) await putInForce(tx, deps.store, change);
    record(inForceRecord(change, approved, ctx));
  });
}

async function upsert(
  tx: AnyTx,
  store: KyselyProjectStore,
  doc: AppliedResource<EnvironmentSpec>,
): Promise<void> {
  await store.upsertEnvironment(tx, {
    project: doc.metadata.project!,
    name: doc.metadata.name,
    type: doc.spec.type,
    spec: JSON.stringify(doc.spec),
    version: doc.version,
    content_hash: doc.contentHash,
  });
}

async function putInForce(
  tx: AnyTx,
  store: KyselyProjectStore,
  change: EnvironmentChangeRow,
): Promise<void> {
  await store.upsertEnvironment(tx, {
    project: change.project,
    name: change.name,
    type: change.type,
    spec: change.spec,
    version: change.version,
    content_hash: change.content_hash,
  });
}

function inForceRecord(change: EnvironmentChangeRow, approved: boolean, ctx: RequestContext) {
  return {
    action: approved
      ? 'projects.environment.change-applied'
      : 'projects.environment.change-rejected',
    resource: { type: 'Environment', id: `${change.project}/${change.name}` },
    details: {
      version: change.version,
      contentHash: change.content_hash,
      approval: change.approval_id,
      author: change.author,
      decidedBy: principalOf(ctx.actor),
    },
  };
}

// Names the top-level rules a change touches, for the approver's summary.
function changedRules(before: EnvironmentSpec, after: EnvironmentSpec): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changed = [...keys]
    .filter(
      (k) =>
        JSON.stringify(before[k as keyof EnvironmentSpec]) !==
        JSON.stringify(after[k as keyof EnvironmentSpec]),
    )
    .sort();
  return changed.length ? changed : ['nothing in force'];
}
