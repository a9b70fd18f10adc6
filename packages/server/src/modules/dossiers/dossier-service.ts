import type { Logger } from 'pino';
import type { RequestContext } from '../../platform/context.ts';
import { principalOf, systemActor } from '../../platform/context.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type { DeploymentRecord } from '../executions/index.ts';
import {
  settleMs,
  type BuiltDossier,
  type CollectedDossier,
  type DossierBuilder,
} from './dossier-builder.ts';
import { subjectOf, type DossierSources } from './dossier-sources.ts';
import type { KyselyDossierStore } from './dossier-store.ts';
import { dossierErrors as E } from './errors.ts';
import { dossierPermissions as P } from './permissions.ts';

export interface DossierDownload {
  readonly deployment: string;
  readonly zip: Uint8Array;
  readonly final: boolean;
  readonly manifestSha256: string;
  // Served from the table (built before) rather than built for this request.
  readonly stored: boolean;
}

const builder = { ...systemActor, name: 'dossiers' };

// Dossiers on request (any deployment the caller may read) and, on the leader, for every
// finished production deployment. A finished deployment's dossier is built once and served
// again byte for byte; a running one's is built fresh each time, marked not final.
export class DossierService {
  // Deployments that started before this and are all final were handled in an earlier tick.
  private scanFrom: string | undefined;

  constructor(
    private readonly deps: {
      sources: DossierSources;
      uow: UnitOfWork;
      store: KyselyDossierStore;
      builder: DossierBuilder;
      logger?: Logger;
    },
  ) {}

  async get(ctx: RequestContext, id: string): Promise<DossierDownload> {
    const { sources } = this.deps;
    const d = await sources.executions.deployment(sources.database.db, id);
    if (!d) {
      // Said only to those who could read a dossier anywhere (the route checked it).
      throw new DomainError(E.DOSSIERS_DEPLOYMENT_NOT_FOUND, `no deployment ${id}`);
    }
    await ctx.guard.require(
      P['dossiers.dossier.read'],
      { project: d.project, environment: d.environment },
      { type: 'deployment', id },
    );
    return this.obtain(ctx, d);
  }

  /** The sections of a deployment's dossier as they would be packed (nothing is stored). */
  async collect(id: string, builtBy = 'system:custody'): Promise<CollectedDossier> {
    const { sources } = this.deps;
    const d = await sources.executions.deployment(sources.database.db, id);
    if (!d) throw new DomainError(E.DOSSIERS_DEPLOYMENT_NOT_FOUND, `no deployment ${id}`);
    return this.deps.builder.collect(d, builtBy);
  }

  /** Builds and packs a deployment's dossier without storing it (benchmarks, tools). */
  async buildOnly(id: string, builtBy = 'system:custody'): Promise<BuiltDossier> {
    const { sources } = this.deps;
    const d = await sources.executions.deployment(sources.database.db, id);
    if (!d) throw new DomainError(E.DOSSIERS_DEPLOYMENT_NOT_FOUND, `no deployment ${id}`);
    return this.deps.builder.build(d, builtBy);
  }

  private async obtain(
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    d: DeploymentRecord,
  ): Promise<DossierDownload> {
    const { store, sources } = this.deps;
    const db = sources.database.db;
    const existing = await store.final(db, d.id);
    if (existing)
      return {
        deployment: d.id,
        zip: existing.zip,
        final: true,
        manifestSha256: existing.manifest_sha256,
        stored: true,
      };
    const built = await this.deps.builder.build(d, principalOf(ctx.actor));
    const row = {
      id: newId('dsr'),
      deployment_id: d.id,
      final: built.final ? 1 : 0,
      manifest_sha256: built.manifestSha256,
      size: built.zip.length,
      created_at: sources.clock.now().toISOString(),
      created_by: principalOf(ctx.actor),
      zip: built.zip,
    };
    try {
      await this.deps.uow.run(ctx, async (tx, record) => {
        await store.insert(tx, row);
        record({
          action: 'dossiers.dossier.generated',
          resource: { type: 'deployment', id: d.id },
          details: {
            dossier: row.id,
            final: built.final,
            manifestSha256: built.manifestSha256,
            size: row.size,
            entries: built.entries,
          },
        });
      });
    } catch (err) {
      // Another replica (or request) stored the final dossier first: serve that one.
      const winner = built.final ? await store.final(db, d.id) : undefined;
      if (!winner) throw err;
      return {
        deployment: d.id,
        zip: winner.zip,
        final: true,
        manifestSha256: winner.manifest_sha256,
        stored: true,
      };
    }
    return {
      deployment: d.id,
      zip: built.zip,
      final: built.final,
      manifestSha256: built.manifestSha256,
      stored: false,
    };
  }

  private async reviewPending(d: DeploymentRecord): Promise<boolean> {
    const id = subjectOf(d).changeId;
    const change = id ? await this.deps.sources.changes.requests.read(id) : undefined;
    return change?.riskClass === 'emergency' && change.review.status !== 'done';
  }

  /**
   * The leader's duty: builds the dossier of every finished production deployment that has
   * none. Returns the deployments it built dossiers for.
   */
  async buildPending(limit = 20): Promise<string[]> {
    const { sources, store } = this.deps;
    const db = sources.database.db;
    const types = new Map<string, string | undefined>();
    const isProduction = async (d: DeploymentRecord) => {
      const key = `${d.project}/${d.environment}`;
      if (!types.has(key))
        types.set(key, (await sources.projects.environment(d.project, d.environment))?.type);
      return types.get(key) === 'production';
    };
    const built: string[] = [];
    let oldestOpen: string | undefined;
    let newest: string | undefined;
    let page = {
      limit: 200,
      after: undefined as Parameters<typeof sources.executions.deployments>[2]['after'],
    };
    for (;;) {
      const found = await sources.executions.deployments(db, { from: this.scanFrom }, page);
      const done = await store.withFinal(
        db,
        found.items.map((d) => d.id),
      );
      for (const d of found.items) {
        newest = d.startedAt;
        if (done.has(d.id) || !(await isProduction(d))) continue;
        const settled =
          d.finishedAt !== null &&
          Date.parse(d.finishedAt) + settleMs <= sources.clock.now().getTime();
        if (!settled || built.length >= limit) {
          oldestOpen ??= d.startedAt;
          continue;
        }
        // An emergency change's dossier is final only once its review is done: wait for it.
        if (await this.reviewPending(d)) {
          oldestOpen ??= d.startedAt;
          continue;
        }
        try {
          const out = await this.obtain({ actor: builder, requestId: newId('dossier') }, d);
          if (out.final) built.push(d.id);
          else oldestOpen ??= d.startedAt;
        } catch (err) {
          oldestOpen ??= d.startedAt;
          this.deps.logger?.error({ err, deployment: d.id }, 'could not build a dossier');
        }
      }
      if (!found.next) break;
      page = { limit: 200, after: found.next };
    }
    this.scanFrom = oldestOpen ?? newest ?? this.scanFrom;
    return built;
  }
}
