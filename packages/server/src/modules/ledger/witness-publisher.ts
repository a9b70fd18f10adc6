import {
  addCosignatureLines,
  formatAddCheckpointRequest,
  fromBase64,
  parseCosignerVerifierKey,
  parseNote,
  signatureLine,
  verifyCosignedCheckpoint,
  type CosignatureVerifier,
} from '@custody/ledger';
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors.ts';
import { ledgerErrors } from './errors.ts';
import type { LedgerService } from './ledger-service.ts';
import type { CheckpointRow, KyselyLedgerStore } from './ledger-store.ts';

/** A witness as configured: its submission prefix and its verifier key (type 0x04). */
export interface WitnessConfig {
  readonly url: string;
  readonly verifierKey: string;
}

export interface WitnessStatus {
  readonly name: string;
  readonly url: string;
  readonly verifierKey: string;
  readonly cosignedSize: number | null;
  readonly lastError: string | null;
  readonly lastAttemptAt: string | null;
}

interface Witness {
  readonly url: string;
  readonly verifier: CosignatureVerifier;
  lastError: string | null;
  lastAttemptAt: string | null;
  failures: number;
  retryAt: number;
  /** The size the witness said it holds (a 409), when we have no cosignature of it. */
  sizeHint: number | undefined;
}

class WitnessRefusal extends Error {}

function parseWitnesses(list: readonly WitnessConfig[]): Witness[] {
  return list.map((w, i) => {
    let url: URL;
    try {
      url = new URL(w.url);
      if (!/^https?:$/.test(url.protocol)) throw new Error('must be http:// or https://');
    } catch (err) {
      throw new DomainError(
        ledgerErrors.LEDGER_WITNESS_CONFIG_INVALID,
        `witnesses[${i}].url: ${(err as Error).message}`,
      );
    }
    let verifier: CosignatureVerifier;
    try {
      verifier = parseCosignerVerifierKey(w.verifierKey);
    } catch (err) {
      throw new DomainError(
        ledgerErrors.LEDGER_WITNESS_CONFIG_INVALID,
        `witnesses[${i}].verifierKey: ${(err as Error).message}`,
      );
    }
    return {
      url: url.toString().replace(/\/+$/, ''),
      verifier,
      lastError: null,
      lastAttemptAt: null,
      failures: 0,
      retryAt: 0,
      sizeHint: undefined,
    };
  });
}

// Publishes the log's checkpoints to C2SP tlog-witness witnesses (on the leader): each
// round, every witness behind the latest checkpoint gets an add-checkpoint request with a
// consistency proof from the size it last cosigned; the cosignature it returns is checked
// against its key and stored. A witness refuses a checkpoint that does not extend what it
// saw before, so a history rewritten in the database, even re-signed with the log key,
// cannot collect cosignatures.
export class WitnessPublisher {
  private readonly witnesses: Witness[];

  constructor(
    private readonly deps: {
      witnesses: readonly WitnessConfig[];
      database: Database;
      store: KyselyLedgerStore;
      service: LedgerService;
      clock: Clock;
      logger: Logger;
      timeoutMs?: number;
    },
  ) {
    this.witnesses = parseWitnesses(deps.witnesses);
  }

  get configured(): boolean {
    return this.witnesses.length > 0;
  }

  /** The verifier keys of the configured witnesses. */
  get verifierKeys(): string[] {
    return this.witnesses.map((w) => w.verifier.verifierKey);
  }

  async status(): Promise<WitnessStatus[]> {
    const db = this.deps.database.db;
    return Promise.all(
      this.witnesses.map(async (w) => ({
        name: w.verifier.name,
        url: w.url,
        verifierKey: w.verifier.verifierKey,
        cosignedSize:
          (await this.deps.store.latestCosignedSize(db, w.verifier.verifierKey)) ?? null,
        lastError: w.lastError,
        lastAttemptAt: w.lastAttemptAt,
      })),
    );
  }

