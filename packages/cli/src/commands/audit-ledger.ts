// Ledger commands: proofs, exports and verification. Offline verification of an export uses
// @custody/ledger only: no server, no database.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  CHECKPOINT_PATH,
  VERIFIER_KEY_PATH,
  assertInclusion,
  decodeEntryBundle,
  entryBundleCoordsForSize,
  entryBundlePath,
  fromBase64,
  leafHash,
  openCheckpoint,
  parseCheckpoint,
  parseNote,
  tileCoordsForSize,
  tilePath,
  toBase64,
  utf8Decode,
  verifyCosignedCheckpoint,
  verifyConsistencyBetween,
  verifyExport,
  type ExportReader,
  type VerifyResult,
} from '@custody/ledger';
import { ApiError, type ApiClient } from '../client.ts';
import type { CommandContext } from '../command-context.ts';
import { CliError, UsageError, exitCodes } from '../exit-codes.ts';

const TILE_WIDTH = 256;

export interface CheckpointView {
  size: number;
  rootHash: string;
  note: string;
  origin: string;
}

/** A verifier key given as key text or as a file holding it. */
export function readVerifierKey(value: string): string {
  if (existsSync(value)) return readFileSync(value, 'utf8').trim();
  if (/^[^\s+]+\+[0-9a-f]{8}\+/.test(value)) return value.trim();
  throw new UsageError(`--key: ${value} is neither a verifier key nor a readable file`);
}

/** The index an audit entry records about itself (its `seq`), to pin swapped entries. */
export function entrySeq(data: Uint8Array): number | undefined {
  const v = (JSON.parse(utf8Decode(data)) as { seq?: unknown }).seq;
  return typeof v === 'number' ? v : undefined;
}

export interface VerifyReport {
  ok: boolean;
  code?: string;
  message: string;
  /** Size of the newest checkpoint whose entries all verified. */
  size?: number;
  firstBadSeq?: number;
  badRange?: { from: number; to: number };
  checkpoints?: number;
}

export function reportOf(result: VerifyResult, what: string): VerifyReport {
  if (result.ok) {
    return {
      ok: true,
      size: result.size,
      checkpoints: result.checkpoints.length,
      message: `${what}: ${result.size} entries verified against ${result.checkpoints.length} signed checkpoint(s)`,
    };
  }
  return {
    ok: false,
    code: result.code,
    message: result.message,
    ...(result.firstBadIndex !== undefined ? { firstBadSeq: result.firstBadIndex } : {}),
    ...(result.badRange ? { badRange: result.badRange } : {}),
  };
}

/** Prints the report and fails (exit 1) unless it is ok. */
export function finish(ctx: CommandContext, report: VerifyReport): void {
  ctx.out.result(report, () => {
    if (report.ok) return `OK ${report.message}`;
    const where =
      report.firstBadSeq !== undefined
        ? `\nfirst bad sequence number: ${report.firstBadSeq}${report.badRange && report.badRange.to - report.badRange.from > 1 ? ` (the first bad entry is in [${report.badRange.from}, ${report.badRange.to}))` : ''}`
        : '';
    return `FAILED ${report.code}: ${report.message}${where}`;
  });
  if (!report.ok) {
    throw new CliError(
      report.firstBadSeq !== undefined
        ? `verification failed at sequence number ${report.firstBadSeq}: ${report.message}`
        : `verification failed: ${report.message}`,
      exitCodes.failure,
      report.code,
    );
  }
}

function directoryReader(dir: string): ExportReader {
  const root = path.resolve(dir);
  return (p) => {
    const file = path.join(root, ...p.split('/'));
    if (!file.startsWith(root + path.sep)) return undefined;
    try {
      return new Uint8Array(readFileSync(file));
    } catch {
      return undefined;
    }
  };
}

/** `custody audit verify DIR --key VKEY`: an export, offline. */
export async function verifyDirectory(dir: string, key: string): Promise<VerifyReport> {
  if (!existsSync(path.join(dir, CHECKPOINT_PATH)))
    throw new UsageError(`${dir} is not a ledger export (no ${CHECKPOINT_PATH} file)`);
  const result = await verifyExport(directoryReader(dir), key, { entryIndex: entrySeq });
  return reportOf(result, `export ${dir}`);
}

