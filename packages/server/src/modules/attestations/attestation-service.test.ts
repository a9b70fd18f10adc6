import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import {
  CYCLONEDX_BOM,
  fromBase64,
  LedgerError,
  publicKeyDerFromPem,
  SLSA_PROVENANCE_V1,
  TEST_RESULT_V01,
  toBase64,
  verifyAttestationBundle,
  type InTotoStatement,
} from '@custody/ledger';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../bootstrap.ts';
import { ManualClock } from '../../platform/clock.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { attestationKeyPath } from './attestation-key.ts';
import type { AttestationRequest, AttestationService } from './attestation-service.ts';

// The exact signature the execution engine is written against (its own copy of the type).
type EngineFacingIssuer = {
  issueForJob(
    tx: Parameters<AttestationService['issueForJob']>[0],
    record: Parameters<AttestationService['issueForJob']>[1],
    req: AttestationRequest,
  ): Promise<unknown[]>;
};
const _fitsTheEngine: (s: AttestationService) => EngineFacingIssuer = (s) => s;

const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
const statMode = (file: string): number => statSync(file).mode & 0o777;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

const tarball = enc('pretend this is a tarball\n');
const binary = enc('\x7fELF pretend binary\n');
const junit = enc('<testsuite name="unit" tests="3"/>');
const bomDocument = {
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  components: [{ type: 'library', name: 'left-pad', version: '1.3.0' }],
};
const bomJson = enc(JSON.stringify(bomDocument));
const bomXml = enc('<bom xmlns="http://cyclonedx.org/schema/bom/1.4"/>');

function request(overrides: Partial<AttestationRequest> = {}): AttestationRequest {
  return {
    run: {
      id: 'run_0123456789abcdef',
      project: 'shop',
      pipeline: 'build',
      pipelineVersion: 4,
      contentHash: 'sha256:' + 'c'.repeat(64),
      repository: 'https://git.example.com/shop/web.git',
      branch: 'main',
      commit: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d',
      inputs: { target: 'linux' },
      createdBy: 'user:alice',
      startedAt: '2026-12-01T10:00:00.000Z',
      finishedAt: '2026-12-01T10:04:30.000Z',
    },
    job: { id: 'job_0123456789abcdef', stage: 'build' },
    artifacts: [
      { name: 'dist/web.tar.gz', digest: `sha256:${sha(tarball)}` },
      { name: 'dist/web', digest: `sha256:${sha(binary)}` },
    ],
    tests: {
      reports: [{ path: 'reports/junit.xml', digest: `sha256:${sha(junit)}` }],
      passed: ['unit.adds', 'unit.subtracts'],
      failed: [],
      skipped: ['unit.flaky'],
    },
    sboms: [
      {
        path: 'sbom.cdx.json',
        digest: `sha256:${sha(bomJson)}`,
        format: 'cyclonedx',
        encoding: 'json',
        specVersion: '1.5',
        components: 1,
        document: bomDocument,
      },
      {
        path: 'sbom.cdx.xml',
        digest: `sha256:${sha(bomXml)}`,
        format: 'cyclonedx',
        encoding: 'xml',
        specVersion: '1.4',
        components: 0,
      },
    ],
    ...overrides,
  };
}

// The reference verifier: @sigstore/verify with the server's public key as the only trust
// material, and no transparency log, certificate transparency or timestamp required. It checks
// the DSSE signature; the statement's subject is the caller's to match (as cosign does), so the
// artifact check is done here.
function sigstoreVerify(
  bundleText: string,
  pem: string,
  keyId: string,
  artifact: Uint8Array,
): InTotoStatement {
  const trust = toTrustMaterial(
    { mediaType: '', certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] },
    { [keyId]: { rawBytes: Buffer.from(publicKeyDerFromPem(pem)), keyDetails: 5 } },
  );
  const bundle = bundleFromJSON(JSON.parse(bundleText));
  new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, tsaThreshold: 0 }).verify(
    toSignedEntity(bundle),
  );
  if (bundle.content.$case !== 'dsseEnvelope') throw new Error('not a DSSE bundle');
  const statement = JSON.parse(
    bundle.content.dsseEnvelope.payload.toString('utf8'),
  ) as InTotoStatement;
  if (!statement.subject.some((x) => x.digest.sha256 === sha(artifact)))
    throw new Error('no subject of the statement is the artifact');
  return statement;
}

