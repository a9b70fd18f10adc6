import {
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from './bytes.ts';
import {
  ed25519PublicKeyToPem,
  ed25519Signer,
  ed25519Verifier,
  generateEd25519Key,
  generateP256Key,
  openEnvelope,
  p256PublicKeyToPem,
  p256Signer,
  p256Verifier,
  pae,
  signEnvelope,
  verifierFromPem,
  verifyEnvelope,
} from './dsse.ts';
import { LedgerError } from './errors.ts';
import {
  IN_TOTO_PAYLOAD_TYPE,
  makeStatement,
  openStatement,
  parseStatement,
  signStatement,
  statementBytes,
} from './in-toto.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('DSSE', () => {
  it('computes PAE as in the vector', () => {
    expect(new TextDecoder().decode(pae('http://example.com/HelloWorld', enc('hello world')))).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
    // Lengths are in bytes, not UTF-16 units.
    expect(new TextDecoder().decode(pae('t', enc('é')))).toBe('DSSEv1 1 t 2 é');
  });

  it('signs and verifies with P-256 and Ed25519, and rejects changes', () => {
    const p = generateP256Key();
    const e = generateEd25519Key();
    const env = signEnvelope('application/x-test', enc('payload'), [
      p256Signer(p.secretKey, 'p'),
      ed25519Signer(e.secretKey, 'e'),
    ]);
    expect(env.payload).toBe(toBase64(enc('payload')));
    expect(
      openEnvelope(env, [p256Verifier(p.publicKey, 'p'), ed25519Verifier(e.publicKey, 'e')])
        .verifiedBy,
    ).toEqual(['p', 'e']);
    expect(verifyEnvelope(env, [ed25519Verifier(e.publicKey)])).toBe(true);
    expect(
      verifyEnvelope({ ...env, payload: toBase64(enc('payloaD')) }, [
        p256Verifier(p.publicKey),
        ed25519Verifier(e.publicKey),
      ]),
    ).toBe(false);
    expect(
      verifyEnvelope({ ...env, payloadType: 'application/x-other' }, [p256Verifier(p.publicKey)]),
    ).toBe(false);
    expect(verifyEnvelope(env, [p256Verifier(generateP256Key().publicKey)])).toBe(false);
    // A verifier named for another keyid is not tried.
    expect(verifyEnvelope(env, [p256Verifier(p.publicKey, 'other')])).toBe(false);
    expect(() => openEnvelope({ ...env, signatures: [] }, [p256Verifier(p.publicKey)])).toThrow(
      LedgerError,
    );
  });

  it('interoperates with node:crypto (DER ECDSA with any S, Ed25519) through PEM keys', () => {
    const message = pae('application/x-test', enc('interop'));
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pemText = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const verifier = verifierFromPem(pemText);
    expect(verifier.algorithm).toBe('ecdsa-p256');
    for (let i = 0; i < 8; i++) {
      // Random k: about half of these have a high S, which must still verify.
      const sig = new Uint8Array(nodeSign('sha256', message, ec.privateKey));
      expect(verifier.verify(message, sig)).toBe(true);
    }
    const ours = generateP256Key();
    const ourPem = p256PublicKeyToPem(ours.publicKey);
    const sig = p256Signer(ours.secretKey).sign(message);
    expect(nodeVerify('sha256', message, createPublicKey(ourPem), sig)).toBe(true);
    expect(verifierFromPem(ourPem).verify(message, sig)).toBe(true);

    const ed = generateEd25519Key();
    const edPem = ed25519PublicKeyToPem(ed.publicKey);
    const edSig = ed25519Signer(ed.secretKey).sign(message);
    expect(nodeVerify(null, message, createPublicKey(edPem), edSig)).toBe(true);
    expect(verifierFromPem(edPem).algorithm).toBe('ed25519');
    expect(verifierFromPem(edPem).verify(message, edSig)).toBe(true);
    expect(() => verifierFromPem('nonsense')).toThrow(LedgerError);
  });
});

describe('in-toto Statement v1', () => {
  const statement = makeStatement({
    subject: [{ name: 'app.tar.gz', digest: { sha256: 'a'.repeat(64) } }],
    predicateType: 'https://custody.example/attestations/approval/v1',
    predicate: { approvedBy: 'alice', change: 'CHG-1' },
  });

  it('has exactly the four statement fields', () => {
    const json = JSON.parse(new TextDecoder().decode(statementBytes(statement))) as Record<
      string,
      unknown
    >;
    expect(Object.keys(json).sort()).toEqual(['_type', 'predicate', 'predicateType', 'subject']);
    expect(json._type).toBe('https://in-toto.io/Statement/v1');
  });

  it('signs as a cosign-compatible envelope and reads back', () => {
    const key = generateP256Key();
    const env = signStatement(statement, [p256Signer(key.secretKey)]);
    expect(env.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE);
    expect(env.payload).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(env.payload.length % 4).toBe(0);
    expect(parseStatement(fromBase64(env.payload))).toEqual(statement);
    expect(openStatement(env, [p256Verifier(key.publicKey)])).toEqual(statement);
  });

  it('rejects malformed statements', () => {
    expect(() => makeStatement({ subject: [], predicateType: 'x', predicate: {} })).toThrow(
      LedgerError,
    );
    expect(() =>
      makeStatement({
        subject: [{ name: 'a', digest: { sha256: 'XYZ' } }],
        predicateType: 'x',
        predicate: {},
      }),
    ).toThrow(LedgerError);
    expect(() =>
      parseStatement(
        enc(
          '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"' +
            'a'.repeat(64) +
            '"}}],"predicateType":"x","predicate":{},"extra":1}',
        ),
      ),
    ).toThrow(/unexpected/);
    expect(() => parseStatement(enc('not json'))).toThrow(LedgerError);
  });
});
