export { identityMigrations } from './migrations.ts';
export { identityErrors } from './errors.ts';
export { identityPermissions, implicitPermissions } from './permissions.ts';
export { builtinRoles, type RoleDefinition } from './builtin-roles.ts';
export { KyselyPrincipalStore } from './principal-store.ts';
export { KyselyRbacStore } from './rbac-store.ts';
export { IdentityAccessControl } from './access-control.ts';
export {
  IdentityService,
  type PrincipalView,
  type LinkView,
  type TokenView,
} from './identity-service.ts';
export { IdentityDirectory } from './identity-directory.ts';
export { KyselyLinkStore } from './link-store.ts';
export { KyselyLoginThrottleStore } from './login-throttle-store.ts';
export { LoginThrottle } from './login-throttle.ts';
export { identityRoutes } from './identity-routes.ts';
export { identityKinds } from './resource-kinds.ts';
export { parsePrincipal, parseScope, formatScope, evaluate, roleGrants } from './rbac.ts';
export { hashSecret } from './token-codec.ts';
