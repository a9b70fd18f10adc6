import type { Command } from 'commander';
import { run, type CommandContext } from '../command-context.ts';
import { CliError, UsageError, exitCodes } from '../exit-codes.ts';
import { table } from '../output.ts';
import { allOption, fetchList, hintMore, limitOption, type PageFlags } from '../pagination.ts';

interface RunView {
  id: string;
  project: string;
  pipeline: string;
  pipelineVersion: number;
  commit: string | null;
  state: string;
  reason: string | null;
  createdBy: string;
  createdAt: string;
  finishedAt: string | null;
}
interface RunDetail extends RunView {
  stages: {
    name: string;
    state: string;
    jobs: { steps: { name: string; state: string; exitCode: number | null }[] }[];
  }[];
  files: { kind: string; name: string; digest: string; stage: string; step: string }[];
}
interface LogChunk {
  cursor: number;
  stage: string;
  step: string;
  content: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
const terminal = ['succeeded', 'failed', 'cancelled'];
const enc = encodeURIComponent;

function parseInputs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`--input takes name=value, not ${p}`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

// Streams a run's logs until it ends; resolves with the final run.
async function follow(
  ctx: CommandContext,
  id: string,
  step: string | undefined,
  write: (s: string) => void,
): Promise<RunView> {
  const client = ctx.client();
  let cursor = 0;
  for (;;) {
    const runView = await client.request<RunView>('GET', `/api/v1/runs/${enc(id)}`);
    const logs = await client.request<{ cursor: number; chunks: LogChunk[] }>(
      'GET',
      `/api/v1/runs/${enc(id)}/logs`,
      {
        query: { after: cursor, step },
      },
    );
    for (const c of logs.chunks) write(c.content);
    cursor = logs.cursor;
    if (terminal.includes(runView.state)) {
      const rest = await client.request<{ cursor: number; chunks: LogChunk[] }>(
        'GET',
        `/api/v1/runs/${enc(id)}/logs`,
        {
          query: { after: cursor, step },
        },
      );
      for (const c of rest.chunks) write(c.content);
      return runView;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function resultOf(runView: RunView): void {
  if (runView.state === 'succeeded') return;
  throw new CliError(
    `run ${runView.id} ${runView.state}${runView.reason ? ` (${runView.reason})` : ''}`,
    exitCodes.failure,
    'RUN_' + runView.state.toUpperCase(),
  );
}

export function registerPipelineCommands(program: Command): void {
  const pipeline = program.command('pipeline').description('Pipeline versions: history and diff');
  pipeline
    .command('history <name>')
    .description('List every version of a pipeline, oldest first')
    .requiredOption('-p, --project <project>', 'project of the pipeline')
    .option(...limitOption)
    .option(...allOption)
    .action(
      run(async (ctx, name: string, opts: { project: string } & PageFlags) => {
        const listed = await fetchList<{
          version: number;
          contentHash: string;
          appliedBy: string;
          appliedAt: string;
        }>(ctx.client(), `/api/v1/resources/Pipeline/${enc(name)}/versions`, {
          query: { project: opts.project },
          flags: opts,
        });
        const { items } = listed;
        hintMore(ctx.out, listed, 'versions');
        ctx.out.result(items, () =>
          table([
            ['VERSION', 'HASH', 'APPLIED BY', 'APPLIED AT'],
            ...items.map((v) => [
              String(v.version),
              v.contentHash.slice(0, 19),
              v.appliedBy,
              v.appliedAt,
            ]),
          ]),
        );
      }),
    );
  pipeline
    .command('diff <name> <from> <to>')
    .description('Show what changed between two versions of a pipeline')
    .requiredOption('-p, --project <project>', 'project of the pipeline')
    .action(
      run(async (ctx, name: string, from: string, to: string, opts: { project: string }) => {
        if (!/^\d+$/.test(from) || !/^\d+$/.test(to))
          throw new UsageError('versions are numbers (see `custody pipeline history`)');
        const d = await ctx
          .client()
          .request<{ from: number; to: number; lines: { op: string; text: string }[] }>(
            'GET',
            `/api/v1/resources/Pipeline/${enc(name)}/diff`,
            { query: { project: opts.project, from, to } },
          );
        ctx.out.result(
          d,
          () =>
            `--- version ${d.from}\n+++ version ${d.to}\n` +
            d.lines.map((l) => `${l.op}${l.text}`).join('\n'),
        );
      }),
    );

  program
    .command('run <pipeline>')
    .description(
      'Start a run of a pipeline; with --follow, stream its logs and exit with its result',
    )
    .requiredOption('-p, --project <project>', 'project of the pipeline')
    .option('--input <name=value>', 'an input of the pipeline (repeatable)', collect, [])
    .option('--commit <sha>', 'the commit to build (default: the head of the pipeline branch)')
    .option('--version <n>', 'pipeline version (default: the latest)')
    .option('-f, --follow', 'stream logs until the run ends; exit 0 only if it succeeded')
    .action(
      run(
        async (
          ctx,
          name: string,
          opts: {
            project: string;
            input: string[];
            commit?: string;
            version?: string;
            follow?: boolean;
          },
        ) => {
          if (opts.version !== undefined && !/^\d+$/.test(opts.version))
            throw new UsageError('--version is a number');
          const created = await ctx
            .client()
            .request<RunView>(
              'POST',
              `/api/v1/projects/${enc(opts.project)}/pipelines/${enc(name)}/runs`,
              {
                json: {
                  inputs: parseInputs(opts.input),
                  ...(opts.commit ? { commit: opts.commit } : {}),
                  ...(opts.version ? { version: Number(opts.version) } : {}),
                },
              },
            );
          if (!opts.follow) {
            ctx.out.result(
              created,
              () =>
                `run ${created.id} ${created.state} (pipeline ${created.pipeline} version ${created.pipelineVersion})`,
            );
            return;
          }
          ctx.out.info(
            `run ${created.id} (pipeline ${created.pipeline} version ${created.pipelineVersion})`,
          );
          const write =
            ctx.out.format === 'json'
              ? (s: string) => process.stderr.write(s)
              : (s: string) => process.stdout.write(s);
          const final = await follow(ctx, created.id, undefined, write);
          ctx.out.result(
            final,
            () => `run ${final.id} ${final.state}${final.reason ? ` (${final.reason})` : ''}`,
          );
          resultOf(final);
        },
      ),
    );

  program
    .command('runs')
    .description('List runs, newest first')
    .option('-p, --project <project>', 'only this project')
    .option('--pipeline <pipeline>', 'only this pipeline')
    .option('--state <state>', 'queued, running, succeeded, failed or cancelled')
    .action(
      run(async (ctx, opts: { project?: string; pipeline?: string; state?: string }) => {
        const { items } = await ctx
          .client()
          .request<{ items: RunView[] }>('GET', '/api/v1/runs', { query: opts });
        ctx.out.result(items, () =>
          table([
            ['RUN', 'PIPELINE', 'VERSION', 'STATE', 'REASON', 'CREATED BY', 'CREATED AT'],
            ...items.map((r) => [
              r.id,
              `${r.project}/${r.pipeline}`,
              String(r.pipelineVersion),
              r.state,
              r.reason ?? '',
              r.createdBy,
              r.createdAt,
            ]),
          ]),
        );
      }),
    );

  program
    .command('status <run>')
    .description('Show a run: stages, steps, artifacts and evidence')
    .action(
      run(async (ctx, id: string) => {
        const d = await ctx.client().request<RunDetail>('GET', `/api/v1/runs/${enc(id)}`);
        ctx.out.result(d, () => {
          const lines = [
            `run ${d.id} ${d.state}${d.reason ? ` (${d.reason})` : ''} — ${d.project}/${d.pipeline} version ${d.pipelineVersion} commit ${d.commit ?? '-'}`,
          ];
          for (const s of d.stages) {
            lines.push(`  ${s.name}: ${s.state}`);
            for (const j of s.jobs)
              for (const st of j.steps)
                lines.push(
                  `    ${st.name}: ${st.state}${st.exitCode !== null ? ` (exit ${st.exitCode})` : ''}`,
                );
          }
          for (const f of d.files)
            lines.push(`  ${f.kind} ${f.name} ${f.digest} (${f.stage}/${f.step})`);
          return lines.join('\n');
        });
      }),
    );

  program
    .command('cancel <run>')
    .description('Cancel a run')
    .action(
      run(async (ctx, id: string) => {
        const r = await ctx.client().request<RunView>('POST', `/api/v1/runs/${enc(id)}/cancel`);
        ctx.out.result(r, () => `run ${r.id} cancel requested (${r.state})`);
      }),
    );

  program
    .command('logs <run>')
    .description('Print the logs of a run (or one step); --follow streams until the run ends')
    .option('--step <name>', 'only this step (NAME or STAGE/NAME)')
    .option('-f, --follow', 'stream until the run ends')
    .action(
      run(async (ctx, id: string, opts: { step?: string; follow?: boolean }) => {
        if (opts.follow) {
          const final = await follow(ctx, id, opts.step, (s) => process.stdout.write(s));
          resultOf(final);
          return;
        }
        const logs = await ctx
          .client()
          .request<{ chunks: LogChunk[] }>('GET', `/api/v1/runs/${enc(id)}/logs`, {
            query: { step: opts.step },
          });
        ctx.out.result(logs.chunks, () => logs.chunks.map((c) => c.content).join(''));
      }),
    );

  program
    .command('approvals [list]')
    .description('List approval requests (pipeline versions and deployments)')
    .option('--state <state>', 'pending, approved or rejected', 'pending')
    .option('-p, --project <project>', 'only this project')
    .option('--mine', 'only deployments you may still approve')
    .action(
      run(
        async (
          ctx,
          _list: string | undefined,
          opts: { state: string; project?: string; mine?: boolean },
        ) => {
          const { mine, ...query } = opts;
          const { items: versions } = mine
            ? { items: [] }
            : await ctx.client().request<{
                items: {
                  id: string;
                  summary: string;
                  author: string;
                  state: string;
                  createdAt: string;
                }[];
              }>('GET', '/api/v1/approvals', { query });
          // Deployment approvals (bound to the deployment intent) live in the deployments module.
          const { items: deployments } = await ctx.client().request<{
            items: {
              id: string;
              run: string;
              stage: string;
              project: string;
              environment: string;
              state: string;
              createdAt: string;
              intentHash: string;
            }[];
          }>('GET', '/api/v1/deployments/approvals', {
            query: { ...query, ...(mine ? { mine: 'true' } : {}) },
          });
          const items = [
            ...versions,
            ...deployments.map((d) => ({
              id: d.id,
              summary: `deploy run ${d.run} (${d.stage}) to ${d.project}/${d.environment}, intent ${d.intentHash.slice(0, 19)}`,
              author: '',
              state: d.state,
              createdAt: d.createdAt,
            })),
          ];
          ctx.out.result(items, () =>
            table([
              ['ID', 'STATE', 'AUTHOR', 'SUMMARY'],
              ...items.map((a) => [a.id, a.state, a.author, a.summary]),
            ]),
          );
        },
      ),
    );
  program
    .command('approve <id>')
    .description('Approve a request (never one you authored)')
    .option('--comment <text>', 'why')
    .action(
      run(async (ctx, id: string, opts: { comment?: string }) => {
        const a = await ctx
          .client()
          .request<{ id: string; state: string }>('POST', `${approvalsUrl(id)}/approve`, {
            json: opts.comment ? { comment: opts.comment } : {},
          });
        ctx.out.result(a, () => `${a.id} ${a.state}`);
      }),
    );
  program
    .command('reject <id>')
    .description('Refuse a request')
    .requiredOption('--reason <text>', 'why')
    .action(
      run(async (ctx, id: string, opts: { reason: string }) => {
        const a = await ctx
          .client()
          .request<{ id: string; state: string }>('POST', `${approvalsUrl(id)}/reject`, {
            json: { reason: opts.reason },
          });
        ctx.out.result(a, () => `${a.id} ${a.state}`);
      }),
    );
}

// Deployment approval requests (`dap_…`) are decided through the deployments API.
function approvalsUrl(id: string): string {
  const e = encodeURIComponent(id);
  return id.startsWith('dap_') ? `/api/v1/deployments/approvals/${e}` : `/api/v1/approvals/${e}`;
}
