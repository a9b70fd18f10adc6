import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import type { AnyRoute } from '../../platform/http/route.ts';
import type { AuditService } from '../audit/index.ts';
import type { ExecutionReads } from '../executions/index.ts';
import type { ProjectService } from '../projects/index.ts';

// What the auditor's reports read: other modules' public read sides only, never their tables.
export interface ReportDeps {
  readonly database: Database;
  readonly uow: UnitOfWork;
  readonly clock: Clock;
  readonly audit: AuditService;
  readonly executions: ExecutionReads;
  readonly projects: ProjectService;
}

// The reports module, assembled: each report contributes its routes.
export function assembleReports(_deps: ReportDeps): { routes: AnyRoute[] } {
  return { routes: [] };
}
