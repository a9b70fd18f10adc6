import { principalOf } from '../../platform/context.ts';
import type { PrincipalRow, TokenRow } from './principal-store.ts';

// The issuer of a token when it is not the token's own principal: impersonation. Sessions come
// from the user's own login; tokens the system issues (the bootstrap admin token, `custody up`)
// have no person behind them to impersonate anyone.
export function delegatedBy(
  token: Pick<TokenRow, 'created_by'>,
  principal: Pick<PrincipalRow, 'kind' | 'name'>,
): string | null {
  const self = principalOf({ type: principal.kind, name: principal.name }).toLowerCase();
  const issuer = token.created_by.toLowerCase();
  if (issuer === self || issuer.startsWith('system:')) return null;
  return token.created_by;
}
