export interface PrincipalsTable {
  id: string;
  kind: 'user' | 'service_account';
  name: string;
  email: string | null;
  password_hash: string | null;
  created_at: string;
  deleted_at: string | null;
}

export interface TokensTable {
  id: string;
  kind: 'token' | 'session';
  principal_id: string;
  name: string;
  token_hash: string;
  scopes: string;
  created_at: string;
  created_by: string;
  expires_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface GroupsTable {
  name: string;
  description: string;
}

export interface GroupMembersTable {
  group_name: string;
  principal_type: string;
  principal_name: string;
}

export interface RolesTable {
  name: string;
  description: string;
  permissions: string;
}

export interface RoleBindingsTable {
  name: string;
  principal_type: string;
  principal_name: string;
  role: string;
  scope_project: string | null;
  scope_environment: string | null;
  effect: 'allow' | 'deny';
}

export interface IdentityTables {
  identity_principals: PrincipalsTable;
  identity_tokens: TokensTable;
  identity_groups: GroupsTable;
  identity_group_members: GroupMembersTable;
  identity_roles: RolesTable;
  identity_role_bindings: RoleBindingsTable;
}
