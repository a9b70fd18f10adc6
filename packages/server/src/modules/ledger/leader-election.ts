import type { Logger } from 'pino';
import type { Database } from '../../platform/db/database.ts';
import type { KyselyLedgerStore } from './ledger-store.ts';

export interface LeaderDuty {
  readonly name: string;
  readonly intervalMs: number;
  tick(): Promise<void>;
}

interface DutyState {
  readonly duty: LeaderDuty;
  wake: (() => void) | undefined;
}

function sleep(ms: number, state?: { wake: (() => void) | undefined }): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      if (state) state.wake = undefined;
      resolve();
    }
    if (state) state.wake = done;
  });
}

// Singleton duties (building and signing checkpoints, streaming to SIEMs) run on exactly one
// replica: the one holding a PostgreSQL advisory lock on a dedicated connection. The lock
// dies with the connection, so when the leader's process dies another replica's next try
// succeeds (within retryMs). On SQLite there is one process and it always leads.
export class LeaderElection {
  private readonly duties: DutyState[] = [];
  private running = false;
  private leading = false;
  private loop: Promise<void> | undefined;
  private retryWake: { wake: (() => void) | undefined } = { wake: undefined };

  constructor(
    private readonly deps: {
      database: Database;
      store: KyselyLedgerStore;
      logger: Logger;
      retryMs?: number;
      probeMs?: number;
    },
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  get isRunning(): boolean {
    return this.running;
  }

  addDuty(duty: LeaderDuty): void {
    this.duties.push({ duty, wake: undefined });
  }

  /** Runs a duty's next tick now instead of after its interval (if leading). */
  nudge(name: string): void {
    this.duties.find((d) => d.duty.name === name)?.wake?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.campaign();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.retryWake.wake?.();
    for (const d of this.duties) d.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  private async campaign(): Promise<void> {
    const log = this.deps.logger;
    while (this.running) {
      try {
        const won = await this.deps.store.withLeaderLock(this.deps.database.db, (probe) =>
          this.lead(probe),
        );
        if (!won) await sleep(this.deps.retryMs ?? 1000, this.retryWake);
      } catch (err) {
        this.leading = false;
        if (this.running) {
          log.warn({ err }, 'ledger leadership lost');
          await sleep(this.deps.retryMs ?? 1000, this.retryWake);
        }
      }
    }
  }

  private async lead(probe: () => Promise<void>): Promise<void> {
    const log = this.deps.logger;
    this.leading = true;
    log.info('ledger leadership acquired');
    const loops = this.duties.map(async (state) => {
      let lastError = '';
      while (this.running && this.leading) {
        try {
          await state.duty.tick();
          lastError = '';
        } catch (err) {
          const text = (err as Error).message;
          // Log each distinct failure once, not every tick.
          if (text !== lastError) log.error({ err, duty: state.duty.name }, 'leader duty failed');
          lastError = text;
        }
        if (this.running && this.leading) await sleep(state.duty.intervalMs, state);
      }
    });
    try {
      while (this.running && this.leading) {
        await sleep(this.deps.probeMs ?? 1000, this.retryWake);
        if (this.running) await probe();
      }
    } finally {
      this.leading = false;
      for (const d of this.duties) d.wake?.();
      await Promise.all(loops);
    }
  }
}
