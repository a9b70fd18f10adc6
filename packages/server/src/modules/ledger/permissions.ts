import { definePermissions } from '../../platform/permissions.ts';

export const ledgerPermissions = definePermissions({
  'ledger.key.read': "Read the ledger's verifier key",
  'ledger.checkpoint.read': 'Read signed ledger checkpoints',
  'ledger.checkpoint.create': 'Ask the ledger to sign a checkpoint now',
  'ledger.proof.read': 'Read inclusion and consistency proofs, tiles and entry bundles',
});
