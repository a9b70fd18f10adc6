import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors.ts';
import { ledgerErrors } from './errors.ts';
import { LeaderElection } from './leader-election.ts';
import { loadOrCreateSigner, type LedgerKeyOptions } from './ledger-key.ts';
import { KyselyLedgerStore, type CheckpointRow } from './ledger-store.ts';
import { LedgerService, type AuditSource } from './ledger-service.ts';

export interface LedgerOptions {
  readonly database: Database;
  readonly audit: AuditSource;
  readonly key: LedgerKeyOptions;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often the leader looks for new entries and signs (default 250 ms: at most four checkpoints a second, each covering everything committed). */
  readonly checkpointIntervalMs?: number;
  /** How long a non-leader waits for the leader on an on-demand checkpoint (default 5 s). */
  readonly checkpointWaitMs?: number;
  /** How often a non-leader retries the leader lock (default 1 s). */
  readonly leaderRetryMs?: number;
  readonly batchSize?: number;
}

// The ledger as the composition root sees it: the service, the leader election that runs
// the checkpointer (and other singleton duties) on one replica, and on-demand checkpoints.
export class Ledger {
  readonly service: LedgerService;
  readonly election: LeaderElection;
  readonly store: KyselyLedgerStore;

  constructor(private readonly options: LedgerOptions) {
    this.store = new KyselyLedgerStore(options.database.dialect);
    this.service = new LedgerService({
      database: options.database,
      store: this.store,
      audit: options.audit,
      signer: () => loadOrCreateSigner(options.key),
      clock: options.clock,
      logger: options.logger,
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    });
    this.election = new LeaderElection({
      database: options.database,
      store: this.store,
      logger: options.logger.child({ component: 'ledger' }),
      retryMs: options.leaderRetryMs ?? 1000,
    });
    this.election.addDuty({
      name: 'checkpointer',
      intervalMs: options.checkpointIntervalMs ?? 250,
      tick: async () => {
        await this.service.integrateAll();
      },
    });
  }

  /** Starts leader election and, on the leader, the checkpointer and other duties. */
  start(): void {
    this.election.start();
  }

  async stop(): Promise<void> {
    await this.election.stop();
  }

  /**
   * Signs a checkpoint covering every entry committed so far (or returns the latest if it
   * already does). On a replica that does not lead, waits for the leader to get there.
   */
  async checkpointNow(): Promise<CheckpointRow> {
    const { service } = this;
    if (this.election.isRunning && this.election.isLeader) {
      const cp = await service.integrateAll();
      if (cp) return cp;
    }
    if (!this.election.isRunning) {
      let cp: CheckpointRow | undefined;
      const won = await this.store.withLeaderLock(this.options.database.db, async () => {
        cp = await service.integrateAll();
      });
      if (won && cp) return cp;
    }
    const target = await service.auditSize();
    const deadline = Date.now() + (this.options.checkpointWaitMs ?? 5000);
    for (;;) {
      const latest = await service.latestOrUndefined();
      if (latest && latest.size >= target) return latest;
      if (Date.now() > deadline)
        throw new DomainError(
          ledgerErrors.LEDGER_CHECKPOINT_TIMEOUT,
          `no checkpoint covering ${target} entries appeared (latest: ${latest?.size ?? 'none'})`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
