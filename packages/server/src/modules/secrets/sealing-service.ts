import type { Clock } from '../../platform/clock.ts';
import { systemActor, type RequestContext } from '../../platform/context.ts';
import { sealingErrors } from '../../platform/crypto/errors.ts';
import { isLegacySealed, openLegacy } from '../../platform/crypto/legacy-formats.ts';
import type { SealedValue, SealedValueSet } from '../../platform/crypto/sealed-values.ts';
import type { Sealer } from '../../platform/crypto/sealer.ts';
import type { Database } from '../../platform/db/database.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { secretPermissions as P } from './permissions.ts';
import type { KyselySealingKeyStore, SealingKeyRow } from './sealing-key-store.ts';

export interface SealingStatus {
  currentKeyId: string;
  configuredKeyIds: string[];
  registered: { keyId: string; registeredAt: string; retiredAt: string | null }[];
  sets: { name: string; total: number; byKey: Record<string, number> }[];
}

export interface ResealResult {
  keyId: string;
  sets: { name: string; total: number; resealed: number }[];
  retired: string[];
}

const startup = { actor: systemActor, requestId: 'startup-sealing' };
const resource = (set: string) => ({ type: 'sealed-values', id: set });

// The deployment's sealing keys across replicas (ADR 8). At start-up a replica proves it can
// open everything stored and that it holds every key another replica seals under, or refuses
// to start; `reseal` moves every value to the newest key and retires the others.
export class SealingService {
  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      clock: Clock;
      sealer: Sealer;
      store: KyselySealingKeyStore;
      sets: readonly SealedValueSet[];
      // Keys of the formats before the one sealer (the streams' ledger-derived key).
      legacyKeys?: () => readonly Uint8Array[];
    },
  ) {}

  async prepare(): Promise<void> {
    const { sealer, database } = this.deps;
    const legacy: { set: SealedValueSet; values: SealedValue[] }[] = [];
    const missing = new Set<string>();
    const samples = new Map<string, { set: string; value: SealedValue }>();
    for (const set of this.deps.sets) {
      const old: SealedValue[] = [];
      for (const v of await set.list(database.db)) {
        const keyId = sealer.keyIdOf(v.sealed);
        if (keyId === null) old.push(v);
        else if (!sealer.holds(keyId)) missing.add(keyId);
        else if (!samples.has(`${set.name}/${keyId}`))
          samples.set(`${set.name}/${keyId}`, { set: set.name, value: v });
      }
      if (old.length) legacy.push({ set, values: old });
    }
    const registered = await this.deps.store.all(database.db);
    this.check(registered, missing);
    for (const { set, value } of samples.values()) this.openOrExplain(set, value);
    if (!registered.some((r) => r.key_id === sealer.currentKeyId)) await this.register();
    for (const { set, values } of legacy) await this.migrate(set, values);
  }

  private check(registered: readonly SealingKeyRow[], missing: Set<string>): void {
    const { sealer } = this.deps;
    for (const r of registered) if (!r.retired_at && !sealer.holds(r.key_id)) missing.add(r.key_id);
    if (missing.size)
      throw new DomainError(
        sealingErrors.SEALING_KEY_MISSING,
        `the deployment seals under key(s) ${[...missing].join(', ')}, which this server does not hold (it holds ${sealer.keyIds.join(', ')})`,
        { missing: [...missing], configured: sealer.keyIds },
      );
    const mine = registered.find((r) => r.key_id === sealer.currentKeyId);
    if (mine?.retired_at)
      throw new DomainError(
        sealingErrors.SEALING_KEY_RETIRED,
        `key ${mine.key_id} was retired at ${mine.retired_at}`,
        { keyId: mine.key_id, configured: sealer.keyIds },
      );
  }

  private openOrExplain(set: string, value: SealedValue): void {
    try {
      this.deps.sealer.open(value.sealed, value.context);
    } catch (err) {
      if (err instanceof DomainError)
        throw new DomainError(
          sealingErrors.SEALING_VALUE_UNREADABLE,
          `${set} ${value.id}: ${err.message}`,
          { set, id: value.id },
          { cause: err },
        );
      throw err;
    }
  }

  // Registers this replica's newest key under a lock, re-checking what others registered
  // meanwhile, so two replicas started together with different keys cannot both go ahead.
  private async register(): Promise<void> {
    const { sealer, store } = this.deps;
    await this.deps.uow.run(startup, async (tx, record) => {
      await store.lock(tx);
      const registered = await store.all(tx);
      this.check(registered, new Set());
      await store.register(tx, sealer.currentKeyId, this.now());
      record({
        action: 'secrets.sealing-key.registered',
        resource: { type: 'sealing-key', id: sealer.currentKeyId },
        details: {
          configured: sealer.keyIds,
          // Another replica with the same key may have registered it a moment before.
          already: registered.some((r) => r.key_id === sealer.currentKeyId),
        },
      });
    });
  }

  private async migrate(set: SealedValueSet, values: readonly SealedValue[]): Promise<void> {
    const { sealer } = this.deps;
    const keys = [...sealer.legacyKeys(), ...(this.deps.legacyKeys?.() ?? [])];
    await this.deps.uow.run(startup, async (tx, record) => {
      let migrated = 0;
      for (const v of values) {
        if (!isLegacySealed(v.sealed)) continue;
        const plain = openLegacy(v.sealed, keys);
        if (plain === undefined)
          throw new DomainError(
            sealingErrors.SEALING_KEY_MISSING,
            `${set.name} ${v.id} was sealed (before key ids) under a key this server does not hold`,
            { set: set.name, id: v.id, missing: ['legacy'], configured: sealer.keyIds },
          );
        if (await set.replace(tx, v.id, v.sealed, sealer.seal(plain, v.context))) migrated++;
      }
      record({
        action: 'secrets.sealing.migrated',
        resource: resource(set.name),
        details: { migrated, keyId: sealer.currentKeyId, from: 'unversioned format' },
      });
    });
  }

  /** Seals every value again under the newest key and retires the other keys; idempotent. */
  async reseal(ctx: RequestContext): Promise<ResealResult> {
    await ctx.guard.require(P['secrets.sealing.reseal'], {}, resource('all'));
    const { sealer, store } = this.deps;
    const sets: ResealResult['sets'] = [];
    for (const set of this.deps.sets)
      sets.push(
        await this.deps.uow.run(ctx, async (tx, record) => {
          const values = await set.list(tx);
          let resealed = 0;
          for (const v of values) {
            if (sealer.isCurrent(v.sealed)) continue;
            const plain = sealer.open(v.sealed, v.context);
            if (await set.replace(tx, v.id, v.sealed, sealer.seal(plain, v.context))) resealed++;
          }
          record({
            action: 'secrets.sealing.resealed',
            resource: resource(set.name),
            details: { resealed, total: values.length, keyId: sealer.currentKeyId },
          });
          return { name: set.name, total: values.length, resealed };
        }),
      );
    const retired = await this.deps.uow.run(ctx, async (tx, record) => {
      await store.lock(tx);
      await store.register(tx, sealer.currentKeyId, this.now());
      const ids = await store.retireAllBut(tx, sealer.currentKeyId, this.now());
      record({
        action: 'secrets.sealing-key.retired',
        resource: { type: 'sealing-key', id: sealer.currentKeyId },
        details: { retired: ids, current: sealer.currentKeyId },
      });
      return ids;
    });
    return { keyId: sealer.currentKeyId, sets, retired };
  }

  async status(ctx: RequestContext): Promise<SealingStatus> {
    await ctx.guard.require(P['secrets.sealing.read'], {}, resource('all'));
    const db = this.deps.database.db;
    const sets: SealingStatus['sets'] = [];
    for (const set of this.deps.sets) {
      const byKey: Record<string, number> = {};
      const values = await set.list(db);
      for (const v of values) {
        const id = this.deps.sealer.keyIdOf(v.sealed) ?? 'unversioned';
        byKey[id] = (byKey[id] ?? 0) + 1;
      }
      sets.push({ name: set.name, total: values.length, byKey });
    }
    return {
      currentKeyId: this.deps.sealer.currentKeyId,
      configuredKeyIds: [...this.deps.sealer.keyIds],
      registered: (await this.deps.store.all(db)).map((r) => ({
        keyId: r.key_id,
        registeredAt: r.registered_at,
        retiredAt: r.retired_at,
      })),
      sets,
    };
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}