  /** One round: submits the latest checkpoint to every witness that has not cosigned it. */
  async publishAll(options: { ignoreBackoff?: boolean } = {}): Promise<void> {
    if (!this.configured) return;
    const latest = await this.deps.service.latestOrUndefined();
    if (!latest) return;
    await Promise.all(this.witnesses.map((w) => this.publish(w, latest, options)));
  }

  private async publish(
    w: Witness,
    latest: CheckpointRow,
    options: { ignoreBackoff?: boolean },
  ): Promise<void> {
    if (!options.ignoreBackoff && Date.now() < w.retryAt) return;
    const db = this.deps.database.db;
    const known = await this.deps.store.latestCosignedSize(db, w.verifier.verifierKey);
    if (known !== undefined && known >= latest.size) return;
    w.lastAttemptAt = this.deps.clock.now().toISOString();
    try {
      await this.submit(w, latest, w.sizeHint ?? known ?? 0);
      w.lastError = null;
      w.failures = 0;
      w.retryAt = 0;
    } catch (err) {
      const message = (err as Error).message.slice(0, 500);
      if (message !== w.lastError) {
        const log = this.deps.logger;
        const fields = { witness: w.verifier.name, url: w.url, size: latest.size };
        if (err instanceof WitnessRefusal)
          log.error(fields, `witness refused the checkpoint: ${message}`);
        else log.warn({ ...fields, error: message }, 'witness submission failed');
      }
      w.lastError = message;
      w.failures++;
      w.retryAt = Date.now() + Math.min(60_000, 1000 * 2 ** (w.failures - 1));
    }
  }

  private async submit(w: Witness, latest: CheckpointRow, oldSize: number): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (oldSize > latest.size)
        throw new WitnessRefusal(
          `the witness has cosigned size ${oldSize}, beyond the log's latest checkpoint (size ${latest.size}): the database lost signed history, or the log forked`,
        );
      const proof =
        oldSize > 0 && oldSize < latest.size
          ? (await this.deps.service.consistencyProof(oldSize, latest.size)).proof.map(fromBase64)
          : [];
      const res = await fetch(`${w.url}/add-checkpoint`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: formatAddCheckpointRequest({ oldSize, proof, checkpoint: latest.note }),
        signal: AbortSignal.timeout(this.deps.timeoutMs ?? 10_000),
      });
      const body = await res.text();
      if (res.status === 409 && /^(0|[1-9][0-9]*)\n$/.test(body)) {
        oldSize = Number(body.trim());
        w.sizeHint = oldSize;
        continue;
      }
      if (res.status !== 200)
        throw new WitnessRefusal(`HTTP ${res.status}: ${body.slice(0, 200).trim()}`);
      await this.store(w, latest, body);
      w.sizeHint = undefined;
      return;
    }
    throw new Error('the witness keeps answering 409 Conflict');
  }

  // Keeps the witness's own line, once it verifies over this very checkpoint.
  private async store(w: Witness, latest: CheckpointRow, body: string): Promise<void> {
    let merged: string;
    try {
      merged = addCosignatureLines(latest.note, body);
    } catch (err) {
      throw new Error(`the witness's answer is not signature lines: ${(err as Error).message}`);
    }
    const checked = verifyCosignedCheckpoint(merged, {
      logKeys: this.deps.service.signer.verifierKey,
      witnessKeys: [w.verifier],
      quorum: 1,
    });
    if (!checked.ok)
      throw new WitnessRefusal(`the witness's cosignature does not verify: ${checked.message}`);
    const sig = parseNote(merged).signatures.find(
      (s) => s.name === w.verifier.name && s.keyId === w.verifier.keyId,
    )!;
    await this.deps.store.insertCosignature(this.deps.database.db, {
      witness: w.verifier.verifierKey,
      size: latest.size,
      signature: signatureLine(sig),
      cosigned_at: checked.cosignatures[0]!.timestamp,
      created_at: this.deps.clock.now().toISOString(),
    });
  }
}
