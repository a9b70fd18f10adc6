import { ApiError, type ApiClient } from './client.ts';
import { CliError } from './exit-codes.ts';
import { LogPrinter } from './log-printer.ts';
import { RunStory } from './run-story.ts';
import { lineText } from './terminal-text.ts';
import { terminalRunStates, type LogPage, type RunDetail, type RunGate } from './run-views.ts';

// Follows a run until it ends, polling the API: its logs with a header per step and, with
// `story`, every transition and why a deploy stage waits. Polls every half second while things
// happen and slows down to every 5 s while nothing does (a stage may wait days for approval);
// a server that stops answering is retried for 10 minutes before the command gives up.

export interface FollowOptions {
  // Transitions and the gate's reasons as well as the logs (`run --follow`, `watch`).
  readonly story: boolean;
  // Only this step's logs (NAME or STAGE/NAME).
  readonly step?: string | undefined;
  // Start the logs at their current end: what happens from now on (`watch`).
  readonly fromNow?: boolean;
  readonly write: (s: string) => void;
}

const fastest = 500;
const slowest = 5000;
const patience = 10 * 60_000;
const enc = encodeURIComponent;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function followRun(
  client: ApiClient,
  id: string,
  options: FollowOptions,
): Promise<RunDetail> {
  const out = new Writer(options.write);
  const story = options.story ? new RunStory() : undefined;
  const logs = new LogPrinter({ firstHeader: options.step === undefined });
  const path = `/api/v1/runs/${enc(id)}`;
  const readLogs = (after: number) =>
    client.request<LogPage>('GET', `${path}/logs`, { query: { after, step: options.step } });
  const unreachable = new Unreachable(out);
  let cursor = options.fromNow ? (await readLogs(0)).cursor : 0;
  let begun = false;
  let wait = fastest;
  for (;;) {
    const round = await unreachable.retry(async () => {
      // Logs first: every chunk then belongs to a job the run detail read next already shows.
      const page = await readLogs(cursor);
      const d = await client.request<RunDetail>('GET', path);
      const chunks = [...page.chunks];
      let next = page.cursor;
      if (terminalRunStates.includes(d.state)) {
        const rest = await readLogs(next);
        chunks.push(...rest.chunks);
        next = rest.cursor;
      }
      // Told only once every read succeeded: a retried round tells nothing twice.
      const gate = story?.wantsGate(d)
        ? await client.request<RunGate>('GET', `${path}/gate`).catch((err: unknown) => ({
            error: err instanceof CliError ? err.message : String(err),
          }))
        : undefined;
      return { d, chunks, next, gate };
    });
    if (round) {
      const { d, chunks, next, gate } = round;
      cursor = next;
      let told = chunks.length > 0;
      if (story) {
        if (!begun) out.line(story.opening(d));
        begun = true;
        const placed = new Set<string>();
        for (const piece of story.tell(d, gate)) {
          if ('line' in piece) {
            out.line(piece.line);
            told = true;
          } else {
            placed.add(piece.logsOf);
            out.text(
              logs.render(
                chunks.filter((c) => c.stage === piece.logsOf),
                out.atLineStart,
              ),
            );
          }
        }
        out.text(
          logs.render(
            chunks.filter((c) => !placed.has(c.stage)),
            out.atLineStart,
          ),
        );
      } else out.text(logs.render(chunks, out.atLineStart));
      if (terminalRunStates.includes(d.state)) {
        out.end();
        return d;
      }
      wait = told ? fastest : Math.min(slowest, Math.round(wait * 1.5));
    } else wait = slowest;
    await sleep(wait);
  }
}

// Keeps lines of the story apart from log output that did not end its line.
class Writer {
  atLineStart = true;
  constructor(private readonly write: (s: string) => void) {}

  text(s: string): void {
    if (s === '') return;
    this.write(s);
    this.atLineStart = s.endsWith('\n');
  }

  line(s: string): void {
    this.text(`${this.atLineStart ? '' : '\n'}${lineText(s)}\n`);
  }

  lines(ls: readonly string[]): void {
    for (const l of ls) this.line(l);
  }

  end(): void {
    if (!this.atLineStart) this.text('\n');
  }
}

// A restarting server, or a load balancer without a healthy replica, is waited for.
class Unreachable {
  private since: number | undefined;
  constructor(private readonly out: Writer) {}

  async retry<T>(round: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await round();
      if (this.since !== undefined) this.out.line('(the server answers again)');
      this.since = undefined;
      return result;
    } catch (err) {
      if (!transient(err)) throw err;
      if (this.since === undefined) {
        this.since = Date.now();
        this.out.line(`(${(err as Error).message}; retrying for up to 10 minutes)`);
      } else if (Date.now() - this.since > patience) throw err;
      return undefined;
    }
  }
}

function transient(err: unknown): boolean {
  if (err instanceof ApiError) return err.status >= 500 || err.status === 429;
  return err instanceof CliError && err.code === 'CLI_SERVER_UNREACHABLE';
}
