import type { Clock } from '../clock.ts';
import type { Actor, AuditRecord, RequestContext } from '../context.ts';
import { addressKey } from '../http/client-address.ts';

export type AttemptContext = Pick<RequestContext, 'actor' | 'requestId'>;

export interface DeniedAttemptOptions {
  // The first `perWindow` denied attempts of one (address, actor, action) in a window are
  // recorded in full; the rest are counted and recorded as one summary entry.
  readonly perWindow: number;
  readonly windowMs: number;
  readonly clock: Clock;
  // Writes one audit record in its own transaction.
  readonly write: (ctx: AttemptContext, record: AuditRecord) => Promise<void>;
  readonly onError?: (err: unknown) => void;
  // Memory bounds (tests lower them).
  readonly maxKeys?: number;
  readonly anonymousInFullPerWindow?: number;
}

export const suppressedAction = 'audit.attempts.suppressed';

interface Window {
  readonly actor: Actor;
  readonly action: string;
  readonly source: string;
  readonly start: number;
  inFull: number;
  suppressed: number;
  readonly codes: Map<string, number>;
  readonly resources: Set<string>;
  lastRequestId: string;
}

const overflowActor: Actor = {
  type: 'system',
  id: null,
  name: 'custody',
  authMethod: 'system',
  ip: null,
};
const resourceSample = 10;

// Keeps denied-attempt evidence without letting one source grow the audit trail without
// bound. State is in memory, per replica: N replicas record up to N times the per-window
// allowance. A window's summary is written when the next attempt of the same key arrives after
// it, when the sweep timer finds it ended, or on close (shutdown); a crash loses at most the
// counts of the current window, never an entry written in full.
export class DeniedAttemptAggregator {
  private readonly windows = new Map<string, Window>();
  private readonly pending: { ctx: AttemptContext; record: AuditRecord }[] = [];
  private readonly maxKeys: number;
  private readonly anonymousCap: number;
  private anonymousWindow = { start: 0, inFull: 0 };
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  private lastSweep = 0;

  constructor(private readonly options: DeniedAttemptOptions) {
    this.maxKeys = options.maxKeys ?? 10_000;
    // Anonymous sources share one budget of entries in full, so many addresses together still
    // add a bounded number of entries per window; authenticated principals never share it.
    this.anonymousCap = options.anonymousInFullPerWindow ?? options.perWindow * 50;
  }

  // Counts the attempt; true when it is to be recorded in full now.
  admit(ctx: AttemptContext, record: AuditRecord): boolean {
    const now = this.options.clock.now().getTime();
    const key = this.keyOf(ctx.actor, record.action);
    let w = this.windows.get(key);
    if (w && now - w.start >= this.options.windowMs) {
      this.close(key, w, now);
      void this.drain();
      w = undefined;
    }
    if (!w) {
      w = this.open(key, ctx.actor, record.action, now);
      this.arm();
    }
    w.lastRequestId = ctx.requestId;
    if (w.inFull < this.options.perWindow && this.anonymousBudget(ctx.actor, now)) {
      w.inFull += 1;
      return true;
    }
    w.suppressed += 1;
    const code = codeOf(record);
    w.codes.set(code, (w.codes.get(code) ?? 0) + 1);
    if (w.resources.size < resourceSample)
      w.resources.add(`${record.resource.type}/${record.resource.id}`);
    return false;
  }

  // Writes the summaries of every window that has ended.
  async flushExpired(): Promise<void> {
    this.sweep(this.options.clock.now().getTime());
    await this.drain();
  }

  private sweep(now: number): void {
    for (const [key, w] of this.windows) {
      if (now - w.start >= this.options.windowMs) this.close(key, w, now);
    }
    if (this.pending.length > 0 && !this.flushing) void this.drain();
  }

  // Writes every summary now, ended or not (shutdown).
  async flushAll(): Promise<void> {
    const now = this.options.clock.now().getTime();
    for (const [key, w] of this.windows) this.close(key, w, now);
    await this.drain();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushAll();
  }

