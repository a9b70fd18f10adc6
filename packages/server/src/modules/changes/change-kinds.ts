import type { EnvironmentSelector, ProductionScope } from '../projects/index.ts';
import type { GovernanceReader, KindHandler } from '../resources/index.ts';
import {
  changeConnectorSpecSchema,
  changeTemplateSpecSchema,
  type ChangeConnectorSpec,
  type ChangeTemplateSpec,
} from './change-spec.ts';
import type { KyselyChangeStore } from './change-store.ts';
import { changePermissions as P } from './permissions.ts';

// Where production starts (projects module), read from the documents in force.
export type ProductionReader = (read: GovernanceReader) => Promise<ProductionScope>;

// A template is a standing pre-approval (it stands in for the approvals of the environments
// it covers) and a connector decides what counts as an approved ticket: creating or changing
// one that reaches production, before or after, needs a second person.
async function reachesProduction(
  production: ProductionReader,
  read: GovernanceReader,
  what: string,
  // The scope of the new version, and of the version in force (absent for a new resource).
  after: EnvironmentSelector | undefined,
  before?: { scope?: EnvironmentSelector | undefined },
): Promise<{ reason: string } | undefined> {
  const prod = await production(read);
  const env =
    prod.coveredBySelector(after) ?? (before ? prod.coveredBySelector(before.scope) : undefined);
  return env ? { reason: `${what} covers production environment ${env}` } : undefined;
}

export function changeKinds(store: KyselyChangeStore, production: ProductionReader): KindHandler[] {
  const template: KindHandler<ChangeTemplateSpec> = {
    kind: 'ChangeTemplate',
    scope: 'organization',
    description: 'A pre-approved standard change and where it may run',
    spec: changeTemplateSpecSchema,
    applyPermission: P['changes.template.apply'],
    readPermission: P['changes.template.read'],
    governed: ({ doc, inForce, read }) =>
      reachesProduction(
        production,
        read,
        `standard-change template ${doc.metadata.name} (a pre-approval)`,
        doc.spec.scope,
        inForce?.spec,
      ),
    async materialize(tx, doc) {
      await store.upsertTemplate(tx, {
        name: doc.metadata.name,
        spec: JSON.stringify(doc.spec),
        version: doc.version,
      });
    },
  };
  const connector: KindHandler<ChangeConnectorSpec> = {
    kind: 'ChangeConnector',
    scope: 'organization',
    description: 'A ServiceNow or Jira instance whose change tickets gate deployments',
    spec: changeConnectorSpecSchema,
    applyPermission: P['changes.connector.apply'],
    readPermission: P['changes.connector.read'],
    governed: ({ doc, inForce, read }) =>
      reachesProduction(
        production,
        read,
        `ticket connector ${doc.metadata.name} (it decides which tickets count as approved)`,
        doc.spec.scope,
        inForce?.spec,
      ),
    async materialize(tx, doc) {
      await store.upsertConnector(tx, {
        name: doc.metadata.name,
        type: doc.spec.type,
        spec: JSON.stringify(doc.spec),
        version: doc.version,
      });
    },
  };
  return [template, connector] as KindHandler[];
}
