export { policyMigrations } from './migrations.ts';
export { policyPermissions } from './permissions.ts';
export { policyErrors } from './errors.ts';
export { KyselyPolicyStore } from './policy-store.ts';
export { policyKind } from './policy-kind.ts';
export { PolicyEngine, policyLine, type PolicyVerdict } from './policy-engine.ts';
export { DecisionLog, type InputArchive } from './decision-log.ts';
export { DecisionReplayer, type Replay } from './policy-replay.ts';
export { PolicyService, type DecisionView } from './policy-service.ts';
export { policyRoutes } from './policy-routes.ts';
export {
  decisionPoints,
  policySpecSchema,
  type DecisionPoint,
  type PolicySpec,
} from './policy-spec.ts';
export type { DecisionRequest, PolicyMessage } from './policy-evaluation.ts';
export type { Impact } from './policy-impact.ts';
export { assemblePolicies } from './policy-assembly.ts';
