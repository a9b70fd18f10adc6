// crypto.x509.* and crypto.parse_private_keys. OPA returns Go's x509.Certificate /
// x509.CertificateRequest marshalled to JSON, so the fields are read with the DER
// reader (asn1-der.ts) and named as Go names them; signatures, chain checks and keys
// are node:crypto's.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { builtinError } from '../errors.ts';
import { RObject, fromJS, type Value } from '../value.ts';
import {
  Asn1Error,
  TAG,
  bigInt,
  bitString,
  children,
  expect,
  isContext,
  oid,
  parseDer,
} from './asn1-der.ts';
import { operandErr, str } from './helpers.ts';
import { def, type BuiltinTable } from './types.ts';
import {
  b64decode,
  type PemBlock,
  pemBlocks,
  b64,
  oidText,
  SIG_ALGS,
  PK_ALGS,
  algorithm,
  pkixName,
  bigOf,
  publicKeyValue,
  type Extension,
  extensionsOf,
  applyExtensions,
  extensionsValue,
  parseCertificates,
  certsFromString,
  certsValue,
  type J,
  type Obj,
} from './x509-certificate.ts';
import { verifyOptions, parseAndVerify, withoutURIStrings } from './x509-verify.ts';

// ---- certificate requests ----

function parseCertificateRequest(der: Buffer): Obj {
  const top = children(expect(parseDer(der, TAG.SEQUENCE), TAG.SEQUENCE));
  const info = expect(top[0], TAG.SEQUENCE);
  const sig = expect(top[2], TAG.BIT_STRING);
  const [version, subject, spki, attrs] = children(info);
  const spkiT = expect(spki, TAG.SEQUENCE);
  const subjectT = expect(subject, TAG.SEQUENCE);
  let exts: Extension[] = [];
  if (attrs && isContext(attrs, 0)) {
    for (const a of children(attrs)) {
      const [typ, values] = children(expect(a, TAG.SEQUENCE));
      if (oidText(oid(expect(typ, TAG.OID))) !== '1.2.840.113549.1.9.14' || !values) continue;
      const first = children(expect(values, TAG.SET))[0];
      if (first) exts = exts.concat(extensionsOf(first));
    }
  }
  const json: Obj = {
    Raw: b64(der),
    RawTBSCertificateRequest: b64(info.raw),
    RawSubjectPublicKeyInfo: b64(spkiT.raw),
    RawSubject: b64(subjectT.raw),
    Version: Number(bigInt(expect(version, TAG.INTEGER))),
    Signature: b64(bitString(sig).bytes),
    SignatureAlgorithm: SIG_ALGS[algorithm(top[1])] ?? 0,
    PublicKeyAlgorithm: PK_ALGS[algorithm(children(spkiT)[0])] ?? 0,
    PublicKey: publicKeyValue(spkiT.raw),
    Subject: pkixName(subjectT),
    Attributes: null,
    Extensions: extensionsValue(exts),
    ExtraExtensions: null,
  };
  const derived: Obj = {};
  applyExtensions(exts, derived);
  for (const k of ['DNSNames', 'EmailAddresses', 'IPAddresses', 'URIs'])
    json[k] = derived[k] ?? null;
  return json;
}

// ---- private keys ----

/** Go's rsa.PrivateKey / ecdsa.PrivateKey / ed25519 key as encoding/json writes them. */
function privateKeyValue(key: KeyObject): J {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'RSA')
    return {
      N: bigOf(jwk.n),
      E: Number(bigOf(jwk.e)),
      D: bigOf(jwk.d),
      Primes: [bigOf(jwk.p), bigOf(jwk.q)],
      Precomputed: { Dp: bigOf(jwk.dp), Dq: bigOf(jwk.dq), Qinv: bigOf(jwk.qi), CRTValues: [] },
    };
  if (jwk.kty === 'EC') return { Curve: {}, X: bigOf(jwk.x), Y: bigOf(jwk.y), D: bigOf(jwk.d) };
  if (jwk.kty === 'OKP' && jwk.d && jwk.x)
    return Buffer.concat([
      Buffer.from(jwk.d, 'base64url'),
      Buffer.from(jwk.x, 'base64url'),
    ]).toString('base64');
  return null;
}

const KEY_TYPES: Record<string, 'pkcs1' | 'pkcs8' | 'sec1'> = {
  'RSA PRIVATE KEY': 'pkcs1',
  'PRIVATE KEY': 'pkcs8',
  'EC PRIVATE KEY': 'sec1',
};

function privateKeys(pemText: string): KeyObject[] {
  const out: KeyObject[] = [];
  for (const b of pemBlocks(pemText)) {
    const type = KEY_TYPES[b.type];
    if (!type) continue;
    try {
      out.push(createPrivateKey({ key: b.bytes, format: 'der', type }));
    } catch (e) {
      throw builtinError(`x509: failed to parse private key: ${(e as Error).message}`);
    }
  }
  return out;
}

