import type { Command } from 'commander';
import { run } from '../command-context.ts';
import { CliError, UsageError } from '../exit-codes.ts';
import { table } from '../output.ts';
import { allOption, fetchList, hintMore, limitOption, type PageFlags } from '../pagination.ts';

interface HoldView {
  id: string;
  project: string;
  target: string;
  environment: string | null;
  change: string | null;
  runs: string[];
  reason: string;
  placedBy: string;
  placedAt: string;
  state: string;
  releaseRequestedBy: string | null;
  releasedBy: string | null;
}

interface SourceCount {
  checked: number;
  mismatched: number;
  firstDigest: string | null;
  lastDigest: string | null;
}

interface FixityView {
  checkedAt: string;
  durationMs: number;
  blobs: SourceCount;
  documents: SourceCount;
  mismatches: {
    source: string;
    digest: string;
    actual: string;
    usedBy: { run: string; path: string }[];
  }[];
  guards: { intact: boolean; missing: string[] };
}

const enc = encodeURIComponent;

const what = (h: HoldView) =>
  h.target === 'project'
    ? h.project
    : h.target === 'environment'
      ? `${h.project}/${h.environment}`
      : `${h.project} change ${h.change}`;

// `custody hold ...` (legal holds, released by a second person) and `custody evidence fixity`.
export function registerRetentionCommands(program: Command): void {
  const hold = program
    .command('hold')
    .description('Legal holds: nothing they cover is deleted until a second person releases them');
  hold
    .command('create')
    .description('Place a legal hold on a project, one of its environments or one change')
    .requiredOption('--project <name>', 'the project')
    .option('--environment <name>', 'only what deployed to this environment')
    .option('--change <id>', 'a change request id, or a deployment id <runId>/<stage>')
    .requiredOption('--reason <text>', 'why (the matter, case or request)')
    .action(
      run(
        async (
          ctx,
          opts: { project: string; environment?: string; change?: string; reason: string },
        ) => {
          if (opts.environment && opts.change)
            throw new UsageError('give --environment or --change, not both');
          const h = await ctx.client().request<HoldView>('POST', '/api/v1/legal-holds', {
            json: {
              project: opts.project,
              environment: opts.environment,
              change: opts.change,
              reason: opts.reason,
            },
          });
          ctx.out.result(h, () => `Placed legal hold ${h.id} on ${what(h)}`);
        },
      ),
    );
  hold
    .command('list')
    .description('Legal holds, newest first (released ones too)')
    .option('--project <name>', 'only this project')
    .option(...limitOption)
    .option(...allOption)
    .action(
      run(async (ctx, opts: { project?: string } & PageFlags) => {
        const listed = await fetchList<HoldView>(ctx.client(), '/api/v1/legal-holds', {
          query: { project: opts.project },
          flags: opts,
        });
        hintMore(ctx.out, listed, 'legal holds');
        ctx.out.result(listed.items, () =>
          table([
            ['ID', 'STATE', 'ON', 'PLACED BY', 'PLACED AT', 'RELEASE ASKED BY', 'RELEASED BY'],
            ...listed.items.map((h) => [
              h.id,
              h.state,
              what(h),
              h.placedBy,
              h.placedAt,
              h.releaseRequestedBy ?? '-',
              h.releasedBy ?? '-',
            ]),
          ]),
        );
      }),
    );
  hold
    .command('release <id>')
    .description('Ask for a hold to be released; someone else approves it')
    .requiredOption('--reason <text>', 'why it may be released')
    .action(
      run(async (ctx, id: string, opts: { reason: string }) => {
        const h = await ctx
          .client()
          .request<HoldView>('POST', `/api/v1/legal-holds/${enc(id)}/release`, {
            json: { reason: opts.reason },
          });
        ctx.out.result(
          h,
          () =>
            `Release of ${h.id} requested; someone else must run \`custody hold approve-release ${h.id}\``,
        );
      }),
    );
  hold
    .command('approve-release <id>')
    .description("Approve another person's request to release a hold: it is released")
    .option('--comment <text>', 'why')
    .action(
      run(async (ctx, id: string, opts: { comment?: string }) => {
        const h = await ctx
          .client()
          .request<HoldView>('POST', `/api/v1/legal-holds/${enc(id)}/approve-release`, {
            json: opts.comment ? { comment: opts.comment } : {},
          });
        ctx.out.result(h, () => `Legal hold ${h.id} on ${what(h)} is ${h.state}`);
      }),
    );

  const evidence =
    program.commands.find((c) => c.name() === 'evidence') ??
    program.command('evidence').description('Parsed reports: tests, coverage, scans, SBOMs');
  evidence
    .command('fixity')
    .description(
      'Re-hash every stored blob and evidence document and check the retention triggers; exits 1 on a mismatch or a missing trigger',
    )
    .action(
      run(async (ctx) => {
        const r = await ctx.client().request<FixityView>('POST', '/api/v1/evidence/fixity', {});
        ctx.out.result(r, () =>
          [
            `Checked ${r.blobs.checked} blobs and ${r.documents.checked} documents in ${r.durationMs} ms: ${r.mismatches.length} mismatched`,
            ...r.mismatches.map(
              (m) =>
                `MISMATCH ${m.source} ${m.digest} hashes to ${m.actual}${m.usedBy.length ? `, used by ${m.usedBy.map((u) => `${u.run}:${u.path}`).join(', ')}` : ''}`,
            ),
            ...r.guards.missing.map((g) => `GUARD MISSING ${g} (dropped or disabled trigger)`),
          ].join('\n'),
        );
        if (r.mismatches.length)
          throw new CliError(
            `${r.mismatches.length} stored item(s) do not match their digest`,
            1,
            'RETENTION_FIXITY_MISMATCH',
          );
        if (!r.guards.intact)
          throw new CliError(
            `${r.guards.missing.length} retention trigger(s) are missing or disabled`,
            1,
            'RETENTION_GUARD_MISSING',
          );
      }),
    );
}
