import { InvalidArgumentError, Option, type Command } from 'commander';
import { ApiError } from '../client.ts';
import { run, type CommandContext } from '../command-context.ts';
import { CliError, UsageError, exitCodes } from '../exit-codes.ts';
import { LogPrinter } from '../log-printer.ts';
import { table } from '../output.ts';
import {
  allOption,
  defaultPageSize,
  fetchList,
  hintMore,
  limitOption,
  parseLimit,
  type PageFlags,
} from '../pagination.ts';
import { followRun } from '../run-follow.ts';
import { lineText } from '../terminal-text.ts';
import { reasonLines, RunStory, stamp } from '../run-story.ts';
import {
  gateStates,
  runStates,
  stageLabel,
  type LogChunk,
  type RunDetail,
  type RunGate,
  type RunView,
  type StageGate,
} from '../run-views.ts';

interface ChangeView {
  id: string;
  riskClass: string;
  state: string;
  commit: string | null;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
const enc = encodeURIComponent;

function wholeNumber(flag: string) {
  return (value: string): string => {
    if (!/^\d+$/.test(value) || Number(value) < 1)
      throw new InvalidArgumentError(`${flag} takes a whole number, such as 3.`);
    return value;
  };
}

function parseInputs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`--input takes NAME=VALUE, not "${p}".`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

// The story (run --follow, watch) and the logs go to standard output, or to standard error
// with --output json, whose standard output is the final run alone.
function storyWriter(ctx: CommandContext): (s: string) => void {
  return ctx.out.format === 'json'
    ? (s) => process.stderr.write(s)
    : (s) => process.stdout.write(s);
}

// Exit 0 only for a run that succeeded.
function resultOf(runView: RunView): void {
  if (runView.state === 'succeeded') return;
  throw new CliError(
    `run ${runView.id} ${runView.state}${runView.reason ? ` (${runView.reason})` : ''}`,
    exitCodes.failure,
    'RUN_' + runView.state.toUpperCase(),
  );
}

// Follows a run to its end, telling its story, and prints the result.
async function watchRun(ctx: CommandContext, id: string, fromNow: boolean): Promise<void> {
  const final = await followRun(ctx.client(), id, {
    story: true,
    fromNow,
    write: storyWriter(ctx),
  });
  ctx.out.result(final, () => new RunStory().ending(final));
  resultOf(final);
}

const commitsMatch = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);

// An emergency change serves the commit it was requested for: without --commit the run is
// pinned to it, so the gate does not find another commit at the deploy stage.
async function commitFor(
  ctx: CommandContext,
  change: string,
  commit: string | undefined,
): Promise<string | undefined> {
  let c: ChangeView;
  try {
    c = await ctx.client().request<ChangeView>('GET', `/api/v1/changes/${enc(change)}`);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 403) throw err;
    ctx.out.info(
      `note: change ${change} cannot be read with these credentials (${err.code}); the run builds ${commit ?? 'the head of the branch'} and the gate checks the change at the deploy stage.`,
    );
    return commit;
  }
  if (c.riskClass !== 'emergency' || !c.commit) return commit;
  if (commit === undefined) {
    ctx.out.info(
      `Emergency change ${c.id} was requested for commit ${c.commit}: the run is pinned to that commit.`,
    );
    return c.commit;
  }
  if (!commitsMatch(commit, c.commit))
    ctx.out.info(
      `warning: emergency change ${c.id} was requested for commit ${c.commit}, not ${commit}; the gate will not let it cover this run.`,
    );
  return commit;
}

function statusText(d: RunDetail, gate: StageGate[] | undefined, gateError?: string): string {
  const lines = [
    `run ${d.id} ${d.state}${d.reason ? ` (${d.reason})` : ''} — ${d.project}/${d.pipeline} version ${d.pipelineVersion} commit ${d.commit ?? '-'}`,
  ];
  for (const s of d.stages) {
    const held = gateStates.includes(s.state) || s.state === 'rejected';
    const g = gate?.find((x) => x.stage === s.name);
    const why = held && g ? reasonLines(g) : [];
    const own = s.reason && why.length === 0 ? ` (${s.reason})` : '';
    lines.push(`  ${stageLabel(s)}: ${s.state}${own}`);
    lines.push(...why);
    if (held && g?.approval) lines.push(`    approval ${g.approval.id}: ${g.approval.state}`);
    if (held && !g && gateError)
      lines.push(`    (the gate's reasons cannot be read: ${gateError})`);
    if (s.state === 'waiting')
      lines.push('    waiting for the environment: another run deploys to it (one at a time)');
    if (s.waitingSince && s.waitExpiresAt)
      lines.push(
        `    waiting since ${stamp(s.waitingSince)}; fails with GATE_WAIT_EXPIRED at ${stamp(s.waitExpiresAt)}`,
      );
    for (const j of s.jobs)
      for (const st of j.steps)
        lines.push(
          `    ${st.name}: ${st.state}${st.exitCode !== null ? ` (exit ${st.exitCode})` : ''}`,
        );
  }
  for (const f of d.files) lines.push(`  ${f.kind} ${f.name} ${f.digest} (${f.stage}/${f.step})`);
  return lines.map(lineText).join('\n');
}

