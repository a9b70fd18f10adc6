import { defineErrors } from '../../platform/errors.ts';

export const reportErrors = defineErrors({
  REPORTS_PERIOD_INVALID: {
    category: 'invalid',
    message: 'The report period is not valid',
    solve:
      'Give `from` and `to` as dates (YYYY-MM-DD) or ISO instants, `from` before `to`, at most 5 years apart.',
  },
  REPORTS_FORMAT_INVALID: {
    category: 'invalid',
    message: 'The report format is not supported',
    solve: 'Ask for `json` or `csv`.',
  },
});
