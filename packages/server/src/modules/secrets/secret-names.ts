import type { SecretKey } from './secret-store.ts';

/** How a secret is named in the audit trail: `project/NAME` or `project/environment/NAME`. */
export const secretId = (r: SecretKey) =>
  `${r.project}/${r.environment ? `${r.environment}/` : ''}${r.name}`;

/** What a sealed secret is bound to: another row's value does not open in this one. */
export const secretContext = (r: SecretKey) => `secrets/${r.project}/${r.environment}/${r.name}`;
