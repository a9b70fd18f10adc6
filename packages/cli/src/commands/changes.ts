import { Option, type Command } from 'commander';
import { run } from '../command-context.ts';
import { UsageError } from '../exit-codes.ts';
import { table } from '../output.ts';
import { allOption, fetchList, hintMore, limitOption, type PageFlags } from '../pagination.ts';

interface ChangeView {
  id: string;
  project: string;
  environment: string;
  riskClass: string;
  state: string;
  title: string;
  reason: string;
  template: string | null;
  commit: string | null;
  requestedBy: string;
  createdAt: string;
  activatedBy: string | null;
  activatedAt: string | null;
  expiresAt: string | null;
  review: {
    status: string;
    dueAt: string | null;
    reviewedBy: string | null;
    reviewedAt: string | null;
    notes: string | null;
  };
}

interface OverrideView {
  id: string;
  project: string;
  environment: string;
  reason: string;
  createdBy: string;
  startsAt: string;
  endsAt: string;
}

interface FreezeStatus {
  frozen: boolean;
  at: string;
  windows: { name: string; why: string; end: string }[];
  override: OverrideView | null;
  reasons: string[];
}

const riskClasses = ['standard', 'normal', 'emergency'];

// `project/environment`, as everywhere else in the CLI.
function target(value: string): { project: string; environment: string } {
  const m = /^([a-z0-9-]+)\/([a-z0-9-]+)$/.exec(value);
  if (!m) throw new UsageError(`expected PROJECT/ENVIRONMENT, such as shop/prod, not "${value}".`);
  return { project: m[1]!, environment: m[2]! };
}

function describeChange(c: ChangeView): string {
  const lines = [
    `${c.id}  ${c.riskClass}  ${c.state}  ${c.project}/${c.environment}`,
    `title:        ${c.title}`,
    ...(c.reason ? [`reason:       ${c.reason}`] : []),
    ...(c.template ? [`template:     ${c.template}`] : []),
    `requested by: ${c.requestedBy} at ${c.createdAt}`,
    ...(c.activatedBy ? [`activated by: ${c.activatedBy} at ${c.activatedAt}`] : []),
    ...(c.expiresAt ? [`expires at:   ${c.expiresAt}`] : []),
    ...(c.review.status !== 'not_required'
      ? [
          `review:       ${c.review.status}${c.review.dueAt ? ` (due ${c.review.dueAt})` : ''}${c.review.reviewedBy ? ` by ${c.review.reviewedBy}` : ''}`,
        ]
      : []),
  ];
  return lines.join('\n');
}

