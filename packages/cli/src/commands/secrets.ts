import type { Command } from 'commander';
import { readStdin, run } from '../command-context.ts';
import { UsageError } from '../exit-codes.ts';
import { table } from '../output.ts';
import { allOption, fetchList, hintMore, limitOption, type PageFlags } from '../pagination.ts';

const enc = encodeURIComponent;

// A value comes from standard input or an environment variable, never from a flag (flags end
// up in shell history and in `ps`).
async function secretValue(fromEnv: string | undefined): Promise<string> {
  const value = fromEnv ? process.env[fromEnv] : (await readStdin()).replace(/\r?\n$/, '');
  if (!value) throw new UsageError('no value: pipe it on standard input or use --from-env VAR');
  return value;
}

interface Release {
  seq: number;
  time: string;
  secret: string;
  version: number;
  environment: string | null;
  job: string;
  run: string;
  runner: string;
  pool: string;
  steps: string[];
  receivedBy: string;
}

interface SecretVersion {
  version: number;
  pools: string[];
  updatedBy: string;
  updatedAt: string;
  approval: string | null;
  approvedBy: string | null;
}

interface SecretItem {
  name: string;
  environment: string | null;
  inForce: SecretVersion | null;
  pending: {
    version: number;
    pools: string[];
    author: string;
    createdAt: string;
    approval: string;
    reaches: string[];
  } | null;
}

interface SecretSet extends SecretItem {
  version: number;
  state: 'in-force' | 'pending';
  approval: string | null;
}

// A version that reaches production waits for a second person: say so, and how it goes on.
function setMessage(s: SecretSet): string {
  if (s.state === 'in-force') return `secret ${s.name} set (version ${s.version}, in force)`;
  const meanwhile = s.inForce
    ? `version ${s.inForce.version} stays in force`
    : 'jobs get no value for it';
  return `secret ${s.name} version ${s.version} is pending: it reaches production (${s.pending?.reaches.join(', ') ?? ''}); ${meanwhile} until someone else runs custody approve ${s.approval}`;
}