// One byte of a base64 field of the bundle flipped, the rest unchanged.
function flipped(bundleText: string, field: 'payload' | 'sig'): string {
  const bundle = JSON.parse(bundleText) as {
    dsseEnvelope: { payload: string; signatures: { sig: string }[] };
  };
  const env = bundle.dsseEnvelope;
  const bytes = fromBase64(field === 'payload' ? env.payload : env.signatures[0]!.sig);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0x01;
  if (field === 'payload') env.payload = toBase64(bytes);
  else env.signatures[0]!.sig = toBase64(bytes);
  return JSON.stringify(bundle);
}

for (const dialect of dialects) {
  describe(`attestations [${dialect}]`, () => {
    let t: TestApp;
    const clock = new ManualClock('2026-12-01T10:04:31.000Z');
    beforeAll(async () => {
      t = await createTestApp(dialect, {
        clock,
        config: { publicUrl: 'https://ci.example.com/' },
      });
    });
    afterAll(async () => t?.close());

    const issue = (req: AttestationRequest) =>
      t.app.uow.run(systemContext(t.app, 'test'), (tx, record) =>
        t.app.services.attestations.issueForJob(tx, record, req),
      );
    const bundleOf = async (id: string) => {
      const res = await t.request({ method: 'GET', url: `/api/v1/attestations/${id}` });
      expect(res.statusCode, res.body).toBe(200);
      return res.body;
    };
    const ledgerOf = async (resourceId: string) =>
      t.app.services.audit.list({ resourceType: 'attestation', resourceId, limit: 10 });

    it('creates the key at first start (0600) and serves its public half as PEM to anyone', async () => {
      const file = attestationKeyPath({ dataDir: t.app.config.dataDir });
      expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(statMode(file)).toBe(0o600);
      // No token at all: a public key is public.
      const res = await t.request({
        method: 'GET',
        url: '/api/v1/attestations/public-key',
        token: '',
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('application/x-pem-file');
      expect(res.body).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
      expect(res.body).not.toContain('PRIVATE');
      expect(res.body).toBe(t.app.services.attestations.publicKey().pem);
      expect(res.headers['x-key-id']).toBe(sha(publicKeyDerFromPem(res.body)));
    });

    it('issues provenance per artifact, a test result and an SBOM statement per SBOM, each with a ledger entry carrying its digests', async () => {
      const issued = await issue(request());
      expect(issued.map((i) => i.predicateType)).toEqual([
        SLSA_PROVENANCE_V1,
        SLSA_PROVENANCE_V1,
        TEST_RESULT_V01,
        CYCLONEDX_BOM,
        CYCLONEDX_BOM,
      ]);
      const { keyId } = t.app.services.attestations.publicKey();
      for (const [n, att] of issued.entries()) {
        const body = await bundleOf(att.id);
        const payload = fromBase64(
          (JSON.parse(body) as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload,
        );
        // The digests are those of what is served, recomputed here.
        expect(att.digest).toBe(`sha256:${sha(body)}`);
        expect(att.payloadDigest).toBe(`sha256:${sha(payload)}`);
        const entries = await ledgerOf(att.id);
        expect(entries).toHaveLength(1);
        expect(entries[0]).toMatchObject({
          action: 'attestations.attestation.issued',
          outcome: 'succeeded',
          resource: { type: 'attestation', id: att.id },
        });
        expect(entries[0]!.details).toEqual({
          run: 'run_0123456789abcdef',
          job: 'job_0123456789abcdef',
          predicateType: att.predicateType,
          subjectDigests:
            n === 0
              ? [`sha256:${sha(tarball)}`]
              : n === 1
                ? [`sha256:${sha(binary)}`]
                : [`sha256:${sha(tarball)}`, `sha256:${sha(binary)}`],
          bundleDigest: att.digest,
          payloadDigest: att.payloadDigest,
          keyId,
        });
      }
      // The private key is nowhere in the ledger.
      const keyBody = readFileSync(attestationKeyPath({ dataDir: t.app.config.dataDir }), 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('-----'))
        .join('');
      const all = await t.app.services.audit.list({ limit: 1000 });
      expect(JSON.stringify(all)).not.toContain(keyBody.slice(0, 40));
    });

    it('lists them for the run and serves bundles that verify with verifyAttestationBundle and @sigstore/verify', async () => {
      const { pem, keyId } = t.app.services.attestations.publicKey();
      const res = await t.request({
        method: 'GET',
        url: '/api/v1/runs/run_0123456789abcdef/attestations',
      });
      expect(res.statusCode, res.body).toBe(200);
      const { items } = res.json() as {
        items: {
          id: string;
          run: string;
          job: string;
          predicateType: string;
          subject: { name: string; digest: string }[];
          digest: string;
          payloadDigest: string;
          createdAt: string;
        }[];
      };
      expect(items).toHaveLength(5);
      expect(Object.keys(items[0]!).sort()).toEqual([
        'createdAt',
        'digest',
        'id',
        'job',
        'payloadDigest',
        'predicateType',
        'run',
        'subject',
      ]);
      expect(items[0]).toMatchObject({
        run: 'run_0123456789abcdef',
        job: 'job_0123456789abcdef',
        predicateType: SLSA_PROVENANCE_V1,
        subject: [{ name: 'dist/web.tar.gz', digest: `sha256:${sha(tarball)}` }],
        createdAt: '2026-12-01T10:04:31.000Z',
      });
      for (const item of items) {
        const got = await t.request({ method: 'GET', url: `/api/v1/attestations/${item.id}` });
        expect(got.statusCode).toBe(200);
        expect(got.headers['content-type']).toContain(
          'application/vnd.dev.sigstore.bundle.v0.3+json',
        );
        // The body is the stored canonical bundle: its SHA-256 is the listed digest.
        expect(`sha256:${sha(got.body)}`).toBe(item.digest);
        const artifact = item.subject[0]!.name === 'dist/web' ? binary : tarball;
        const statement = sigstoreVerify(got.body, pem, keyId, artifact);
        expect(statement.predicateType).toBe(item.predicateType);
        const ours = verifyAttestationBundle({
          bundle: got.body,
          publicKeyPem: pem,
          artifact,
          expectedPredicateType: item.predicateType,
        });
        expect(ours.statement).toEqual(statement);
        expect(ours.keyId).toBe(keyId);
      }
      const provenance = verifyAttestationBundle({
        bundle: await bundleOf(items[1]!.id),
        publicKeyPem: pem,
        artifact: binary,
      }).statement as InTotoStatement & {
        predicate: {
          buildDefinition: {
            buildType: string;
            externalParameters: Record<string, unknown>;
            internalParameters: Record<string, unknown>;
            resolvedDependencies: unknown[];
          };
          runDetails: { builder: { id: string }; metadata: Record<string, string> };
        };
      };
      expect(provenance.subject).toEqual([{ name: 'dist/web', digest: { sha256: sha(binary) } }]);
      const { buildDefinition, runDetails } = provenance.predicate;
      expect(buildDefinition.buildType).toBe('https://custody.dev/buildtypes/pipeline/v1');
      expect(buildDefinition.externalParameters).toEqual({
        repository: 'https://git.example.com/shop/web.git',
        ref: 'refs/heads/main',
        commit: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d',
        pipeline: {
          project: 'shop',
          name: 'build',
          version: 4,
          contentHash: `sha256:${'c'.repeat(64)}`,
        },
        inputs: { target: 'linux' },
      });
      expect(buildDefinition.internalParameters).toEqual({
        stage: 'build',
        job: 'job_0123456789abcdef',
      });
      expect(buildDefinition.resolvedDependencies).toEqual([
        {
          uri: 'git+https://git.example.com/shop/web.git@refs/heads/main',
          digest: { gitCommit: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d' },
        },
      ]);
      expect(runDetails.builder.id).toBe('https://ci.example.com/runners');
      expect(runDetails.metadata).toEqual({
        invocationId: 'run_0123456789abcdef',
        startedOn: '2026-12-01T10:00:00.000Z',
        finishedOn: '2026-12-01T10:04:30.000Z',
      });
      // The test result: skipped tests are "warned", the report is the configuration.
      const tests = verifyAttestationBundle({
        bundle: await bundleOf(items[2]!.id),
        publicKeyPem: pem,
        artifact: tarball,
      }).statement.predicate;
      expect(tests).toEqual({
        result: 'WARNED',
        configuration: [{ name: 'reports/junit.xml', digest: { sha256: sha(junit) } }],
        url: 'https://ci.example.com/api/v1/runs/run_0123456789abcdef',
        passedTests: ['unit.adds', 'unit.subtracts'],
        warnedTests: ['unit.flaky'],
        failedTests: [],
      });
      // The SBOMs: a JSON one is the predicate itself, an XML one is named by its digest.
      expect(
        verifyAttestationBundle({
          bundle: await bundleOf(items[3]!.id),
          publicKeyPem: pem,
          artifact: binary,
        }).statement.predicate,
      ).toEqual(bomDocument);
      expect(
        verifyAttestationBundle({
          bundle: await bundleOf(items[4]!.id),
          publicKeyPem: pem,
          artifact: binary,
        }).statement.predicate,
      ).toEqual({
        mediaType: 'application/vnd.cyclonedx+xml',
        digest: { sha256: sha(bomXml) },
        specVersion: '1.4',
        components: 0,
      });
    });

    it('fails verification when one byte of the artifact, the payload or the signature changes', async () => {
      const { pem, keyId } = t.app.services.attestations.publicKey();
      const [first] = (
        await t.request({ method: 'GET', url: '/api/v1/runs/run_0123456789abcdef/attestations' })
      ).json().items as { id: string }[];
      const body = await bundleOf(first!.id);
      // Untouched, both verifiers accept it (so what follows fails for the change alone).
      expect(sigstoreVerify(body, pem, keyId, tarball).predicateType).toBe(SLSA_PROVENANCE_V1);

      const changed = tarball.slice();
      changed[0] = changed[0]! ^ 1;
      expect(() =>
        verifyAttestationBundle({ bundle: body, publicKeyPem: pem, artifact: changed }),
      ).toThrow(expect.objectContaining({ code: 'LEDGER_SUBJECT_MISMATCH' }));
      expect(() => sigstoreVerify(body, pem, keyId, changed)).toThrow(/no subject/);
      // The artifact's digest given instead of its bytes, one hex digit off.
      const digit = sha(tarball);
      const offByOne = (digit[0] === '0' ? '1' : '0') + digit.slice(1);
      expect(() =>
        verifyAttestationBundle({
          bundle: body,
          publicKeyPem: pem,
          artifact: { sha256: offByOne },
        }),
      ).toThrow(expect.objectContaining({ code: 'LEDGER_SUBJECT_MISMATCH' }));

      for (const field of ['payload', 'sig'] as const) {
        const tampered = flipped(body, field);
        expect(tampered).not.toBe(body);
        let err: unknown;
        try {
          verifyAttestationBundle({ bundle: tampered, publicKeyPem: pem, artifact: tarball });
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(LedgerError);
        expect((err as LedgerError).code).toBe('LEDGER_SIGNATURE_INVALID');
        expect(() => sigstoreVerify(tampered, pem, keyId, tarball)).toThrow();
      }
      // Another key does not verify it either.
      const other = await createTestApp('sqlite');
      try {
        const otherPem = other.app.services.attestations.publicKey().pem;
        expect(otherPem).not.toBe(pem);
        expect(() =>
          verifyAttestationBundle({ bundle: body, publicKeyPem: otherPem, artifact: tarball }),
        ).toThrow(expect.objectContaining({ code: 'LEDGER_SIGNATURE_INVALID' }));
      } finally {
        await other.close();
      }
    });

    it('issues nothing without artifacts; an SBOM that is the only artifact gets provenance, no SBOM statement', async () => {
      const none = await t.app.database.db
        .transaction()
        .execute((tx) =>
          t.app.services.attestations.issueForJob(tx, () => {}, request({ artifacts: [] })),
        );
      expect(none).toEqual([]);
      const onlyBom = await issue(
        request({
          run: { ...request().run, id: 'run_onlybom' },
          artifacts: [{ name: 'sbom.cdx.xml', digest: `sha256:${sha(bomXml)}` }],
          tests: undefined,
        }),
      );
      expect(onlyBom.map((i) => i.predicateType)).toEqual([SLSA_PROVENANCE_V1, CYCLONEDX_BOM]);
    });

    it('rolls back with the transaction that completes the job: no row, no ledger entry', async () => {
      let ids: string[] = [];
      await expect(
        t.app.uow.run(systemContext(t.app, 'test'), async (tx, record) => {
          const issued = await t.app.services.attestations.issueForJob(
            tx,
            record,
            request({ run: { ...request().run, id: 'run_rolledback' } }),
          );
          ids = issued.map((i) => i.id);
          throw new Error('job completion failed');
        }),
      ).rejects.toThrow('job completion failed');
      expect(ids).toHaveLength(5);
      const res = await t.request({
        method: 'GET',
        url: '/api/v1/runs/run_rolledback/attestations',
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ items: [] });
      for (const id of ids) {
        expect(await ledgerOf(id)).toEqual([]);
        const got = await t.request({ method: 'GET', url: `/api/v1/attestations/${id}` });
        expect(got.statusCode).toBe(404);
      }
    });

    it('refuses malformed requests with a stable code before signing anything', async () => {
      const before = await t.app.services.audit.size();
      await expect(
        issue(request({ artifacts: [{ name: 'x', digest: 'md5:abc' }] })),
      ).rejects.toMatchObject({ code: 'ATTESTATIONS_REQUEST_INVALID' });
      await expect(
        issue(request({ run: { ...request().run, id: 'run_bad', finishedAt: 'yesterday' } })),
      ).rejects.toMatchObject({ code: 'ATTESTATIONS_REQUEST_INVALID' });
      await expect(
        issue(request({ run: { ...request().run, id: 'run_bad', commit: 'main' } })),
      ).rejects.toMatchObject({
        code: 'ATTESTATIONS_REQUEST_INVALID',
        details: { code: 'LEDGER_PREDICATE_INVALID' },
      });
      expect(await t.app.services.audit.size()).toBe(before);
      const res = await t.request({ method: 'GET', url: '/api/v1/runs/run_bad/attestations' });
      expect(res.json()).toEqual({ items: [] });
    });

    it("authorizes at the run's project: another project's reader is denied, an unknown id is 404", async () => {
      const outsider = await t.user('outsider', ['auditor@project:other']);
      const insider = await t.user('insider', ['developer@project:shop']);
      const nobody = await t.user('nobody');
      const list = (token: string, run = 'run_0123456789abcdef') =>
        t.request({ method: 'GET', url: `/api/v1/runs/${run}/attestations`, token });
      expect((await list(insider)).statusCode).toBe(200);
      const denied = await list(outsider);
      expect(denied.statusCode).toBe(403);
      expect(denied.json().error.code).toBe('AUTHZ_PERMISSION_DENIED');
      expect((await list(nobody)).statusCode).toBe(403);
      expect((await list('')).statusCode).toBe(401);
      const { items } = (await list(insider)).json() as { items: { id: string }[] };
      const bundle = (token: string) =>
        t.request({ method: 'GET', url: `/api/v1/attestations/${items[0]!.id}`, token });
      expect((await bundle(insider)).statusCode).toBe(200);
      expect((await bundle(outsider)).statusCode).toBe(403);
      expect((await bundle('')).statusCode).toBe(401);
      const missing = await t.request({ method: 'GET', url: '/api/v1/attestations/att_nope' });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error.code).toBe('ATTESTATIONS_NOT_FOUND');
    });

    it.each(['developer', 'release-manager', 'approver', 'auditor'])(
      'the built-in role %s may read attestations',
      async (role) => {
        const token = await t.user(`reader-${role}`, [`${role}@project:shop`]);
        const res = await t.request({
          method: 'GET',
          url: '/api/v1/runs/run_0123456789abcdef/attestations',
          token,
        });
        expect(res.statusCode, res.body).toBe(200);
        expect((res.json() as { items: unknown[] }).items).toHaveLength(5);
      },
    );

    it('documents the routes in the OpenAPI document with their permissions', async () => {
      const doc = (await t.request({ method: 'GET', url: '/api/v1/openapi.json' })).json();
      expect(doc.paths['/api/v1/runs/{run}/attestations'].get['x-permission']).toBe(
        'attestations.attestation.read',
      );
      expect(doc.paths['/api/v1/attestations/{id}'].get['x-permission']).toBe(
        'attestations.attestation.read',
      );
      expect(doc.paths['/api/v1/attestations/public-key'].get['x-permission']).toBeUndefined();
    });
  });
}
