import { defineErrors } from '../../platform/errors.ts';

export const resourceErrors = defineErrors({
  RESOURCES_YAML_INVALID: {
    category: 'invalid',
    message: 'The manifest is not valid YAML',
    solve: 'Fix the syntax at the line and column given in `details.errors`.',
  },
  RESOURCES_VALIDATION_FAILED: {
    category: 'invalid',
    message: 'A resource does not match its schema',
    solve:
      'Each entry of `details.errors` names the document, the YAML path, line and column, and what is wrong.',
  },
  RESOURCES_KIND_UNKNOWN: {
    category: 'invalid',
    message: 'Unknown resource kind',
    solve: 'Use one of the kinds listed in `details.known` with `apiVersion: custody/v1`.',
  },
  RESOURCES_NOT_FOUND: {
    category: 'not_found',
    message: 'No such resource',
    solve: 'List resources with `custody get KIND` (add `--project P` for project-scoped kinds).',
  },
  RESOURCES_VERSION_NOT_FOUND: {
    category: 'not_found',
    message: 'No such version of the resource',
    solve: 'List versions with `custody history KIND NAME`.',
  },
  RESOURCES_DUPLICATE_IN_MANIFEST: {
    category: 'invalid',
    message: 'The same resource appears twice in one manifest',
    solve: 'Keep one document per kind, project and name.',
  },
  RESOURCES_EMPTY_MANIFEST: {
    category: 'invalid',
    message: 'The manifest holds no documents',
    solve: 'Send at least one resource document.',
  },
  RESOURCES_REFERENCE_INVALID: {
    category: 'invalid',
    message: 'A resource refers to something that does not exist',
    solve: 'Apply the referenced resource first (or in the same manifest, before this one).',
  },
  RESOURCES_CHANGE_NOT_PENDING: {
    category: 'conflict',
    message: 'This version is no longer waiting for approval',
    solve:
      'A newer version withdrew it, or it was already decided: see `custody history KIND NAME` and `custody approvals list`.',
  },
  RESOURCES_YAML_ALIAS_LIMIT: {
    category: 'invalid',
    message: 'The manifest expands YAML aliases beyond the limit (an anchor bomb)',
    solve:
      'Write the repeated values out, or use fewer aliases: at most 50 alias expansions per document, and the expanded document at most 4 MiB.',
  },
});
