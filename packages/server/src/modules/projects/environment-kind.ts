import { DomainError } from '../../platform/errors.ts';
import type { KindHandler } from '../resources/index.ts';
import { environmentSpecSchema, type EnvironmentSpec } from './environment-spec.ts';
import { projectErrors } from './errors.ts';
import { projectPermissions as P } from './permissions.ts';
import type { KyselyProjectStore } from './project-store.ts';

// Protection rules of a production environment are themselves a control: a new version of an
// environment whose version in force is production is governed (the resources module keeps
// it pending until a second person approves; the gate keeps enforcing the version in force).
// Creating an environment, or changing a pre-production one (also into production), takes
// effect at once: nothing weaker was in force.
export function environmentKind(deps: { store: KyselyProjectStore }): KindHandler<EnvironmentSpec> {
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
    async governed({ doc, inForce }) {
      if (inForce?.spec.type !== 'production') return undefined;
      return {
        reason: `production environment ${doc.metadata.project}/${doc.metadata.name} changes ${changedRules(inForce.spec, doc.spec).join(', ')}`,
      };
    },
    async materialize(tx, doc) {
      await deps.store.upsertEnvironment(tx, {
        project: doc.metadata.project!,
        name: doc.metadata.name,
        type: doc.spec.type,
        spec: JSON.stringify(doc.spec),
        version: doc.version,
        content_hash: doc.contentHash,
      });
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
