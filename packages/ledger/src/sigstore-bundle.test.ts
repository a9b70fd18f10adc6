import { createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from './bytes.ts';
import { generateP256Key, p256PublicKeyToPem, p256Signer, pae } from './dsse.ts';
import { LedgerError } from './errors.ts';
import { IN_TOTO_PAYLOAD_TYPE, makeStatement } from './in-toto.ts';
import { resolvePredicateType } from './predicate-types.ts';
import {
  makeSigstoreBundle,
  parseSigstoreBundle,
  publicKeyDerFromPem,
  publicKeyId,
  SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
  signAttestationBundle,
  verifyAttestationBundle,
  type SigstoreBundle,
} from './sigstore-bundle.ts';
import { makeSlsaProvenance, SLSA_PROVENANCE_V1 } from './slsa-provenance.ts';

const hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const artifact = new TextEncoder().encode('#!/bin/sh\necho hello from the build\n');

function provenanceFor(bytes: Uint8Array) {
  return makeSlsaProvenance({
    subject: [{ name: 'dist/hello.sh', digest: { sha256: hex(bytes) } }],
    builderId: 'https://ci.example.com/runners',
    repository: 'https://git.example.com/shop/web.git',
    ref: 'refs/heads/main',
    commit: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d',
    pipeline: { project: 'shop', name: 'build', version: 3, contentHash: 'sha256:ab12' },
    inputs: { target: 'linux' },
    stage: 'build',
    job: 'job_1',
    runId: 'run_1',
    startedOn: '2026-12-01T10:00:00.000Z',
    finishedOn: '2026-12-01T10:05:00.000Z',
  });
}

function keyPair() {
  const key = generateP256Key();
  const pem = p256PublicKeyToPem(key.publicKey);
  return { signer: p256Signer(key.secretKey), pem, keyId: publicKeyId(pem) };
}

// The reference verifier: @sigstore/verify with the public key as the only trust material and
// no transparency log, certificate transparency or timestamp required.
function sigstoreVerify(bundle: unknown, pem: string, keyId: string): void {
  const trust = toTrustMaterial(
    { mediaType: '', certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] },
    {
      [keyId]: {
        rawBytes: Buffer.from(publicKeyDerFromPem(pem)),
        keyDetails: 5, // PublicKeyDetails.PKIX_ECDSA_P256_SHA_256
      },
    },
  );
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, tsaThreshold: 0 });
  verifier.verify(toSignedEntity(bundleFromJSON(bundle)));
}

// @sigstore/verify checks the DSSE signature; for DSSE bundles it leaves the statement's
// subject to the caller (its artifact check applies to message signatures), so do it here.
function sigstoreVerifyArtifact(
  bundle: SigstoreBundle,
  pem: string,
  keyId: string,
  bytes: Uint8Array,
): void {
  sigstoreVerify(bundle, pem, keyId);
  const parsed = bundleFromJSON(bundle);
  if (parsed.content.$case !== 'dsseEnvelope') throw new Error('not a DSSE bundle');
  const statement = JSON.parse(parsed.content.dsseEnvelope.payload.toString('utf8')) as {
    subject: { digest: { sha256: string } }[];
  };
  if (!statement.subject.some((s) => s.digest.sha256 === hex(bytes)))
    throw new Error('no subject matches the artifact');
}

function flipBase64Byte(b64: string, index: number): string {
  const bytes = fromBase64(b64);
  bytes[index] = bytes[index]! ^ 0x01;
  return toBase64(bytes);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof LedgerError ? err.code : `not a LedgerError: ${String(err)}`;
  }
  return undefined;
}

