import type { SealedValueSet } from '../../platform/crypto/sealed-values.ts';
import { secretContext, secretId } from './secret-names.ts';
import { pendingContext } from './secret-changes.ts';
import type { KyselySecretChangeStore } from './secret-change-store.ts';
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

// Versions waiting for a second person: sealed to their own version, checked at start-up and
// moved to the newest key by `reseal` like every other value.
export function pendingSecretSealedValues(store: KyselySecretChangeStore): SealedValueSet {
  return {
    name: 'secrets-pending',
    async list(db) {
      return (await store.sealed(db)).map((r) => ({
        id: `${secretId(r)}@${r.version}`,
        context: pendingContext(r, r.version),
        sealed: r.sealed,
      }));
    },
    replace(tx, id, from, to) {
      const at = id.lastIndexOf('@');
      const parts = id.slice(0, at).split('/');
      const version = Number(id.slice(at + 1));
      const key =
        parts.length === 2
          ? { project: parts[0]!, environment: '', name: parts[1]! }
          : { project: parts[0]!, environment: parts[1]!, name: parts[2]! };
      return store.replaceSealed(tx, { ...key, version }, from, to);
    },
  };
}
