import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fromBase64, toBase64 } from '@custody/ledger';
import { bootstrapAdmin, configSchema, createApp, systemContext, type App } from '@custody/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from './main.ts';

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

// `custody attestation` against an in-process server (SQLite) over real HTTP; `verify` with no
// server at all.
describe('custody attestation', () => {
  let app: App;
  let dir: string;
  let server: string;
  let token: string;
  const artifact = new TextEncoder().encode('#!/bin/sh\necho built by custody\n');
  const bom = { bomFormat: 'CycloneDX', specVersion: '1.5', components: [] };
  const file = (name: string) => path.join(dir, name);

  async function custody(...args: string[]) {
    let stdout = '';
    let stderr = '';
    const out = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((s) => ((stdout += String(s)), true));
    const err = vi
      .spyOn(process.stderr, 'write')
      .mockImplementation((s) => ((stderr += String(s)), true));
    try {
      const status = await main(['node', 'custody', ...args]);
      return { status, stdout, stderr };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }
  const online = (...args: string[]) => custody('--server', server, '--token', token, ...args);
  // No server to ask: an address nothing listens on, so any request would fail.
  const offline = (...args: string[]) => custody('--server', 'http://127.0.0.1:9', ...args);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'custody-cli-attest-'));
    app = await createApp({
      config: configSchema.parse({
        databaseUrl: path.join(dir, 'c.db'),
        dataDir: dir,
        logLevel: 'silent',
        publicUrl: 'https://ci.example.com',
      }),
    });
    token = (await bootstrapAdmin(app))!.token;
    await app.uow.run(systemContext(app, 'test'), (tx, record) =>
      app.services.attestations.issueForJob(tx, record, {
        run: {
          id: 'run_cli',
          project: 'shop',
          pipeline: 'build',
          pipelineVersion: 1,
          contentHash: `sha256:${'c'.repeat(64)}`,
          repository: 'https://git.example.com/shop/web.git',
          branch: 'main',
          commit: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d',
          inputs: {},
          createdBy: 'user:alice',
          startedAt: '2026-12-01T10:00:00.000Z',
          finishedAt: '2026-12-01T10:01:00.000Z',
        },
        job: { id: 'job_cli', stage: 'build' },
        artifacts: [{ name: 'dist/hello.sh', digest: `sha256:${sha(artifact)}` }],
        sboms: [
          {
            path: 'sbom.json',
            digest: `sha256:${sha(JSON.stringify(bom))}`,
            format: 'cyclonedx',
            encoding: 'json',
            specVersion: '1.5',
            components: 0,
            document: bom,
          },
        ],
      }),
    );
    writeFileSync(file('hello.sh'), artifact);
    await app.http.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function provenanceId(): Promise<string> {
    const r = await online('attestation', 'list', 'run_cli', '-o', 'json');
    expect(r.status, r.stderr).toBe(0);
    const items = JSON.parse(r.stdout) as { id: string; predicateType: string }[];
    return items.find((i) => i.predicateType === 'https://slsa.dev/provenance/v1')!.id;
  }

  it("lists a run's attestations and writes a bundle and the public key to files", async () => {
    const text = await online('attestation', 'list', 'run_cli');
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^ID\s+JOB\s+TYPE\s+SUBJECT\s+CREATED\n/);
    expect(text.stdout).toMatch(/att_\S+\s+job_cli\s+slsaprovenance1\s+dist\/hello\.sh/);
    expect(text.stdout).toMatch(/att_\S+\s+job_cli\s+cyclonedx\s+dist\/hello\.sh/);

    const json = await online('attestation', 'list', 'run_cli', '-o', 'json');
    const items = JSON.parse(json.stdout) as { id: string; digest: string }[];
    expect(items).toHaveLength(2);
    const got = await online('attestation', 'get', items[0]!.id, '--out', file('b.json'));
    expect(got.status, got.stderr).toBe(0);
    // Byte for byte what the server signed and listed.
    expect(`sha256:${sha(readFileSync(file('b.json')))}`).toBe(items[0]!.digest);
    expect(got.stdout).toContain(items[0]!.digest);

    // The public key needs no token.
    const key = await custody('--server', server, 'attestation', 'public-key', '--out', file('k'));
    expect(key.status, key.stderr).toBe(0);
    expect(readFileSync(file('k'), 'utf8')).toBe(app.services.attestations.publicKey().pem);

    const missing = await online('attestation', 'get', 'att_nope');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('ATTESTATIONS_NOT_FOUND');
  });

  it('verifies a bundle offline, with or without --type', async () => {
    const id = await provenanceId();
    await online('attestation', 'get', id, '--out', file('prov.json'));
    await online('attestation', 'public-key', '--out', file('attest.pub'));
    const args = ['--key', file('attest.pub'), '--artifact', file('hello.sh')];
    const ok = await offline('attestation', 'verify', file('prov.json'), ...args);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^Verified OK: .*hello\.sh .*https:\/\/slsa\.dev\/provenance\/v1/);
    const typed = await offline(
      '-o',
      'json',
      'attestation',
      'verify',
      file('prov.json'),
      ...args,
      '--type',
      'slsaprovenance1',
    );
    expect(typed.status, typed.stderr).toBe(0);
    expect(JSON.parse(typed.stdout)).toEqual({
      ok: true,
      message: expect.any(String),
      predicateType: 'https://slsa.dev/provenance/v1',
      subject: { name: 'dist/hello.sh', digest: `sha256:${sha(artifact)}` },
      keyId: app.services.attestations.publicKey().keyId,
      artifact: { path: file('hello.sh'), digest: `sha256:${sha(artifact)}` },
    });
  });

  it('fails with exit 1 and a code when one byte of the artifact or the bundle changes, or the type differs', async () => {
    const id = await provenanceId();
    await online('attestation', 'get', id, '--out', file('p.json'));
    await online('attestation', 'public-key', '--out', file('p.pub'));
    const verify = (bundle: string, artifactFile: string, ...more: string[]) =>
      offline(
        '-o',
        'json',
        'attestation',
        'verify',
        bundle,
        '--key',
        file('p.pub'),
        '--artifact',
        artifactFile,
        ...more,
      );
    // The untouched pair verifies: each failure below is the change alone.
    expect((await verify(file('p.json'), file('hello.sh'))).status).toBe(0);

    const changed = artifact.slice();
    changed[changed.length - 2] = changed[changed.length - 2]! ^ 0x01;
    writeFileSync(file('hello-changed.sh'), changed);
    const wrongArtifact = await verify(file('p.json'), file('hello-changed.sh'));
    expect(wrongArtifact.status).toBe(1);
    expect(JSON.parse(wrongArtifact.stdout)).toMatchObject({
      ok: false,
      code: 'LEDGER_SUBJECT_MISMATCH',
    });
    expect(JSON.parse(wrongArtifact.stderr)).toMatchObject({
      error: { code: 'LEDGER_SUBJECT_MISMATCH' },
    });

    const bundle = JSON.parse(readFileSync(file('p.json'), 'utf8')) as {
      dsseEnvelope: { payload: string; signatures: { sig: string }[] };
    };
    const payload = fromBase64(bundle.dsseEnvelope.payload);
    payload[10] = payload[10]! ^ 0x01;
    writeFileSync(
      file('p-tampered.json'),
      JSON.stringify({
        ...bundle,
        dsseEnvelope: { ...bundle.dsseEnvelope, payload: toBase64(payload) },
      }),
    );
    const tampered = await verify(file('p-tampered.json'), file('hello.sh'));
    expect(tampered.status).toBe(1);
    expect(JSON.parse(tampered.stdout)).toMatchObject({
      ok: false,
      code: 'LEDGER_SIGNATURE_INVALID',
    });

    const text = await offline(
      'attestation',
      'verify',
      file('p-tampered.json'),
      '--key',
      file('p.pub'),
      '--artifact',
      file('hello.sh'),
    );
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(/^FAILED LEDGER_SIGNATURE_INVALID: /);
    expect(text.stderr).toContain('verification failed');

    const otherType = await verify(file('p.json'), file('hello.sh'), '--type', 'cyclonedx');
    expect(otherType.status).toBe(1);
    expect(JSON.parse(otherType.stdout)).toMatchObject({ code: 'LEDGER_PREDICATE_TYPE_MISMATCH' });

    const unknownType = await verify(file('p.json'), file('hello.sh'), '--type', 'nonsense');
    expect(unknownType.status).toBe(2);
    const noFile = await verify(file('absent.json'), file('hello.sh'));
    expect(noFile.status).toBe(2);
    expect(JSON.parse(noFile.stderr)).toMatchObject({ error: { code: 'CLI_USAGE' } });
  });
});
