import type { Clock } from '../../platform/clock.ts';
import { DomainError } from '../../platform/errors.ts';
import { projectErrors, type ProjectService } from '../projects/index.ts';
import type { GovernanceReader, KindHandler, ResourceDocument } from '../resources/index.ts';
import { checkPolicy } from './policy-compiler.ts';
import { policySpecSchema, type PolicySpec } from './policy-spec.ts';
import type { KyselyPolicyStore } from './policy-store.ts';
import { policyPermissions as P } from './permissions.ts';

interface Bindable {
  readonly metadata: { readonly name: string; readonly project?: string | undefined };
  readonly spec: { readonly type?: string; readonly policies?: readonly string[] };
}

// The first production environment (in force) the policy binds to, and whether that
// environment or its project names the policy (a required policy) rather than reaching it
// organization-wide.
export async function productionBinding(
  doc: ResourceDocument<PolicySpec>,
  read: GovernanceReader,
): Promise<{ environment: string; named: boolean } | undefined> {
  const envs = (await read.inForce('Environment')) as Bindable[];
  const projects = (await read.inForce('Project')) as Bindable[];
  const name = doc.metadata.name;
  const project = doc.metadata.project;
  for (const env of envs) {
    if (env.spec.type !== 'production') continue;
    const envProject = env.metadata.project!;
    const byProject = projects
      .find((p) => p.metadata.name === envProject)
      ?.spec.policies?.includes(name);
    const named = env.spec.policies?.includes(name) === true || byProject === true;
    if (project !== undefined && project !== envProject) continue;
    if (project === undefined || named)
      return { environment: `${envProject}/${env.metadata.name}`, named };
  }
  return undefined;
}

export function policyKind(deps: {
  store: KyselyPolicyStore;
  projects: ProjectService;
  clock: Clock;
  // A version this process put in force (its ledger entry commits with it).
  materialized?: (contentHash: string) => void;
}): KindHandler<PolicySpec> {
  return {
    kind: 'Policy',
    scope: 'either',
    description: 'Rego modules and their tests, evaluated at a decision point (policy as code)',
    spec: policySpecSchema,
    applyPermission: P['policies.policy.apply'],
    readPermission: P['policies.policy.read'],
    async validate(tx, doc) {
      const project = doc.metadata.project;
      if (project !== undefined && !(await deps.projects.projectExists(project, tx)))
        throw new DomainError(
          projectErrors.PROJECTS_PROJECT_NOT_FOUND,
          `project ${project} does not exist`,
        );
      checkPolicy(doc.spec);
    },
    // A policy that reaches production changes a control: a new version needs a second
    // person, as does the first version of a policy production names (it lifts the fail-closed
    // block of a missing policy). A new organization-wide policy only adds denials.
    async governed({ doc, inForce, read }) {
      const bound = await productionBinding(doc, read);
      if (!bound || (!inForce && !bound.named)) return undefined;
      return {
        reason: `policy ${doc.metadata.project ? `${doc.metadata.project}/` : ''}${doc.metadata.name} (${doc.spec.decisionPoint}) governs production environment ${bound.environment}`,
      };
    },
    async materialize(tx, doc) {
      await deps.store.putInForce(
        tx,
        {
          project: doc.metadata.project ?? '',
          name: doc.metadata.name,
          version: doc.version,
          content_hash: doc.contentHash,
          decision_point: doc.spec.decisionPoint,
          spec: JSON.stringify(doc.spec),
          document: JSON.stringify({
            apiVersion: doc.apiVersion,
            kind: doc.kind,
            metadata: doc.metadata,
            spec: doc.spec,
          }),
        },
        deps.clock.now().toISOString(),
      );
      deps.materialized?.(doc.contentHash);
    },
  };
}
