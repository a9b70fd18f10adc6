import { defineErrors } from '../../platform/errors.ts';

export const controlErrors = defineErrors({
  CONTROLS_CHECK_UNKNOWN: {
    category: 'invalid',
    message: 'No such check in the control catalog',
    solve:
      'Use a check id from `custody controls` or docs/reference/controls.md, such as `deployment.approvals-required`.',
  },
  CONTROLS_FILTER_INVALID: {
    category: 'invalid',
    message: 'An environment filter needs its project',
    solve: 'Give `project` with `environment` (the CLI takes `--environment PROJECT/ENV`).',
  },
});
