import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { readStdin, run } from '../command-context.ts';
import { UsageError } from '../exit-codes.ts';
import { table } from '../output.ts';
import { allOption, fetchList, hintMore, limitOption, type PageFlags } from '../pagination.ts';
import {
  exportLedger,
  finish,
  proveEntry,
  readVerifierKey,
  trustedKey,
  verifyDirectory,
  verifyServer,
  verifySince,
  verifyWitnessed,
  type CheckpointView,
  type VerifyReport,
} from './audit-ledger.ts';

export interface AuditEntryView {
  seq: number;
  time: string;
  actor: { type: string; name: string; authMethod: string; ip: string | null };
  action: string;
  resource: { type: string; id: string };
  outcome: string;
  requestId: string | null;
  details: Record<string, unknown>;
}

export function registerAuditCommands(program: Command): Command {
  const audit = program.command('audit').description('Read and verify the audit trail');
  audit
    .command('log')
    .description('List audit entries, oldest first')
    .option('--actor <name>', 'actor name')
    .option('--action <action>', 'action, or a prefix ending in *')
    .option('--resource-type <type>', 'resource type')
    .option('--resource <id>', 'resource id')
    .option('--outcome <outcome>', 'succeeded, denied or failed')
    .option('--since <time>', 'ISO 8601 time (inclusive)')
    .option('--until <time>', 'ISO 8601 time (exclusive)')
    .option('--after <seq>', 'entries after this sequence number')
    .option('--limit <n>', 'at most this many entries per page (up to 1000)', '100')
    .option(...allOption)
    .action(
      run(async (ctx, opts: Record<string, string | undefined> & PageFlags) => {
        const listed = await fetchList<AuditEntryView>(ctx.client(), '/api/v1/audit/entries', {
          query: {
            actor: opts.actor,
            action: opts.action,
            resourceType: opts.resourceType,
            resourceId: opts.resource,
            outcome: opts.outcome,
            since: opts.since,
            until: opts.until,
          },
          flags: opts,
          field: 'entries',
          cursorParam: 'after',
          start: opts.after,
        });
        const entries = listed.items;
        if (listed.next !== null)
          ctx.out.info(`(more entries exist: add --all, or --after ${String(listed.next)})`);
        ctx.out.result(entries, () =>
          table([
            ['SEQ', 'TIME', 'ACTOR', 'ACTION', 'RESOURCE', 'OUTCOME'],
            ...entries.map((e) => [
              String(e.seq),
              e.time,
              `${e.actor.type}:${e.actor.name}`,
              e.action,
              `${e.resource.type}/${e.resource.id}`,
              e.outcome,
            ]),
          ]),
        );
      }),
    );
  audit
    .command('checkpoint')
    .description('Print the latest signed checkpoint (save it to check later with verify --since)')
    .option('--new', 'ask the server to sign a checkpoint covering every entry first')
    .option('--out <file>', 'also write the signed checkpoint note to this file')
    .action(
      run(async (ctx, opts: { new?: boolean; out?: string }) => {
        const cp = await ctx
          .client()
          .request<CheckpointView>(
            opts.new ? 'POST' : 'GET',
            opts.new ? '/api/v1/ledger/checkpoints' : '/api/v1/ledger/checkpoint',
          );
        if (opts.out) writeFileSync(opts.out, cp.note);
        ctx.out.result(cp, () => cp.note);
      }),
    );
  audit
    .command('proof')
    .description('Prove that entry SEQ is in the signed log (inclusion proof, checked locally)')
    .argument('<seq>', 'sequence number of the entry')
    .option('--size <n>', 'tree size to prove against (default: latest checkpoint)')
    .option('--key <vkey>', 'trusted verifier key, or a file holding it (default: the server key)')
    .action(
      run(async (ctx, seqText: string, opts: { size?: string; key?: string }) => {
        const seq = parseCount(seqText, 'SEQ');
        const size = opts.size === undefined ? undefined : parseCount(opts.size, '--size');
        const key = await trustedKey(ctx, opts.key, () => ctx.client());
        const proof = await proveEntry(ctx.client(), seq, key, size);
        ctx.out.result(
          proof,
          () =>
            `entry ${proof.seq} is in the log of size ${proof.size} (inclusion proof of ${proof.proof.length} hashes verified)\nleaf hash ${proof.leafHash}\n${proof.proof.map((p) => `  ${p}`).join('\n')}\n\n${proof.checkpoint}`,
        );
      }),
    );
  audit
    .command('export')
    .description(
      'Export the ledger as a tlog-tiles directory: checkpoint, verifier key, tiles, entry bundles',
    )
    .requiredOption('--out <dir>', 'directory to write')
    .action(
      run(async (ctx, opts: { out: string }) => {
        const result = await exportLedger(ctx.client(), opts.out);
        const check = await verifyDirectory(result.dir, result.verifierKey);
        ctx.out.result(
          { ...result, verified: check.ok },
          () =>
            `exported ${result.size} entries (${result.files} files) to ${result.dir}\nverify offline: custody audit verify ${opts.out} --key '${result.verifierKey}'`,
        );
        finish(ctx, { ...check, message: `export self-check: ${check.message}` });
      }),
    );
  audit
    .command('verify')
    .description(
      'Verify the ledger: an export directory offline (DIR --key), the live server (--server), or that the log extends a saved checkpoint (--since)',
    )
    .argument('[dir]', 'export directory to verify offline (needs --key; no server)')
    .option('--key <vkey>', 'trusted verifier key, or a file holding it')
    .option('--since <file>', 'a signed checkpoint saved earlier: prove the log extends it')
    .option(
      '--checkpoints <n>',
      'with the server: how many signed checkpoints to check, spread over the log',
      '256',
    )
    .option(
      '--witnesses <n>',
      'with the server: require a checkpoint cosigned by at least N of the --witness-key witnesses, and the live log to match it',
    )
    .option(
      '--witness-key <vkey>',
      'a witness verifier key you trust (or a file holding it); repeat for several',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .action(
      run(
        async (
          ctx,
          dir: string | undefined,
          opts: {
            key?: string;
            since?: string;
            checkpoints: string;
            witnesses?: string;
            witnessKey?: string[];
          },
        ) => {
          const witnessKeys = opts.witnessKey ?? [];
          const quorum =
            opts.witnesses === undefined ? 0 : parseCount(opts.witnesses, '--witnesses');
          if (opts.witnesses !== undefined && quorum < 1)
            throw new UsageError('--witnesses must be at least 1');
          if (quorum > witnessKeys.length)
            throw new UsageError(
              `--witnesses ${quorum} needs at least ${quorum} trusted --witness-key (got ${witnessKeys.length})`,
            );
          if (dir !== undefined) {
            if (!opts.key)
              throw new UsageError('verifying an export needs --key VKEY (the key you trust)');
            if (opts.since) throw new UsageError('--since checks the live server; do not give DIR');
            if (quorum) throw new UsageError('--witnesses checks the live server; do not give DIR');
            finish(ctx, await verifyDirectory(dir, readVerifierKey(opts.key)));
            return;
          }
          const key = await trustedKey(ctx, opts.key, () => ctx.client());
          const reports: VerifyReport[] = [];
          const witnessed: string[] = [];
          if (quorum) {
            const w = await verifyWitnessed(
              ctx.client(),
              key,
              witnessKeys.map(readVerifierKey),
              quorum,
            );
            reports.push(w.report);
            if (w.checkpoint) witnessed.push(w.checkpoint.note);
          }
          if (opts.since && reports.every((r) => r.ok))
            reports.push(await verifySince(ctx.client(), opts.since, key));
          if (reports.every((r) => r.ok))
            reports.push(
              await verifyServer(
                ctx.client(),
                key,
                parseCount(opts.checkpoints, '--checkpoints') || 1,
                witnessed,
              ),
            );
          const bad = reports.find((r) => !r.ok);
          finish(
            ctx,
            bad ?? {
              ...reports[reports.length - 1]!,
              message: reports.map((r) => r.message).join('; '),
            },
          );
        },
      ),
    );
  const streams = audit
    .command('stream')
    .description('SIEM destinations (AuditStream resources): delivery state and secrets');
  streams
    .command('list')
    .description('Destinations with their cursor, backlog and last error (never secrets)')
    .option(...limitOption)
    .option(...allOption)
    .action(
      run(async (ctx, opts: PageFlags) => {
        const listed = await fetchList<StreamView>(ctx.client(), '/api/v1/streams', {
          flags: opts,
          field: 'destinations',
        });
        const destinations = listed.items;
        hintMore(ctx.out, listed, 'destinations');
        ctx.out.result(destinations, () =>
          table([
            ['NAME', 'TYPE', 'NEXT SEQ', 'PENDING', 'SECRET', 'LAST ERROR'],
            ...destinations.map((d) => [
              d.name,
              d.type,
              String(d.nextSeq),
              String(d.pending),
              d.secretSet ? 'set' : '-',
              d.lastError ?? '',
            ]),
          ]),
        );
      }),
    );
  streams
    .command('set-secret')
    .description(
      "Set a destination's secret (webhook HMAC key or Splunk HEC token) from standard input; write-only",
    )
    .argument('<name>', 'AuditStream name')
    .action(
      run(async (ctx, name: string) => {
        const value = (await readStdin()).replace(/\r?\n$/, '');
        if (!value) throw new UsageError('pass the secret on standard input');
        await ctx.client().request('PUT', `/api/v1/streams/${encodeURIComponent(name)}/secret`, {
          json: { value },
        });
        ctx.out.result({ name, secretSet: true }, () => `secret set for ${name}`);
      }),
    );
  return audit;
}

interface StreamView {
  name: string;
  type: string;
  nextSeq: number;
  pending: number;
  secretSet: boolean;
  lastError: string | null;
}

function parseCount(text: string, what: string): number {
  if (!/^\d+$/.test(text))
    throw new UsageError(`${what} must be a non-negative integer, not ${text}`);
  return Number(text);
}