  private keyOf(actor: Actor, action: string): string {
    return `${addressKey(actor.ip)}|${actor.type}:${actor.id ?? actor.name}|${action}`;
  }

  private open(key: string, actor: Actor, action: string, now: number): Window {
    let k = key;
    let a = actor;
    if (this.windows.size >= this.maxKeys && now - this.lastSweep >= this.options.windowMs / 10) {
      this.lastSweep = now;
      this.sweep(now);
    }
    // Beyond maxKeys live sources, new ones share one window per action (and one summary).
    if (this.windows.size >= this.maxKeys) {
      k = `overflow|${action}`;
      a = overflowActor;
      const existing = this.windows.get(k);
      if (existing && now - existing.start < this.options.windowMs) return existing;
      if (existing) {
        this.close(k, existing, now);
        void this.drain();
      }
    }
    const w: Window = {
      actor: a,
      action,
      source: k.startsWith('overflow|') ? 'many' : addressKey(actor.ip),
      start: now,
      inFull: 0,
      suppressed: 0,
      codes: new Map(),
      resources: new Set(),
      lastRequestId: '',
    };
    this.windows.set(k, w);
    return w;
  }

  private anonymousBudget(actor: Actor, now: number): boolean {
    if (actor.type !== 'anonymous') return true;
    if (now - this.anonymousWindow.start >= this.options.windowMs)
      this.anonymousWindow = { start: now, inFull: 0 };
    if (this.anonymousWindow.inFull >= this.anonymousCap) return false;
    this.anonymousWindow.inFull += 1;
    return true;
  }

  // Ends a window: its summary (if anything was suppressed) joins the queue to be written.
  private close(key: string, w: Window, now: number): void {
    this.windows.delete(key);
    if (w.suppressed === 0) return;
    if (this.pending.length >= this.maxKeys) {
      const dropped = this.pending.shift();
      this.options.onError?.(
        new Error(
          `audit trail unwritable: dropped the summary of ${String(dropped?.record.details?.count)} suppressed attempts`,
        ),
      );
    }
    this.pending.push({
      ctx: { actor: w.actor, requestId: w.lastRequestId },
      record: {
        action: suppressedAction,
        resource: { type: 'action', id: w.action },
        outcome: 'denied',
        details: {
          action: w.action,
          source: w.source,
          count: w.suppressed,
          recordedInFull: w.inFull,
          windowStart: new Date(w.start).toISOString(),
          windowEnd: new Date(Math.min(now, w.start + this.options.windowMs)).toISOString(),
          windowMs: this.options.windowMs,
          codes: Object.fromEntries([...w.codes].sort(([a], [b]) => a.localeCompare(b))),
          resources: [...w.resources],
        },
      },
    });
  }

  private async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0) return;
    this.flushing = (async () => {
      while (this.pending.length > 0) {
        const next = this.pending[0]!;
        try {
          await this.options.write(next.ctx, next.record);
        } catch (err) {
          // Kept for the next flush: a summary is evidence too.
          this.options.onError?.(err);
          return;
        }
        this.pending.shift();
      }
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  // A sweep while any window is open, so windows that end quietly still get summarized (and
  // forgotten). It stops once nothing is left.
  private arm(): void {
    if (this.timer || this.stopped) return;
    const every = Math.max(250, Math.min(this.options.windowMs / 4, 15_000));
    this.timer = setInterval(() => {
      this.flushExpired()
        .then(() => {
          if (this.timer && this.windows.size === 0 && this.pending.length === 0) {
            clearInterval(this.timer);
            this.timer = undefined;
          }
        })
        .catch((err: unknown) => this.options.onError?.(err));
    }, every);
    this.timer.unref();
  }
}

function codeOf(record: AuditRecord): string {
  const code = record.details?.code;
  return typeof code === 'string' ? code : 'unspecified';
}
