import type { Command } from 'commander';
import { ApiClient, resolveConnection } from '../client.ts';
import { readCliConfig, writeCliConfig } from '../cli-config.ts';
import { readStdin, run } from '../command-context.ts';
import { UsageError } from '../exit-codes.ts';
import { table } from '../output.ts';

interface Whoami {
  kind: string;
  name: string;
  authMethod: string;
  delegatedBy?: string | null;
  groups: string[];
  bindings: { name: string; role: string; scope: string; effect: string; via: string }[];
}

export function registerAuthCommands(program: Command): void {
  program
    .command('login')
    .description(
      'Log in with a password (or save a token) and remember the server for later commands',
    )
    .option('--user <name>', 'user name')
    .option('--password-stdin', 'read the password from standard input')
    .option('--with-token', 'save the token given by --token / CUSTODY_TOKEN instead of logging in')
    .action(
      run(async (ctx, opts: { user?: string; passwordStdin?: boolean; withToken?: boolean }) => {
        const { server, token } = resolveConnection(ctx.options);
        if (opts.withToken) {
          if (!token) throw new UsageError('--with-token needs --token or CUSTODY_TOKEN');
          const me = await new ApiClient(server, token).request<Whoami>('GET', '/api/v1/whoami');
          const file = writeCliConfig({ ...readCliConfig(), server, token });
          ctx.out.result(
            { server, user: me.name, configFile: file },
            () => `Logged in to ${server} as ${me.name} (saved in ${file})`,
          );
          return;
        }
        if (!opts.user)
          throw new UsageError('pass --user NAME (and --password-stdin), or --with-token');
        if (!opts.passwordStdin)
          throw new UsageError('pass the password on standard input with --password-stdin');
        const password = (await readStdin()).replace(/\r?\n$/, '');
        const session = await new ApiClient(server, undefined).request<{
          token: string;
          expiresAt: string;
          user: string;
        }>('POST', '/api/v1/auth/login', {
          json: { name: opts.user, password },
          auth: false,
        });
        const file = writeCliConfig({ ...readCliConfig(), server, token: session.token });
        ctx.out.result(
          { server, user: session.user, expiresAt: session.expiresAt, configFile: file },
          () => `Logged in to ${server} as ${session.user} until ${session.expiresAt}`,
        );
      }),
    );

  program
    .command('whoami')
    .description('Show who the current credentials belong to, with groups and role bindings')
    .action(
      run(async (ctx) => {
        const me = await ctx.client().request<Whoami>('GET', '/api/v1/whoami');
        ctx.out.result(me, () => {
          // A token someone else issued for you never approves; say so up front.
          const issued = me.delegatedBy
            ? `, issued by ${me.delegatedBy}: cannot approve, reject, activate or review`
            : '';
          const head = `${me.kind === 'service_account' ? 'serviceaccount' : me.kind}:${me.name} (${me.authMethod}${issued})\ngroups: ${me.groups.join(', ') || '-'}\n`;
          return (
            head +
            table([
              ['BINDING', 'ROLE', 'SCOPE', 'EFFECT', 'VIA'],
              ...me.bindings.map((b) => [b.name, b.role, b.scope, b.effect, b.via]),
            ])
          );
        });
      }),
    );
}
