import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Where the CLI keeps the server URL and token between commands (`custody login`, `custody up`).
export interface CliConfig {
  server?: string;
  token?: string;
}

export function cliConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CUSTODY_CONFIG_FILE) return env.CUSTODY_CONFIG_FILE;
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'custody', 'config.json');
}

export function readCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  try {
    return JSON.parse(readFileSync(cliConfigPath(env), 'utf8')) as CliConfig;
  } catch {
    return {};
  }
}

export function writeCliConfig(config: CliConfig, env: NodeJS.ProcessEnv = process.env): string {
  const file = cliConfigPath(env);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}
