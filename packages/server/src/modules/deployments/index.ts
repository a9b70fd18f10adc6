export { deploymentMigrations } from './migrations.ts';
export { deploymentErrors } from './errors.ts';
export { KyselyDeploymentStore } from './deployment-store.ts';
export {
  DeploymentGate,
  type DeploymentPolicyHook,
  type GateDecision,
  type GateInput,
  type GateReason,
} from './deployment-gate.ts';
export {
  DeploymentService,
  type DeploymentApprovalView,
  type StageGateView,
} from './deployment-service.ts';
export { deploymentRoutes } from './deployment-routes.ts';
export {
  evaluateRules,
  intentHash,
  rulesInForce,
  fourEyesRule,
  type DeploymentIntent,
} from './approval-rules.ts';
