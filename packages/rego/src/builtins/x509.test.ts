import { describe, expect, it } from 'vitest';
import { RegoError, compile } from '../index.ts';

// Throwaway test PKI made with openssl: an EC root, a leaf it signed (DNS, URI and IP
// alternative names, serverAuth), its PKCS#8 key, the leaf's CSR and an unrelated RSA key.
const ROOT = `-----BEGIN CERTIFICATE-----
MIIBzTCCAXOgAwIBAgIUTDq1wtVvbCpWWBWAld9R65Xm7dAwCgYIKoZIzj0EAwIw
MzEVMBMGA1UECgwMQ3VzdG9keSBUZXN0MRowGAYDVQQDDBFDdXN0b2R5IFRlc3Qg
Um9vdDAgFw0yNjEyMDQwMTM3NThaGA8yMTI2MTExMDAxMzc1OFowMzEVMBMGA1UE
CgwMQ3VzdG9keSBUZXN0MRowGAYDVQQDDBFDdXN0b2R5IFRlc3QgUm9vdDBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABAxQlydpQzHFI46dcd4po5BuS1W97R7nxcdN
cvFu4g+9wEzYmkkS6Mtl1JXi0hVdBeibW7FU/hhwWLPWnL7BlA+jYzBhMB0GA1Ud
DgQWBBT6+MY4zZhPQ9MmneqqvhRGPGwSkzAfBgNVHSMEGDAWgBT6+MY4zZhPQ9Mm
neqqvhRGPGwSkzAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAKBggq
hkjOPQQDAgNIADBFAiBsngpQnNu82FLSWHcmqLQY7NBLgAge6lT+a0QcufLHGgIh
AJ7ekyUjZFC/uF7SEkfSkMRzdkElPJWqugwweZrrv0VE
-----END CERTIFICATE-----`;
const LEAF = `-----BEGIN CERTIFICATE-----
MIIB9zCCAZ2gAwIBAgIUOn3DP6HP2E9+SSYiaybSRsrDT7UwCgYIKoZIzj0EAwIw
MzEVMBMGA1UECgwMQ3VzdG9keSBUZXN0MRowGAYDVQQDDBFDdXN0b2R5IFRlc3Qg
Um9vdDAgFw0yNjEyMDQwMTM3NThaGA8yMTI2MTExMDAxMzc1OFowHDEaMBgGA1UE
AwwRbGVhZi5jdXN0b2R5LnRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASv
qVKUjVBehVSoTAN3HPk6NHK2okEqPp2wz74JUmz9b22iKJctAiB/fF0/IjG19bjb
dvmKvfx60TdFclVbLK1Vo4GjMIGgMD4GA1UdEQQ3MDWCEWxlYWYuY3VzdG9keS50
ZXN0hhpzcGlmZmU6Ly9jdXN0b2R5LnRlc3QvbGVhZocECgAAATATBgNVHSUEDDAK
BggrBgEFBQcDATAJBgNVHRMEAjAAMB0GA1UdDgQWBBSvc0MBJ+khNACofO5ZwbYg
bKDXMDAfBgNVHSMEGDAWgBT6+MY4zZhPQ9MmneqqvhRGPGwSkzAKBggqhkjOPQQD
AgNIADBFAiEA0OdYwSmTa5IKUJGVKDe4LptsPim0A5STmY9s426mcvsCIA9Li7ao
YThgigMPXP7o9EUL8du3uU6nb3ELJlp1LjS4
-----END CERTIFICATE-----`;
const CSR = `-----BEGIN CERTIFICATE REQUEST-----
MIIBKTCBzwIBADAcMRowGAYDVQQDDBFsZWFmLmN1c3RvZHkudGVzdDBZMBMGByqG
SM49AgEGCCqGSM49AwEHA0IABK+pUpSNUF6FVKhMA3cc+To0craiQSo+nbDPvglS
bP1vbaIoly0CIH98XT8iMbX1uNt2+Yq9/HrRN0VyVVssrVWgUTBPBgkqhkiG9w0B
CQ4xQjBAMD4GA1UdEQQ3MDWCEWxlYWYuY3VzdG9keS50ZXN0hhpzcGlmZmU6Ly9j
dXN0b2R5LnRlc3QvbGVhZocECgAAATAKBggqhkjOPQQDAgNJADBGAiEA1P4J2voo
Qfz2VCPRtvg4RgiQBgRuMsmO0uo4+PbGI9YCIQCO0OgY5/PO34P1E8qthKMKtxAX
P/FTD12GXKdSjlgukg==
-----END CERTIFICATE REQUEST-----`;
const LEAF_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg7Lya99bX82gwkMpj
XJzf6H/BlaCui1pB699QfM4At4GhRANCAASvqVKUjVBehVSoTAN3HPk6NHK2okEq
Pp2wz74JUmz9b22iKJctAiB/fF0/IjG19bjbdvmKvfx60TdFclVbLK1V
-----END PRIVATE KEY-----`;
const RSA = `-----BEGIN RSA PRIVATE KEY-----
MIICXAIBAAKBgQCkMRpFn8x/OsR4X+qzNmWVI75ug5a8uI5AC12J8P8qNRyuH9om
sy7kkxpiUkot1mjmXv8oPvfOmvZFlQ3M0uzOZRVB5gUzeUrCWGDl5u2vPGoz982k
hyKW20Sfv3k1a3OLecNtGhVUrS6oX7WCTG6RW9HZVxbTUnCudpNsJdgb3wIDAQAB
AoGAGzPvcF2bWfD4oCD0F6EJj34OjOzMSpQhLUc0xifhfrKx/79TO1owiLo+gs+z
boi5dIGEsLxN/jL6XmjlkmvXw85LnmuH3sTVU86bMjsCFHWJr9TMlyaSsNa8wFAr
UtRyqgErmA4wFrfLJomMfXlZwccW41PjFMm3E77Prrx0yIECQQDU7w2lmsTCkENb
yd/bRlpo6IiDLDd7gEdLD/INdYQTQYeQUhumprreIwlww5i0vc9breEDsOguIOOa
YTSi6WI/AkEAxWZdM5U9zF64C3eNU3ZNtwWfOy/VLnwVJxvZw0gK8V0ypURmA+i1
caLWImnBF0K4dJh6Z+aKCFo56S1Sz3meYQJBAMJDwrCWrfJQCZQhbmEwI2XY2ErM
OWYsV17NEmljEHc87sAlmOKG9K+bSY6edKBZF2guD779VCZZjS0YiBwlTqMCQCnZ
Z8z1yOI4+n/D2rxlCljQ4k8j9ugh+kIOT35tGZTOE1yiQZZ2kXED+q3VCdCqnnxp
jxnT8FOQ/VIH/9RojkECQHs6eaVn/rMIHY8x/EBAct6BkiqSPlSO/idCSvNfp3Bh
Mf6nDmF3+evrs18eHrucSsi8YF6lLErVYojKv7l3SVY=
-----END RSA PRIVATE KEY-----`;

function run(expr: string, input: Record<string, unknown>, strict = false): unknown {
  const policy = compile({ modules: [{ name: 'x.rego', source: `package x\nx := ${expr}` }] });
  return policy.eval({ query: 'x := data.x.x', input, strictBuiltinErrors: strict }).results[0]
    ?.bindings['x'];
}

describe('crypto.x509', () => {
  it('parses PEM chains and base64 DER into Go-shaped certificates', () => {
    const certs = run('crypto.x509.parse_certificates(input.pem)', {
      pem: `${LEAF}\n${ROOT}`,
    }) as Record<string, unknown>[];
    expect(certs).toHaveLength(2);
    expect(certs[0]).toMatchObject({
      Subject: { CommonName: 'leaf.custody.test' },
      Issuer: { CommonName: 'Custody Test Root', Organization: ['Custody Test'] },
      DNSNames: ['leaf.custody.test'],
      URIStrings: ['spiffe://custody.test/leaf'],
      IPAddresses: ['10.0.0.1'],
      ExtKeyUsage: [1],
      IsCA: false,
      Version: 3,
      PublicKeyAlgorithm: 3,
      SignatureAlgorithm: 10,
    });
    expect(certs[1]).toMatchObject({
      IsCA: true,
      BasicConstraintsValid: true,
      MaxPathLen: -1,
      KeyUsage: 96,
    });
    const der = Buffer.from(ROOT.split('\n').slice(1, -1).join(''), 'base64').toString('base64');
    expect(run('crypto.x509.parse_certificates(input.der)[0].Subject.CommonName', { der })).toBe(
      'Custody Test Root',
    );
  });

  it('verifies a chain given root first, leaf last', () => {
    const [ok, chain] = run('crypto.x509.parse_and_verify_certificates(input.pem)', {
      pem: `${ROOT}\n${LEAF}`,
    }) as [boolean, { Subject: { CommonName: string } }[]];
    expect(ok).toBe(true);
    expect(chain.map((c) => c.Subject.CommonName)).toEqual([
      'leaf.custody.test',
      'Custody Test Root',
    ]);
    // The wrong order (the leaf as the root) does not verify.
    expect(
      run('crypto.x509.parse_and_verify_certificates(input.pem)', { pem: `${LEAF}\n${ROOT}` }),
    ).toEqual([false, []]);
    expect(
      run(
        'crypto.x509.parse_and_verify_certificates_with_options(input.pem, {"DNSName": "other.test"})[0]',
        {
          pem: `${ROOT}\n${LEAF}`,
        },
      ),
    ).toBe(false);
  });

  it('parses certificate requests, PEM or base64', () => {
    const csr = run('crypto.x509.parse_certificate_request(input.csr)', { csr: CSR }) as Record<
      string,
      unknown
    >;
    expect(csr).toMatchObject({
      Subject: { CommonName: 'leaf.custody.test' },
      DNSNames: ['leaf.custody.test'],
      Version: 0,
      PublicKeyAlgorithm: 3,
    });
    expect(
      run('crypto.x509.parse_certificate_request(input.csr).Subject.CommonName', {
        csr: Buffer.from(CSR).toString('base64'),
      }),
    ).toBe('leaf.custody.test');
  });

  it('reports bad input as Go does', () => {
    expect(() => run('crypto.x509.parse_certificates("foobar")', {}, true)).toThrow(
      /illegal base64/,
    );
    expect(() => run('crypto.x509.parse_certificate_request("YmFkc3RyaW5n")', {}, true)).toThrow(
      /asn1: structure error/,
    );
    expect(() => run('crypto.x509.parse_rsa_private_key("nope!")', {}, true)).toThrow(RegoError);
  });

  it('reads verification options as OPA does', () => {
    const pem = `${ROOT}\n${LEAF}`;
    const opts = (o: string): unknown =>
      run(`crypto.x509.parse_and_verify_certificates_with_options(input.pem, ${o})[0]`, { pem });
    expect(opts('{"DNSName": "leaf.custody.test", "KeyUsages": ["KeyUsageServerAuth"]}')).toBe(
      true,
    );
    expect(opts('{"KeyUsages": ["KeyUsageCodeSigning"]}')).toBe(false);
    // An IP host is matched against the IP alternative names.
    expect(opts('{"DNSName": "10.0.0.1"}')).toBe(true);
    expect(opts('{"DNSName": "10.0.0.2"}')).toBe(false);
    // 2000-01-01, before the certificates were issued.
    expect(opts('{"CurrentTime": 946684800000000000}')).toBe(false);
    expect(() =>
      run(
        'crypto.x509.parse_and_verify_certificates_with_options(input.pem, {"Nope": 1})',
        { pem },
        true,
      ),
    ).toThrow(/invalid key option/);
  });

  it('parses a key pair and checks that the key matches', () => {
    const kp = run('crypto.x509.parse_keypair(input.cert, input.key)', {
      cert: LEAF,
      key: LEAF_KEY,
    }) as Record<string, unknown>;
    expect(kp['Certificate']).toHaveLength(1);
    expect(kp['Leaf']).toMatchObject({ Subject: { CommonName: 'leaf.custody.test' } });
    expect(() =>
      run('crypto.x509.parse_keypair(input.cert, input.key)', { cert: LEAF, key: RSA }, true),
    ).toThrow(/private key does not match public key/);
  });

  it('parses RSA private keys to a JWK and lists private keys', () => {
    const jwk = run('crypto.x509.parse_rsa_private_key(input.pem)', { pem: RSA }) as Record<
      string,
      string
    >;
    expect(jwk['kty']).toBe('RSA');
    expect(jwk['e']).toBe('AQAB');
    expect(Object.keys(jwk).sort()).toEqual(['d', 'dp', 'dq', 'e', 'kty', 'n', 'p', 'q', 'qi']);
    expect(run('count(crypto.parse_private_keys(input.pem))', { pem: RSA })).toBe(1);
    expect(run('crypto.parse_private_keys("")', {})).toBeNull();
    expect(run('count(crypto.parse_private_keys(input.pem))', { pem: `${RSA}\n${LEAF_KEY}` })).toBe(
      2,
    );
    expect(run('crypto.x509.parse_rsa_private_key(input.pem)', { pem: ROOT })).toBeNull();
    expect(run('crypto.parse_private_keys(input.pem)', { pem: ROOT })).toEqual([]);
  });
});
