// `custody attestation`: read a run's signed attestations, and verify a bundle offline. Offline
// verification is @custody/ledger's verifyAttestationBundle: no server, no database.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  LedgerError,
  predicateTypeAliases,
  resolvePredicateType,
  verifyAttestationBundle,
} from '@custody/ledger';
import { ApiError, type ApiClient, type ApiErrorBody } from '../client.ts';
import { run, type CommandContext } from '../command-context.ts';
import { CliError, UsageError, exitCodes } from '../exit-codes.ts';
import { table } from '../output.ts';

const enc = encodeURIComponent;

export interface AttestationView {
  id: string;
  run: string;
  job: string;
  predicateType: string;
  subject: { name: string; digest: string }[];
  digest: string;
  payloadDigest: string;
  createdAt: string;
}

export interface AttestationVerifyReport {
  ok: boolean;
  code?: string;
  message: string;
  predicateType?: string;
  subject?: { name: string; digest: string };
  keyId?: string;
  artifact: { path: string; digest: string };
}

// The first short name of each predicate type, for tables (`slsaprovenance1`, `cyclonedx`…).
function shortType(uri: string): string {
  return Object.entries(predicateTypeAliases).find(([, u]) => u === uri)?.[0] ?? uri;
}

function readInput(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

// Streams, so a large artifact is not held in memory.
async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (err) {
    throw new UsageError(`cannot read artifact ${file}: ${(err as Error).message}`);
  }
  return hash.digest('hex');
}

// The body as it was sent (a bundle's bytes are what its digest names), or the server's error.
async function rawText(
  client: ApiClient,
  path: string,
  options: { auth?: boolean } = {},
): Promise<string> {
  const res = await client.raw('GET', path, options);
  const text = await res.text();
  if (!res.ok) {
    let body: ApiErrorBody = {};
    try {
      body = JSON.parse(text) as ApiErrorBody;
    } catch {
      // Not an error document: the status alone says it.
    }
    throw new ApiError(res.status, body);
  }
  return text;
}

function written(ctx: CommandContext, file: string, text: string, what: string): void {
  writeFileSync(file, text);
  const digest = `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
  ctx.out.result({ file, digest }, () => `wrote ${what} to ${file} (${digest})`);
}

/** `custody attestation verify`: offline, with the ledger package's verifier. */
export async function verifyBundleFile(options: {
  bundle: string;
  key: string;
  artifact: string;
  type?: string | undefined;
}): Promise<AttestationVerifyReport> {
  let expected: string | undefined;
  if (options.type !== undefined) {
    try {
      expected = resolvePredicateType(options.type);
    } catch (err) {
      throw new UsageError(`--type: ${(err as Error).message}`);
    }
  }
  const bundle = readInput(options.bundle, 'bundle').toString('utf8');
  const key = readInput(options.key, 'key').toString('utf8');
  const sha256 = await sha256File(options.artifact);
  const artifact = { path: options.artifact, digest: `sha256:${sha256}` };
  try {
    const v = verifyAttestationBundle({
      bundle,
      publicKeyPem: key,
      artifact: { sha256 },
      ...(expected !== undefined ? { expectedPredicateType: expected } : {}),
    });
    return {
      ok: true,
      message: `${options.artifact} (${artifact.digest}) is subject ${v.subject.name} of a ${v.statement.predicateType} statement signed by key ${v.keyId}`,
      predicateType: v.statement.predicateType,
      subject: { name: v.subject.name, digest: `sha256:${v.subject.digest.sha256!}` },
      keyId: v.keyId,
      artifact,
    };
  } catch (err) {
    if (!(err instanceof LedgerError)) throw err;
    return { ok: false, code: err.code, message: err.message, artifact };
  }
}

export function registerAttestationCommands(program: Command): Command {
  const attestation = program
    .command('attestation')
    .description(
      'Signed attestations of runs (SLSA provenance, test results, SBOMs) as Sigstore bundles',
    );
  attestation
    .command('list')
    .description("List a run's attestations, oldest first")
    .argument('<run>', 'run id')
    .action(
      run(async (ctx, runId: string) => {
        const { items } = await ctx
          .client()
          .request<{ items: AttestationView[] }>('GET', `/api/v1/runs/${enc(runId)}/attestations`);
        ctx.out.result(items, () =>
          items.length === 0
            ? `no attestations for run ${runId}`
            : table([
                ['ID', 'JOB', 'TYPE', 'SUBJECT', 'CREATED'],
                ...items.map((a) => [
                  a.id,
                  a.job,
                  shortType(a.predicateType),
                  a.subject.length > 1
                    ? `${a.subject[0]!.name} (+${a.subject.length - 1} more)`
                    : (a.subject[0]?.name ?? ''),
                  a.createdAt,
                ]),
              ]),
        );
      }),
    );
  attestation
    .command('get')
    .description('Print an attestation bundle (Sigstore bundle v0.3 JSON), or write it to a file')
    .argument('<id>', 'attestation id (att_…)')
    .option('--out <file>', 'write the bundle to this file, byte for byte')
    .action(
      run(async (ctx, id: string, opts: { out?: string }) => {
        const bundle = await rawText(ctx.client(), `/api/v1/attestations/${enc(id)}`);
        if (opts.out) written(ctx, opts.out, bundle, `bundle ${id}`);
        // The bundle is JSON already, and its bytes are what its digest names: as it is (a
        // newline only for a terminal).
        else process.stdout.write(process.stdout.isTTY ? `${bundle}\n` : bundle);
      }),
    );
  attestation
    .command('public-key')
    .description(
      'Print the public key (PEM) that verifies every attestation, or write it to a file',
    )
    .option('--out <file>', 'write the PEM to this file (for cosign --key)')
    .action(
      run(async (ctx, opts: { out?: string }) => {
        // A public route: no token needed.
        const pem = await rawText(ctx.client(), '/api/v1/attestations/public-key', {
          auth: false,
        });
        if (opts.out) written(ctx, opts.out, pem, 'the attestation public key');
        else ctx.out.result({ publicKey: pem }, () => pem);
      }),
    );
  attestation
    .command('verify')
    .description(
      "Verify a bundle offline: the artifact's SHA-256 is a subject of the statement, signed by the key",
    )
    .argument('<bundle>', 'the bundle file (from `custody attestation get ID --out FILE`)')
    .requiredOption(
      '--key <file>',
      'the trusted public key, PEM (`custody attestation public-key`)',
    )
    .requiredOption('--artifact <file>', 'the artifact the statement must name')
    .option(
      '--type <type>',
      `the predicate type the statement must have: a URI or one of ${Object.keys(predicateTypeAliases).join(', ')}`,
    )
    .action(
      run(async (ctx, file: string, opts: { key: string; artifact: string; type?: string }) => {
        const report = await verifyBundleFile({ bundle: file, ...opts });
        ctx.out.result(report, () =>
          report.ok ? `Verified OK: ${report.message}` : `FAILED ${report.code}: ${report.message}`,
        );
        if (!report.ok)
          throw new CliError(
            `verification failed: ${report.message}`,
            exitCodes.failure,
            report.code,
          );
      }),
    );
  return attestation;
}