export function registerSecretCommands(program: Command): void {
  const secret = program
    .command('secret')
    .alias('secrets')
    .description('Write-only job secrets, given only to the steps that name them; sealing keys');
  secret
    .command('set <name>')
    .description('Set a secret; the value comes from standard input or --from-env (never a flag)')
    .requiredOption('-p, --project <project>', 'project')
    .option(
      '-e, --environment <env>',
      'only jobs deploying to this environment (in its runnerPool)',
    )
    .option('--pools <pools>', 'only jobs of these runner pools (comma-separated)')
    .option('--from-env <var>', 'read the value from this environment variable')
    .action(
      run(
        async (
          ctx,
          name: string,
          opts: { project: string; environment?: string; pools?: string; fromEnv?: string },
        ) => {
          const value = await secretValue(opts.fromEnv);
          const s = await ctx
            .client()
            .request<SecretSet>(
              'PUT',
              `/api/v1/projects/${enc(opts.project)}/secrets/${enc(name)}`,
              {
                json: {
                  value,
                  ...(opts.environment ? { environment: opts.environment } : {}),
                  ...(opts.pools ? { pools: opts.pools.split(',').filter(Boolean) } : {}),
                },
              },
            );
          ctx.out.result(s, () => setMessage(s));
        },
      ),
    );

  secret
    .command('list')
    .description(
      'List secrets: the version in force and any version waiting for approval (never values)',
    )
    .requiredOption('-p, --project <project>', 'project')
    .option(...limitOption)
    .option(...allOption)
    .action(
      run(async (ctx, opts: { project: string } & PageFlags) => {
        const listed = await fetchList<SecretItem>(
          ctx.client(),
          `/api/v1/projects/${enc(opts.project)}/secrets`,
          { flags: opts },
        );
        const { items } = listed;
        hintMore(ctx.out, listed, 'secrets');
        ctx.out.result(items, () =>
          table([
            ['NAME', 'ENVIRONMENT', 'IN FORCE', 'POOLS', 'UPDATED BY', 'UPDATED AT', 'PENDING'],
            ...items.map((s) => [
              s.name,
              s.environment ?? '*',
              s.inForce ? `v${s.inForce.version}` : '-',
              (s.inForce?.pools ?? []).join(',') || (s.inForce ? '*' : '-'),
              s.inForce
                ? s.inForce.updatedBy +
                  (s.inForce.approvedBy ? ` (approved by ${s.inForce.approvedBy})` : '')
                : '-',
              s.inForce?.updatedAt ?? '-',
              s.pending
                ? `v${s.pending.version} by ${s.pending.author} at ${s.pending.createdAt}, pools ${s.pending.pools.join(',') || '*'}: ${s.pending.approval}`
                : '-',
            ]),
          ]),
        );
      }),
    );

  secret
    .command('releases')
    .description(
      'Which jobs, runners and pools received which secret versions, from the ledger (never values)',
    )
    .requiredOption('-p, --project <project>', 'project')
    .option('-e, --environment <env>', 'only releases to jobs deploying to this environment')
    .option('--limit <n>', 'how many, newest first', '100')
    .option('--before <seq>', 'releases recorded before this ledger sequence number')
    .action(
      run(
        async (
          ctx,
          opts: { project: string; environment?: string; limit: string; before?: string },
        ) => {
          const q = new URLSearchParams({ limit: opts.limit });
          if (opts.environment) q.set('environment', opts.environment);
          if (opts.before) q.set('before', opts.before);
          const page = await ctx.client().request<{
            items: Release[];
            next: number | null;
          }>('GET', `/api/v1/projects/${enc(opts.project)}/secret-releases?${q.toString()}`);
          ctx.out.result(
            page,
            () =>
              table([
                [
                  'SEQ',
                  'TIME',
                  'SECRET',
                  'VERSION',
                  'ENVIRONMENT',
                  'JOB',
                  'RUNNER',
                  'POOL',
                  'STEPS',
                ],
                ...page.items.map((r) => [
                  String(r.seq),
                  r.time,
                  r.secret,
                  String(r.version),
                  r.environment ?? '-',
                  r.job,
                  `${r.receivedBy} (${r.runner})`,
                  r.pool,
                  r.steps.join(','),
                ]),
              ]) + (page.next !== null ? `more: --before ${page.next}\n` : ''),
          );
        },
      ),
    );

  secret
    .command('keys')
    .description('The sealing keys in use: key ids (never keys) and how many values each holds')
    .action(
      run(async (ctx) => {
        const s = await ctx.client().request<{
          currentKeyId: string;
          configuredKeyIds: string[];
          registered: { keyId: string; registeredAt: string; retiredAt: string | null }[];
          sets: { name: string; total: number; byKey: Record<string, number> }[];
        }>('GET', '/api/v1/secrets/sealing');
        ctx.out.result(s, () =>
          [
            `current key: ${s.currentKeyId}`,
            `configured here: ${s.configuredKeyIds.join(', ')}`,
            table([
              ['KEY', 'REGISTERED', 'RETIRED'],
              ...s.registered.map((k) => [k.keyId, k.registeredAt, k.retiredAt ?? '-']),
            ]),
            table([
              ['STORE', 'VALUES', 'BY KEY'],
              ...s.sets.map((x) => [
                x.name,
                String(x.total),
                Object.entries(x.byKey)
                  .map(([k, n]) => `${k}:${n}`)
                  .join(' '),
              ]),
            ]),
          ].join('\n'),
        );
      }),
    );

  secret
    .command('reseal')
    .description(
      'Seal every stored value again under the newest configured key and retire the older keys (audited; running it twice changes nothing)',
    )
    .action(
      run(async (ctx) => {
        const r = await ctx.client().request<{
          keyId: string;
          sets: { name: string; total: number; resealed: number }[];
          retired: string[];
        }>('POST', '/api/v1/secrets/reseal', { json: {} });
        ctx.out.result(r, () =>
          [
            `sealed under ${r.keyId}:`,
            ...r.sets.map((x) => `  ${x.name}: ${x.resealed} of ${x.total} resealed`),
            `retired: ${r.retired.join(', ') || 'none'}`,
          ].join('\n'),
        );
      }),
    );
}

export function registerScmCommands(program: Command): void {
  const scm = program.command('scm').description('GitHub and GitLab webhooks');
  const webhookSecret = scm
    .command('webhook-secret')
    .description("A project's webhook secrets (platform secrets: never given to jobs)");
  webhookSecret
    .command('set')
    .description('Set the webhook secret; the value comes from standard input or --from-env')
    .requiredOption('-p, --project <project>', 'project')
    .requiredOption('--provider <provider>', 'github or gitlab')
    .option('--from-env <var>', 'read the value from this environment variable')
    .action(
      run(async (ctx, opts: { project: string; provider: string; fromEnv?: string }) => {
        if (opts.provider !== 'github' && opts.provider !== 'gitlab')
          throw new UsageError(`--provider must be github or gitlab, not ${opts.provider}`);
        const value = await secretValue(opts.fromEnv);
        const s = await ctx
          .client()
          .request<{ provider: string; version: number }>(
            'PUT',
            `/api/v1/projects/${enc(opts.project)}/scm/webhook-secrets/${opts.provider}`,
            { json: { value } },
          );
        ctx.out.result(s, () => `${s.provider} webhook secret set (version ${s.version})`);
      }),
    );
  webhookSecret
    .command('list')
    .description('Which webhook secrets are set, with version and author (never values)')
    .requiredOption('-p, --project <project>', 'project')
    .action(
      run(async (ctx, opts: { project: string }) => {
        const { items } = await ctx.client().request<{
          items: { provider: string; version: number; updatedBy: string; updatedAt: string }[];
        }>('GET', `/api/v1/projects/${enc(opts.project)}/scm/webhook-secrets`);
        ctx.out.result(items, () =>
          table([
            ['PROVIDER', 'VERSION', 'UPDATED BY', 'UPDATED AT'],
            ...items.map((s) => [s.provider, String(s.version), s.updatedBy, s.updatedAt]),
          ]),
        );
      }),
    );
}
