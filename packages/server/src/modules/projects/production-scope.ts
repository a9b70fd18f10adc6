import type { Scope } from '../../platform/context.ts';
import type { GovernanceReader, ResourceDocument } from '../resources/index.ts';
import type { EnvironmentSpec } from './environment-spec.ts';

// A selector of environments as freeze windows, change templates and connectors write it;
// absent or empty selects every environment.
export interface EnvironmentSelector {
  readonly environmentTypes?: readonly string[] | undefined;
  readonly projects?: readonly string[] | undefined;
  readonly environments?: readonly string[] | undefined;
}

type EnvironmentDoc = ResourceDocument<EnvironmentSpec>;

// Which scopes reach production, from the Environment versions in force (what the gate reads),
// for kinds that decide whether a change of theirs needs a second person. A scope covers
// production when it reaches at least one production environment in force now: before the
// first production environment exists nothing is governed, so an installation can set up its
// people first (docs/reference/deployment-gate.md, "Governed changes").
export class ProductionScope {
  private constructor(
    // `project/name` of each production environment in force.
    private readonly environments: readonly string[],
    // Approval rules of production environments, in force or waiting for approval.
    private readonly rules: ReadonlyMap<string, readonly string[]>,
  ) {}

  static async read(read: GovernanceReader): Promise<ProductionScope> {
    const inForce = (await read.inForce('Environment')) as EnvironmentDoc[];
    const pending = (await read.pending('Environment')) as EnvironmentDoc[];
    const production = inForce.filter((e) => e.spec.type === 'production');
    const rules = new Map<string, string[]>();
    for (const env of [...production, ...pending.filter((e) => e.spec.type === 'production')]) {
      for (const rule of env.spec.approvals?.rules ?? []) {
        if (!rule.group) continue;
        const named = rules.get(rule.group) ?? [];
        named.push(idOf(env));
        rules.set(rule.group, named);
      }
    }
    return new ProductionScope(production.map(idOf), rules);
  }

  get exists(): boolean {
    return this.environments.length > 0;
  }

  // A role binding's scope: the organization, a project, or one environment.
  coveredByScope(scope: Scope): string | undefined {
    return this.environments.find((id) => {
      const [project, name] = id.split('/');
      if (!scope.project) return true;
      if (scope.project !== project) return false;
      return !scope.environment || scope.environment === name;
    });
  }

  coveredBySelector(selector: EnvironmentSelector | undefined): string | undefined {
    const given =
      (selector?.environmentTypes?.length ?? 0) +
      (selector?.projects?.length ?? 0) +
      (selector?.environments?.length ?? 0);
    return this.environments.find(
      (id) =>
        given === 0 ||
        selector?.environmentTypes?.includes('production') === true ||
        selector?.projects?.includes(id.split('/')[0]!) === true ||
        selector?.environments?.includes(id) === true,
    );
  }

  // Production environments whose approval rules name the group.
  namingGroup(group: string): readonly string[] {
    return this.rules.get(group) ?? [];
  }
}

const idOf = (env: EnvironmentDoc) => `${env.metadata.project}/${env.metadata.name}`;
