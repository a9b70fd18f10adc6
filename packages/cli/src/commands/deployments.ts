import type { Command } from 'commander';
import { run } from '../command-context.ts';
import { table } from '../output.ts';
import type { RunGate } from '../run-views.ts';
import { lineText } from '../terminal-text.ts';

const enc = encodeURIComponent;

export function registerDeploymentCommands(program: Command): void {
  program
    .command('gate <run>')
    .description("Why a run's deploy stages are blocked, and what would unblock them")
    .action(
      run(async (ctx, id: string) => {
        const g = await ctx.client().request<RunGate>('GET', `/api/v1/runs/${enc(id)}/gate`);
        ctx.out.result(g, () =>
          g.stages
            .map((s) => {
              const head = `${s.stage} → ${s.environment}: ${s.state}${
                s.decision ? ` (${s.decision.allowed ? 'allowed' : s.decision.status})` : ''
              }${s.approval ? `, approval ${s.approval.id} ${s.approval.state}` : ''}`;
              const rows = (s.decision?.reasons ?? []).map((r) => [
                r.blocking ? 'BLOCKS' : 'ok',
                r.code,
                lineText(r.message),
                lineText(r.unblock ?? ''),
              ]);
              return rows.length > 0
                ? `${head}\n${table([['', 'CODE', 'WHY', 'UNBLOCK'], ...rows])}`
                : head;
            })
            .join('\n\n'),
        );
      }),
    );

  program
    .command('rollback <environment>')
    .description('Redeploy the last known-good release through the same gate (rollback lane)')
    .requiredOption('-p, --project <project>', 'project of the environment')
    .option(
      '--to <release>',
      'the release (run id) to go back to; default: the one before the current',
    )
    .option('--reason <text>', 'why')
    .action(
      run(
        async (
          ctx,
          environment: string,
          opts: { project: string; to?: string; reason?: string },
        ) => {
          const res = await ctx
            .client()
            .request<{ run: { id: string; state: string }; from: string }>(
              'POST',
              `/api/v1/projects/${enc(opts.project)}/environments/${enc(environment)}/rollback`,
              {
                json: {
                  ...(opts.to ? { to: opts.to } : {}),
                  ...(opts.reason ? { reason: opts.reason } : {}),
                },
              },
            );
          ctx.out.result(res, () => `${res.run.id} ${res.run.state} (rolling back to ${res.from})`);
        },
      ),
    );
}
