import type { AnyTx } from '../../platform/db/database.ts';
import type { GovernanceReader, KindHandler } from '../resources/index.ts';
import type { ProductionScope } from './production-scope.ts';
import { projectSpecSchema, type ProjectSpec } from './environment-spec.ts';
import { projectPermissions as P } from './permissions.ts';
import type { KyselyProjectStore } from './project-store.ts';

// The retention module's view of `spec.retention` (its RetentionPeriods satisfies this).
export interface ProjectRetention {
  check(years: number | undefined): void;
  lowers(before: number | undefined, after: number | undefined): boolean;
  inForce(tx: AnyTx, project: string, years: number | undefined): Promise<void>;
}

export function projectKinds(
  store: KyselyProjectStore,
  production: (read: GovernanceReader) => Promise<ProductionScope>,
  retention?: ProjectRetention,
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
    async validate(_tx, doc) {
      retention?.check(doc.spec.retention?.years);
    },
    // Shortening the retention of a project that reaches production, too.
    async governed({ doc, inForce, read }) {
      const kept = new Set(doc.spec.policies ?? []);
      const dropped = (inForce?.spec.policies ?? []).filter((p) => !kept.has(p));
      const shortened =
        inForce !== undefined &&
        retention?.lowers(inForce.spec.retention?.years, doc.spec.retention?.years) === true;
      if (dropped.length === 0 && !shortened) return undefined;
      const env = (await production(read)).coveredByScope({ project: doc.metadata.name });
      if (!env) return undefined;
      if (!shortened)
        return {
          reason: `project ${doc.metadata.name} unbinds ${dropped.join(', ')}, which govern production environment ${env}`,
        };
      return {
        reason: `project ${doc.metadata.name} shortens its retention${dropped.length ? ` and unbinds ${dropped.join(', ')}` : ''}; it reaches production environment ${env}`,
      };
    },
    async materialize(tx, doc) {
      await retention?.inForce(tx, doc.metadata.name, doc.spec.retention?.years);
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
