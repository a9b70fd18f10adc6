// `custody dossier`: change dossiers (docs/reference/dossier.md). `verify` is offline: it reads
// the file and the trusted key and nothing else (no server, no token, no configuration);
// the checks live in @custody/ledger so a browser or another tool runs the same code.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { verifyDossier, type DossierVerifyResult } from '@custody/ledger';
import { run, type CommandContext } from '../command-context.ts';
import { CliError, UsageError, exitCodes } from '../exit-codes.ts';
import { readVerifierKey } from './audit-ledger.ts';
import { addDossierGet } from './dossier-get.ts';

/** --key: the verifier key text, `@path` to a file holding it, or a path (as `audit verify`). */
export function dossierKey(value: string): string {
  if (value.startsWith('@')) {
    try {
      return readFileSync(value.slice(1), 'utf8').trim();
    } catch {
      throw new UsageError(`--key: cannot read ${value.slice(1)}`);
    }
  }
  return readVerifierKey(value);
}

function readZip(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new CliError(
      `cannot read ${file}: ${(e as Error).message}`,
      exitCodes.failure,
      'CLI_FILE_UNREADABLE',
    );
  }
}

function printResult(ctx: CommandContext, file: string, result: DossierVerifyResult): void {
  ctx.out.result(result, () => {
    if (!result.ok) {
      const f = result.failure;
      return `FAILED ${f.code}${f.path ? ` (${f.path})` : ''}: ${f.message}`;
    }
    const m = result.manifest;
    return [
      `OK ${file}: signed by ${m.ledger.origin} key ${m.ledger.keyId}`,
      `subject     ${m.subject}`,
      `created     ${m.createdAt}`,
      `files       ${result.files} (every SHA-256 matches the signed manifest)`,
      `entries     ${result.entries} ledger entries, each proven in the checkpoint`,
      `checkpoint  size ${result.checkpoint.size}, root ${result.checkpoint.rootHash}`,
    ].join('\n');
  });
  if (!result.ok) {
    // Already printed in full above; the error line says why the exit code is 1.
    throw new CliError(
      `dossier verification failed: ${result.failure.code}${result.failure.path ? ` at ${result.failure.path}` : ''}`,
      exitCodes.failure,
      result.failure.code,
    );
  }
}

export function registerDossierCommands(program: Command): Command {
  const dossier = program
    .command('dossier')
    .description('Change dossiers: one signed bundle of evidence per deployment');
  dossier
    .command('verify')
    .description(
      'Verify a dossier offline (no server, no account): every file hash, the manifest signature, the checkpoint signature and each inclusion proof; names the first thing that fails',
    )
    .argument('<file>', 'the dossier zip')
    .requiredOption('--key <vkey>', 'trusted ledger verifier key, @FILE, or a file holding it')
    .action(
      run(async (ctx, file: string, opts: { key: string }) => {
        const verifierKey = dossierKey(opts.key);
        printResult(ctx, file, verifyDossier(readZip(file), { verifierKey }));
      }),
    );
  addDossierGet(dossier);
  return dossier;
}
