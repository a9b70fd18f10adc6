export { freezeMigrations } from './migrations.ts';
export { freezePermissions } from './permissions.ts';
export { freezeErrors } from './errors.ts';
export { KyselyFreezeStore } from './freeze-store.ts';
export { freezeKinds } from './freeze-kind.ts';
export { freezeRoutes } from './freeze-routes.ts';
export {
  FreezeService,
  type ActiveWindow,
  type FreezeDecision,
  type FreezeOverrideView,
  type FreezeTarget,
} from './freeze-service.ts';
export {
  freezeWindowSpecSchema,
  freezeLanes,
  type FreezeLane,
  type FreezeWindowSpec,
} from './freeze-spec.ts';
