import { describe, expect, it } from 'vitest';
import { SecretMasker, maskedForms } from './masking.ts';

const secret = 'hunter2-s3cr3t-VALUE-7f1c';
const masker = new SecretMasker([secret, 'p@ss w/rd+"quoted"é']);
const b64 = (s: string) => Buffer.from(s).toString('base64');
const b64url = (s: string) => Buffer.from(s).toString('base64url');

// Every way the test prints the value; none of it may survive masking.
export const encodings: Record<string, (v: string) => string> = {
  literal: (v) => v,
  base64: (v) => b64(v),
  'base64 after 1 byte': (v) => b64(`a${v}`),
  'base64 after 2 bytes': (v) => b64(`ab${v}zz`),
  'base64 of a JSON document': (v) => b64(JSON.stringify({ user: 'deploy', password: v })),
  base64url: (v) => b64url(`xy${v}`),
  'base64 wrapped at 76': (v) => b64(v.repeat(4)).replace(/(.{76})/g, '$1\n'),
  hex: (v) => Buffer.from(v).toString('hex'),
  HEX: (v) => Buffer.from(v).toString('hex').toUpperCase(),
  'url-encoded': (v) => encodeURIComponent(v),
  'form-encoded': (v) => new URLSearchParams({ token: v }).toString(),
  'JSON-escaped': (v) => JSON.stringify({ v }),
  reversed: (v) => [...v].reverse().join(''),
  'split across lines': (v) => `${v.slice(0, 9)}\n${v.slice(9)}`,
};

describe('masking', () => {
  for (const [name, encode] of Object.entries(encodings))
    it(`masks the ${name} form`, () => {
      for (const value of [secret, 'p@ss w/rd+"quoted"é']) {
        const out = masker.mask(`before ${encode(value)} after\n`);
        expect(out).toContain('***');
        expect(out).toMatch(/^before /);
        expect(out).toMatch(/ after\n$/);
        // Nothing of length 6 or more of any form is left.
        for (const form of maskedForms(value))
          for (let i = 0; i + 6 <= form.length; i++)
            expect(out.replace(/\n/g, ''), `${name}: ${form.slice(i, i + 6)}`).not.toContain(
              form.slice(i, i + 6),
            );
      }
    });

  it('masks the pieces of a value cut by a chunk boundary, in each encoding', () => {
    const windows = maskedForms(secret).flatMap((f) =>
      Array.from({ length: f.length - 7 }, (_, i) => f.slice(i, i + 8)),
    );
    for (const [name, encode] of Object.entries(encodings)) {
      const text = `token=${encode(secret)} done\n`;
      for (let cut = 1; cut < text.length; cut++) {
        const stored = (masker.mask(text.slice(0, cut)) + '|' + masker.mask(text.slice(cut)))
          .replace(/\n/g, '')
          .replace(/\*\*\*/g, '|');
        const leaked = windows.filter((w) => stored.includes(w));
        expect(leaked, `${name} cut at ${cut}: ${stored}`).toEqual([]);
      }
    }
    // Three chunks: the middle one lies wholly inside the value.
    const parts = ['token=hunter2-', 's3cr3t-VA', 'LUE-7f1c\n'];
    expect(parts.map((p) => masker.mask(p)).join('')).toBe('token=*********\n');
  });

  it('leaves ordinary output alone', () => {
    const text = 'npm ci\nadded 120 packages in 3s\nhunter2 is a famous password\n';
    expect(masker.mask(text)).toBe(text);
    expect(new SecretMasker([]).mask(text)).toBe(text);
    expect(new SecretMasker(['ab']).mask('ab ab')).toBe('ab ab');
  });

  it('masks each line of a multi-line secret (a PEM key printed in part)', () => {
    const pem =
      '-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\nAASCBKcwggSjAgEAAoIBAQC7\n-----END KEY-----';
    const out = new SecretMasker([pem]).mask('line: AASCBKcwggSjAgEAAoIBAQC7\n');
    expect(out).toBe('line: ***\n');
  });
});
