import type { SealedValueSet } from '../../platform/crypto/sealed-values.ts';
import { secretContext, secretId } from './secret-service.ts';
import type { KyselySecretStore } from './secret-store.ts';

// The secrets table as the sealing check and `reseal` see it.
export function secretSealedValues(store: KyselySecretStore): SealedValueSet {
  return {
    name: 'secrets',
    async list(db) {
      return (await store.all(db)).map((r) => ({
        id: secretId(r),
        context: secretContext(r),
        sealed: r.sealed,
      }));
    },
    replace(tx, id, from, to) {
      const parts = id.split('/');
      const key =
        parts.length === 2
          ? { project: parts[0]!, environment: '', name: parts[1]! }
          : { project: parts[0]!, environment: parts[1]!, name: parts[2]! };
      return store.replaceSealed(tx, key, from, to);
    },
  };
}
