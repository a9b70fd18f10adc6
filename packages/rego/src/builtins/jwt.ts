// io.jwt.*: decode, verify (HMAC, RSA, RSA-PSS, ECDSA) and sign, with node:crypto.
import {
  X509Certificate,
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { builtinError } from '../errors.ts';
import { RObject, fromJS, toJS, toJSONText, type Value } from '../value.ts';
import { obj, str } from './helpers.ts';
import { parseJSON } from './json-parse.ts';
import { def, type BuiltinCtx, type BuiltinTable } from './types.ts';

/** What a signature check needs from one token level. */
type Sig = Pick<Decoded, 'headerB64' | 'payloadB64' | 'signature'>;

interface Decoded {
  header: RObject;
  payload: Value;
  headerB64: string;
  payloadB64: string;
  signature: Buffer;
}

/** Base64url decoding with Go's error text (OPA reports the offending byte). */
function b64urlDecode(s: string, what: string): Buffer {
  const t = s.replace(/=+$/, '');
  const bad = t.search(/[^A-Za-z0-9_-]/);
  const at = bad >= 0 ? bad : t.length % 4 === 1 ? t.length - 1 : -1;
  if (at >= 0)
    throw builtinError(`JWT ${what} had invalid encoding: illegal base64 data at input byte ${at}`);
  return Buffer.from(t, 'base64url');
}

interface Part {
  header: RObject;
  payloadText: string;
  headerB64: string;
  payloadB64: string;
  signature: Buffer;
}

function splitToken(token: string): Part {
  const parts = token.split('.');
  if (parts.length !== 3)
    throw builtinError(`encoded JWT must have 3 sections, found ${parts.length}`);
  const [h, p, sig] = parts as [string, string, string];
  const headerText = b64urlDecode(h, 'header').toString('utf8');
  let header: Value;
  try {
    header = parseJSON(headerText);
  } catch {
    throw builtinError('JWT header had invalid encoding');
  }
  if (!(header instanceof RObject)) throw builtinError('JWT header is not an object');
  return {
    header,
    payloadText: b64urlDecode(p, 'payload').toString('utf8'),
    headerB64: h,
    payloadB64: p,
    signature: b64urlDecode(sig, 'signature'),
  };
}

/** A nested token (`cty: JWT`) carries the inner token as its payload, possibly as a JSON string. */
function innerToken(part: Part): string | undefined {
  const cty = part.header.get('cty');
  if (typeof cty !== 'string' || cty.toUpperCase() !== 'JWT') return undefined;
  const t = part.payloadText.trim();
  if (t.startsWith('"')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (typeof v === 'string') return v;
    } catch {
      // Not a JSON string: the raw text is the token.
    }
  }
  return t;
}

/** Every level of a possibly nested token, outermost first. */
function levels(token: string): Part[] {
  const out: Part[] = [];
  for (let t: string | undefined = token; t !== undefined;) {
    if (out.length > 16) throw builtinError('JWT nesting too deep');
    const part = splitToken(t);
    out.push(part);
    t = innerToken(part);
  }
  return out;
}

function decode(token: string): Decoded {
  const all = levels(token);
  const last = all[all.length - 1] as Part;
  let payload: Value;
  try {
    payload = parseJSON(last.payloadText);
  } catch {
    throw builtinError('JWT payload had invalid encoding');
  }
  return {
    header: last.header,
    payload,
    headerB64: last.headerB64,
    payloadB64: last.payloadB64,
    signature: last.signature,
  };
}

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/** Public keys from a PEM certificate, a PEM public key, or a JWK / JWK set. */
function publicKeys(material: string): KeyObject[] {
  const text = material.trim();
  if (text.startsWith('{')) {
    let jwk: unknown;
    try {
      jwk = JSON.parse(text);
    } catch {
      throw builtinError('failed to parse a JWK key (set)');
    }
    const keys = (jwk as { keys?: unknown[] }).keys ?? [jwk];
    try {
      return keys.map((k) => createPublicKey({ key: k as never, format: 'jwk' }));
    } catch {
      throw builtinError('failed to parse a JWK key (set)');
    }
  }
  if (text.includes('-----BEGIN CERTIFICATE-----')) {
    const blocks =
      text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    const rest = text
      .replace(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g, '')
      .trim();
    if (rest) throw builtinError('extra data after a PEM certificate block');
    try {
      return blocks.map((b) => new X509Certificate(b).publicKey);
    } catch {
      throw builtinError('failed to parse a PEM certificate');
    }
  }
  if (text.includes('-----BEGIN')) {
    try {
      return [createPublicKey(text)];
    } catch {
      throw builtinError('failed to extract a Key from the PEM certificate');
    }
  }
  throw builtinError('failed to extract a Key from the PEM certificate');
}

