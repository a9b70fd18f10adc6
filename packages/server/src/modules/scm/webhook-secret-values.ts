import type { SealedValueSet } from '../../platform/crypto/sealed-values.ts';
import { webhookSecretContext } from './scm-service.ts';
import type { KyselyScmStore } from './scm-store.ts';

// The webhook secrets as the sealing check and `reseal` see them.
export function webhookSecretSealedValues(store: KyselyScmStore): SealedValueSet {
  return {
    name: 'scm-webhook-secrets',
    async list(db) {
      return (await store.webhookSecrets(db)).map((r) => ({
        id: `${r.project}/${r.provider}`,
        context: webhookSecretContext(r.project, r.provider),
        sealed: r.sealed,
      }));
    },
    replace(tx, id, from, to) {
      const [project, provider] = id.split('/') as [string, string];
      return store.replaceWebhookSecret(tx, { project, provider }, from, to);
    },
  };
}
