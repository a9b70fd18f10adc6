import { defineErrors } from '../../platform/errors.ts';

export const freezeErrors = defineErrors({
  FREEZE_ACTIVE: {
    category: 'conflict',
    message: 'A freeze window is in force for this environment',
    solve:
      'Wait until the window closes (`details.windows[].end`), deploy in a lane the window lets through (rollback, emergency), or have someone with `freeze.window.override` create an override with a reason.',
  },
  FREEZE_OVERRIDE_REASON_REQUIRED: {
    category: 'invalid',
    message: 'A freeze override needs a reason',
    solve: 'Give a non-empty `reason` saying why the freeze must be overridden.',
  },
  FREEZE_OVERRIDE_TOO_LONG: {
    category: 'invalid',
    message: 'A freeze override may last at most 24 hours',
    solve: 'Give a shorter `duration` (default 2h); create a new override later if needed.',
  },
  FREEZE_OVERRIDE_START_INVALID: {
    category: 'invalid',
    message: 'A freeze override may not start in the past or more than 7 days ahead',
    solve: 'Omit `startsAt` to start now, or give a time within the next 7 days.',
  },
  FREEZE_SERVICE_ACCOUNT_FORBIDDEN: {
    category: 'forbidden',
    message: 'Service accounts never override a freeze',
    solve: 'A person holding `freeze.window.override` must create the override.',
  },
  FREEZE_ENVIRONMENT_NOT_FOUND: {
    category: 'not_found',
    message: 'The environment does not exist',
    solve: 'Check the project and environment names (`custody get Environment --project P`).',
  },
});