function verifyAsym(alg: string, d: Sig, material: string): boolean {
  const family = alg.slice(0, 2);
  const hash = alg === 'EdDSA' ? null : HASH[alg.slice(2)];
  if (hash === undefined) return false;
  const data = Buffer.from(`${d.headerB64}.${d.payloadB64}`);
  for (const key of publicKeys(material)) {
    try {
      const ok =
        hash === null
          ? key.asymmetricKeyType === 'ed25519' && cryptoVerify(null, data, key, d.signature)
          : family === 'ES'
            ? cryptoVerify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, d.signature)
            : family === 'PS'
              ? cryptoVerify(hash, data, { key, padding: 6, saltLength: -1 }, d.signature)
              : cryptoVerify(hash, data, key, d.signature);
      if (ok) return true;
    } catch {
      // Key type does not fit the algorithm: try the next key.
    }
  }
  return false;
}

function verifyHmac(alg: string, d: Sig, secret: string): boolean {
  const hash = HASH[alg.slice(2)];
  if (!hash) return false;
  const mac = createHmac(hash, Buffer.from(secret, 'utf8'))
    .update(`${d.headerB64}.${d.payloadB64}`)
    .digest();
  return mac.length === d.signature.length && timingSafeEqual(mac, d.signature);
}

function verifyWith(alg: string) {
  return (a: Value[]): Value => {
    const d = splitToken(str(a, 0));
    if (alg.startsWith('HS')) return verifyHmac(alg, d, str(a, 1));
    return verifyAsym(alg, d, str(a, 1));
  };
}

function decodeVerify(a: Value[], ctx: BuiltinCtx): Value {
  const token = str(a, 0);
  const c = obj(a, 1);
  const invalid = [false, new RObject(), new RObject()];
  let all: Part[];
  try {
    all = levels(token);
  } catch {
    return invalid;
  }
  const cert = c.get('cert');
  const secret = c.get('secret');
  for (const [k] of c.entries())
    if (!['cert', 'secret', 'alg', 'iss', 'aud', 'time'].includes(k as string))
      throw builtinError(`unknown token validation constraint: ${String(k)}`);
  if (cert === undefined && secret === undefined) throw builtinError('no key or secret provided');
  // Each level of a nested token must verify with the same constraints.
  for (const level of all) {
    const alg = level.header.get('alg');
    if (typeof alg !== 'string') return invalid;
    const want = c.get('alg');
    if (want !== undefined && want !== alg) return invalid;
    // No critical extension is understood, so any `crit` header fails verification.
    if (level.header.has('crit')) return invalid;
    let ok = false;
    if (typeof secret === 'string' && alg.startsWith('HS')) ok = verifyHmac(alg, level, secret);
    else if (typeof cert === 'string' && !alg.startsWith('HS')) ok = verifyAsym(alg, level, cert);
    if (!ok) return invalid;
  }
  let d: Decoded;
  try {
    d = decode(token);
  } catch {
    return invalid;
  }
  const p = d.payload;
  if (!(p instanceof RObject)) return invalid;
  const t = c.get('time');
  const nowNs = typeof t === 'number' || typeof t === 'bigint' ? Number(t) : Number(ctx.nowNs);
  const nowSec = nowNs / 1e9;
  const exp = p.get('exp');
  if (exp !== undefined) {
    if (typeof exp !== 'number' && typeof exp !== 'bigint')
      throw builtinError('exp value must be a number');
    if (nowSec >= Number(exp)) return invalid;
  }
  const nbf = p.get('nbf');
  if (nbf !== undefined) {
    if (typeof nbf !== 'number' && typeof nbf !== 'bigint')
      throw builtinError('nbf value must be a number');
    if (nowSec < Number(nbf)) return invalid;
  }
  const iss = c.get('iss');
  if (iss !== undefined && p.get('iss') !== iss) return invalid;
  const aud = c.get('aud');
  const tokAud = p.get('aud');
  if (aud !== undefined) {
    const list = Array.isArray(tokAud) ? tokAud : tokAud === undefined ? [] : [tokAud];
    if (!list.includes(aud)) return invalid;
  } else if (tokAud !== undefined) return invalid;
  return [true, d.header, p];
}

