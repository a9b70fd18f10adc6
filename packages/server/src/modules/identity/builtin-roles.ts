// Built-in roles are code, not data, so an upgrade can extend them. Patterns: `*` matches
// one segment (or everything alone); `!pattern` removes what earlier patterns granted.
export interface RoleDefinition {
  readonly name: string;
  readonly description: string;
  readonly permissions: readonly string[];
  readonly builtin: boolean;
}

export const builtinRoles: readonly RoleDefinition[] = [
  { name: 'admin', description: 'Everything', permissions: ['*'], builtin: true },
  {
    name: 'developer',
    description: 'Define pipelines, run them, read most things',
    permissions: [
      '*.*.read',
      'resources.manifest.apply',
      'projects.project.apply',
      'pipelines.pipeline.apply',
      'changes.request.create',
      'executions.run.create',
      'executions.run.cancel',
      'evidence.waiver.request',
      'identity.token.create',
      '!audit.*.*',
      '!ledger.*.*',
      '!dossiers.*.*',
    ],
    builtin: true,
  },
  {
    name: 'release-manager',
    description: 'Approve and release changes, manage change records',
    permissions: [
      '*.*.read',
      'approvals.*.*',
      'changes.*.*',
      'freeze.window.override',
      'evidence.waiver.request',
      'evidence.waiver.approve',
      'executions.run.create',
      'executions.run.cancel',
      'executions.rollback.create',
      'identity.token.create',
      '!audit.*.*',
      '!ledger.*.*',
      '!dossiers.*.*',
    ],
    builtin: true,
  },
  {
    name: 'approver',
    description: 'Approve or reject approval requests',
    permissions: [
      '*.*.read',
      'approvals.request.approve',
      'approvals.request.reject',
      'evidence.waiver.approve',
      'identity.token.create',
      '!audit.*.*',
      '!ledger.*.*',
      '!dossiers.*.*',
    ],
    builtin: true,
  },
  {
    name: 'auditor',
    description: 'Read-only on everything, the audit ledger included',
    permissions: ['*.*.read'],
    builtin: true,
  },
  {
    name: 'runner',
    description: 'Runner agents: lease and report jobs of their pools',
    permissions: ['runners.job.*', 'runners.runner.register'],
    builtin: true,
  },
];

export const builtinRoleNames = new Set(builtinRoles.map((r) => r.name));
