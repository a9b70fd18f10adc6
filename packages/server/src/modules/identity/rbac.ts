import type { Scope } from '../../platform/context.ts';
import { permissionMatches } from '../../platform/permissions.ts';
import type { BindingRow } from './rbac-store.ts';

export interface Decision {
  readonly allowed: boolean;
  readonly reason: string;
  readonly binding?: string;
}

export function roleGrants(patterns: readonly string[], permission: string): boolean {
  let granted = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (permissionMatches(p.slice(1), permission)) return false;
    } else if (permissionMatches(p, permission)) {
      granted = true;
    }
  }
  return granted;
}

export function bindingApplies(
  binding: Pick<BindingRow, 'scope_project' | 'scope_environment' | 'effect'>,
  scope: Scope,
): boolean {
  if (binding.scope_project === null) return true;
  if (scope.any) return binding.effect === 'allow';
  if (binding.scope_project !== scope.project) return false;
  if (binding.scope_environment === null) return true;
  return binding.scope_environment === scope.environment;
}

// Deny always wins: a single applicable deny binding whose role covers the permission
// refuses it, whatever allows exist.
export function evaluate(input: {
  permission: string;
  scope: Scope;
  bindings: readonly BindingRow[];
  roles: ReadonlyMap<string, readonly string[]>;
  implicit: readonly string[];
}): Decision {
  const applicable = input.bindings.filter((b) => bindingApplies(b, input.scope));
  for (const b of applicable) {
    if (b.effect === 'deny' && roleGrants(input.roles.get(b.role) ?? [], input.permission)) {
      return { allowed: false, reason: `denied by binding ${b.name}`, binding: b.name };
    }
  }
  if (input.implicit.includes(input.permission)) return { allowed: true, reason: 'implicit' };
  for (const b of applicable) {
    if (b.effect === 'allow' && roleGrants(input.roles.get(b.role) ?? [], input.permission)) {
      return { allowed: true, reason: `allowed by binding ${b.name}`, binding: b.name };
    }
  }
  return { allowed: false, reason: 'no binding grants it' };
}

export function parseScope(text: string): Scope | undefined {
  if (text === 'organization') return {};
  const m = /^project:([a-z0-9][a-z0-9-]*)(?:\/environment:([a-z0-9][a-z0-9-]*))?$/.exec(text);
  if (!m) return undefined;
  return m[2] ? { project: m[1], environment: m[2] } : { project: m[1] };
}

export function formatScope(scope: Scope): string {
  if (scope.any) return 'any';
  if (!scope.project) return 'organization';
  return scope.environment
    ? `project:${scope.project}/environment:${scope.environment}`
    : `project:${scope.project}`;
}

export function parsePrincipal(
  text: string,
): { type: 'user' | 'group' | 'service_account'; name: string } | undefined {
  const m = /^(user|group|serviceaccount):([A-Za-z0-9][A-Za-z0-9._@-]*)$/.exec(text);
  if (!m) return undefined;
  return {
    type: m[1] === 'serviceaccount' ? 'service_account' : (m[1] as 'user' | 'group'),
    name: m[2]!,
  };
}