/**
 * The JWS header as the signer reads it: OPA's JWS library only parses text that
 * looks like an object, and otherwise reports the `alg` member as missing.
 */
function parseHeader(text: string): Record<string, unknown> {
  const t = text.trim();
  if (t === '')
    throw builtinError(
      `missing or invalid 'alg' header: cannot parse JSON: cannot parse empty string`,
    );
  if (!t.startsWith('{')) return {};
  try {
    const v = JSON.parse(t) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : {};
  } catch (e) {
    throw builtinError(
      `missing or invalid 'alg' header: cannot parse JSON: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

function signToken(headerText: string, payloadText: string, keyText: string): string {
  const header = parseHeader(headerText);
  const alg = header['alg'];
  if (typeof alg !== 'string')
    throw builtinError(`missing or invalid 'alg' header: jwsbb: header "alg" not found`);
  if (header['typ'] === 'JWT') {
    try {
      JSON.parse(payloadText);
    } catch {
      throw builtinError('type is JWT but payload is not JSON');
    }
  }
  let jwk: Record<string, string>;
  try {
    jwk = JSON.parse(keyText) as Record<string, string>;
  } catch {
    throw builtinError('failed to parse a JWK key');
  }
  const input = `${Buffer.from(headerText).toString('base64url')}.${Buffer.from(payloadText).toString('base64url')}`;
  const hash = HASH[alg.slice(2)];
  if (alg !== 'EdDSA' && (!hash || !['HS', 'RS', 'PS', 'ES'].includes(alg.slice(0, 2))))
    throw builtinError(`unknown JWS algorithm: ${alg}`);
  const data = Buffer.from(input);
  let sig: Buffer;
  if (alg.startsWith('HS')) {
    const k = jwk['k'];
    if (typeof k !== 'string') throw builtinError('invalid JWK for HMAC');
    sig = createHmac(hash as string, Buffer.from(k, 'base64url'))
      .update(input)
      .digest();
  } else {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: jwk as never, format: 'jwk' });
    } catch {
      throw builtinError('failed to parse a JWK private key');
    }
    // EdDSA signs the message itself; the other families sign a digest.
    sig =
      alg === 'EdDSA'
        ? cryptoSign(null, data, key)
        : alg.startsWith('ES')
          ? cryptoSign(hash as string, data, { key, dsaEncoding: 'ieee-p1363' })
          : alg.startsWith('PS')
            ? cryptoSign(hash as string, data, { key, padding: 6, saltLength: -1 })
            : cryptoSign(hash as string, data, key);
  }
  return `${input}.${sig.toString('base64url')}`;
}

export const jwtBuiltins: BuiltinTable = {
  'io.jwt.decode': def('io.jwt.decode', 1, (a) => {
    const d = decode(str(a, 0));
    return [d.header, d.payload, d.signature.toString('hex')];
  }),
  'io.jwt.decode_verify': def('io.jwt.decode_verify', 2, decodeVerify),
  'io.jwt.encode_sign_raw': def('io.jwt.encode_sign_raw', 3, (a) =>
    signToken(str(a, 0), str(a, 1), str(a, 2)),
  ),
  'io.jwt.encode_sign': def('io.jwt.encode_sign', 3, (a) =>
    signToken(toJSONText(obj(a, 0)), toJSONText(obj(a, 1)), toJSONText(obj(a, 2))),
  ),
  ...Object.fromEntries(
    ['HS', 'RS', 'PS', 'ES'].flatMap((fam) =>
      ['256', '384', '512'].map((bits) => {
        const name = `io.jwt.verify_${fam.toLowerCase()}${bits}`;
        return [name, def(name, 2, verifyWith(fam + bits))];
      }),
    ),
  ),
};

export { fromJS, toJS };
