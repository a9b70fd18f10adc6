import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import type { CreatorLookup } from '../../platform/four-eyes.ts';
import type { ProjectService } from '../projects/index.ts';
import { ChangeRecordCheck } from './change-check.ts';
import { ChangeRequests } from './change-requests.ts';
import type { KyselyChangeStore } from './change-store.ts';
import { ControlFailures } from './control-failures.ts';
import type { CredentialSealer } from './credential-sealer.ts';
import { TicketService } from './ticket-service.ts';

// The changes module assembled: requests people make, the gate's check of a deployment's
// change record, the ticket systems, and the control-failures report.
export class ChangeService {
  readonly requests: ChangeRequests;
  readonly records: ChangeRecordCheck;
  readonly tickets: TicketService;
  readonly failures: ControlFailures;

  constructor(deps: {
    database: Database;
    uow: UnitOfWork;
    store: KyselyChangeStore;
    projects: ProjectService;
    clock: Clock;
    sealer: CredentialSealer;
    creators: CreatorLookup;
    sockPuppetWindowMs: number | null;
  }) {
    this.requests = new ChangeRequests(deps);
    this.tickets = new TicketService(deps);
    this.records = new ChangeRecordCheck({ ...deps, tickets: this.tickets });
    this.failures = new ControlFailures(deps);
  }
}
