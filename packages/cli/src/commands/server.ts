import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import {
  DomainError,
  bootstrapAdmin,
  closeOnSignals,
  loadConfig,
  startServer,
  type RunningServer,
} from '@custody/server';
import { writeCliConfig } from '../cli-config.ts';
import { run } from '../command-context.ts';
import { CliError, UsageError, exitCodes } from '../exit-codes.ts';

export interface ServerFlags {
  databaseUrl?: string;
  port?: string;
  host?: string;
  dataDir?: string;
  config?: string;
  logLevel?: string;
  tokenMaxTtl?: string;
  sessionTtl?: string;
  bodyLimit?: string;
  fileMaxBytes?: string;
  waiverMaxDays?: string;
  retentionMinimumYears?: string;
  fixityInterval?: string;
  ledgerKeyFile?: string;
  ledgerStateFile?: string;
  attestKeyFile?: string;
  witnesses?: string;
  publicUrl?: string;
  rateLimitPerAddress?: string;
  rateLimitPerPrincipal?: string;
  rateLimitUnauthenticated?: string;
  deniedAttemptsPerWindow?: string;
  deniedAttemptsWindow?: string;
  trustedProxies?: string;
  secretsKeyFile?: string;
}

// Hooks that later capabilities (the local runner) attach to `custody up`.
export type UpExtension = (
  server: RunningServer,
  options: { dataDir: string; adminToken: string | undefined; flags: Record<string, unknown> },
) => Promise<{ close(): Promise<void> } | void>;
const upExtensions: UpExtension[] = [];
export function extendUp(extension: UpExtension): void {
  upExtensions.push(extension);
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) > 65535)
    throw new UsageError(`--port must be a number from 0 to 65535, not ${value}`);
  return Number(value);
}

export function adminTokenFile(dataDir: string): string {
  return path.join(dataDir, 'admin.token');
}

