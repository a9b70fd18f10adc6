import type { KindHandler } from '../resources/index.ts';
import {
  changeConnectorSpecSchema,
  changeTemplateSpecSchema,
  type ChangeConnectorSpec,
  type ChangeTemplateSpec,
} from './change-spec.ts';
import type { KyselyChangeStore } from './change-store.ts';
import { changePermissions as P } from './permissions.ts';

export function changeKinds(store: KyselyChangeStore): KindHandler[] {
  const template: KindHandler<ChangeTemplateSpec> = {
    kind: 'ChangeTemplate',
    scope: 'organization',
    description: 'A pre-approved standard change and where it may run',
    spec: changeTemplateSpecSchema,
    applyPermission: P['changes.template.apply'],
    readPermission: P['changes.template.read'],
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
