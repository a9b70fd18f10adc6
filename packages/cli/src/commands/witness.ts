// `custody witness`: a minimal C2SP tlog-witness (c2sp.org/tlog-witness) for tests and small
// installations. It keeps, per log origin, the latest checkpoint it cosigned in its own data
// directory, verifies the log's signature and the consistency proof of every add-checkpoint
// request, refuses older or inconsistent checkpoints with the spec's status codes, and
// cosigns with its own Ed25519 key (tlog-cosignature/v1). The protocol checks live in
// @custody/ledger; this file is HTTP and files.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Command } from 'commander';
import {
  checkAddCheckpoint,
  formatNote,
  fromBase64,
  generateCosignerKey,
  originHash,
  parseCosignerKey,
  parseVerifierKey,
  signatureLine,
  toBase64,
  type Cosigner,
  type NoteVerifier,
  type WitnessedState,
} from '@custody/ledger';
import { run } from '../command-context.ts';
import { CliError, UsageError } from '../exit-codes.ts';
import { readVerifierKey } from './audit-ledger.ts';

export interface WitnessOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly host?: string;
  /** Verifier keys of the logs this witness cosigns (their key names are the origins). */
  readonly logKeys: readonly string[];
  /** Key name for a new witness key (default `custody-witness/<8 hex>`). */
  readonly name?: string;
  /** Where refusals are reported (default: stderr). */
  readonly log?: (line: string) => void;
}

export interface RunningWitness {
  readonly url: string;
  readonly verifierKey: string;
  close(): Promise<void>;
}

interface StoredLog {
  origin: string;
  size: number;
  rootHash: string;
  /** The checkpoint with the log signatures the witness verified and its own cosignature. */
  checkpoint: string;
  updatedAt: string;
}

const MAX_BODY = 64 * 1024;

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

function loadOrCreateKey(dataDir: string, name: string | undefined): Cosigner {
  const file = path.join(dataDir, 'witness.key');
  if (!existsSync(file)) {
    const key = generateCosignerKey(name ?? `custody-witness/${randomBytes(4).toString('hex')}`);
    writeFileSync(file, key.signerKey + '\n', { mode: 0o600, flag: 'wx' });
  }
  return parseCosignerKey(readFileSync(file, 'utf8').trim());
}

// One witness per data directory: two processes would each check and persist on their own.
function lock(dataDir: string): () => void {
  const file = path.join(dataDir, 'witness.lock');
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    let alive = false;
    try {
      if (pid > 0) {
        process.kill(pid, 0);
        alive = pid !== process.pid;
      }
    } catch {
      alive = false;
    }
    if (alive) throw new CliError(`another witness (pid ${pid}) uses ${dataDir}`);
    rmSync(file, { force: true });
  }
  writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
  return () => rmSync(file, { force: true });
}

