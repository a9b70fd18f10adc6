import { defineErrors } from '../../platform/errors.ts';

export const identityErrors = defineErrors({
  AUTH_REQUIRED: {
    category: 'unauthenticated',
    message: 'Authentication required',
    solve:
      'Send `Authorization: Bearer <token>` with an API token (`custody token create`) or a session from `custody login`.',
  },
  AUTH_INVALID_TOKEN: {
    category: 'unauthenticated',
    message: 'The token is not valid',
    solve:
      'Check that the whole token was copied; create a new one with `custody token create` if it was lost.',
  },
  AUTH_TOKEN_EXPIRED: {
    category: 'unauthenticated',
    message: 'The token has expired',
    solve: 'Create a new token (`custody token create --ttl ...`) or log in again.',
  },
  AUTH_TOKEN_REVOKED: {
    category: 'unauthenticated',
    message: 'The token has been revoked',
    solve: 'Create a new token; revoked tokens never work again.',
  },
  AUTH_PRINCIPAL_DISABLED: {
    category: 'unauthenticated',
    message: 'The account behind this token has been deleted',
    solve: 'Ask an administrator for an active account.',
  },
  AUTH_INVALID_CREDENTIALS: {
    category: 'unauthenticated',
    message: 'Invalid user name or password',
    solve:
      'Check the user name and password. Service accounts cannot log in interactively; use an API token.',
  },
  AUTH_LOGIN_THROTTLED: {
    category: 'unauthenticated',
    message: 'Too many failed logins; wait before trying again',
    solve:
      'Wait until `details.retryAfter` and try again with the right password. Every further failure lengthens the wait, and enough of them lock logins for this name or address for 15 minutes.',
  },
  AUTH_LOGIN_LOCKED: {
    category: 'unauthenticated',
    message: 'Logins for this name or address are locked after repeated failures',
    solve:
      'Wait until `details.retryAfter` (15 minutes after the lock began); until then even the right password is refused. If you did not cause the failures, tell your security team: the audit trail holds `identity.session.locked`.',
  },
  AUTHZ_PERMISSION_DENIED: {
    category: 'forbidden',
    message: 'You do not have the permission this action needs',
    solve:
      'Ask an administrator for a role binding that grants the permission named in `details.permission` at the scope in `details.scope`. A deny binding always wins over allow.',
  },
  IDENTITY_PRINCIPAL_EXISTS: {
    category: 'conflict',
    message: 'A user or service account with that name already exists',
    solve: 'Choose another name.',
  },
  IDENTITY_PRINCIPAL_NOT_FOUND: {
    category: 'not_found',
    message: 'No such user or service account',
    solve: 'Check the name with `custody get users` / `custody get serviceaccounts`.',
  },
  IDENTITY_TOKEN_NOT_FOUND: {
    category: 'not_found',
    message: 'No such token',
    solve: 'List tokens with `custody token list` and use the `id` column.',
  },
  IDENTITY_TOKEN_TTL_INVALID: {
    category: 'invalid',
    message: 'The token lifetime is missing or above the configured maximum',
    solve:
      'Pass `--ttl` with a duration no longer than the server setting `tokenMaxTtl` (default 90d).',
  },
  IDENTITY_PASSWORD_TOO_WEAK: {
    category: 'invalid',
    message: 'The password is too short',
    solve: 'Use at least 12 characters.',
  },
  IDENTITY_ROLE_UNKNOWN: {
    category: 'invalid',
    message: 'The role binding names a role that does not exist',
    solve:
      'Use a built-in role (admin, developer, release-manager, approver, auditor, runner) or apply the Role first.',
  },
  IDENTITY_ROLE_RESERVED: {
    category: 'invalid',
    message: 'Built-in roles cannot be redefined',
    solve: 'Give the custom role another name.',
  },
  IDENTITY_LINK_KIND_UNKNOWN: {
    category: 'invalid',
    message: 'Unknown kind of linked identity',
    solve: 'Use `email`, `github` or `gitlab`.',
  },
  IDENTITY_LINK_VALUE_INVALID: {
    category: 'invalid',
    message: 'The linked identity is not well formed',
    solve:
      'Give a whole e-mail address (`erin@corp.example`) or a GitHub/GitLab login without `@` or URL (`erin-s`); `details.expected` says what the kind accepts.',
  },
  IDENTITY_LINK_TAKEN: {
    category: 'conflict',
    message: 'That identity is already linked to a user',
    solve:
      'An e-mail address or login belongs to one live user only (`details.principal`). Remove it there first (`custody user identity remove`) if it was linked to the wrong person.',
  },
  IDENTITY_LINK_NOT_FOUND: {
    category: 'not_found',
    message: 'The user has no such linked identity',
    solve: 'List the identities with `custody user identity list NAME`.',
  },
  IDENTITY_PERMISSION_UNKNOWN: {
    category: 'invalid',
    message: 'The role names a permission that does not exist',
    solve: 'Use names from docs/reference/permissions.md or patterns with `*`.',
  },
});
