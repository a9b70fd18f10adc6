import type { Command } from 'commander';
import { readStdin, run } from '../command-context.ts';
import { UsageError } from '../exit-codes.ts';
import { table } from '../output.ts';
import { allOption, fetchList, hintMore, limitOption, type PageFlags } from '../pagination.ts';

interface Principal {
  id: string;
  kind: string;
  name: string;
  email: string | null;
  createdAt: string;
  createdBy: string | null;
}

interface LinkView {
  kind: string;
  value: string;
  source: string;
  createdAt: string;
  createdBy: string | null;
}

interface TokenView {
  id: string;
  name: string;
  principal: { kind: string; name: string };
  createdAt: string;
  createdBy: string;
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

function principalCommands(
  program: Command,
  noun: string,
  path: string,
  withPassword: boolean,
): void {
  const cmd = program
    .command(noun)
    .description(
      `Manage ${noun === 'user' ? 'users' : 'service accounts (token-only identities)'}`,
    );
  const create = cmd.command('create <name>').description(`Create a ${noun}`);
  if (withPassword) {
    create
      .option('--email <email>', 'email address')
      .option('--password-stdin', 'read an initial password from standard input');
  }
  create.action(
    run(async (ctx, name: string, opts: { email?: string; passwordStdin?: boolean }) => {
      const body: Record<string, unknown> = { name };
      if (opts.email) body.email = opts.email;
      if (opts.passwordStdin) body.password = (await readStdin()).replace(/\r?\n$/, '');
      const p = await ctx.client().request<Principal>('POST', `/api/v1/${path}`, { json: body });
      ctx.out.result(p, () => `Created ${noun} ${p.name} (${p.id})`);
    }),
  );
  cmd
    .command('list')
    .description(`List ${noun}s by name`)
    .option(...limitOption)
    .option(...allOption)
    .action(
      run(async (ctx, opts: PageFlags) => {
        const listed = await fetchList<Principal>(ctx.client(), `/api/v1/${path}`, { flags: opts });
        const { items } = listed;
        hintMore(ctx.out, listed, `${noun}s`);
        ctx.out.result(items, () =>
          table([
            ['NAME', 'EMAIL', 'CREATED', 'CREATED BY'],
            ...items.map((p) => [p.name, p.email ?? '-', p.createdAt, p.createdBy ?? '-']),
          ]),
        );
      }),
    );
  cmd
    .command('delete <name>')
    .description(`Delete a ${noun} and revoke its tokens`)
    .action(
      run(async (ctx, name: string) => {
        const p = await ctx
          .client()
          .request<Principal>('DELETE', `/api/v1/${path}/${encodeURIComponent(name)}`);
        ctx.out.result(p, () => `Deleted ${noun} ${p.name}`);
      }),
    );
}

// `github:erin-s` → { kind, value }; the server checks the kind and the value.
function parseIdentity(text: string): { kind: string; value: string } {
  const at = text.indexOf(':');
  if (at <= 0 || at === text.length - 1)
    throw new UsageError(
      `identity ${JSON.stringify(text)} must be KIND:VALUE, e.g. github:erin-s, gitlab:erin or email:erin@corp.example`,
    );
  return { kind: text.slice(0, at), value: text.slice(at + 1) };
}

function identityCommands(user: Command): void {
  const cmd = user
    .command('identity')
    .description(
      "Manage a user's verified identities (e-mail addresses, GitHub and GitLab logins) that link commits and reviews to the user",
    );
  const base = (name: string) => `/api/v1/users/${encodeURIComponent(name)}/identities`;
  cmd
    .command('list <name>')
    .description("List a user's linked identities")
    .action(
      run(async (ctx, name: string) => {
        const { items } = await ctx.client().request<{ items: LinkView[] }>('GET', base(name));
        ctx.out.result(items, () =>
          table([
            ['IDENTITY', 'SOURCE', 'LINKED', 'BY'],
            ...items.map((l) => [
              `${l.kind}:${l.value}`,
              l.source,
              l.createdAt,
              l.createdBy ?? '-',
            ]),
          ]),
        );
      }),
    );
  cmd
    .command('add <name> <identity>')
    .description(
      'Link an identity (KIND:VALUE: github:LOGIN, gitlab:LOGIN or email:ADDRESS) to a user; each has one owner',
    )
    .action(
      run(async (ctx, name: string, identity: string) => {
        const l = await ctx
          .client()
          .request<LinkView>('POST', base(name), { json: parseIdentity(identity) });
        ctx.out.result(l, () => `Linked ${l.kind}:${l.value} to user ${name}`);
      }),
    );
  cmd
    .command('remove <name> <identity>')
    .description("Unlink an identity from a user (unlinking the user's own e-mail clears it)")
    .action(
      run(async (ctx, name: string, identity: string) => {
        const { kind, value } = parseIdentity(identity);
        const l = await ctx
          .client()
          .request<LinkView>(
            'DELETE',
            `${base(name)}/${encodeURIComponent(kind)}/${encodeURIComponent(value)}`,
          );
        ctx.out.result(l, () => `Unlinked ${l.kind}:${l.value} from user ${name}`);
      }),
    );
}

export function registerIdentityCommands(program: Command): void {
  principalCommands(program, 'user', 'users', true);
  identityCommands(program.commands.find((c) => c.name() === 'user')!);
  principalCommands(program, 'serviceaccount', 'serviceaccounts', false);

  const token = program
    .command('token')
    .description('Manage API tokens (shown once, stored hashed, always expiring)');
  token
    .command('create')
    .description('Create an API token; prints only the token')
    .option('--user <name>', 'for this user')
    .option('--serviceaccount <name>', 'for this service account')
    .requiredOption('--ttl <duration>', 'lifetime, e.g. 30d (at most the server maximum)')
    .option('--name <name>', 'a label for the token')
    .action(
      run(
        async (
          ctx,
          opts: { user?: string; serviceaccount?: string; ttl: string; name?: string },
        ) => {
          if (opts.user && opts.serviceaccount)
            throw new UsageError('give --user or --serviceaccount, not both');
          const created = await ctx.client().request<{
            id: string;
            token: string;
            expiresAt: string;
            principal: { kind: string; name: string };
          }>('POST', '/api/v1/tokens', {
            json: {
              ...(opts.user ? { user: opts.user } : {}),
              ...(opts.serviceaccount ? { serviceAccount: opts.serviceaccount } : {}),
              ttl: opts.ttl,
              ...(opts.name ? { name: opts.name } : {}),
            },
          });
          ctx.out.result(created, () => created.token);
        },
      ),
    );
  token
    .command('list')
    .description("List tokens (yours, or everyone's with --all); never shows token values")
    .option('--all', 'all principals (needs identity.token.manage)')
    // `--all` has meant "every principal's tokens" from the start; pages follow --all-pages.
    .option(...limitOption)
    .option('--all-pages', allOption[1])
    .action(
      run(async (ctx, opts: { all?: boolean; limit?: string; allPages?: boolean }) => {
        const listed = await fetchList<TokenView>(ctx.client(), '/api/v1/tokens', {
          query: { all: opts.all ? 'true' : 'false' },
          flags: { limit: opts.limit, allPages: opts.allPages },
        });
        const { items } = listed;
        hintMore(ctx.out, listed, 'tokens', '--all-pages');
        ctx.out.result(items, () =>
          table([
            ['ID', 'NAME', 'PRINCIPAL', 'ISSUED BY', 'EXPIRES', 'LAST USED', 'STATUS'],
            ...items.map((t) => [
              t.id,
              t.name,
              `${t.principal.kind}:${t.principal.name}`,
              t.createdBy,
              t.expiresAt,
              t.lastUsedAt ?? '-',
              t.revokedAt ? 'revoked' : 'active',
            ]),
          ]),
        );
      }),
    );
  token
    .command('revoke <id>')
    .description('Revoke a token')
    .action(
      run(async (ctx, id: string) => {
        const r = await ctx
          .client()
          .request<{ id: string; revokedAt: string }>(
            'DELETE',
            `/api/v1/tokens/${encodeURIComponent(id)}`,
          );
        ctx.out.result(r, () => `Revoked ${r.id}`);
      }),
    );
}
