import { DomainError } from '../../platform/errors.ts';
import type { KindHandler } from '../resources/index.ts';
import {
  environmentSpecSchema,
  projectSpecSchema,
  type EnvironmentSpec,
  type ProjectSpec,
} from './environment-spec.ts';
import { projectErrors } from './errors.ts';
import { projectPermissions as P } from './permissions.ts';
import type { KyselyProjectStore } from './project-store.ts';

export function projectKinds(store: KyselyProjectStore): KindHandler[] {
  const project: KindHandler<ProjectSpec> = {
    kind: 'Project',
    scope: 'organization',
    description: 'A service or product: owns pipelines and environments',
    spec: projectSpecSchema,
    applyPermission: P['projects.project.apply'],
    readPermission: P['projects.project.read'],
    async materialize(tx, doc) {
      await store.upsertProject(tx, {
        name: doc.metadata.name,
        description: doc.spec.description,
        version: doc.version,
      });
    },
  };
  const environment: KindHandler<EnvironmentSpec> = {
    kind: 'Environment',
    scope: 'project',
    description: 'A deployment target and its protection rules',
    spec: environmentSpecSchema,
    applyPermission: P['projects.environment.apply'],
    readPermission: P['projects.environment.read'],
    scopeOf: (doc) => ({ project: doc.metadata.project, environment: doc.metadata.name }),
    async validate(tx, doc) {
      if (!(await store.projectExists(tx, doc.metadata.project!))) {
        throw new DomainError(
          projectErrors.PROJECTS_PROJECT_NOT_FOUND,
          `project ${doc.metadata.project} does not exist`,
        );
      }
    },
    async materialize(tx, doc) {
      await store.upsertEnvironment(tx, {
        project: doc.metadata.project!,
        name: doc.metadata.name,
        type: doc.spec.type,
        spec: JSON.stringify(doc.spec),
        version: doc.version,
        content_hash: doc.contentHash,
      });
    },
  };
  return [project, environment] as KindHandler[];
}
