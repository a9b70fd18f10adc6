// The seven controls of a SOX ITGC review and the checks Custody evaluates for each, per
// production environment. Ids are stable: reports, history and ledger entries name them.

export const controlNames = [
  'segregation-of-duties',
  'change-management',
  'version-control-and-audit-trail',
  'testing-and-release-validation',
  'deployment-controls',
  'documentation-and-retention',
  'audit-and-monitoring',
] as const;
export type ControlName = (typeof controlNames)[number];

export type CheckState = 'pass' | 'fail' | 'not_configured';

export interface CheckDefinition {
  readonly id: string;
  readonly control: ControlName;
  readonly title: string;
  // Resource kinds whose versions coming into force can change the state; empty: time-based
  // (or another module's runtime state), re-evaluated by the periodic duty.
  readonly reads: readonly string[];
}

const def = (
  id: string,
  control: ControlName,
  title: string,
  reads: readonly string[],
): CheckDefinition => ({ id, control, title, reads });

export const checkCatalog: readonly CheckDefinition[] = [
  def(
    'segregation.authors-excluded',
    'segregation-of-duties',
    'Authors, committers and the triggerer are excluded from approving',
    ['Environment'],
  ),
  def(
    'change.ticket-required',
    'change-management',
    'A change record (ticket) is required for every deployment',
    ['Environment'],
  ),
  def(
    'change.freeze-windows-defined',
    'change-management',
    'At least one enabled freeze window covers the environment',
    ['Environment', 'FreezeWindow'],
  ),
  def(
    'change.emergency-reviews-on-time',
    'change-management',
    'No emergency change is past its post-implementation review deadline',
    [],
  ),
  def(
    'audit-trail.checkpoint-recent',
    'version-control-and-audit-trail',
    'A ledger checkpoint was signed within the last hour',
    [],
  ),
  def(
    'testing.quality-gates-configured',
    'testing-and-release-validation',
    'Quality gates (tests, coverage, findings, SBOM) are configured',
    ['Environment'],
  ),
  def(
    'testing.promotion-required',
    'testing-and-release-validation',
    'A release must have passed a pre-production environment first',
    ['Environment'],
  ),
  def('deployment.approvals-required', 'deployment-controls', 'At least one approval is required', [
    'Environment',
  ]),
  def(
    'deployment.runner-pool-dedicated',
    'deployment-controls',
    'Deployments run in a runner pool no non-production environment or build stage uses',
    ['Environment', 'Pipeline'],
  ),
  def(
    'deployment.policies-bound',
    'deployment-controls',
    'Policies decide for the environment (where policies exist)',
    ['Environment', 'Project', 'Policy'],
  ),
  def(
    'retention.evidence-seven-years',
    'documentation-and-retention',
    'Evidence is retained for at least 7 years',
    [],
  ),
  def(
    'monitoring.audit-stream-delivering',
    'audit-and-monitoring',
    'An enabled audit stream is delivering the audit trail',
    ['AuditStream'],
  ),
];

export const checkById = new Map(checkCatalog.map((c) => [c.id, c]));

// Kinds whose versions can change some check.
export const watchedKinds = new Set(checkCatalog.flatMap((c) => c.reads));
