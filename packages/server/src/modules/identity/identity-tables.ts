export interface PrincipalsTable {
  id: string;
  kind: 'user' | 'service_account';
  name: string;
  email: string | null;
  password_hash: string | null;
  created_at: string;
  // `user:NAME` / `serviceaccount:NAME` of who created it; null for the system (bootstrap).
  created_by: string | null;
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
  // The principal (`user:NAME`, `system:custody`) who issued it; differs from the token's own
  // principal when an administrator created it for someone else (impersonation).
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

// Verified identities of a user in other systems (e-mail, SCM logins), attached by an
// administrator; the user's own e-mail is one too (source `profile`).
export interface LinksTable {
  id: string;
  principal_id: string;
  kind: 'email' | 'github' | 'gitlab';
  value: string;
  normalized: string;
  source: 'admin' | 'profile';
  created_at: string;
  created_by: string | null;
  removed_at: string | null;
}

// Failed login bookkeeping per key (`name:bob`, `address:10.0.0.7`), shared by replicas.
export interface LoginThrottleTable {
  key: string;
  failures: number;
  last_failure_at: string | null;
  locked_until: string | null;
}

export interface IdentityTables {
  identity_principals: PrincipalsTable;
  identity_tokens: TokensTable;
  identity_groups: GroupsTable;
  identity_group_members: GroupMembersTable;
  identity_roles: RolesTable;
  identity_role_bindings: RoleBindingsTable;
  identity_links: LinksTable;
  identity_login_throttle: LoginThrottleTable;
}
