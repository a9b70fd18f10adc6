import type { Logger } from 'pino';
import { dossierSigner } from '@custody/ledger';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import type { LeaderElection } from '../ledger/index.ts';
import { DossierBuilder } from './dossier-builder.ts';
import { dossierRoutes } from './dossier-routes.ts';
import { DossierService } from './dossier-service.ts';
import type { DossierSources } from './dossier-sources.ts';
import { KyselyDossierStore } from './dossier-store.ts';

// The dossiers module, assembled: the builder signs with the ledger's key; on the ledger
// leader a duty builds the dossier of every finished production deployment.
export function assembleDossiers(deps: {
  sources: DossierSources;
  uow: UnitOfWork;
  election: Pick<LeaderElection, 'addDuty'>;
  logger: Logger;
  intervalMs?: number;
}) {
  const builder = new DossierBuilder({
    sources: deps.sources,
    signer: () => dossierSigner(deps.sources.ledger.service.signer),
  });
  const service = new DossierService({
    sources: deps.sources,
    uow: deps.uow,
    store: new KyselyDossierStore(),
    builder,
    logger: deps.logger.child({ component: 'dossiers' }),
  });
  deps.election.addDuty({
    name: 'dossiers',
    intervalMs: deps.intervalMs ?? 5000,
    tick: async () => {
      await service.buildPending();
    },
  });
  return { service, builder, routes: dossierRoutes(service) };
}