export async function startWitness(options: WitnessOptions): Promise<RunningWitness> {
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(path.join(dataDir, 'logs'), { recursive: true, mode: 0o700 });
  const unlock = lock(dataDir);
  const key = loadOrCreateKey(dataDir, options.name);
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const logs = new Map<string, NoteVerifier[]>();
  for (const k of options.logKeys) {
    const v = parseVerifierKey(k);
    logs.set(v.name, [...(logs.get(v.name) ?? []), v]);
  }
  const stateFile = (origin: string) => path.join(dataDir, 'logs', `${originHash(origin)}.json`);
  const latest = (origin: string): (WitnessedState & { stored: StoredLog }) | undefined => {
    const file = stateFile(origin);
    if (!existsSync(file)) return undefined;
    const stored = JSON.parse(readFileSync(file, 'utf8')) as StoredLog;
    return { size: stored.size, rootHash: fromBase64(stored.rootHash), stored };
  };

  // Checking the old size and persisting the new checkpoint happen under one lock, so two
  // requests can never roll the state back (the race the spec describes).
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(work: () => T): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => {});
    return next;
  };

  const addCheckpoint = (body: Buffer) =>
    serialized(() => {
      const decision = checkAddCheckpoint(body, {
        logKeys: (origin) => logs.get(origin),
        latest,
      });
      if (decision.status !== 200) return decision;
      const cp = decision.checkpoint;
      const sig = key.cosign(decision.text, Math.floor(Date.now() / 1000));
      const stored: StoredLog = {
        origin: cp.origin,
        size: cp.size,
        rootHash: toBase64(cp.rootHash),
        checkpoint: formatNote({ text: decision.text, signatures: [...decision.verified, sig] }),
        updatedAt: new Date().toISOString(),
      };
      writeAtomically(stateFile(cp.origin), JSON.stringify(stored, null, 2) + '\n');
      return { status: 200 as const, body: signatureLine(sig) };
    });

  const server = http.createServer((req, res) => {
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const url = new URL(req.url ?? '/', 'http://witness');
    const monitor = /^\/([0-9a-f]{64})\/checkpoint$/.exec(url.pathname);
    if (req.method === 'GET' && monitor) {
      const file = path.join(dataDir, 'logs', `${monitor[1]}.json`);
      if (!existsSync(file)) return send(404, 'never cosigned a checkpoint of that log\n');
      return send(200, (JSON.parse(readFileSync(file, 'utf8')) as StoredLog).checkpoint);
    }
    if (url.pathname !== '/add-checkpoint') return send(404, 'not found\n');
    if (req.method !== 'POST') return send(405, 'use POST\n');
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (d: Buffer) => {
      length += d.length;
      if (length > MAX_BODY) req.destroy();
      else chunks.push(d);
    });
    req.on('end', () => {
      addCheckpoint(Buffer.concat(chunks)).then(
        (decision) => {
          if (decision.status === 200) return send(200, decision.body);
          if (decision.status !== 400)
            log(`witness: refused (${decision.status}): ${decision.message}`);
          if (decision.status === 409)
            return send(409, `${decision.latestSize}\n`, 'text/x.tlog.size');
          send(decision.status, decision.message + '\n');
        },
        (err: Error) => {
          log(`witness: error: ${err.message}`);
          send(500, 'internal error\n');
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    verifierKey: key.verifierKey,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      unlock();
    },
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerWitnessCommands(program: Command): void {
  program
    .command('witness')
    .description(
      'Run a minimal C2SP tlog-witness: verifies and cosigns the checkpoints of the given logs, refusing any that do not extend what it saw (prints its verifier key)',
    )
    .requiredOption('--data-dir <dir>', 'where the witness key and the state of each log live')
    .option('--port <port>', 'HTTP port (0 picks a free one)', '7490')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option(
      '--log-key <vkey>',
      "a log's verifier key (or a file holding it); repeat for several logs",
      collect,
    )
    .option(
      '--name <name>',
      'key name of a new witness key (default custody-witness/ and 8 random hex digits)',
    )
    .action(
      run(
        async (
          ctx,
          opts: { dataDir: string; port: string; host: string; logKey?: string[]; name?: string },
        ) => {
          if (!opts.logKey?.length)
            throw new UsageError('give the verifier key of at least one log with --log-key');
          if (!/^\d+$/.test(opts.port) || Number(opts.port) > 65535)
            throw new UsageError(`--port must be a number from 0 to 65535, not ${opts.port}`);
          let logKeys: string[];
          try {
            logKeys = opts.logKey.map((k) => {
              const text = readVerifierKey(k);
              parseVerifierKey(text);
              return text;
            });
          } catch (err) {
            throw new UsageError(`--log-key: ${(err as Error).message}`);
          }
          const witness = await startWitness({
            dataDir: opts.dataDir,
            port: Number(opts.port),
            host: opts.host,
            logKeys,
            ...(opts.name ? { name: opts.name } : {}),
          });
          ctx.out.result(
            { url: witness.url, verifierKey: witness.verifierKey },
            () =>
              `witness verifier key: ${witness.verifierKey}\nwitness listening at ${witness.url}\nconfigure the log with: witnesses: [{ url: ${witness.url}, verifierKey: ${witness.verifierKey} }]`,
          );
          const stop = (): void => {
            void witness.close().finally(() => process.exit(0));
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          await new Promise(() => {});
        },
      ),
    );
}
