import { describe, expect, it } from 'vitest';
import { signV4, type SignInput } from './aws-sign.ts';
import { evalError, evalExpr } from './test-eval.ts';

// The examples from AWS's "Signature Calculations for the Authorization Header" page.
const base: SignInput = {
  method: 'GET',
  url: 'https://examplebucket.s3.amazonaws.com/test.txt',
  headers: {},
  body: undefined,
  accessKey: 'AKIAIOSFODNN7EXAMPLE',
  secretKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: '',
  service: 's3',
  region: 'us-east-1',
  time: new Date(Date.UTC(2013, 4, 24)),
  unsignedPayload: false,
};
const sig = (h: Record<string, string>): string =>
  /Signature=(\w+)/.exec(h['Authorization'] ?? '')?.[1] ?? '';

describe('AWS SigV4', () => {
  it('matches the published GET Object example', () => {
    const h = signV4({ ...base, headers: { Range: 'bytes=0-9' } });
    expect(h['Authorization']).toContain(
      'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,',
    );
    expect(sig(h)).toBe('f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  });
  it('matches the published examples with query strings', () => {
    expect(sig(signV4({ ...base, url: 'https://examplebucket.s3.amazonaws.com/?lifecycle' }))).toBe(
      'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543',
    );
    expect(
      sig(signV4({ ...base, url: 'https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2' })),
    ).toBe('34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
  });
  it('adds the session token and skips proxy-rewritten headers', () => {
    const h = signV4({
      ...base,
      service: 'sts',
      sessionToken: 'tok',
      headers: { 'User-Agent': 'x' },
    });
    expect(h['x-amz-security-token']).toBe('tok');
    expect(h['x-amz-content-sha256']).toBeUndefined();
    expect(h['Authorization']).toContain('SignedHeaders=host;x-amz-date;x-amz-security-token,');
  });
});

describe('providers.aws.sign_req', () => {
  const cfg =
    '{"aws_access_key": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_service": "s3", "aws_region": "us-east-1"}';
  it('returns the request with the signed headers merged in', () => {
    const r = evalExpr(
      `providers.aws.sign_req({"method": "get", "url": "https://examplebucket.s3.amazonaws.com/test.txt", "headers": {"Range": "bytes=0-9"}}, ${cfg}, 1369353600000000000)`,
    ) as { headers: Record<string, string> };
    expect(r.headers['Range']).toBe('bytes=0-9');
    expect(r.headers['x-amz-date']).toBe('20130524T000000Z');
    expect(r.headers['Authorization']).toContain(
      'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });
  it('requires the credentials', () => {
    expect(
      evalError('providers.aws.sign_req({"method": "get", "url": "https://a/"}, {}, 0)'),
    ).toContain('missing required key "aws_access_key"');
  });
});
