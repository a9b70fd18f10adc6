import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// Connector credentials are sealed with AES-256-GCM under the instance's sealing key, a file
// in the data directory (never in the database), so a database dump alone reveals nothing.
export class CredentialSealer {
  private key: Buffer | undefined;

  constructor(private readonly keyFile: string) {}

  private sealingKey(): Buffer {
    if (this.key) return this.key;
    if (!existsSync(this.keyFile)) {
      mkdirSync(path.dirname(this.keyFile), { recursive: true, mode: 0o700 });
      try {
        writeFileSync(this.keyFile, randomBytes(32).toString('base64') + '\n', {
          mode: 0o600,
          flag: 'wx',
        });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    this.key = Buffer.from(readFileSync(this.keyFile, 'utf8').trim(), 'base64');
    return this.key;
  }

  seal(value: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealingKey(), iv);
    const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return ['v1', ...[iv, cipher.getAuthTag(), data].map((b) => b.toString('base64'))].join('.');
  }

  open(sealed: string): string {
    const [version, iv, tag, data] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || data === undefined)
      throw new Error('sealed credential has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.sealingKey(), Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString(
      'utf8',
    );
  }
}
