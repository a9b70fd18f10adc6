import { hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateSignerKey, parseSignerKey, type NoteSigner } from '@custody/ledger';
import { DomainError } from '../../platform/errors.ts';
import { ledgerErrors } from './errors.ts';

export interface LedgerKeyOptions {
  readonly dataDir: string;
  readonly ledgerKeyFile?: string | undefined;
  readonly publicUrl?: string | undefined;
  /** Where the signer keeps its own state (default: next to the key, `<key file>.state`). */
  readonly ledgerStateFile?: string | undefined;
}

/** Where the signing key lives: the configured file, else `<dataDir>/ledger.key`. */
export function ledgerKeyPath(options: LedgerKeyOptions): string {
  return path.resolve(options.ledgerKeyFile ?? path.join(options.dataDir, 'ledger.key'));
}

/** The signer's own record of what it signed: `ledgerStateFile`, else `<key file>.state`. */
export function ledgerStatePath(options: LedgerKeyOptions): string {
  return path.resolve(options.ledgerStateFile ?? `${ledgerKeyPath(options)}.state`);
}

/**
 * The key of the audit entry MACs (64 hex digits), derived with HKDF-SHA256 from the ledger
 * key file, which every replica holds and the database never does. Creates the key at first
 * start like loadOrCreateSigner.
 */
export function ledgerEntryKey(options: LedgerKeyOptions): string {
  loadOrCreateSigner(options);
  const material = readFileSync(ledgerKeyPath(options), 'utf8').trim();
  return Buffer.from(hkdfSync('sha256', material, 'custody', 'audit/entry-mac/v1', 32)).toString(
    'hex',
  );
}

/** A key name (and log origin) that is unique per installation: `<host>/ledger/<8 hex>`. */
export function newLogOrigin(publicUrl?: string): string {
  let host = 'custody';
  if (publicUrl) {
    try {
      host = new URL(publicUrl).host || host;
    } catch {
      // keep the default
    }
  }
  return `${host}/ledger/${randomBytes(4).toString('hex')}`;
}

/**
 * Loads the signing key, creating it (mode 0600) at first start when no file is configured.
 * A configured `ledgerKeyFile` must exist: replicas sharing a database share one key.
 */
export function loadOrCreateSigner(options: LedgerKeyOptions): NoteSigner {
  const file = ledgerKeyPath(options);
  if (!existsSync(file)) {
    if (options.ledgerKeyFile) {
      throw new DomainError(
        ledgerErrors.LEDGER_KEY_UNREADABLE,
        `ledger key file ${file} does not exist`,
      );
    }
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const key = generateSignerKey(newLogOrigin(options.publicUrl));
    writeFileSync(file, key.signerKey + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DomainError(
      ledgerErrors.LEDGER_KEY_UNREADABLE,
      `cannot read ledger key file ${file}: ${(err as Error).message}`,
    );
  }
  try {
    return parseSignerKey(text.trim());
  } catch (err) {
    // Never echo the file's content: it is the private key.
    throw new DomainError(
      ledgerErrors.LEDGER_KEY_UNREADABLE,
      `ledger key file ${file} does not hold a signer key: ${(err as Error).message}`,
    );
  }
}
