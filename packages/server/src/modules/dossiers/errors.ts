import { defineErrors } from '../../platform/errors.ts';

export const dossierErrors = defineErrors({
  DOSSIERS_DEPLOYMENT_NOT_FOUND: {
    category: 'not_found',
    message: 'No deployment with this id',
    solve:
      'A deployment is a deploy stage of a run that started: give `<run id>/<stage name>` (`custody runs get RUN` lists the stages).',
  },
  DOSSIERS_LEDGER_INCOMPLETE: {
    category: 'unavailable',
    message: 'The ledger has no signed checkpoint covering every entry of the change yet',
    solve:
      'Retry in a few seconds; if it persists, the checkpointer stopped (see `custody audit ledger status` and `ledger.control.failed` entries).',
  },
});
