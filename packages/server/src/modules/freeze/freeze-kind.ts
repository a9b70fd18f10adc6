import type { KindHandler } from '../resources/index.ts';
import { freezeWindowSpecSchema, type FreezeWindowSpec } from './freeze-spec.ts';
import type { KyselyFreezeStore } from './freeze-store.ts';
import { freezePermissions as P } from './permissions.ts';

export function freezeKinds(store: KyselyFreezeStore): KindHandler[] {
  const window: KindHandler<FreezeWindowSpec> = {
    kind: 'FreezeWindow',
    scope: 'organization',
    description: 'A one-off or recurring period when matching environments take no deployments',
    spec: freezeWindowSpecSchema,
    applyPermission: P['freeze.window.apply'],
    readPermission: P['freeze.window.read'],
    async materialize(tx, doc) {
      await store.upsertWindow(tx, {
        name: doc.metadata.name,
        spec: JSON.stringify(doc.spec),
        version: doc.version,
      });
    },
  };
  return [window] as KindHandler[];
}