function httpReader(client: ApiClient, checkpoint: string): ExportReader {
  return async (p) => {
    if (p === CHECKPOINT_PATH) return new TextEncoder().encode(checkpoint);
    if (!p.startsWith('tile/')) return undefined;
    const res = await client.raw('GET', `/api/v1/ledger/tlog/${p}`);
    if (res.status === 404) return undefined;
    if (!res.ok) {
      const body = await res.text();
      throw new CliError(`GET ${p}: HTTP ${res.status} ${body.slice(0, 200)}`);
    }
    return new Uint8Array(await res.arrayBuffer());
  };
}

async function checkpointPage(
  client: ApiClient,
  after: number | undefined,
  limit: number,
): Promise<{ checkpoints: CheckpointView[]; next: number | null }> {
  return client.request('GET', '/api/v1/ledger/checkpoints', { query: { after, limit } });
}

/** The first checkpoint of size >= `size`, if any. */
async function checkpointCovering(
  client: ApiClient,
  size: number,
): Promise<CheckpointView | undefined> {
  return (await checkpointPage(client, size > 0 ? size - 1 : undefined, 1)).checkpoints[0];
}

/**
 * The checkpoints to check: all of them when there are at most `max`, else `max` of them
 * spread evenly over the log (the newest always included). A log signs about one checkpoint
 * per second while it is busy, so a year holds millions; every one of them proves the same
 * prefix property, and the spread keeps a changed entry bracketed to 1/max of the log.
 */
async function checkpointsToCheck(client: ApiClient, max: number): Promise<CheckpointView[]> {
  const first = await checkpointPage(client, undefined, max + 1);
  if (first.next === null && first.checkpoints.length <= max) return first.checkpoints;
  const latest = await client.request<CheckpointView>('GET', '/api/v1/ledger/checkpoint');
  const bySize = new Map<number, CheckpointView>([[latest.size, latest]]);
  for (let i = 1; i < max; i++) {
    const cp = await checkpointCovering(client, Math.floor((latest.size * i) / max));
    if (cp) bySize.set(cp.size, cp);
  }
  return [...bySize.values()].sort((x, y) => x.size - y.size);
}

function signedBy(note: string, key: string): boolean {
  try {
    openCheckpoint(note, key);
    return true;
  } catch {
    return false;
  }
}

/**
 * `custody audit verify --server URL`: the live log against every signed checkpoint the
 * server stored. Entries come from the current audit rows (entry bundles), tile hashes from
 * the ledger's own tables, roots from the signatures: a row changed, deleted, inserted or
 * reordered behind the application's back no longer hashes to what was signed.
 */
export async function verifyServer(
  client: ApiClient,
  key: string,
  maxCheckpoints = 256,
  /** More signed checkpoints the live log must match (a witnessed one). */
  extra: readonly string[] = [],
): Promise<VerifyReport> {
  const checkpoints = await checkpointsToCheck(client, maxCheckpoints);
  if (checkpoints.length === 0)
    return {
      ok: false,
      code: 'LEDGER_CHECKPOINT_INVALID',
      message: 'the server has no checkpoint',
    };
  // Checkpoints not signed by the trusted key prove nothing; entries beyond the last trusted
  // one are unproven, and the first of them is where verification must stop.
  let firstUntrusted = checkpoints.find((c) => !signedBy(c.note, key));
  const trusted = checkpoints.filter(
    (c) => firstUntrusted === undefined || c.size < firstUntrusted.size,
  );
  // Narrow down, by bisection over the checkpoints in between, where the trusted ones end.
  if (firstUntrusted) {
    let lo = trusted.at(-1)?.size ?? -1;
    for (;;) {
      const mid = Math.floor((lo + 1 + firstUntrusted.size) / 2);
      const cp = await checkpointCovering(client, mid);
      if (!cp || cp.size >= firstUntrusted.size || cp.size <= lo) {
        const below = await checkpointCovering(client, lo + 1);
        if (!below || below.size >= firstUntrusted.size) break;
        if (signedBy(below.note, key)) {
          trusted.push(below);
          lo = below.size;
        } else firstUntrusted = below;
        continue;
      }
      if (signedBy(cp.note, key)) {
        trusted.push(cp);
        lo = cp.size;
      } else firstUntrusted = cp;
    }
  }
  if (trusted.length === 0) {
    return {
      ok: false,
      code: 'LEDGER_CHECKPOINT_SIGNATURE_INVALID',
      message: `no checkpoint is signed by the trusted key (the first, of size ${firstUntrusted!.size}, is not)`,
      firstBadSeq: 0,
      badRange: { from: 0, to: firstUntrusted!.size },
    };
  }
  const newest = trusted[trusted.length - 1]!;
  const result = await verifyExport(httpReader(client, newest.note), key, {
    entryIndex: entrySeq,
    moreCheckpoints: [...trusted.slice(0, -1).map((c) => c.note), ...extra],
  });
  const report = reportOf(result, `server ${client.server}`);
  if (report.ok && firstUntrusted) {
    return {
      ok: false,
      code: 'LEDGER_CHECKPOINT_SIGNATURE_INVALID',
      message: `the checkpoint of size ${firstUntrusted.size} is not signed by the trusted key: entries from ${newest.size} on are not proven (history may have been rewritten and re-signed)`,
      size: newest.size,
      firstBadSeq: newest.size,
      badRange: { from: newest.size, to: firstUntrusted.size },
    };
  }
  return report;
}

