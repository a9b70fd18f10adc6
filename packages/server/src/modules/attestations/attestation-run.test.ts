import { createHash } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { fromBase64, publicKeyDerFromPem, toBase64, type InTotoStatement } from '@custody/ledger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { callApi, TestRunner } from '../../platform/testing/test-runner.ts';

const sha = (b: string | Uint8Array) => createHash('sha256').update(b).digest('hex');

const manifest = `
apiVersion: custody/v1
kind: Project
metadata: { name: shop }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: build, project: shop }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  inputs: [{ name: flavour, default: plain }]
  stages:
    - name: build
      type: ci
      steps:
        - name: test
          run: ./gradlew test
          evidence: [{ type: junit, path: TEST-shop.xml }]
        - name: sbom
          run: syft dist -o cyclonedx-json > bom.json
          evidence: [{ type: sbom, path: bom.json }]
        - name: package
          run: ./package.sh
          artifacts: [{ name: app, path: dist/app.tgz }]
`;
const junit =
  '<testsuite name="shop"><testcase classname="shop.Cart" name="adds"/><testcase classname="shop.Cart" name="skips"><skipped/></testcase></testsuite>';
const bom = JSON.stringify({
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  components: [{ name: 'express', version: '4.19.2', purl: 'pkg:npm/express@4.19.2' }],
});
const artifact = 'the built application, byte for byte';

interface Job {
  jobId: string;
  leaseId: string;
}
interface Listed {
  id: string;
  predicateType: string;
  subject: { name: string; digest: string }[];
  digest: string;
}

// @sigstore/verify with the server's public key as the only trust material (no tlog, as
// `cosign --insecure-ignore-tlog`); the subject is matched against the artifact's bytes.
function verify(bundleText: string, pem: string, keyId: string, bytes: string): InTotoStatement {
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
  if (!statement.subject.some((s) => s.digest.sha256 === sha(bytes)))
    throw new Error('no subject of the statement is the artifact');
  return statement;
}

