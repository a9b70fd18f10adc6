import type { KindHandler } from '../resources/index.ts';
import { projectSpecSchema, type ProjectSpec } from './environment-spec.ts';
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
  return [project] as KindHandler[];
}
