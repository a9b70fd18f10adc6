import { definePermissions } from '../../platform/permissions.ts';

export const dossierPermissions = definePermissions({
  'dossiers.dossier.read':
    'Download the signed change dossier of a deployment (everything an auditor asks for about one change, with ledger proofs)',
});
