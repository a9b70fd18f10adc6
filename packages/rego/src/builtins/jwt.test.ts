import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { evalError, evalExpr } from './test-eval.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64url');
const hs256 = (header: object, payload: string, secret: string): string => {
  const input = `${b64(JSON.stringify(header))}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};

describe('io.jwt nested tokens', () => {
  const inner = hs256({ alg: 'HS256', typ: 'JWT' }, '{"sub":"0"}', 's');
  const outer = hs256({ alg: 'HS256', cty: 'JWT' }, inner, 's');
  const twice = hs256({ alg: 'HS256', cty: 'JWT' }, JSON.stringify(outer), 's');
  it('decodes down to the innermost token', () => {
    for (const t of [outer, twice]) {
      const r = evalExpr(`io.jwt.decode("${t}")`) as unknown[];
      expect(r[0]).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(r[1]).toEqual({ sub: '0' });
    }
  });
  it('verifies every level', () => {
    expect(evalExpr(`io.jwt.decode_verify("${twice}", {"secret": "s"})`)).toEqual([
      true,
      { alg: 'HS256', typ: 'JWT' },
      { sub: '0' },
    ]);
    const badInner = hs256({ alg: 'HS256', cty: 'JWT' }, hs256({ alg: 'HS256' }, '{}', 'x'), 's');
    expect(evalExpr(`io.jwt.decode_verify("${badInner}", {"secret": "s"})`)).toEqual([
      false,
      {},
      {},
    ]);
  });
  it('rejects tokens with critical headers', () => {
    const t = hs256({ alg: 'HS256', crit: ['junk'], junk: 1 }, '{}', 's');
    expect(evalExpr(`io.jwt.decode_verify("${t}", {"secret": "s"})`)).toEqual([false, {}, {}]);
  });
  it('reports the offending base64 byte', () => {
    expect(evalError('io.jwt.decode("eyJhbG^ciOi.e30.")')).toContain(
      'JWT header had invalid encoding: illegal base64 data at input byte 6',
    );
  });
});

describe('io.jwt EdDSA', () => {
  it('signs and verifies with Ed25519 keys', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const jwk = JSON.stringify(privateKey.export({ format: 'jwk' }));
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const token = evalExpr(`io.jwt.encode_sign({"alg": "EdDSA"}, {"iss": "me"}, ${jwk})`) as string;
    expect(evalExpr(`io.jwt.decode_verify("${token}", {"cert": ${JSON.stringify(pem)}})`)).toEqual([
      true,
      { alg: 'EdDSA' },
      { iss: 'me' },
    ]);
  });
});

describe('io.jwt.encode_sign_raw input errors', () => {
  const key = '{"kty":"oct","k":"c2VjcmV0"}';
  const raw = (h: string, p: string): string =>
    evalError(
      `io.jwt.encode_sign_raw(${JSON.stringify(h)}, ${JSON.stringify(p)}, ${JSON.stringify(key)})`,
    );
  it('explains header problems like OPA', () => {
    expect(raw('', '{}')).toContain(
      "missing or invalid 'alg' header: cannot parse JSON: cannot parse empty string",
    );
    expect(raw('{"alg:"x"}', '{}')).toContain("missing or invalid 'alg' header: cannot parse JSON");
    expect(raw('e', '{}')).toContain('jwsbb: header "alg" not found');
  });
  it('requires a JSON payload when typ is JWT', () => {
    expect(raw('{"typ":"JWT","alg":"HS256"}', 'e')).toContain(
      'type is JWT but payload is not JSON',
    );
    expect(raw('{"alg":"HS256"}', 'e')).toBe('');
  });
});