for (const dialect of dialects) {
  describe(`attestations of a real run [${dialect}]`, () => {
    let t: TestApp;
    let runner: TestRunner;
    let dev: string;
    let runId = '';

    beforeAll(async () => {
      t = await createTestApp(dialect);
      dev = await t.user('dana', ['developer@project:shop']);
      expect((await t.applyApproved(manifest)).statusCode).toBe(200);
      runner = await TestRunner.register(t);
    });
    afterAll(async () => t?.close());

    const upload = (
      job: Job,
      step: number,
      kind: string,
      name: string,
      type: string,
      path: string,
      content: string,
    ) =>
      runner.report(job, 'files', {
        step,
        kind,
        name,
        type,
        path,
        sha256: sha(content),
        contentBase64: Buffer.from(content).toString('base64'),
      });
    const step = async (job: Job, i: number, files: () => Promise<{ status: number }>) => {
      expect((await runner.report(job, 'steps/start', { step: i })).status).toBe(200);
      expect((await files()).status).toBe(201);
      expect(
        (
          await runner.report(job, 'steps/finish', {
            step: i,
            result: 'succeeded',
            exitCode: 0,
            attempts: 1,
          })
        ).status,
      ).toBe(200);
    };

    it('a build that succeeds gets signed provenance, test-result and SBOM attestations that @sigstore/verify accepts', async () => {
      const res = await callApi(
        t,
        'POST',
        '/api/v1/projects/shop/pipelines/build/runs',
        { inputs: { flavour: 'spicy' } },
        dev,
      );
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      runId = res.body.id as string;
      const job = (await runner.lease<Job>())!;
      await step(job, 0, () =>
        upload(job, 0, 'evidence', 'junit', 'junit', 'TEST-shop.xml', junit),
      );
      await step(job, 1, () => upload(job, 1, 'evidence', 'sbom', 'sbom', 'bom.json', bom));
      await step(job, 2, () => upload(job, 2, 'artifact', 'app', 'file', 'dist/app.tgz', artifact));
      expect((await runner.report(job, 'complete', { result: 'succeeded' })).status).toBe(200);

      const listed = (await callApi(t, 'GET', `/api/v1/runs/${runId}/attestations`, undefined, dev))
        .body.items as Listed[];
      const types = listed.map((a) => a.predicateType).sort();
      expect(types).toEqual(
        [
          'https://cyclonedx.org/bom',
          'https://in-toto.io/attestation/test-result/v0.1',
          'https://slsa.dev/provenance/v1',
        ].sort(),
      );
      const provenance = listed.find((a) => a.predicateType === 'https://slsa.dev/provenance/v1')!;
      expect(provenance.subject).toEqual([{ name: 'app', digest: `sha256:${sha(artifact)}` }]);

      const key = await t.request({ method: 'GET', url: '/api/v1/attestations/public-key' });
      expect(key.statusCode).toBe(200);
      const pem = key.body;
      const keyId = String(key.headers['x-key-id']);
      const got = await t.request({
        method: 'GET',
        url: `/api/v1/attestations/${provenance.id}`,
        token: dev,
      });
      expect(got.statusCode).toBe(200);
      expect(`sha256:${sha(got.body)}`).toBe(provenance.digest);

      const statement = verify(got.body, pem, keyId, artifact) as InTotoStatement & {
        predicate: {
          buildDefinition: { externalParameters: Record<string, unknown> };
          runDetails: { metadata: { invocationId: string } };
        };
      };
      expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
      expect(statement.predicate.runDetails.metadata.invocationId).toContain(runId);
      expect(JSON.stringify(statement.predicate.buildDefinition.externalParameters)).toContain(
        'spicy',
      );

      // The SBOM attestation of a JSON SBOM carries the document itself as its predicate.
      const sbomAtt = listed.find((a) => a.predicateType === 'https://cyclonedx.org/bom')!;
      const sbomBundle = await t.request({
        method: 'GET',
        url: `/api/v1/attestations/${sbomAtt.id}`,
        token: dev,
      });
      const sbomStatement = verify(sbomBundle.body, pem, keyId, artifact) as InTotoStatement & {
        predicate: unknown;
      };
      expect(sbomStatement.predicate).toEqual(JSON.parse(bom));

      // The digest of every attestation is in the ledger, with the run.
      const issued = await t.app.services.audit.list({
        action: 'attestations.attestation.issued',
        limit: 10,
      });
      expect(issued.map((e) => e.details.bundleDigest).sort()).toEqual(
        listed.map((a) => a.digest).sort(),
      );

      // The evidence summary (the gates' and the policy engine's input) lists them by digest.
      const summary = (
        await callApi(t, 'GET', `/api/v1/runs/${runId}/evidence/summary`, undefined, dev)
      ).body;
      expect(
        (summary.attestations as { predicateType: string; digest: string }[])
          .map((a) => a.predicateType)
          .sort(),
      ).toEqual(
        [
          'https://cyclonedx.org/bom',
          'https://in-toto.io/attestation/test-result/v0.1',
          'https://slsa.dev/provenance/v1',
        ].sort(),
      );
      expect(summary.tests).toMatchObject({ tests: 2, passed: 1, skipped: 1 });

      // One byte of the artifact changed: the signature holds but the subject is not it.
      const tampered = `${artifact.slice(0, -1)}!`;
      expect(() => verify(got.body, pem, keyId, tampered)).toThrow(/subject/);
      // One byte of the signed statement changed: @sigstore/verify refuses the signature.
      const b = JSON.parse(got.body) as {
        dsseEnvelope: { payload: string; signatures: { sig: string }[] };
      };
      const payload = fromBase64(b.dsseEnvelope.payload);
      payload[10] = payload[10]! ^ 0x01;
      const forged = JSON.stringify({
        ...b,
        dsseEnvelope: { ...b.dsseEnvelope, payload: toBase64(payload) },
      });
      expect(() => verify(forged, pem, keyId, artifact)).toThrow();
      const sig = fromBase64(b.dsseEnvelope.signatures[0]!.sig);
      sig[sig.length - 3] = sig[sig.length - 3]! ^ 0x01;
      const badSig = JSON.stringify({
        ...b,
        dsseEnvelope: {
          ...b.dsseEnvelope,
          signatures: [{ ...b.dsseEnvelope.signatures[0]!, sig: toBase64(sig) }],
        },
      });
      expect(() => verify(badSig, pem, keyId, artifact)).toThrow();
    });

    it('a job that fails attests nothing', async () => {
      const res = await callApi(t, 'POST', '/api/v1/projects/shop/pipelines/build/runs', {}, dev);
      const failed = res.body.id as string;
      const job = (await runner.lease<Job>())!;
      expect((await runner.report(job, 'steps/start', { step: 0 })).status).toBe(200);
      await runner.report(job, 'steps/finish', {
        step: 0,
        result: 'failed',
        exitCode: 1,
        attempts: 1,
      });
      await runner.report(job, 'complete', { result: 'failed' });
      const listed = (
        await callApi(t, 'GET', `/api/v1/runs/${failed}/attestations`, undefined, dev)
      ).body.items;
      expect(listed).toEqual([]);
    });
  });
}
