import type { Command } from 'commander';
import { ApiClient } from './client.ts';
import { UsageError } from './exit-codes.ts';
import { createOutput, type Output, type OutputFormat } from './output.ts';

export interface GlobalOptions {
  server?: string;
  token?: string;
  output: OutputFormat;
}

export interface CommandContext {
  readonly options: GlobalOptions;
  readonly out: Output;
  client(): ApiClient;
}

// The global options may be given before the command (the program's) or after it (the
// command's hidden copies, see main.ts); the one nearest the command wins.
export function globalOptions(cmd: Command): GlobalOptions {
  const o: Partial<Record<keyof GlobalOptions, string>> = {};
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.unshift(c);
  for (const c of chain)
    for (const key of ['server', 'token', 'output'] as const) {
      const value: unknown = c.getOptionValue(key);
      if (typeof value === 'string') o[key] = value;
    }
  const output = o.output ?? 'text';
  if (output !== 'text' && output !== 'json')
    throw new UsageError(`--output must be text or json, not ${String(output)}`);
  return { server: o.server, token: o.token, output };
}

export function contextOf(cmd: Command): CommandContext {
  const options = globalOptions(cmd);
  let client: ApiClient | undefined;
  return {
    options,
    out: createOutput(options.output),
    client: () => (client ??= ApiClient.from(options)),
  };
}

// Commander passes (args..., options, command); this hands the command's context to the action.
export function run<A extends unknown[]>(
  action: (ctx: CommandContext, ...args: A) => Promise<void>,
) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    await action(contextOf(cmd), ...(args.slice(0, -1) as A));
  };
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
