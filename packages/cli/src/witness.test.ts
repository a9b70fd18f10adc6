import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  formatAddCheckpointRequest,
  generateCosignerKey,
  generateSignerKey,
  originHash,
  parseNote,
  parseSignerKey,
  signCheckpoint,
  verifyCosignedCheckpoint,
} from '@custody/ledger';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from './testing/cli-process.ts';
import {
  dropAppendOnlyTriggers,
  rebuildLedger,
  rehashRow,
  runCli,
  startLedgerFixture,
  type Dialect,
  type LedgerFixture,
} from './testing/ledger-fixture.ts';
import { startWitness, type RunningWitness } from './commands/witness.ts';

const dialects: Dialect[] = ['sqlite', 'postgres'];

interface Setup {
  f: LedgerFixture;
  witness: RunningWitness;
  witnessDir: string;
  logKey: string;
  keyFile: string;
}

// A log whose key exists before the server starts, so that a witness can be told about it
// first and the server configured with the witness.
async function setup(dialect: Dialect): Promise<Setup> {
  const dir = mkdtempSync(path.join(tmpdir(), 'custody-witnessed-'));
  const keyFile = path.join(dir, 'ledger.key');
  const key = generateSignerKey('witness.test/ledger/0001');
  writeFileSync(keyFile, key.signerKey + '\n', { mode: 0o600 });
  const witnessDir = path.join(dir, 'witness');
  const witness = await startWitness({
    dataDir: witnessDir,
    port: 0,
    logKeys: [key.verifierKey],
    log: () => {},
  });
  const f = await startLedgerFixture(dialect, {
    ledgerKeyFile: keyFile,
    witnesses: [{ url: witness.url, verifierKey: witness.verifierKey }],
  });
  return { f, witness, witnessDir, logKey: key.verifierKey, keyFile };
}

async function verify(s: Setup, ...extra: string[]) {
  const r = await runCli([
    ...s.f.flags,
    '-o',
    'json',
    'audit',
    'verify',
    '--key',
    s.logKey,
    ...extra,
  ]);
  return { ...r, report: r.stdout ? JSON.parse(r.stdout) : undefined };
}

