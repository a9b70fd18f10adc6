import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../duration.ts';
import { DomainError, platformErrors } from '../errors.ts';
import { parseRate } from '../rate.ts';

// One typed configuration, validated at start. Sources, lowest precedence first: defaults,
// an optional file (`--config`, JSON or YAML), environment (`CUSTODY_*`), flags.

const duration = z.string().refine((s) => parseDuration(s) !== undefined, {
  message: 'must be a duration such as 30s, 10m, 24h or 90d',
});

const rate = z.string().refine((s) => parseRate(s) !== undefined, {
  message: 'must be a rate such as 600/1m (at most 600 per minute) or off',
});
const proxyList = z.string().refine((s) => s.split(',').every((p) => isAddressOrCidr(p.trim())), {
  message: 'must be a comma-separated list of IP addresses or CIDR ranges (or empty)',
});

function isAddressOrCidr(text: string): boolean {
  if (text === '') return true;
  const [address = '', bits, extra] = text.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}
// C2SP tlog-witness witnesses the ledger leader submits checkpoints to. From the environment
// or a flag, a JSON array: [{"url": "https://witness.example/w1", "verifierKey": "..."}].
const witnesses = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  },
  z
    .array(
      z
        .object({
          url: z
            .string()
            .url()
            .refine((u) => /^https?:\/\//.test(u), 'must be http(s)'),
          verifierKey: z.string().regex(/^[^\s+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/, {
            message: 'must be a witness verifier key name+keyid+base64',
          }),
        })
        .strict(),
    )
    .max(20),
);

export const configSchema = z
  .object({
    databaseUrl: z.string().min(1, 'must name a SQLite file path or a postgres:// URL'),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(7480),
    dataDir: z.string().min(1).default('./.custody'),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    tokenMaxTtl: duration.default('90d'),
    sessionTtl: duration.default('12h'),
    // A user created by a request's author this long before the request (or after it) cannot
    // approve it (a sock puppet); `off` turns the check off.
    sockPuppetWindow: z
      .string()
      .refine((s) => s === 'off' || parseDuration(s) !== undefined, {
        message: 'must be a duration such as 7d, or off',
      })
      .default('7d'),
    // A deploy stage held back by the gate (approval, freeze, a block) this long fails with
    // GATE_WAIT_EXPIRED, so an old run cannot be approved into production months later.
    gateWaitTimeout: duration.default('7d'),
    bodyLimit: z.coerce
      .number()
      .int()
      .min(1024)
      .max(512 * 1024 * 1024)
      .default(1024 * 1024),
    // The largest file a step may record (an artifact or a report); reports are parsed up to it.
    fileMaxBytes: z.coerce
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(32 * 1024 * 1024),
    // The longest a waiver of a finding may last.
    waiverMaxDays: z.coerce.number().int().min(1).max(365).default(90),
    // The organization's minimum retention of evidence, logs, runs and decisions, in years: no
    // project keeps records shorter (docs/reference/retention.md).
    retentionMinimumYears: z.coerce.number().int().min(1).max(100).default(7),
    // How often the leader re-hashes stored blobs and evidence documents; `off` for on demand only.
    fixityInterval: z
      .string()
      .refine((s) => s === 'off' || parseDuration(s) !== undefined, {
        message: 'must be a duration such as 24h, or off',
      })
      .default('24h'),
    ledgerKeyFile: z.string().min(1).optional(),
    ledgerStateFile: z.string().min(1).optional(),
    // The attestation signing key (ECDSA P-256, PKCS#8 PEM); default `<dataDir>/attest.key`.
    attestKeyFile: z.string().min(1).optional(),
    witnesses: witnesses.default([]),
    publicUrl: z.string().url().optional(),
    // Abuse limits, in memory per replica (docs/reference/api.md#rate-limits).
    rateLimitPerAddress: rate.default('60000/1m'),
    rateLimitPerPrincipal: rate.default('30000/1m'),
    rateLimitUnauthenticated: rate.default('600/1m'),
    deniedAttemptsPerWindow: z.coerce.number().int().min(1).max(1_000_000).default(20),
    deniedAttemptsWindow: duration.default('1m'),
    trustedProxies: proxyList.default(''),
    // The deployment's sealing keys (ADR 8): a file, or base64 keys in the environment only.
    secretsKeyFile: z.string().min(1).optional(),
    secretsKey: z.string().min(1).optional(),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

const envNames: Record<keyof Config, string> = {
  databaseUrl: 'CUSTODY_DATABASE_URL',
  host: 'CUSTODY_HOST',
  port: 'CUSTODY_PORT',
  dataDir: 'CUSTODY_DATA_DIR',
  logLevel: 'CUSTODY_LOG_LEVEL',
  tokenMaxTtl: 'CUSTODY_TOKEN_MAX_TTL',
  sessionTtl: 'CUSTODY_SESSION_TTL',
  sockPuppetWindow: 'CUSTODY_SOCK_PUPPET_WINDOW',
  gateWaitTimeout: 'CUSTODY_GATE_WAIT_TIMEOUT',
  bodyLimit: 'CUSTODY_BODY_LIMIT',
  fileMaxBytes: 'CUSTODY_FILE_MAX_BYTES',
  waiverMaxDays: 'CUSTODY_WAIVER_MAX_DAYS',
  retentionMinimumYears: 'CUSTODY_RETENTION_MINIMUM_YEARS',
  fixityInterval: 'CUSTODY_FIXITY_INTERVAL',
  ledgerKeyFile: 'CUSTODY_LEDGER_KEY_FILE',
  ledgerStateFile: 'CUSTODY_LEDGER_STATE_FILE',
  attestKeyFile: 'CUSTODY_ATTEST_KEY_FILE',
  witnesses: 'CUSTODY_WITNESSES',
  publicUrl: 'CUSTODY_PUBLIC_URL',
  rateLimitPerAddress: 'CUSTODY_RATE_LIMIT_PER_ADDRESS',
  rateLimitPerPrincipal: 'CUSTODY_RATE_LIMIT_PER_PRINCIPAL',
  rateLimitUnauthenticated: 'CUSTODY_RATE_LIMIT_UNAUTHENTICATED',
  deniedAttemptsPerWindow: 'CUSTODY_DENIED_ATTEMPTS_PER_WINDOW',
  deniedAttemptsWindow: 'CUSTODY_DENIED_ATTEMPTS_WINDOW',
  trustedProxies: 'CUSTODY_TRUSTED_PROXIES',
  secretsKeyFile: 'CUSTODY_SECRETS_KEY_FILE',
  secretsKey: 'CUSTODY_SECRETS_KEY',
};

// Settings no command-line flag takes: key material never goes on a command line.
const flaglessKeys: readonly (keyof Config)[] = ['secretsKey'];

export function configFlaglessKeys(): readonly (keyof Config)[] {
  return flaglessKeys;
}

export function configEnvironmentNames(): Readonly<Record<keyof Config, string>> {
  return envNames;
}

export interface LoadConfigOptions {
  flags?: Partial<Record<keyof Config, unknown>>;
  env?: Record<string, string | undefined>;
  file?: string;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DomainError(
      platformErrors.CONFIG_INVALID,
      `cannot read config file ${file}: ${(err as Error).message}`,
    );
  }
  try {
    const parsed: unknown = path.extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('top level must be a mapping');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new DomainError(
      platformErrors.CONFIG_INVALID,
      `config file ${file}: ${(err as Error).message}`,
    );
  }
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const merged: Record<string, unknown> = {};
  const file = options.file ?? env.CUSTODY_CONFIG;
  if (file) Object.assign(merged, readConfigFile(file));
  for (const [key, name] of Object.entries(envNames)) {
    const value = env[name];
    if (value !== undefined && value !== '') merged[key] = value;
  }
  if (merged.databaseUrl === undefined && env.DATABASE_URL) merged.databaseUrl = env.DATABASE_URL;
  for (const [key, value] of Object.entries(options.flags ?? {})) {
    if (value !== undefined) merged[key] = value;
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = issue.path.join('.');
      const flag = flaglessKeys.includes(key as keyof Config) ? '' : `flag --${kebab(key)}, `;
      const source = key in envNames ? ` (${flag}env ${envNames[key as keyof Config]})` : '';
      return `${key || '(root)'}: ${issue.message}${source}`;
    });
    throw new DomainError(
      platformErrors.CONFIG_INVALID,
      `invalid configuration:\n  ${lines.join('\n  ')}`,
      {
        issues: lines,
      },
    );
  }
  return result.data;
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
