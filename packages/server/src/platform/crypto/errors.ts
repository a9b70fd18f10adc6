import { defineErrors } from '../errors.ts';

export const sealingErrors = defineErrors({
  SEALING_KEY_INVALID: {
    category: 'invalid',
    message:
      'The sealing key configuration is invalid: each key is 32 random bytes written in base64',
    solve:
      'Point `secretsKeyFile` (CUSTODY_SECRETS_KEY_FILE) at a readable file with one base64 key per line (newest last), or set CUSTODY_SECRETS_KEY to comma-separated base64 keys; create a key with `openssl rand -base64 32`. Set only one of the two.',
  },
  SEALING_KEY_MISSING: {
    category: 'unavailable',
    message: 'Values in the database are sealed under a key this server does not hold',
    solve:
      'Give every replica the same sealing key(s) (CUSTODY_SECRETS_KEY_FILE or CUSTODY_SECRETS_KEY); `details.missing` names the key ids needed. When rotating, add the new key after the old one on every replica, then run `custody secrets reseal`; remove the old key only after that.',
  },
  SEALING_KEY_RETIRED: {
    category: 'unavailable',
    message:
      "This server's newest sealing key was retired by `custody secrets reseal`: the deployment seals under a newer one",
    solve:
      'Add the newer key (last) to CUSTODY_SECRETS_KEY_FILE or CUSTODY_SECRETS_KEY on this replica, as on the others.',
  },
  SEALING_VALUE_UNREADABLE: {
    category: 'unavailable',
    message: 'A sealed value does not open with its key: it was altered, or moved from another row',
    solve:
      'Restore the row from a backup, or set the value again; `details` names the store and row (never the value).',
  },
});