describe('Sigstore bundle v0.3 with a DSSE provenance attestation', () => {
  it('has the protobuf-JSON shape, the key id as hint and keyid, and a DER P-256 signature', () => {
    const k = keyPair();
    const bundle = signAttestationBundle(provenanceFor(artifact), k.signer, k.keyId);
    expect(bundle.mediaType).toBe(SIGSTORE_BUNDLE_V03_MEDIA_TYPE);
    expect(Object.keys(bundle).sort()).toEqual([
      'dsseEnvelope',
      'mediaType',
      'verificationMaterial',
    ]);
    expect(bundle.verificationMaterial).toEqual({ publicKey: { hint: k.keyId }, tlogEntries: [] });
    expect(bundle.dsseEnvelope.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE);
    expect(bundle.dsseEnvelope.signatures).toEqual([{ sig: expect.any(String), keyid: k.keyId }]);
    // The key id is SHA-256 of the DER SubjectPublicKeyInfo.
    expect(k.keyId).toBe(hex(publicKeyDerFromPem(k.pem)));
    // ASN.1 DER ECDSA signature: SEQUENCE { INTEGER r, INTEGER s }.
    const sig = fromBase64(bundle.dsseEnvelope.signatures[0].sig);
    expect(sig[0]).toBe(0x30);
    expect(sig[1]).toBe(sig.length - 2);
    // @sigstore/bundle reads it as a v0.3 DSSE bundle with a public key.
    const parsed = bundleFromJSON(bundle);
    expect(parsed.verificationMaterial.content.$case).toBe('publicKey');
    expect(parsed.content.$case).toBe('dsseEnvelope');
  });

  it('verifies with @sigstore/verify and with verifyAttestationBundle', () => {
    const k = keyPair();
    const bundle = signAttestationBundle(provenanceFor(artifact), k.signer, k.keyId);
    expect(() => sigstoreVerifyArtifact(bundle, k.pem, k.keyId, artifact)).not.toThrow();
    const ok = verifyAttestationBundle({
      bundle: JSON.stringify(bundle),
      publicKeyPem: k.pem,
      artifact,
      expectedPredicateType: resolvePredicateType('slsaprovenance1'),
    });
    expect(ok.subject).toEqual({ name: 'dist/hello.sh', digest: { sha256: hex(artifact) } });
    expect(ok.statement.predicateType).toBe(SLSA_PROVENANCE_V1);
    expect(ok.keyId).toBe(k.keyId);
    // The artifact may be given by its digest instead of its bytes.
    expect(
      verifyAttestationBundle({ bundle, publicKeyPem: k.pem, artifact: { sha256: hex(artifact) } })
        .subject.name,
    ).toBe('dist/hello.sh');
  });

  it('fails for a changed artifact, with both verifiers', () => {
    const k = keyPair();
    const bundle = signAttestationBundle(provenanceFor(artifact), k.signer, k.keyId);
    const changed = artifact.slice();
    changed[3] = changed[3]! ^ 0x20;
    expect(
      codeOf(() => verifyAttestationBundle({ bundle, publicKeyPem: k.pem, artifact: changed })),
    ).toBe('LEDGER_SUBJECT_MISMATCH');
    expect(() => sigstoreVerifyArtifact(bundle, k.pem, k.keyId, changed)).toThrow(
      /no subject matches/,
    );
  });

  it('fails for one flipped byte of the payload or of the signature, with both verifiers', () => {
    const k = keyPair();
    const bundle = signAttestationBundle(provenanceFor(artifact), k.signer, k.keyId);
    const env = bundle.dsseEnvelope;
    const payloadLength = fromBase64(env.payload).length;
    const sigLength = fromBase64(env.signatures[0].sig).length;
    const tampered: SigstoreBundle[] = [
      ...[0, 40, payloadLength - 1].map((i) => ({
        ...bundle,
        dsseEnvelope: { ...env, payload: flipBase64Byte(env.payload, i) },
      })),
      ...[8, sigLength - 1].map((i) => ({
        ...bundle,
        dsseEnvelope: {
          ...env,
          signatures: [{ ...env.signatures[0], sig: flipBase64Byte(env.signatures[0].sig, i) }],
        } as SigstoreBundle['dsseEnvelope'],
      })),
      { ...bundle, dsseEnvelope: { ...env, payloadType: 'application/vnd.in-toto+jsoN' } },
    ];
    for (const t of tampered) {
      expect(
        codeOf(() => verifyAttestationBundle({ bundle: t, publicKeyPem: k.pem, artifact })),
      ).toBe('LEDGER_SIGNATURE_INVALID');
      expect(() => sigstoreVerify(t, k.pem, k.keyId)).toThrow();
    }
  });

  it('fails with another key, with both verifiers', () => {
    const k = keyPair();
    const other = keyPair();
    const bundle = signAttestationBundle(provenanceFor(artifact), k.signer, k.keyId);
    let message = '';
    try {
      verifyAttestationBundle({ bundle, publicKeyPem: other.pem, artifact });
    } catch (err) {
      expect((err as LedgerError).code).toBe('LEDGER_SIGNATURE_INVALID');
      message = (err as Error).message;
    }
    expect(message).toContain(other.keyId);
    expect(message).toContain(k.keyId);
    // Under the bundle's hint, but the wrong key's bytes.
    expect(() => sigstoreVerify(bundle, other.pem, k.keyId)).toThrow(/signature/i);
    // Under the other key's own id: the hint names no trusted key.
    expect(() => sigstoreVerify(bundle, other.pem, other.keyId)).toThrow(/key not found/);
  });

  it('checks the predicate type when asked', () => {
    const k = keyPair();
    const bundle = signAttestationBundle(provenanceFor(artifact), k.signer, k.keyId);
    expect(
      codeOf(() =>
        verifyAttestationBundle({
          bundle,
          publicKeyPem: k.pem,
          artifact,
          expectedPredicateType: resolvePredicateType('cyclonedx'),
        }),
      ),
    ).toBe('LEDGER_PREDICATE_TYPE_MISMATCH');
    expect(codeOf(() => resolvePredicateType('nonsense'))).toBe('LEDGER_PREDICATE_INVALID');
    expect(codeOf(() => resolvePredicateType('constructor'))).toBe('LEDGER_PREDICATE_INVALID');
    expect(resolvePredicateType('https://example.com/p/v1')).toBe('https://example.com/p/v1');
  });

  it('accepts a signature made with node:crypto (OpenSSL DER, any S) over PAE', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const keyId = publicKeyId(pem);
    const statement = provenanceFor(artifact);
    const payload = new TextEncoder().encode(JSON.stringify(statement));
    const sig = nodeSign('sha256', pae(IN_TOTO_PAYLOAD_TYPE, payload), ec.privateKey);
    const bundle = makeSigstoreBundle(
      {
        payload: toBase64(payload),
        payloadType: IN_TOTO_PAYLOAD_TYPE,
        signatures: [{ sig: toBase64(new Uint8Array(sig)) }],
      },
      keyId,
    );
    expect(verifyAttestationBundle({ bundle, publicKeyPem: pem, artifact }).keyId).toBe(keyId);
    expect(() => sigstoreVerify(bundle, pem, keyId)).not.toThrow();
  });

  it('refuses a payload that verifies but is not an in-toto statement', () => {
    const k = keyPair();
    const payload = new TextEncoder().encode('{"hello":"world"}');
    const sig = k.signer.sign(pae(IN_TOTO_PAYLOAD_TYPE, payload));
    const bundle = makeSigstoreBundle(
      {
        payload: toBase64(payload),
        payloadType: IN_TOTO_PAYLOAD_TYPE,
        signatures: [{ sig: toBase64(sig), keyid: k.keyId }],
      },
      k.keyId,
    );
    expect(codeOf(() => verifyAttestationBundle({ bundle, publicKeyPem: k.pem, artifact }))).toBe(
      'LEDGER_BUNDLE_INVALID',
    );
  });
});

