import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { ProjectService } from '../projects/index.ts';
import type { KyselyPolicyStore, PolicyRow } from './policy-store.ts';

export interface BoundPolicies {
  // The policies in force that decide at this point, organization-wide ones first.
  readonly policies: PolicyRow[];
  // Names an environment or the project binds that no policy in force carries: reported at the
  // deploy point only, where they block (fail closed).
  readonly missing: string[];
}

// Which policies decide for a subject: every organization-wide policy of the decision point,
// the policies the project binds (`Project.spec.policies`) and those of each environment the
// subject targets (`Environment.spec.policies`). A name resolves in the project first, then
// organization-wide.
export async function boundPolicies(
  db: AnyDb | AnyTx,
  deps: { store: KyselyPolicyStore; projects: ProjectService },
  point: string,
  project: string,
  environments: readonly string[],
): Promise<BoundPolicies> {
  const names = new Set(await deps.projects.projectPolicies(project, db as AnyTx));
  for (const name of environments) {
    const env = await deps.projects.environment(project, name, db as AnyTx);
    for (const p of env?.spec.policies ?? []) names.add(p);
  }
  const rows = await deps.store.named(db, project, [...names]);
  const picked = new Map<string, PolicyRow>();
  for (const row of await deps.store.organizationWide(db, point)) picked.set(`/${row.name}`, row);
  const missing: string[] = [];
  for (const name of [...names].sort()) {
    const row =
      rows.find((r) => r.name === name && r.project === project) ??
      rows.find((r) => r.name === name && r.project === '');
    // A missing policy's decision point is unknown; it fails closed where the environment's
    // protection is enforced, the deployment gate.
    if (!row) {
      if (point === 'deploy') missing.push(name);
    } else if (row.decision_point === point) picked.set(`${row.project}/${row.name}`, row);
  }
  return { policies: [...picked.values()], missing };
}
