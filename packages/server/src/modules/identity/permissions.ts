import { definePermissions } from '../../platform/permissions.ts';

export const identityPermissions = definePermissions({
  'identity.self.read': 'Read your own identity (granted to every authenticated principal)',
  'identity.user.read': 'List and read users',
  'identity.user.create': 'Create users',
  'identity.user.delete': 'Delete users',
  'identity.link.manage':
    "Link and unlink a user's verified identities (e-mail addresses, GitHub and GitLab logins) used to match commit and review authors",
  'identity.serviceaccount.read': 'List and read service accounts',
  'identity.serviceaccount.create': 'Create service accounts',
  'identity.serviceaccount.delete': 'Delete service accounts',
  'identity.token.create': 'Create API tokens for yourself',
  'identity.token.manage': 'Create, list and revoke API tokens of other principals',
  'identity.token.read': 'List your own API tokens',
  'identity.group.apply': 'Apply Group resources',
  'identity.group.read': 'Read groups',
  'identity.role.apply': 'Apply custom Role resources',
  'identity.role.read': 'Read roles',
  'identity.rolebinding.apply': 'Apply RoleBinding resources',
  'identity.rolebinding.read': 'Read role bindings',
  'system.openapi.read': 'Read the OpenAPI document (granted to every authenticated principal)',
});

// Every authenticated principal holds these, unless a deny binding takes them away.
export const implicitPermissions = [
  'identity.self.read',
  'identity.token.read',
  'system.openapi.read',
];
