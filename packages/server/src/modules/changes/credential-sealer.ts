import type { SealedValueSet } from '../../platform/crypto/sealed-values.ts';
import type { Sealer } from '../../platform/crypto/sealer.ts';
import type { KyselyChangeStore } from './change-store.ts';

// Connector credentials are sealed by the deployment's one sealer (ADR 8), bound to what they
// are, so a database dump alone reveals nothing and a credential copied into another store
// (say, a job secret) does not open there.
const context = 'changes/connector-credential';

export class CredentialSealer {
  constructor(private readonly sealer: Sealer) {}

  seal(value: string): string {
    return this.sealer.seal(value, context);
  }

  open(sealed: string): string {
    return this.sealer.open(sealed, context);
  }
}

// The credentials as the sealing check and `reseal` see them.
export function connectorCredentialSealedValues(store: KyselyChangeStore): SealedValueSet {
  return {
    name: 'changes-connector-credentials',
    async list(db) {
      return (await store.allCredentials(db)).map((r) => ({
        id: r.connector,
        context,
        sealed: r.secret,
      }));
    },
    replace: (tx, id, from, to) => store.replaceCredentialSecret(tx, id, from, to),
  };
}
