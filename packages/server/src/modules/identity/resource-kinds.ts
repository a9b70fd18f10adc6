import { z } from 'zod';
import type { AnyTx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors.ts';
import { allPermissions, permissionMatches } from '../../platform/permissions.ts';
import type { ProductionScope } from '../projects/index.ts';
import type { GovernanceReader, KindHandler, ResourceDocument } from '../resources/index.ts';
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

type BindingSpec = z.infer<typeof bindingSpec>;
type BindingDoc = ResourceDocument<BindingSpec>;

// Where production starts (projects module), read from the documents in force.
export type ProductionReader = (read: GovernanceReader) => Promise<ProductionScope>;

// Bindings in force and waiting: a grant an approver is asked about, or one already granted.
async function bindings(read: GovernanceReader): Promise<BindingDoc[]> {
  return [
    ...((await read.inForce('RoleBinding')) as BindingDoc[]),
    ...((await read.pending('RoleBinding')) as BindingDoc[]),
  ];
}

// A runner's binding grants only the runner protocol (lease and report jobs of the pools its
// token was granted, which `runners.token.create` decides, not the binding). Runner tokens
// apply it as their creator, so it stays immediate — for service accounts only.
const runnerOnly = (spec: BindingSpec) =>
  spec.role === 'runner' && spec.principal.startsWith('serviceaccount:');

const coveredBinding = (production: ProductionScope, spec: BindingSpec) =>
  production.coveredByScope(parseScope(spec.scope) ?? {});

export function identityKinds(rbac: KyselyRbacStore, production: ProductionReader): KindHandler[] {
  const group: KindHandler<z.infer<typeof groupSpec>> = {
    kind: 'Group',
    scope: 'organization',
    description: 'A named set of users and service accounts',
    spec: groupSpec,
    applyPermission: P['identity.group.apply'],
    readPermission: P['identity.group.read'],
    // Membership of a group a production approval rule names, or that is bound to a role at
    // a production scope, decides who releases to production.
    async governed({ doc, read }) {
      const prod = await production(read);
      const name = doc.metadata.name;
      const rules = prod.namingGroup(name);
      if (rules.length > 0)
        return {
          reason: `the approval rules of production environment ${rules.join(', ')} name group ${name}`,
        };
      const bound = (await bindings(read)).find(
        (b) => b.spec.principal === `group:${name}` && coveredBinding(prod, b.spec),
      );
      if (bound)
        return {
          reason: `group ${name} is bound to role ${bound.spec.role} at ${bound.spec.scope} (binding ${bound.metadata.name}), which covers production environment ${coveredBinding(prod, bound.spec)}`,
        };
      return undefined;
    },
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
    // Widening (or narrowing a deny of) a role someone holds at a production scope changes
    // who can do what in production.
    async governed({ doc, read }) {
      const prod = await production(read);
      const bound = (await bindings(read)).find(
        (b) => b.spec.role === doc.metadata.name && coveredBinding(prod, b.spec),
      );
      if (!bound) return undefined;
      return {
        reason: `role ${doc.metadata.name} is used by binding ${bound.metadata.name} at ${bound.spec.scope}, which covers production environment ${coveredBinding(prod, bound.spec)}`,
      };
    },
    async materialize(tx, doc) {
      await rbac.upsertRole(tx, {
        name: doc.metadata.name,
        description: doc.spec.description,
        permissions: JSON.stringify(doc.spec.permissions),
      });
    },
  };
  const binding: KindHandler<BindingSpec> = {
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
    // Any grant or deny that reaches production, before or after the change.
    async governed({ doc, inForce, read }) {
      if (runnerOnly(doc.spec) && (!inForce || runnerOnly(inForce.spec))) return undefined;
      const prod = await production(read);
      const after = coveredBinding(prod, doc.spec);
      const before = inForce && coveredBinding(prod, inForce.spec);
      const env = after ?? before;
      if (!env) return undefined;
      const was = inForce && before && !after ? ` (was ${inForce.spec.scope})` : '';
      return {
        reason: `binding of ${doc.spec.principal} to role ${doc.spec.role} (${doc.spec.effect}) at ${doc.spec.scope}${was} covers production environment ${env}`,
      };
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
