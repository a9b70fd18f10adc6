import type { Command } from 'commander';
import { run } from '../command-context.ts';
import { UsageError } from '../exit-codes.ts';
import { table } from '../output.ts';
import { allOption, fetchList, hintMore, limitOption, type PageFlags } from '../pagination.ts';
import { lineText } from '../terminal-text.ts';

// `custody controls`: the live control catalog of production environments, and each check's
// history (docs/reference/controls.md).

interface CheckView {
  check: string;
  control: string;
  project: string;
  environment: string;
  state: string;
  message: string;
  since: string | null;
  evidence: Record<string, unknown>;
}
interface HistoryView {
  check: string;
  project: string;
  environment: string;
  state: string;
  message: string;
  from: string;
  until: string | null;
  cause: {
    type: string;
    versions?: { kind: string; project: string | null; name: string; version: number }[];
  };
}

const formats = ['table', 'json', 'csv'] as const;
type Format = (typeof formats)[number];

function target(environment: string | undefined): { project?: string; environment?: string } {
  if (environment === undefined) return {};
  const m = /^([a-z0-9-]+)(?:\/([a-z0-9-]+))?$/.exec(environment);
  if (!m) throw new UsageError(`--environment must be PROJECT/ENV or PROJECT, not ${environment}`);
  return { project: m[1], ...(m[2] ? { environment: m[2] } : {}) };
}

function formatOf(value: string | undefined, globalJson: boolean): Format {
  if (value === undefined) return globalJson ? 'json' : 'table';
  if (!(formats as readonly string[]).includes(value))
    throw new UsageError(`--format must be table, json or csv, not ${value}`);
  return value as Format;
}

const mark = (state: string) =>
  state === 'pass' ? 'PASS' : state === 'fail' ? 'FAIL' : 'NOT CONFIGURED';

const causeText = (c: HistoryView['cause']) =>
  c.type === 'resources'
    ? (c.versions ?? [])
        .map((v) => `${v.kind} ${v.project ? `${v.project}/` : ''}${v.name}@${v.version}`)
        .join(', ')
    : c.type;

export function registerControlCommands(program: Command): void {
  const controls = program
    .command('controls')
    .description(
      'The live control catalog: every check of every production environment, pass / fail / not configured, with evidence',
    )
    .option('-e, --environment <project/env>', 'only this environment (or PROJECT for a project)')
    .option('--format <format>', 'table (default), json or csv (one row per environment and check)')
    .action(
      run(async (ctx, opts: { environment?: string; format?: string }) => {
        const query = target(opts.environment);
        const format = formatOf(opts.format, ctx.out.format === 'json');
        if (format === 'csv') {
          const csv = await ctx
            .client()
            .request<string>('GET', '/api/v1/controls/export.csv', { query });
          process.stdout.write(csv);
          return;
        }
        const res = await ctx
          .client()
          .request<{ evaluatedAt: string; items: CheckView[] }>('GET', '/api/v1/controls', {
            query,
          });
        if (format === 'json') {
          process.stdout.write(JSON.stringify(res, null, 2) + '\n');
          return;
        }
        ctx.out.result(res, () =>
          res.items.length === 0
            ? 'no production environment'
            : table([
                ['ENVIRONMENT', 'CHECK', 'STATE', 'SINCE', 'WHY'],
                ...res.items.map((i) => [
                  `${i.project}/${i.environment}`,
                  i.check,
                  mark(i.state),
                  i.since ?? '',
                  lineText(i.message),
                ]),
              ]),
        );
      }),
    );

  controls
    .command('history <check>')
    .description("A check's states over time, newest first (when it was weak, and what caused it)")
    .option('-e, --environment <project/env>', 'only this environment (or PROJECT for a project)')
    .option(...limitOption)
    .option(...allOption)
    .action(
      run(async (ctx, check: string, opts: PageFlags & { environment?: string }) => {
        const listed = await fetchList<HistoryView>(ctx.client(), '/api/v1/controls/history', {
          flags: opts,
          query: { check, ...target(opts.environment) },
        });
        ctx.out.result(listed, () =>
          listed.items.length === 0
            ? `no history for ${check}`
            : table([
                ['ENVIRONMENT', 'STATE', 'FROM', 'UNTIL', 'CAUSE', 'WHY'],
                ...listed.items.map((h) => [
                  `${h.project}/${h.environment}`,
                  mark(h.state),
                  h.from,
                  h.until ?? '(now)',
                  lineText(causeText(h.cause)),
                  lineText(h.message),
                ]),
              ]),
        );
        hintMore(ctx.out, listed, 'periods');
      }),
    );
}