interface ApprovalRow {
  id: string;
  summary: string;
  author: string;
  state: string;
  createdAt: string;
}

interface DeploymentApproval {
  id: string;
  run: string;
  stage: string;
  project: string;
  environment: string;
  state: string;
  createdAt: string;
  intentHash: string;
}

// The approvals module knows pipeline-version (and other resource) requests in these states;
// deployment requests can also be voided (the intent changed) or withdrawn (the run ended).
const versionStates = ['pending', 'approved', 'rejected'];
const approvalStates = [...versionStates, 'voided', 'withdrawn'];

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
      'Start a run of a pipeline; with --follow, tell its story (stages, jobs, why a deploy waits, logs) until it ends and exit 0 only if it succeeded',
    )
    .requiredOption('-p, --project <project>', 'project of the pipeline')
    .option('--input <name=value>', 'an input of the pipeline (repeatable)', collect, [])
    .option('--commit <sha>', 'the commit to build (default: the head of the pipeline branch)')
    .option('--version <n>', 'pipeline version (default: the latest)', wholeNumber('--version'))
    .option(
      '--change <id>',
      'a change request for the stages deploying to its environment; an emergency change pins the run to its commit',
    )
    .option('-f, --follow', 'follow the run until it ends; exit 0 only if it succeeded')
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
            change?: string;
            follow?: boolean;
          },
        ) => {
          const inputs = parseInputs(opts.input);
          const commit = opts.change ? await commitFor(ctx, opts.change, opts.commit) : opts.commit;
          const created = await ctx
            .client()
            .request<RunView>(
              'POST',
              `/api/v1/projects/${enc(opts.project)}/pipelines/${enc(name)}/runs`,
              {
                json: {
                  inputs,
                  ...(commit ? { commit } : {}),
                  ...(opts.version ? { version: Number(opts.version) } : {}),
                  ...(opts.change ? { change: opts.change } : {}),
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
          await watchRun(ctx, created.id, false);
        },
      ),
    );

  program
    .command('watch <run>')
    .description(
      'Follow a run from now on: stage and job transitions, why a deploy stage waits, logs; exit 0 only if it succeeded',
    )
    .action(run(async (ctx, id: string) => watchRun(ctx, id, true)));

  program
    .command('runs')
    .description('List the runs you may read, newest first')
    .option('-p, --project <project>', 'only this project')
    .option('--pipeline <pipeline>', 'only this pipeline')
    .addOption(new Option('--state <state>', 'only runs in this state').choices(runStates))
    .option(...limitOption)
    .option(...allOption)
    .action(
      run(
        async (ctx, opts: { project?: string; pipeline?: string; state?: string } & PageFlags) => {
          const listed = await fetchList<RunView>(ctx.client(), '/api/v1/runs', {
            query: { project: opts.project, pipeline: opts.pipeline, state: opts.state },
            flags: opts,
          });
          const { items } = listed;
          hintMore(ctx.out, listed, 'runs');
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
        },
      ),
    );

  program
    .command('status <run>')
    .description(
      "Show a run: stages (for a deploy stage that waits, the gate's reasons and what unblocks it), steps, artifacts and evidence",
    )
    .action(
      run(async (ctx, id: string) => {
        const d = await ctx.client().request<RunDetail>('GET', `/api/v1/runs/${enc(id)}`);
        let gate: StageGate[] | undefined;
        let gateError: string | undefined;
        if (d.stages.some((s) => s.environment))
          try {
            gate = (await ctx.client().request<RunGate>('GET', `/api/v1/runs/${enc(id)}/gate`))
              .stages;
          } catch (err) {
            if (!(err instanceof ApiError)) throw err;
            gateError = err.message;
          }
        ctx.out.result(gate ? { ...d, gate } : d, () => statusText(d, gate, gateError));
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
    .description(
      'Print the logs of a run (or one step), with a header before each step; --follow streams until the run ends',
    )
    .option('--step <name>', 'only this step (NAME or STAGE/NAME)')
    .option('-f, --follow', 'stream until the run ends; exit 0 only if it succeeded')
    .action(
      run(async (ctx, id: string, opts: { step?: string; follow?: boolean }) => {
        if (opts.follow) {
          const final = await followRun(ctx.client(), id, {
            story: false,
            step: opts.step,
            write: storyWriter(ctx),
          });
          if (ctx.out.format === 'json') ctx.out.result(final, () => '');
          resultOf(final);
          return;
        }
        const logs = await ctx
          .client()
          .request<{ chunks: LogChunk[] }>('GET', `/api/v1/runs/${enc(id)}/logs`, {
            query: { step: opts.step },
          });
        ctx.out.result(logs.chunks, () =>
          new LogPrinter({ firstHeader: opts.step === undefined }).render(logs.chunks, true),
        );
      }),
    );

  program
    .command('approvals [list]')
    .description(
      'List approval requests you may read, newest first: resource versions (pipelines, governed configuration) and deployments',
    )
    .addOption(
      new Option('--state <state>', 'only requests in this state')
        .choices(approvalStates)
        .default('pending'),
    )
    .option('-p, --project <project>', 'only this project')
    .option('--mine', 'only deployments you may still approve')
    .option(...limitOption)
    .option(...allOption)
    .action(
      run(
        async (
          ctx,
          _list: string | undefined,
          opts: { state: string; project?: string; mine?: boolean } & PageFlags,
        ) => {
          const limit = parseLimit(opts.limit) ?? defaultPageSize;
          const flags: PageFlags = opts.all ? opts : { limit: String(limit) };
          const query = { state: opts.state, project: opts.project };
          const versions =
            opts.mine || !versionStates.includes(opts.state)
              ? { items: [] as ApprovalRow[], next: null }
              : await fetchList<ApprovalRow>(ctx.client(), '/api/v1/approvals', { query, flags });
          // Deployment approvals (bound to the deployment intent) live in the deployments module.
          const deployments = await fetchList<DeploymentApproval>(
            ctx.client(),
            '/api/v1/deployments/approvals',
            { query: { ...query, ...(opts.mine ? { mine: 'true' } : {}) }, flags },
          );
          const merged = [
            ...versions.items,
            ...deployments.items.map((d) => ({
              id: d.id,
              summary: `deploy run ${d.run} (${d.stage}) to ${d.project}/${d.environment}, intent ${d.intentHash.slice(0, 19)}`,
              author: '',
              state: d.state,
              createdAt: d.createdAt,
            })),
          ].sort((x, y) => (x.createdAt < y.createdAt ? 1 : x.createdAt > y.createdAt ? -1 : 0));
          const items = opts.all ? merged : merged.slice(0, limit);
          const more =
            items.length < merged.length || versions.next !== null || deployments.next !== null;
          hintMore(ctx.out, { items, next: more ? 'more' : null }, 'approval requests');
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
        const a = await ctx.client().request<Decided>('POST', `${approvalsUrl(id)}/approve`, {
          json: opts.comment ? { comment: opts.comment } : {},
        });
        ctx.out.result(a, () => decidedText(a));
      }),
    );
  program
    .command('reject <id>')
    .description('Refuse a request')
    .requiredOption('--reason <text>', 'why')
    .action(
      run(async (ctx, id: string, opts: { reason: string }) => {
        const a = await ctx.client().request<Decided>('POST', `${approvalsUrl(id)}/reject`, {
          json: { reason: opts.reason },
        });
        ctx.out.result(a, () => decidedText(a));
      }),
    );
}

// The request as the server now has it: what was decided on, so that a person who acted on
// a hint (a log line can imitate one) sees which deployment or version it was.
interface Decided {
  id: string;
  state: string;
  summary?: string;
  run?: string;
  stage?: string;
  project?: string;
  environment?: string;
  intentHash?: string;
}

function decidedText(a: Decided): string {
  const what = a.run
    ? `deploy run ${a.run} (${a.stage}) to ${a.project}/${a.environment}, intent ${a.intentHash}`
    : a.summary;
  return lineText(`${a.id} ${a.state}${what ? `: ${what}` : ''}`);
}

// Deployment approval requests (`dap_…`) are decided through the deployments API.
function approvalsUrl(id: string): string {
  const e = encodeURIComponent(id);
  return id.startsWith('dap_') ? `/api/v1/deployments/approvals/${e}` : `/api/v1/approvals/${e}`;
}
