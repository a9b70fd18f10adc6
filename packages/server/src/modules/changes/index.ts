export { changeMigrations } from './migrations.ts';
export { changePermissions } from './permissions.ts';
export { changeErrors } from './errors.ts';
export { KyselyChangeStore } from './change-store.ts';
export { changeKinds } from './change-kinds.ts';
export { CredentialSealer, connectorCredentialSealedValues } from './credential-sealer.ts';
export { changeRoutes } from './change-routes.ts';
export { ChangeService } from './change-service.ts';
export type { ChangeCheck, ChangeCheckInput, CheckReason } from './change-check.ts';
export type { ChangeView, ChangeUseView, RiskClass } from './change-view.ts';
export type { ControlFailure } from './control-failures.ts';
export type { DeploymentOutcome, TicketStatus } from './ticket-connectors.ts';
export {
  changeConnectorSpecSchema,
  changeTemplateSpecSchema,
  type ChangeConnectorSpec,
  type ChangeTemplateSpec,
} from './change-spec.ts';
