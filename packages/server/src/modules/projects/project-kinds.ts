import type { GovernanceReader, KindHandler } from '../resources/index.ts';
import type { ProductionScope } from './production-scope.ts';
import { projectSpecSchema, type ProjectSpec } from './environment-spec.ts';
import { projectPermissions as P } from './permissions.ts';
import type { KyselyProjectStore } from './project-store.ts';

export function projectKinds(
  store: KyselyProjectStore,
  production: (read: GovernanceReader) => Promise<ProductionScope>,
): KindHandler[] {
  const project: KindHandler<ProjectSpec> = {
    kind: 'Project',
    scope: 'organization',
    description: 'A service or product: owns pipelines and environments',
    spec: projectSpecSchema,
    applyPermission: P['projects.project.apply'],
    readPermission: P['projects.project.read'],
    // Unbinding a policy from a project that reaches production weakens a control: a second
    // person approves it. Binding one more takes effect at once.
    async governed({ doc, inForce, read }) {
      const kept = new Set(doc.spec.policies ?? []);
      const dropped = (inForce?.spec.policies ?? []).filter((p) => !kept.has(p));
      if (dropped.length === 0) return undefined;
      const env = (await production(read)).coveredByScope({ project: doc.metadata.name });
      if (!env) return undefined;
      return {
        reason: `project ${doc.metadata.name} unbinds ${dropped.join(', ')}, which govern production environment ${env}`,
      };
    },
    async materialize(tx, doc) {
      await store.upsertProject(tx, {
        name: doc.metadata.name,
        description: doc.spec.description,
        version: doc.version,
        policies: JSON.stringify(doc.spec.policies ?? []),
      });
    },
  };
  return [project] as KindHandler[];
}