for (const dialect of dialects) {
  describe(`witnesses: custody witness and audit verify --witnesses [${dialect}]`, () => {
    let s: Setup | undefined;
    afterEach(async () => {
      await s?.witness.close();
      await s?.f.close();
      s = undefined;
    });

    it('the leader submits each new checkpoint; verify --witnesses 1 passes with a cosignature and fails without', async () => {
      s = await setup(dialect);
      const { f, witness } = s;
      await f.growTo(50);
      await f.checkpoint();
      const want = ['--witnesses', '1', '--witness-key', witness.verifierKey];
      const before = await verify(s, ...want);
      expect(before.status).toBe(1);
      expect(before.report).toMatchObject({ ok: false, code: 'LEDGER_WITNESS_QUORUM_NOT_MET' });

      const ledger = f.app.services.ledger;
      await ledger.witnesses.publishAll();
      const first = await verify(s, ...want);
      expect(first.status, first.stderr).toBe(0);
      expect(first.report).toMatchObject({ ok: true });
      expect(first.report.message).toContain('cosigned by 1 trusted witness');

      // The next checkpoint goes with a consistency proof from the size the witness holds.
      await f.growTo(300);
      const cp = await f.checkpoint();
      await ledger.witnesses.publishAll();
      const status = (
        await fetch(`${f.url}/api/v1/ledger/status`, {
          headers: { authorization: `Bearer ${f.token}` },
        })
      ).json() as Promise<{ witnesses: { cosignedSize: number; lastError: string | null }[] }>;
      expect((await status).witnesses).toEqual([
        expect.objectContaining({ cosignedSize: cp.size, lastError: null }),
      ]);
      const cosigned = await runCli([
        ...f.flags,
        '-o',
        'json',
        'audit',
        'verify',
        '--key',
        s.logKey,
        ...want,
      ]);
      expect(cosigned.status, cosigned.stderr).toBe(0);

      // A witness the auditor does not trust counts for nothing; two are not one.
      const stranger = generateCosignerKey('stranger.example/w').verifierKey;
      const untrusted = await verify(s, '--witnesses', '1', '--witness-key', stranger);
      expect(untrusted.report).toMatchObject({ ok: false, code: 'LEDGER_WITNESS_QUORUM_NOT_MET' });
      const two = await verify(
        s,
        '--witnesses',
        '2',
        '--witness-key',
        witness.verifierKey,
        '--witness-key',
        stranger,
      );
      expect(two.status).toBe(1);
      expect(two.report).toMatchObject({ code: 'LEDGER_WITNESS_QUORUM_NOT_MET' });
      expect(
        (await verify(s, '--witnesses', '2', '--witness-key', witness.verifierKey)).status,
      ).toBe(2);

      // The witness serves what it cosigned (monitoring path), with the log's signature.
      const origin = parseNote(cp.note).text.split('\n')[0]!;
      const served = await fetch(`${witness.url}/${originHash(origin)}/checkpoint`);
      expect(served.status).toBe(200);
      const note = await served.text();
      expect(
        verifyCosignedCheckpoint(note, {
          logKeys: s.logKey,
          witnessKeys: [witness.verifierKey],
          quorum: 1,
        }),
      ).toMatchObject({ ok: true, checkpoint: { size: cp.size } });
    });

    it('a forked tree signed with the real key is refused by the witness, and verify --witnesses fails', async () => {
      s = await setup(dialect);
      const { f, witness } = s;
      await f.growTo(100);
      const genuine = await f.checkpoint();
      await f.app.services.ledger.witnesses.publishAll();
      await f.growTo(140);
      // The DBA rewrites an entry; someone holding the key re-signs the whole tree over it.
      await dropAppendOnlyTriggers(f);
      await sql`update audit_entries set outcome = 'denied' where seq = 30`.execute(f.db.db);
      await rehashRow(f, 30);
      await rebuildLedger(f, 0, s.keyFile);
      const plain = await verify(s);
      expect(plain.status, 'the re-signed log is self-consistent').toBe(0);

      // The leader submits the forged checkpoint: the witness's consistency check refuses it.
      await f.app.services.ledger.witnesses.publishAll({ ignoreBackoff: true });
      const [w] = await f.app.services.ledger.witnesses.status();
      expect(w).toMatchObject({ cosignedSize: genuine.size });
      expect(w!.lastError).toMatch(/^HTTP 422/);
      const r = await verify(s, '--witnesses', '1', '--witness-key', witness.verifierKey);
      expect(r.status).toBe(1);
      expect(r.report.ok).toBe(false);
      expect(['LEDGER_WITNESS_QUORUM_NOT_MET', 'LEDGER_ROOT_MISMATCH']).toContain(r.report.code);

      // The protocol answers by hand, and the witness's state survives a restart.
      await witness.close();
      s.witness = await startWitness({
        dataDir: s.witnessDir,
        port: 0,
        logKeys: [s.logKey],
        log: () => {},
      });
      const forged = await f.app.services.ledger.service.latest();
      const post = (body: string) =>
        fetch(`${s!.witness.url}/add-checkpoint`, { method: 'POST', body });
      const stale = await post(
        formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: forged.note }),
      );
      expect(stale.status).toBe(409);
      expect(stale.headers.get('content-type')).toBe('text/x.tlog.size');
      expect(await stale.text()).toBe(`${genuine.size}\n`);
      const proof = (
        await f.app.services.ledger.service.consistencyProof(genuine.size, forged.size)
      ).proof;
      const fork = await post(
        formatAddCheckpointRequest({
          oldSize: genuine.size,
          proof: proof.map((p) => Buffer.from(p, 'base64')),
          checkpoint: forged.note,
        }),
      );
      expect(fork.status).toBe(422);
      // An older checkpoint than the one cosigned, and one not signed by the log key.
      const signer = parseSignerKey(
        generateSignerKey(parseNote(forged.note).text.split('\n')[0]!).signerKey,
      );
      const imposter = signCheckpoint(
        { origin: signer.name, size: 200, rootHash: new Uint8Array(32) },
        signer,
      );
      expect(
        (
          await post(
            formatAddCheckpointRequest({ oldSize: genuine.size, proof: [], checkpoint: imposter }),
          )
        ).status,
      ).toBe(403);
      const logSigner = parseSignerKey(readFileSync(s.keyFile, 'utf8').trim());
      const older = signCheckpoint(
        { origin: logSigner.name, size: genuine.size - 1, rootHash: new Uint8Array(32) },
        logSigner,
      );
      expect(
        (
          await post(
            formatAddCheckpointRequest({ oldSize: genuine.size, proof: [], checkpoint: older }),
          )
        ).status,
      ).toBe(400);
    });
  });
}

describe('custody witness (a real process)', () => {
  it('creates its key at first start, prints the verifier key, and answers add-checkpoint', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'custody-witness-proc-'));
    const log = generateSignerKey('proc.test/ledger/0002');
    const bin = path.join(repoRoot, 'packages', 'cli', 'bin', 'custody.js');
    const child = spawn(
      process.execPath,
      [
        bin,
        '-o',
        'json',
        'witness',
        '--data-dir',
        dir,
        '--port',
        '0',
        '--log-key',
        log.verifierKey,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      const started = await new Promise<{ url: string; verifierKey: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`witness did not start: ${out}`)), 60_000);
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          try {
            const parsed = JSON.parse(out) as { url: string; verifierKey: string };
            clearTimeout(timer);
            resolve(parsed);
          } catch {
            // not complete yet
          }
        });
        child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
        child.once('exit', (code) => reject(new Error(`witness exited with ${code}: ${out}`)));
      });
      expect(started.verifierKey).toMatch(/^custody-witness\/[0-9a-f]{8}\+[0-9a-f]{8}\+/);
      const signer = parseSignerKey(log.signerKey);
      const note = signCheckpoint(
        {
          origin: signer.name,
          size: 0,
          rootHash: Buffer.from(
            'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
            'hex',
          ),
        },
        signer,
      );
      const res = await fetch(`${started.url}/add-checkpoint`, {
        method: 'POST',
        body: formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: note }),
      });
      expect(res.status).toBe(200);
      const line = await res.text();
      expect(line).toMatch(/^\u2014 custody-witness\/[0-9a-f]{8} [A-Za-z0-9+/=]+\n$/);
      expect(
        verifyCosignedCheckpoint(note + line, {
          logKeys: log.verifierKey,
          witnessKeys: [started.verifierKey],
          quorum: 1,
        }),
      ).toMatchObject({ ok: true });
    } finally {
      child.kill('SIGTERM');
    }
  });
});
