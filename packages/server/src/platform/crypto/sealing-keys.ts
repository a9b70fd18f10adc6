import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DomainError } from '../errors.ts';
import { sealingErrors } from './errors.ts';

// Where the sealing keys come from: `secretsKey` (CUSTODY_SECRETS_KEY, base64 keys separated by
// commas) or `secretsKeyFile` (one base64 key per line, `#` comments), newest last. With neither,
// `DATA_DIR/secrets.key` is used and created on first start: right for `custody up`, wrong for
// several replicas, which must share one configured key (the start-up check says so).

export interface SealingKeySource {
  secretsKey?: string | undefined;
  secretsKeyFile?: string | undefined;
  dataDir: string;
}

export function defaultSecretsKeyFile(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'secrets.key');
}

export function loadSealingKeys(source: SealingKeySource): Buffer[] {
  if (source.secretsKey && source.secretsKeyFile)
    throw new DomainError(
      sealingErrors.SEALING_KEY_INVALID,
      'both secretsKey (CUSTODY_SECRETS_KEY) and secretsKeyFile (CUSTODY_SECRETS_KEY_FILE) are set',
    );
  if (source.secretsKey) return parseKeys(source.secretsKey, 'CUSTODY_SECRETS_KEY');
  if (source.secretsKeyFile)
    return parseKeys(readKeyFile(source.secretsKeyFile), source.secretsKeyFile);
  const file = defaultSecretsKeyFile(source.dataDir);
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return parseKeys(readKeyFile(file), file);
}

function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new DomainError(
      sealingErrors.SEALING_KEY_INVALID,
      `cannot read the sealing key file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

function parseKeys(text: string, where: string): Buffer[] {
  const words = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join(',')
    .split(/[\s,]+/)
    .filter(Boolean);
  if (words.length === 0)
    throw new DomainError(sealingErrors.SEALING_KEY_INVALID, `${where} holds no key`);
  return words.map((word, i) => {
    const key = Buffer.from(word, 'base64');
    const canonical = key.toString('base64').replace(/=+$/, '');
    if (key.length !== 32 || canonical !== word.replace(/=+$/, ''))
      throw new DomainError(
        sealingErrors.SEALING_KEY_INVALID,
        `key ${i + 1} in ${where} is not 32 bytes of base64`,
      );
    return key;
  });
}