/** tls.X509KeyPair's reading: PEM, base64 of PEM, or base64 of DER. */
function keyPairBlocks(input: string, derType: string): PemBlock[] {
  const bytes = input.startsWith('-----BEGIN') ? Buffer.from(input, 'latin1') : b64decode(input);
  if (bytes.subarray(0, 10).toString('latin1') !== '-----BEGIN') return [{ type: derType, bytes }];
  return pemBlocks(bytes.toString('latin1'));
}

function keyPair(certInput: string, keyInput: string): Obj {
  const certs = keyPairBlocks(certInput, 'CERTIFICATE').filter((b) => b.type === 'CERTIFICATE');
  if (certs.length === 0)
    throw builtinError('tls: failed to find any PEM data in certificate input');
  const keyBlock = keyPairBlocks(keyInput, 'PRIVATE KEY').find(
    (b) => b.type === 'PRIVATE KEY' || b.type.endsWith(' PRIVATE KEY'),
  );
  if (!keyBlock) throw builtinError('tls: failed to find any PEM data in key input');
  let key: KeyObject | undefined;
  for (const type of ['pkcs1', 'pkcs8', 'sec1'] as const) {
    try {
      key = createPrivateKey({ key: keyBlock.bytes, format: 'der', type });
      break;
    } catch {
      // Go tries the same three encodings in turn.
    }
  }
  if (!key) throw builtinError('tls: failed to parse private key');
  const leaf = parseCertificates((certs[0] as PemBlock).bytes)[0];
  if (!leaf) throw builtinError('tls: failed to find any PEM data in certificate input');
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  if (b64(spki) !== leaf.json['RawSubjectPublicKeyInfo'])
    throw builtinError('tls: private key does not match public key');
  return {
    Certificate: certs.map((c) => b64(c.bytes)),
    PrivateKey: privateKeyValue(key),
    SupportedSignatureAlgorithms: null,
    OCSPStaple: null,
    SignedCertificateTimestamps: null,
    Leaf: withoutURIStrings(leaf),
  };
}

function wrapAsn1<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof Asn1Error) throw builtinError(e.message);
    throw e;
  }
}

export const x509Builtins: BuiltinTable = {
  'crypto.x509.parse_certificates': def('crypto.x509.parse_certificates', 1, (a) =>
    certsValue(certsFromString(str(a, 0))),
  ),
  'crypto.x509.parse_and_verify_certificates': def(
    'crypto.x509.parse_and_verify_certificates',
    1,
    (a) => parseAndVerify(str(a, 0), () => ({ now: new Date(), keyUsages: [1] }), true),
  ),
  'crypto.x509.parse_and_verify_certificates_with_options': def(
    'crypto.x509.parse_and_verify_certificates_with_options',
    2,
    (a) => {
      const input = str(a, 0);
      const options = a[1] as Value;
      if (!(options instanceof RObject)) throw operandErr(1, 'object', options);
      // OPA returns this chain without the URIStrings it adds elsewhere.
      return parseAndVerify(input, () => verifyOptions(options), false);
    },
  ),
  'crypto.x509.parse_certificate_request': def('crypto.x509.parse_certificate_request', 1, (a) => {
    const s = str(a, 0);
    let bytes = s.startsWith('-----BEGIN CERTIFICATE REQUEST-----')
      ? Buffer.from(s, 'latin1')
      : b64decode(s);
    const block = pemBlocks(bytes.toString('latin1'))[0];
    if (block) {
      if (block.type !== 'CERTIFICATE REQUEST' && block.type !== 'NEW CERTIFICATE REQUEST')
        throw builtinError('invalid PEM-encoded certificate signing request');
      bytes = block.bytes;
    }
    return fromJS(wrapAsn1(() => parseCertificateRequest(bytes)));
  }),
  'crypto.x509.parse_rsa_private_key': def('crypto.x509.parse_rsa_private_key', 1, (a) => {
    let s = str(a, 0);
    if (s === '') throw builtinError('input PEM data was empty');
    if (!s.startsWith('-----BEGIN')) s = b64decode(s).toString('latin1');
    const key = privateKeys(s)[0];
    if (key === undefined) return null;
    // A JWK of the first key, as OPA builds it with jwk.New.
    return fromJS(key.export({ format: 'jwk' }));
  }),
  'crypto.x509.parse_keypair': def('crypto.x509.parse_keypair', 2, (a) =>
    fromJS(keyPair(str(a, 0), str(a, 1))),
  ),
  'crypto.parse_private_keys': def('crypto.parse_private_keys', 1, (a) => {
    let s = str(a, 0);
    if (s === '') return null;
    if (!s.startsWith('-----BEGIN')) {
      try {
        s = b64decode(s).toString('latin1');
      } catch {
        // Not base64: read as PEM text, which finds nothing.
      }
    }
    return fromJS(privateKeys(s).map(privateKeyValue));
  }),
};
