import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors.ts';
import { ledgerErrors } from './errors.ts';
import { LeaderElection } from './leader-election.ts';
import {
  ledgerEntryKey,
  ledgerStatePath,
  loadOrCreateSigner,
  type LedgerKeyOptions,
} from './ledger-key.ts';
import { KyselyLedgerStore, type CheckpointRow } from './ledger-store.ts';
import { LedgerService, type AuditSource, type ControlFailure } from './ledger-service.ts';
import { WitnessPublisher, type WitnessConfig } from './witness-publisher.ts';

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
  /** Hex key of the entry MACs (default: derived from the key file, as the audit writer's). */
  readonly entryKey?: () => string;
  /** Told once per new control failure (the app records it in the audit trail). */
  readonly onControlFailure?: (failure: ControlFailure) => Promise<void>;
  /** C2SP tlog-witness witnesses the leader submits every new checkpoint to. */
  readonly witnesses?: readonly WitnessConfig[];
  /** How often the leader submits to witnesses that are behind (default 1 s). */
  readonly witnessIntervalMs?: number;
}

export interface CosignedCheckpoint {
  readonly checkpoint: CheckpointRow;
  /** The checkpoint note followed by the witnesses' cosignature lines. */
  readonly note: string;
  readonly cosignatures: readonly { witness: string; timestamp: number }[];
}

// The ledger as the composition root sees it: the service, the leader election that runs
// the checkpointer (and other singleton duties) on one replica, and on-demand checkpoints.
export class Ledger {
  readonly service: LedgerService;
  readonly election: LeaderElection;
  readonly store: KyselyLedgerStore;
  readonly witnesses: WitnessPublisher;
  private lastSize: number | undefined;

  constructor(private readonly options: LedgerOptions) {
    this.store = new KyselyLedgerStore(options.database.dialect);
    this.service = new LedgerService({
      database: options.database,
      store: this.store,
      audit: options.audit,
      signer: () => loadOrCreateSigner(options.key),
      stateFile: ledgerStatePath(options.key),
      entryKey: options.entryKey ?? (() => ledgerEntryKey(options.key)),
      clock: options.clock,
      logger: options.logger,
      ...(options.onControlFailure ? { onControlFailure: options.onControlFailure } : {}),
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    });
    this.witnesses = new WitnessPublisher({
      witnesses: options.witnesses ?? [],
      database: options.database,
      store: this.store,
      service: this.service,
      clock: options.clock,
      logger: options.logger.child({ component: 'witnesses' }),
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
        const cp = await this.service.integrateAll();
        if (cp && cp.size !== this.lastSize) this.election.nudge('witnesses');
        this.lastSize = cp?.size;
      },
    });
    if (this.witnesses.configured)
      this.election.addDuty({
        name: 'witnesses',
        intervalMs: options.witnessIntervalMs ?? 1000,
        tick: () => this.witnesses.publishAll(),
      });
  }

  /** The newest checkpoint cosigned by at least `witnesses` witnesses, with their lines. */
  async cosignedCheckpoint(witnesses: number): Promise<CosignedCheckpoint> {
    const db = this.options.database.db;
    const size = await this.store.cosignedSize(db, Math.max(1, witnesses));
    const checkpoint = size === undefined ? undefined : await this.store.checkpointAt(db, size);
    if (size === undefined || !checkpoint)
      throw new DomainError(
        ledgerErrors.LEDGER_COSIGNED_CHECKPOINT_NOT_FOUND,
        `no checkpoint is cosigned by ${witnesses} witness(es)`,
      );
    const rows = await this.store.cosignaturesAt(db, size);
    return {
      checkpoint,
      note: checkpoint.note + rows.map((r) => r.signature).join(''),
      cosignatures: rows.map((r) => ({ witness: r.witness, timestamp: r.cosigned_at })),
    };
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
      // The leader stopped at a control failure: say so instead of waiting in vain.
      const failure = await service.openControlFailure();
      if (failure)
        throw new DomainError(
          Object.values(ledgerErrors).find((e) => e.code === failure.code) ??
            ledgerErrors.LEDGER_ENTRY_TAMPERED,
          failure.message,
          { seq: failure.seq },
        );
      if (Date.now() > deadline)
        throw new DomainError(
          ledgerErrors.LEDGER_CHECKPOINT_TIMEOUT,
          `no checkpoint covering ${target} entries appeared (latest: ${latest?.size ?? 'none'})`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