describe('parseSigstoreBundle', () => {
  const k = keyPair();
  const statement = makeStatement({
    subject: [{ name: 'a', digest: { sha256: hex(artifact) } }],
    predicateType: 'https://example.com/p/v1',
    predicate: {},
  });
  const good = signAttestationBundle(statement, k.signer, k.keyId);
  const variants: [string, unknown][] = [
    ['not JSON', '{'],
    ['an array', []],
    ['another media type', { ...good, mediaType: 'application/vnd.dev.sigstore.bundle.v0.2+json' }],
    ['an unknown top-level field', { ...good, extra: 1 }],
    ['a message signature', { ...good, dsseEnvelope: undefined, messageSignature: {} }],
    [
      'a certificate instead of a key',
      { ...good, verificationMaterial: { certificate: { rawBytes: 'AA==' }, tlogEntries: [] } },
    ],
    [
      'an empty hint',
      { ...good, verificationMaterial: { publicKey: { hint: '' }, tlogEntries: [] } },
    ],
    [
      'tlogEntries not a list',
      { ...good, verificationMaterial: { publicKey: { hint: 'x' }, tlogEntries: {} } },
    ],
    [
      'two signatures',
      {
        ...good,
        dsseEnvelope: {
          ...good.dsseEnvelope,
          signatures: [good.dsseEnvelope.signatures[0], good.dsseEnvelope.signatures[0]],
        },
      },
    ],
    ['payload not base64', { ...good, dsseEnvelope: { ...good.dsseEnvelope, payload: 'a b' } }],
    [
      'a signature field too many',
      {
        ...good,
        dsseEnvelope: {
          ...good.dsseEnvelope,
          signatures: [{ ...good.dsseEnvelope.signatures[0], extra: true }],
        },
      },
    ],
  ];
  it.each(variants)('refuses %s with LEDGER_BUNDLE_INVALID', (_name, value) => {
    expect(codeOf(() => parseSigstoreBundle(value))).toBe('LEDGER_BUNDLE_INVALID');
  });

  it('round-trips a good bundle, and takes a left-out empty tlogEntries', () => {
    expect(parseSigstoreBundle(JSON.stringify(good))).toEqual(good);
    const { tlogEntries: _omitted, ...vm } = good.verificationMaterial;
    expect(parseSigstoreBundle({ ...good, verificationMaterial: vm })).toEqual(good);
  });

  it('refuses a bad PEM key with LEDGER_KEY_INVALID', () => {
    expect(
      codeOf(() => verifyAttestationBundle({ bundle: good, publicKeyPem: 'nope', artifact })),
    ).toBe('LEDGER_KEY_INVALID');
  });
});