/** `custody audit verify --since FILE`: the current log extends a checkpoint saved earlier. */
export async function verifySince(
  client: ApiClient,
  file: string,
  key: string,
): Promise<VerifyReport> {
  let old: string;
  try {
    old = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--since: cannot read ${file}: ${(err as Error).message}`);
  }
  let oldSize: number;
  try {
    oldSize = parseCheckpoint(parseNote(old).text).size;
  } catch (err) {
    throw new UsageError(`--since: ${file} is not a signed checkpoint: ${(err as Error).message}`);
  }
  const current = await client.request<CheckpointView>('GET', '/api/v1/ledger/checkpoint');
  if (current.size < oldSize) {
    return {
      ok: false,
      code: 'LEDGER_CONSISTENCY_INVALID',
      message: `the server's checkpoint (size ${current.size}) is smaller than the saved one (size ${oldSize}): the log was cut`,
      firstBadSeq: current.size,
    };
  }
  const proof = await client.request<{ proof: string[] }>(
    'GET',
    '/api/v1/ledger/proofs/consistency',
    { query: { from: oldSize, to: current.size } },
  );
  const result = verifyConsistencyBetween(old, current.note, proof.proof, key);
  return result.ok
    ? {
        ok: true,
        size: current.size,
        checkpoints: 2,
        message: `the log at size ${current.size} extends the saved checkpoint of size ${oldSize}`,
      }
    : reportOf(result, 'consistency');
}

export interface WitnessedCheckpoint {
  readonly note: string;
  readonly size: number;
  readonly witnesses: readonly { name: string; verifierKey: string; timestamp: number }[];
}

/**
 * `custody audit verify --witnesses N --witness-key VKEY...`: the server's newest checkpoint
 * cosigned by witnesses, checked here: signed by the log key and cosigned by at least N of the
 * witness keys *you* trust. Honest witnesses cosign only checkpoints consistent with every one
 * they saw before, so a history rewritten and re-signed with the log key cannot reach N.
 */
export async function verifyWitnessed(
  client: ApiClient,
  key: string,
  witnessKeys: readonly string[],
  quorum: number,
): Promise<{ report: VerifyReport; checkpoint?: WitnessedCheckpoint }> {
  let cp: { note: string; size: number };
  try {
    cp = await client.request('GET', '/api/v1/ledger/checkpoints/cosigned', {
      query: { witnesses: quorum },
    });
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 'LEDGER_COSIGNED_CHECKPOINT_NOT_FOUND')
      throw err;
    return {
      report: {
        ok: false,
        code: 'LEDGER_WITNESS_QUORUM_NOT_MET',
        message: `the server has no checkpoint cosigned by ${quorum} witness(es)`,
      },
    };
  }
  const result = verifyCosignedCheckpoint(cp.note, { logKeys: key, witnessKeys, quorum });
  if (!result.ok) return { report: { ok: false, code: result.code, message: result.message } };
  const witnesses = result.cosignatures.map((c) => ({
    name: c.name,
    verifierKey: c.verifierKey,
    timestamp: c.timestamp,
  }));
  return {
    report: {
      ok: true,
      size: result.checkpoint.size,
      checkpoints: 1,
      message: `the checkpoint of size ${result.checkpoint.size} is cosigned by ${witnesses.length} trusted witness(es) (${witnesses.map((w) => `${w.name} at ${new Date(w.timestamp * 1000).toISOString()}`).join(', ')})`,
    },
    checkpoint: { note: cp.note, size: result.checkpoint.size, witnesses },
  };
}

/** The verifier key to trust: --key, else the server's (trust on first use, with a warning). */
export async function trustedKey(
  ctx: CommandContext,
  key: string | undefined,
  client: () => ApiClient,
): Promise<string> {
  if (key) return readVerifierKey(key);
  const k = await client().request<{ verifierKey: string }>('GET', '/api/v1/ledger/key');
  ctx.out.info(
    `warning: trusting the verifier key the server presents (${k.verifierKey}); pin it with --key`,
  );
  return k.verifierKey;
}

