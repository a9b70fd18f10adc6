import { z } from 'zod';
import type { AnyTx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors.ts';
import { allPermissions, permissionMatches } from '../../platform/permissions.ts';
import type { KindHandler } from '../resources/index.ts';
import { builtinRoleNames } from './builtin-roles.ts';
import { identityErrors } from './errors.ts';
import { identityPermissions as P } from './permissions.ts';
import { parsePrincipal, parseScope } from './rbac.ts';
import type { KyselyRbacStore } from './rbac-store.ts';

const principalRef = z.string().refine((s) => parsePrincipal(s) !== undefined, {
  message: 'must be user:NAME, group:NAME or serviceaccount:NAME',
});

const groupSpec = z
  .object({
    description: z.string().max(500).default(''),
    members: z
      .array(
        principalRef.refine((s) => !s.startsWith('group:'), {
          message: 'groups cannot contain groups',
        }),
      )
      .default([]),
  })
  .strict();

const roleSpec = z
  .object({
    description: z.string().max(500).default(''),
    permissions: z
      .array(
        z
          .string()
          .regex(/^!?(\*|[a-z*]+\.[a-z*-]+\.[a-z*-]+)$/, 'must be a permission name or pattern'),
      )
      .min(1),
  })
  .strict();

const bindingSpec = z
  .object({
    principal: principalRef,
    role: z.string().min(1),
    scope: z
      .string()
      .refine((s) => parseScope(s) !== undefined, {
        message: 'must be organization, project:P or project:P/environment:E',
      })
      .default('organization'),
    effect: z.enum(['allow', 'deny']).default('allow'),
  })
  .strict();

export function identityKinds(rbac: KyselyRbacStore): KindHandler[] {
  const group: KindHandler<z.infer<typeof groupSpec>> = {
    kind: 'Group',
    scope: 'organization',
    description: 'A named set of users and service accounts',
    spec: groupSpec,
    applyPermission: P['identity.group.apply'],
    readPermission: P['identity.group.read'],
    async materialize(tx, doc) {
      const members = doc.spec.members.map((m) => {
        const p = parsePrincipal(m)!;
        return { type: p.type, name: p.name };
      });
      await rbac.upsertGroup(tx, doc.metadata.name, doc.spec.description, members);
    },
  };
  const role: KindHandler<z.infer<typeof roleSpec>> = {
    kind: 'Role',
    scope: 'organization',
    description: 'A custom set of permissions',
    spec: roleSpec,
    applyPermission: P['identity.role.apply'],
    readPermission: P['identity.role.read'],
    async validate(_tx, doc) {
      if (builtinRoleNames.has(doc.metadata.name)) {
        throw new DomainError(
          identityErrors.IDENTITY_ROLE_RESERVED,
          `role ${doc.metadata.name} is built in`,
        );
      }
      const known = allPermissions().map((p) => p.name);
      for (const pattern of doc.spec.permissions) {
        const bare = pattern.replace(/^!/, '');
        if (!known.some((k) => permissionMatches(bare, k))) {
          throw new DomainError(
            identityErrors.IDENTITY_PERMISSION_UNKNOWN,
            `no permission matches ${pattern}`,
          );
        }
      }
    },
    async materialize(tx, doc) {
      await rbac.upsertRole(tx, {
        name: doc.metadata.name,
        description: doc.spec.description,
        permissions: JSON.stringify(doc.spec.permissions),
      });
    },
  };
  const binding: KindHandler<z.infer<typeof bindingSpec>> = {
    kind: 'RoleBinding',
    scope: 'organization',
    description: 'Grants (or denies) a role to a principal at a scope',
    spec: bindingSpec,
    applyPermission: P['identity.rolebinding.apply'],
    readPermission: P['identity.rolebinding.read'],
    async validate(tx: AnyTx, doc) {
      if (!builtinRoleNames.has(doc.spec.role) && !(await rbac.findRole(tx, doc.spec.role))) {
        throw new DomainError(
          identityErrors.IDENTITY_ROLE_UNKNOWN,
          `role ${doc.spec.role} does not exist`,
        );
      }
    },
    async materialize(tx, doc) {
      const principal = parsePrincipal(doc.spec.principal)!;
      const scope = parseScope(doc.spec.scope)!;
      await rbac.upsertBinding(tx, {
        name: doc.metadata.name,
        principal_type: principal.type,
        principal_name: principal.name,
        role: doc.spec.role,
        scope_project: scope.project ?? null,
        scope_environment: scope.environment ?? null,
        effect: doc.spec.effect,
      });
    },
  };
  return [group, role, binding] as KindHandler[];
}
