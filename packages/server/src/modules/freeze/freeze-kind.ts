import type { ProductionScope } from '../projects/index.ts';
import type { GovernanceReader, KindHandler } from '../resources/index.ts';
import { freezeWindowSpecSchema, type FreezeWindowSpec } from './freeze-spec.ts';
import type { KyselyFreezeStore } from './freeze-store.ts';
import { freezePermissions as P } from './permissions.ts';

// Where production starts (projects module), read from the documents in force.
export type ProductionReader = (read: GovernanceReader) => Promise<ProductionScope>;

// What a window stops: nothing while disabled, else the environments its scope selects.
const reach = (prod: ProductionScope, spec: FreezeWindowSpec) =>
  spec.enabled === false ? undefined : prod.coveredBySelector(spec.scope);

export function freezeKinds(store: KyselyFreezeStore, production: ProductionReader): KindHandler[] {
  const window: KindHandler<FreezeWindowSpec> = {
    kind: 'FreezeWindow',
    scope: 'organization',
    description: 'A one-off or recurring period when matching environments take no deployments',
    spec: freezeWindowSpecSchema,
    applyPermission: P['freeze.window.apply'],
    readPermission: P['freeze.window.read'],
    // Changing or disabling a window that stops production deployments (before or after the
    // change) needs a second person; a new window only adds a freeze and takes effect at once.
    async governed({ doc, inForce, read }) {
      if (!inForce) return undefined;
      const prod = await production(read);
      const env = reach(prod, inForce.spec) ?? reach(prod, doc.spec);
      if (!env) return undefined;
      const what = doc.spec.enabled === false ? 'disables' : 'changes';
      return {
        reason: `${what} freeze window ${doc.metadata.name}, which covers production environment ${env}`,
      };
    },
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
