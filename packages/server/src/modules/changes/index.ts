export { changeMigrations } from './migrations.ts';
export { changePermissions } from './permissions.ts';
export { changeErrors } from './errors.ts';
export { KyselyChangeStore } from './change-store.ts';
export { changeKinds } from './change-kinds.ts';
export { CredentialSealer, connectorCredentialSealedValues } from './credential-sealer.ts';
export { changeRoutes } from './change-routes.ts';
export {
  ChangeService,
  type ChangeCheck,
  type ChangeView,
  type CheckReason,
  type ControlFailure,
  type RiskClass,
} from './change-service.ts';
export type { DeploymentOutcome, TicketStatus } from './ticket-connectors.ts';
export {
  changeConnectorSpecSchema,
  changeTemplateSpecSchema,
  type ChangeConnectorSpec,
  type ChangeTemplateSpec,
} from './change-spec.ts';