/** `custody audit export --out DIR`: tiles, entry bundles, checkpoint and verifier key. */
export async function exportLedger(
  client: ApiClient,
  out: string,
): Promise<{ dir: string; size: number; files: number; verifierKey: string }> {
  const note = await (async () => {
    const res = await client.raw('GET', '/api/v1/ledger/tlog/checkpoint');
    if (!res.ok)
      throw new CliError(`cannot read the checkpoint: HTTP ${res.status} ${await res.text()}`);
    return res.text();
  })();
  const { verifierKey } = await client.request<{ verifierKey: string }>(
    'GET',
    '/api/v1/ledger/key',
  );
  const size = parseCheckpoint(parseNote(note).text).size;
  const files: { path: string; bytes: Uint8Array }[] = [
    { path: CHECKPOINT_PATH, bytes: new TextEncoder().encode(note) },
    { path: VERIFIER_KEY_PATH, bytes: new TextEncoder().encode(verifierKey + '\n') },
  ];
  const fetchFile = async (p: string): Promise<Uint8Array> => {
    const res = await client.raw('GET', `/api/v1/ledger/tlog/${p}`);
    if (!res.ok) throw new CliError(`GET ${p}: HTTP ${res.status} ${await res.text()}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  for (const t of tileCoordsForSize(size)) {
    const p = tilePath(t.level, t.index, t.width);
    files.push({ path: p, bytes: await fetchFile(p) });
  }
  for (const b of entryBundleCoordsForSize(size)) {
    const p = entryBundlePath(b.index, b.width);
    files.push({ path: p, bytes: await fetchFile(p) });
  }
  const dir = path.resolve(out);
  for (const f of files) {
    const file = path.join(dir, ...f.path.split('/'));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, f.bytes);
  }
  return { dir, size, files: files.length, verifierKey };
}

/** `custody audit proof SEQ`: inclusion of one entry in a signed checkpoint, checked here. */
export async function proveEntry(
  client: ApiClient,
  seq: number,
  key: string,
  size: number | undefined,
): Promise<{
  seq: number;
  size: number;
  leafHash: string;
  proof: string[];
  checkpoint: string;
  entry: unknown;
  verified: true;
}> {
  const p = await client.request<{
    seq: number;
    size: number;
    leafHash: string;
    proof: string[];
    checkpoint: string | null;
  }>('GET', '/api/v1/ledger/proofs/inclusion', { query: { seq, size } });
  const note =
    p.checkpoint ?? (await client.request<CheckpointView>('GET', '/api/v1/ledger/checkpoint')).note;
  const cp = openCheckpoint(note, key).checkpoint;
  if (cp.size !== p.size)
    throw new CliError(`the proof is for size ${p.size}, the checkpoint for ${cp.size}`);
  // The entry's exact leaf bytes come from its entry bundle; its hash must be the proven leaf.
  const index = Math.floor(seq / TILE_WIDTH);
  const width = Math.min(TILE_WIDTH, p.size - index * TILE_WIDTH);
  const res = await client.raw('GET', `/api/v1/ledger/tlog/${entryBundlePath(index, width)}`);
  if (!res.ok) throw new CliError(`cannot read the entry bundle: HTTP ${res.status}`);
  const data = decodeEntryBundle(new Uint8Array(await res.arrayBuffer()))[seq % TILE_WIDTH];
  if (!data)
    throw new CliError(`entry ${seq} is missing from its entry bundle`, 1, 'LEDGER_ENTRY_MISSING');
  const leaf = leafHash(data);
  if (toBase64(leaf) !== p.leafHash)
    throw new CliError(
      `entry ${seq} was changed: its hash is not the leaf the ledger proves`,
      exitCodes.failure,
      'LEDGER_LEAF_HASH_MISMATCH',
    );
  try {
    assertInclusion(leaf, seq, p.size, p.proof.map(fromBase64), cp.rootHash);
  } catch (err) {
    throw new CliError(
      `inclusion proof for entry ${seq} does not verify: ${(err as Error).message}`,
      exitCodes.failure,
      'LEDGER_PROOF_INVALID',
    );
  }
  return {
    seq,
    size: p.size,
    leafHash: p.leafHash,
    proof: p.proof,
    checkpoint: note,
    entry: JSON.parse(utf8Decode(data)),
    verified: true,
  };
}
