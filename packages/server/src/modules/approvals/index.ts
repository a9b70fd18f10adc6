export { approvalMigrations } from './migrations.ts';
export { approvalPermissions } from './permissions.ts';
export { approvalErrors } from './errors.ts';
export { KyselyApprovalStore } from './approval-store.ts';
export {
  ApprovalService,
  principalOf,
  type ApprovalView,
  type ApprovalRequestInput,
  type DecisionHandler,
  type AuthorizationHandler,
} from './approval-service.ts';
export { approvalRoutes } from './approval-routes.ts';
export { decide, type ApprovalState, type ApprovalEvent } from './approval-state.ts';