async function launch(
  flags: ServerFlags,
  defaults: { databaseUrl?: string; logLevel?: string },
): Promise<{ server: RunningServer; dataDir: string; adminToken: string | undefined }> {
  let config;
  try {
    config = loadConfig({
      file: flags.config,
      flags: {
        databaseUrl: flags.databaseUrl,
        port: parsePort(flags.port),
        host: flags.host,
        dataDir: flags.dataDir,
        logLevel: flags.logLevel,
        tokenMaxTtl: flags.tokenMaxTtl,
        sessionTtl: flags.sessionTtl,
        bodyLimit: flags.bodyLimit,
        fileMaxBytes: flags.fileMaxBytes,
        waiverMaxDays: flags.waiverMaxDays,
        retentionMinimumYears: flags.retentionMinimumYears,
        fixityInterval: flags.fixityInterval,
        ledgerKeyFile: flags.ledgerKeyFile,
        ledgerStateFile: flags.ledgerStateFile,
        attestKeyFile: flags.attestKeyFile,
        witnesses: flags.witnesses,
        publicUrl: flags.publicUrl,
        rateLimitPerAddress: flags.rateLimitPerAddress,
        rateLimitPerPrincipal: flags.rateLimitPerPrincipal,
        rateLimitUnauthenticated: flags.rateLimitUnauthenticated,
        deniedAttemptsPerWindow: flags.deniedAttemptsPerWindow,
        deniedAttemptsWindow: flags.deniedAttemptsWindow,
        trustedProxies: flags.trustedProxies,
        secretsKeyFile: flags.secretsKeyFile,
      },
      env: {
        ...process.env,
        ...(defaults.databaseUrl && !flags.databaseUrl && !process.env.CUSTODY_DATABASE_URL
          ? { CUSTODY_DATABASE_URL: defaults.databaseUrl }
          : {}),
        ...(defaults.logLevel && !process.env.CUSTODY_LOG_LEVEL
          ? { CUSTODY_LOG_LEVEL: defaults.logLevel }
          : {}),
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const dataDir = path.resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const server = await startServer({ config }).catch((err: unknown) => {
    // A replica that cannot open the deployment's sealed values (or reach its database) stops
    // here, with the code, rather than failing requests later.
    if (err instanceof DomainError)
      throw new CliError(`${err.code}: ${err.message}`, exitCodes.failure, err.code);
    throw err;
  });
  const boot = await bootstrapAdmin(server.app);
  const tokenFile = adminTokenFile(dataDir);
  if (boot) {
    writeFileSync(tokenFile, boot.token + '\n', { mode: 0o600 });
    chmodSync(tokenFile, 0o600);
  }
  const adminToken = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined;
  writeFileSync(path.join(dataDir, 'server.url'), server.url + '\n');
  return { server, dataDir, adminToken };
}

export function registerServerCommands(program: Command): void {
  program
    .command('up')
    .description(
      'Run Custody on this machine: server, SQLite in the data directory, a local runner and a bootstrap admin token',
    )
    .option('--data-dir <dir>', 'where the database, keys and admin token live', './.custody')
    .option('--port <port>', 'HTTP port (0 picks a free one)', '7480')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option(
      '--runner-pools <pools>',
      'comma-separated pools the local runner serves (default: all)',
    )
    .option('--no-runner', 'do not start the local runner')
    .option(
      '--runner-work-dir <dir>',
      'where the local runner makes job workspaces (default: DATA_DIR-runner, never inside the data directory)',
    )
    .option(
      '--runner-writable-dir <dir>',
      'a host directory steps of the local runner may write (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--runner-unsafe-no-sandbox',
      "run the local runner's steps without a sandbox (unsafe; announced in every job's log)",
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'warn')
    .action(
      run(async (ctx, opts: ServerFlags & { runnerPools?: string; runner?: boolean }) => {
        const dataDir = opts.dataDir ?? './.custody';
        const { server, adminToken } = await launch(opts, {
          databaseUrl: path.join(path.resolve(dataDir), 'custody.db'),
        });
        const closers: { close(): Promise<void> }[] = [];
        try {
          for (const ext of upExtensions) {
            const c = await ext(server, {
              dataDir,
              adminToken,
              flags: opts as Record<string, unknown>,
            });
            if (c) closers.push(c);
          }
        } catch (err) {
          // A refused extension (no sandbox for the local runner) stops `up` as a whole.
          for (const c of closers) await c.close();
          await server.close();
          throw err;
        }
        if (adminToken) writeCliConfig({ server: server.url, token: adminToken });
        ctx.out.result(
          { url: server.url, adminTokenFile: adminTokenFile(path.resolve(dataDir)) },
          () =>
            `Custody is running at ${server.url}\nAdmin token: ${adminTokenFile(path.resolve(dataDir))} (the custody CLI is configured to use it)`,
        );
        closeOnSignals({
          close: async () => {
            for (const c of closers) await c.close();
            await server.close();
          },
        });
        await new Promise(() => {});
      }),
    );

  program
    .command('server')
    .description('Run the control plane only (no local runner)')
    .option(
      '--database-url <url>',
      'SQLite file path or postgres:// URL (env CUSTODY_DATABASE_URL or DATABASE_URL)',
    )
    .option('--port <port>', 'HTTP port')
    .option('--host <host>', 'interface to listen on')
    .option('--data-dir <dir>', 'where keys and the bootstrap admin token are written')
    .option('--config <file>', 'configuration file (JSON or YAML)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .option('--token-max-ttl <duration>', 'longest API token lifetime allowed')
    .option('--session-ttl <duration>', 'lifetime of login sessions')
    .option('--body-limit <bytes>', 'largest request body accepted')
    .option('--file-max-bytes <bytes>', 'largest artifact or report a runner may upload')
    .option('--waiver-max-days <days>', 'longest a finding waiver may last')
    .option(
      '--retention-minimum-years <years>',
      'organization minimum retention of evidence, logs and runs (default 7)',
    )
    .option(
      '--fixity-interval <duration>',
      'how often stored blobs are re-hashed (default 24h), or off',
    )
    .option('--ledger-key-file <file>', 'ledger signing key (created in the data dir when unset)')
    .option(
      '--secrets-key-file <file>',
      'sealing keys, one base64 key per line, newest last (the same on every replica; or env CUSTODY_SECRETS_KEY)',
    )
    .option(
      '--ledger-state-file <file>',
      "the ledger signer's own state file (default: the key file's path + .state)",
    )
    .option(
      '--attest-key-file <file>',
      'attestation signing key, ECDSA P-256 PKCS#8 PEM (created in the data dir when unset)',
    )
    .option(
      '--witnesses <json>',
      'C2SP witnesses for the ledger checkpoints: [{"url": ..., "verifierKey": ...}]',
    )
    .option('--public-url <url>', 'URL users reach the server at (links in notifications)')
    .option(
      '--rate-limit-per-address <rate>',
      'API requests per client address, e.g. 60000/1m, or off',
    )
    .option('--rate-limit-per-principal <rate>', 'API requests per user, service account or runner')
    .option(
      '--rate-limit-unauthenticated <rate>',
      'failed authentications per address before it waits',
    )
    .option(
      '--denied-attempts-per-window <n>',
      'denied attempts per source recorded in full per window',
    )
    .option(
      '--denied-attempts-window <duration>',
      'the window over which denied attempts are summarized',
    )
    .option(
      '--trusted-proxies <list>',
      'proxies (addresses, CIDR ranges) whose X-Forwarded-For is used',
    )
    .action(
      run(async (ctx, opts: ServerFlags) => {
        const { server, dataDir } = await launch(opts, {});
        ctx.out.result(
          { url: server.url, adminTokenFile: adminTokenFile(dataDir) },
          () => `Custody server listening at ${server.url}`,
        );
        closeOnSignals(server);
        await new Promise(() => {});
      }),
    );
}
