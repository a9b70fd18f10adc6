// Permissions are named `<module>.<resource>.<verb>` and declared once per module in its
// permissions.ts; docs/reference/permissions.md is checked against this registry.
export interface PermissionDefinition {
  readonly name: string;
  readonly description: string;
}

const registry = new Map<string, PermissionDefinition>();
const namePattern = /^[a-z]+\.[a-z-]+\.[a-z-]+$/;

export function definePermissions<const T extends Record<string, string>>(
  defs: T,
): { readonly [K in keyof T]: K } {
  const out: Record<string, string> = {};
  for (const [name, description] of Object.entries(defs)) {
    if (!namePattern.test(name))
      throw new Error(`permission ${name} is not <module>.<resource>.<verb>`);
    registry.set(name, { name, description });
    out[name] = name;
  }
  return out as { readonly [K in keyof T]: K };
}

export function allPermissions(): PermissionDefinition[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}

// Patterns in roles: `*` alone matches everything; otherwise `*` matches one segment.
export function permissionMatches(pattern: string, permission: string): boolean {
  if (pattern === '*') return true;
  const p = pattern.split('.');
  const q = permission.split('.');
  if (p.length !== q.length) return false;
  return p.every((seg, i) => seg === '*' || seg === q[i]);
}
