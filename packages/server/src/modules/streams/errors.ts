import { defineErrors } from '../../platform/errors.ts';

export const streamErrors = defineErrors({
  STREAMS_DESTINATION_NOT_FOUND: {
    category: 'not_found',
    message: 'No such AuditStream destination',
    solve: 'Apply an `AuditStream` resource first; list them with `GET /api/v1/streams`.',
  },
  STREAMS_SECRET_INVALID: {
    category: 'invalid',
    message: 'The destination secret is empty or too long',
    solve: 'Send `{"value": "..."}` with 1 to 4096 characters.',
  },
});
