import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors.ts';
import { isLegacySealed, openLegacy } from './legacy-formats.ts';
import { Sealer, sealingKeyId } from './sealer.ts';
import { defaultSecretsKeyFile, loadSealingKeys } from './sealing-keys.ts';

const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return err instanceof DomainError ? err.code : String(err);
  }
  return 'no error';
};
const key = () => randomBytes(32);
const b64 = (k: Buffer) => k.toString('base64');

describe('the one sealer', () => {
  it('names its key in every value and opens only with that key and the same context', () => {
    const k1 = key();
    const sealer = new Sealer([k1]);
    const sealed = sealer.seal('hunter2', 'secrets/p//TOKEN');
    expect(sealed.split('.')[0]).toBe('v2');
    expect(sealer.keyIdOf(sealed)).toBe(sealingKeyId(k1));
    expect(sealed).not.toContain('hunter2');
    expect(sealer.open(sealed, 'secrets/p//TOKEN')).toBe('hunter2');
    // A DBA copying a value into another row (another scope, another store) gets nothing.
    expect(code(() => sealer.open(sealed, 'secrets/p/prod/TOKEN'))).toBe(
      'SEALING_VALUE_UNREADABLE',
    );
    expect(code(() => sealer.open(sealed, 'scm/webhook-secret/p/github'))).toBe(
      'SEALING_VALUE_UNREADABLE',
    );
    const [v, id, iv, tag, data] = sealed.split('.');
    const flipped = Buffer.from(data!, 'base64');
    flipped[0] = flipped[0]! ^ 1;
    expect(
      code(() =>
        sealer.open([v, id, iv, tag, flipped.toString('base64')].join('.'), 'secrets/p//TOKEN'),
      ),
    ).toBe('SEALING_VALUE_UNREADABLE');
    expect(code(() => new Sealer([key()]).open(sealed, 'secrets/p//TOKEN'))).toBe(
      'SEALING_KEY_MISSING',
    );
  });

  it('rotates: the newest key seals, older keys still open', () => {
    const [k1, k2] = [key(), key()];
    const old = new Sealer([k1]).seal('v-old', 'c');
    const both = new Sealer([k1, k2]);
    expect(both.currentKeyId).toBe(sealingKeyId(k2));
    expect(both.keyIds).toEqual([sealingKeyId(k1), sealingKeyId(k2)]);
    expect(both.open(old, 'c')).toBe('v-old');
    expect(both.isCurrent(old)).toBe(false);
    const fresh = both.seal('v-new', 'c');
    expect(both.isCurrent(fresh)).toBe(true);
    expect(new Sealer([k2]).open(fresh, 'c')).toBe('v-new');
    expect(code(() => new Sealer([k2]).open(old, 'c'))).toBe('SEALING_KEY_MISSING');
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(code(() => new Sealer([randomBytes(16)]))).toBe('SEALING_KEY_INVALID');
    expect(code(() => new Sealer([]))).toBe('SEALING_KEY_INVALID');
  });

  it('opens the two formats sealed before key ids, with the key that authenticates them', () => {
    const k = key();
    const seal = (value: string) => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', k, iv);
      const data = Buffer.concat([c.update(value, 'utf8'), c.final()]);
      return [iv, c.getAuthTag(), data].map((b) => b.toString('base64'));
    };
    const secretsFormat = seal('old-secret').join('.');
    const connectorFormat = ['v1', ...seal('old-credential')].join('.');
    expect(isLegacySealed(secretsFormat) && isLegacySealed(connectorFormat)).toBe(true);
    expect(isLegacySealed(new Sealer([k]).seal('x', 'c'))).toBe(false);
    expect(openLegacy(secretsFormat, [key(), k])).toBe('old-secret');
    expect(openLegacy(connectorFormat, [k])).toBe('old-credential');
    expect(openLegacy(secretsFormat, [key()])).toBeUndefined();
  });
});

describe('sealing keys from configuration', () => {
  const dir = () => mkdtempSync(path.join(tmpdir(), 'custody-keys-'));

  it('reads a key file (newest last, comments allowed) or base64 keys from the environment', () => {
    const [k1, k2] = [key(), key()];
    const file = path.join(dir(), 'keys');
    writeFileSync(file, `# rotated 2026-12\n${b64(k1)}\n\n${b64(k2)}\n`);
    const fromFile = loadSealingKeys({ secretsKeyFile: file, dataDir: dir() });
    expect(fromFile.map((k) => b64(k))).toEqual([b64(k1), b64(k2)]);
    const fromEnv = loadSealingKeys({ secretsKey: `${b64(k1)},${b64(k2)}`, dataDir: dir() });
    expect(new Sealer(fromEnv).currentKeyId).toBe(sealingKeyId(k2));
  });

  it('never invents a key for a configured file, and rejects bad or ambiguous settings', () => {
    const d = dir();
    const missing = path.join(d, 'nope');
    expect(code(() => loadSealingKeys({ secretsKeyFile: missing, dataDir: d }))).toBe(
      'SEALING_KEY_INVALID',
    );
    const short = path.join(d, 'short');
    writeFileSync(short, b64(randomBytes(16)));
    expect(code(() => loadSealingKeys({ secretsKeyFile: short, dataDir: d }))).toBe(
      'SEALING_KEY_INVALID',
    );
    expect(code(() => loadSealingKeys({ secretsKey: 'not base64!', dataDir: d }))).toBe(
      'SEALING_KEY_INVALID',
    );
    expect(
      code(() => loadSealingKeys({ secretsKey: b64(key()), secretsKeyFile: short, dataDir: d })),
    ).toBe('SEALING_KEY_INVALID');
  });

  it('without configuration, creates DATA_DIR/secrets.key once and keeps it (custody up)', () => {
    const d = dir();
    const first = loadSealingKeys({ dataDir: d });
    const again = loadSealingKeys({ dataDir: d });
    expect(b64(again[0]!)).toBe(b64(first[0]!));
    expect(readFileSync(defaultSecretsKeyFile(d), 'utf8').trim()).toBe(b64(first[0]!));
  });
});
