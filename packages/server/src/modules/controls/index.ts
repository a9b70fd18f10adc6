export { controlMigrations } from './migrations.ts';
export { controlPermissions } from './permissions.ts';
export { controlErrors } from './errors.ts';
export { KyselyControlStore } from './control-store.ts';
export {
  ControlService,
  type CatalogItem,
  type CheckCause,
  type HistoryItem,
} from './control-service.ts';
export { controlRoutes } from './control-routes.ts';
export { catalogCsv, catalogCsvColumns } from './control-csv.ts';
export {
  checkCatalog,
  controlNames,
  type CheckDefinition,
  type CheckState,
  type ControlName,
} from './catalog.ts';
export type { ControlSources, RetentionReader } from './control-inputs.ts';
export { assembleControls, controlsTickMs } from './controls-assembly.ts';