export function registerChangeCommands(program: Command): void {
  const change = program
    .command('change')
    .description('Change requests: standard (templated), normal, emergency (break-glass)');
  change
    .command('create <target>')
    .description('Request a change for PROJECT/ENVIRONMENT')
    .addOption(
      new Option('--risk <class>', 'the risk class').choices(riskClasses).makeOptionMandatory(),
    )
    .requiredOption('--title <title>', 'what changes')
    .option('--reason <reason>', 'why (required for emergency changes)')
    .option('--template <name>', 'ChangeTemplate that pre-approves a standard change')
    .option(
      '--commit <sha>',
      'emergency: the commit it is requested for (required); it serves no other',
    )
    .option(
      '--expires-after <duration>',
      'emergency: how long it stays active once activated (default 4h)',
    )
    .option(
      '--review-within <duration>',
      'emergency: review deadline after activation (default 72h)',
    )
    .action(
      run(async (ctx, t: string, opts: Record<string, string | undefined>) => {
        const c = await ctx.client().request<ChangeView>('POST', '/api/v1/changes', {
          json: {
            ...target(t),
            riskClass: opts.risk,
            title: opts.title,
            reason: opts.reason,
            template: opts.template,
            commit: opts.commit,
            expiresAfter: opts.expiresAfter,
            reviewWithin: opts.reviewWithin,
          },
        });
        ctx.out.result(c, () =>
          c.state === 'requested'
            ? `Requested emergency change ${c.id} for commit ${c.commit}; a second person must run \`custody change activate ${c.id}\`, then you deploy it with \`custody run PIPELINE --change ${c.id}\``
            : `Created ${c.riskClass} change ${c.id} (${c.state})`,
        );
      }),
    );
  change
    .command('activate <id>')
    .description('Activate an emergency change someone else requested')
    .option('--comment <text>', 'why you agree')
    .action(
      run(async (ctx, id: string, opts: { comment?: string }) => {
        const c = await ctx
          .client()
          .request<ChangeView>('POST', `/api/v1/changes/${encodeURIComponent(id)}/activate`, {
            json: opts.comment ? { comment: opts.comment } : {},
          });
        ctx.out.result(
          c,
          () => `Activated ${c.id} until ${c.expiresAt}; review due ${c.review.dueAt}`,
        );
      }),
    );
  change
    .command('review <id>')
    .description('Record the post-implementation review of an emergency change')
    .requiredOption('--notes <text>', 'what happened, root cause, follow-ups')
    .action(
      run(async (ctx, id: string, opts: { notes: string }) => {
        const c = await ctx
          .client()
          .request<ChangeView>('POST', `/api/v1/changes/${encodeURIComponent(id)}/review`, {
            json: { notes: opts.notes },
          });
        ctx.out.result(c, () => `Reviewed ${c.id}`);
      }),
    );
  change
    .command('list')
    .description('List change requests, newest first')
    .option('--target <project/environment>', 'only this environment')
    .addOption(new Option('--risk <class>', 'only this risk class').choices(riskClasses))
    .option(...limitOption)
    .option(...allOption)
    .action(
      run(async (ctx, opts: { target?: string; risk?: string } & PageFlags) => {
        const listed = await fetchList<ChangeView>(ctx.client(), '/api/v1/changes', {
          query: { ...(opts.target ? target(opts.target) : {}), riskClass: opts.risk },
          flags: opts,
        });
        const { items } = listed;
        hintMore(ctx.out, listed, 'change requests');
        ctx.out.result(items, () =>
          table([
            ['ID', 'RISK', 'STATE', 'TARGET', 'REQUESTED BY', 'REVIEW', 'TITLE'],
            ...items.map((c) => [
              c.id,
              c.riskClass,
              c.state,
              `${c.project}/${c.environment}`,
              c.requestedBy,
              c.review.status,
              c.title,
            ]),
          ]),
        );
      }),
    );
  change
    .command('get <id>')
    .description('Show a change request')
    .action(
      run(async (ctx, id: string) => {
        const c = await ctx
          .client()
          .request<ChangeView>('GET', `/api/v1/changes/${encodeURIComponent(id)}`);
        ctx.out.result(c, () => describeChange(c));
      }),
    );

  const freeze = program.command('freeze').description('Freeze windows: status and overrides');
  freeze
    .command('status <target>')
    .description('Whether a freeze is in force for PROJECT/ENVIRONMENT, and why')
    .option('--at <time>', 'ISO 8601 time (default now)')
    .addOption(
      new Option('--lane <lane>', 'the lane a deployment would take').choices([
        'normal',
        'rollback',
        'emergency',
      ]),
    )
    .action(
      run(async (ctx, t: string, opts: { at?: string; lane?: string }) => {
        const s = await ctx.client().request<FreezeStatus>('GET', '/api/v1/freeze/status', {
          query: { ...target(t), at: opts.at, lane: opts.lane },
        });
        ctx.out.result(s, () =>
          [
            s.frozen ? `FROZEN at ${s.at}` : `not frozen at ${s.at}`,
            ...s.reasons.map((r) => `  ${r}`),
          ].join('\n'),
        );
      }),
    );
  freeze
    .command('override <target>')
    .description('Override the freeze of PROJECT/ENVIRONMENT for a limited time (needs a reason)')
    .requiredOption('--reason <reason>', 'why the freeze must be overridden')
    .option('--duration <duration>', 'how long (default 2h, at most 24h)')
    .action(
      run(async (ctx, t: string, opts: { reason: string; duration?: string }) => {
        const o = await ctx.client().request<OverrideView>('POST', '/api/v1/freeze/overrides', {
          json: { ...target(t), reason: opts.reason, duration: opts.duration },
        });
        ctx.out.result(
          o,
          () => `Override ${o.id} for ${o.project}/${o.environment} until ${o.endsAt}`,
        );
      }),
    );
  freeze
    .command('overrides')
    .description('List freeze overrides, newest first')
    .option('--target <project/environment>', 'only this environment')
    .option(...limitOption)
    .option(...allOption)
    .action(
      run(async (ctx, opts: { target?: string } & PageFlags) => {
        const listed = await fetchList<OverrideView>(ctx.client(), '/api/v1/freeze/overrides', {
          query: opts.target ? target(opts.target) : {},
          flags: opts,
        });
        const { items } = listed;
        hintMore(ctx.out, listed, 'overrides');
        ctx.out.result(items, () =>
          table([
            ['ID', 'TARGET', 'BY', 'FROM', 'UNTIL', 'REASON'],
            ...items.map((o) => [
              o.id,
              `${o.project}/${o.environment}`,
              o.createdBy,
              o.startsAt,
              o.endsAt,
              o.reason,
            ]),
          ]),
        );
      }),
    );
}
