import { createHash } from 'node:crypto';
import { canonicalJson } from '@custody/ledger';
import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { AnyDb, AnyTx, Database } from '../../platform/db/database.ts';
import type { RecordAudit, UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import type { ApprovalService } from '../approvals/index.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import { resourceErrors } from './errors.ts';
import { GovernedChanges } from './governed-changes.ts';
import type {
  AnyKindHandler,
  Governance,
  GovernanceReader,
  ResourceDocument,
} from './kind-handler.ts';
import { parseManifest } from './manifest-parser.ts';
import type { ChangeRow, HeadRow, KyselyResourceStore, ResourceKey } from './resource-store.ts';
import { diffDocuments, type DiffLine } from './resource-diff.ts';
import { versionView, type ResourceView, type VersionView } from './resource-views.ts';

export type ApplyChange = 'created' | 'updated' | 'unchanged';

export interface ApplyResult {
  kind: string;
  project: string | null;
  name: string;
  version: number;
  contentHash: string;
  change: ApplyChange;
  // `pending` while the version waits for a second person's approval (named in `approval`).
  state: 'in-force' | 'pending';
  approval?: string;
}

// A version that came into force: at apply time, or when a second person approved it.
export interface InForceVersion {
  kind: string;
  project: string | null;
  name: string;
  version: number;
  contentHash: string;
}

// Runs in the transaction that put the versions in force, after the owning modules' tables
// changed (controls re-evaluate what the change may have weakened); throwing rolls it back.
export type InForceListener = (
  tx: AnyTx,
  ctx: RequestContext,
  record: RecordAudit,
  versions: readonly InForceVersion[],
) => Promise<void>;

export function contentHash(doc: ResourceDocument): string {
  return 'sha256:' + createHash('sha256').update(canonicalJson(doc)).digest('hex');
}

const parse = (document: string) => JSON.parse(document) as ResourceDocument;

export class ResourceService {
  private readonly handlers = new Map<string, AnyKindHandler>();
  private readonly governed: GovernedChanges;
  private readonly inForceListeners: InForceListener[] = [];

  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyResourceStore;
      approvals: ApprovalService;
      clock: Clock;
    },
  ) {
    this.governed = new GovernedChanges({
      store: deps.store,
      approvals: deps.approvals,
      clock: deps.clock,
      putInForce: (tx, ctx, handler, change, record) =>
        this.putInForce(tx, ctx, handler, change, record),
    });
  }

  register(handler: AnyKindHandler): void {
    if (this.handlers.has(handler.kind)) throw new Error(`kind ${handler.kind} registered twice`);
    this.handlers.set(handler.kind, handler);
    if (handler.governed) this.governed.register(handler);
  }

  onInForce(listener: InForceListener): void {
    this.inForceListeners.push(listener);
  }

  private async inForce(
    tx: AnyTx,
    ctx: RequestContext,
    record: RecordAudit,
    versions: readonly InForceVersion[],
  ): Promise<void> {
    if (versions.length === 0) return;
    for (const listener of this.inForceListeners) await listener(tx, ctx, record, versions);
  }

  // The versions in force of a kind, with their numbers and content hashes (any db or tx).
  async inForceVersions(
    db: AnyDb,
    kind: string,
  ): Promise<{ document: ResourceDocument; version: number; contentHash: string }[]> {
    return (await this.deps.store.inForceVersions(db, kind)).map((r) => ({
      document: parse(r.document),
      version: r.version,
      contentHash: r.content_hash,
    }));
  }

  kinds(): AnyKindHandler[] {
    return [...this.handlers.values()];
  }

  handler(kind: string): AnyKindHandler {
    const h =
      this.handlers.get(kind) ??
      // `Project`, `project` and `projects` all name the same kind, as kubectl users expect.
      [...this.handlers.values()].find((x) =>
        [x.kind.toLowerCase(), `${x.kind.toLowerCase()}s`].includes(kind.toLowerCase()),
      );
    if (!h) {
      throw new DomainError(resourceErrors.RESOURCES_KIND_UNKNOWN, `unknown kind ${kind}`, {
        known: [...this.handlers.keys()].sort(),
      });
    }
    return h;
  }

  // Documents as the controls see them, inside a transaction: for other modules that decide
  // whether their own changes touch production (see docs/reference/deployment-gate.md).
  reader(tx: AnyTx): GovernanceReader {
    const { store } = this.deps;
    return {
      inForce: async (kind) => (await store.inForceDocuments(tx, kind)).map(parse),
      pending: async (kind) => (await store.pendingDocuments(tx, kind)).map(parse),
    };
  }

  async applyManifest(ctx: RequestContext, text: string): Promise<ApplyResult[]> {
    const { documents } = parseManifest(text, this.handlers);
    return this.applyDocuments(ctx, documents);
  }

  // Every document of a manifest is applied in one transaction: all or nothing.
  async applyDocuments(
    ctx: RequestContext,
    documents: readonly ResourceDocument[],
  ): Promise<ApplyResult[]> {
    const seen = new Set<string>();
    for (const doc of documents) {
      const id = `${doc.kind}/${doc.metadata.project ?? ''}/${doc.metadata.name}`;
      if (seen.has(id))
        throw new DomainError(
          resourceErrors.RESOURCES_DUPLICATE_IN_MANIFEST,
          `${id} appears twice`,
        );
      seen.add(id);
      const handler = this.handler(doc.kind);
      const scope =
        handler.scopeOf?.(doc) ?? (doc.metadata.project ? { project: doc.metadata.project } : {});
      await ctx.guard.require(handler.applyPermission, scope, {
        type: doc.kind,
        id: resourceId(doc),
      });
    }
    return this.deps.uow.run(ctx, async (tx, record) => {
      const results: ApplyResult[] = [];
      for (const doc of documents) results.push(await this.applyOne(tx, ctx, record, doc));
      await this.inForce(
        tx,
        ctx,
        record,
        results.filter((r) => r.state === 'in-force' && r.change !== 'unchanged'),
      );
      if (results.every((r) => r.change === 'unchanged')) {
        record({
          action: 'resources.manifest.unchanged',
          resource: { type: 'manifest', id: documents.map(resourceId).join(',').slice(0, 200) },
          details: {
            resources: results.map((r) => ({
              kind: r.kind,
              id: `${r.project ? `${r.project}/` : ''}${r.name}`,
              version: r.version,
            })),
          },
        });
      }
      return results;
    });
  }

  private async applyOne(
    tx: AnyTx,
    ctx: RequestContext,
    record: RecordAudit,
    doc: ResourceDocument,
  ): Promise<ApplyResult> {
    const { store } = this.deps;
    const handler = this.handler(doc.kind);
    await handler.validate?.(tx, doc, ctx);
    const key = keyOf(handler.kind, doc);
    const hash = contentHash(doc);
    const base = {
      kind: doc.kind,
      project: doc.metadata.project ?? null,
      name: doc.metadata.name,
      contentHash: hash,
    };
    const head = await store.head(tx, key);
    const newest = head && !head.deleted ? await this.newestState(tx, key, head) : undefined;
    // The same content again: nothing new, unless the newest version was refused (then
    // re-applying it asks again, as a new version).
    if (head && newest && head.content_hash === hash && newest.state !== 'closed') {
      return {
        ...base,
        version: head.version,
        change: 'unchanged',
        state: newest.state,
        ...(newest.approval ? { approval: newest.approval } : {}),
      };
    }
    await handler.admit?.(tx, doc, ctx, record);
    const inForceVersion = head && !head.deleted ? head.in_force_version : null;
    const inForceRow =
      inForceVersion === null ? undefined : await store.version(tx, key, inForceVersion);
    const version = (head?.version ?? 0) + 1;
    await store.insertVersion(tx, {
      ...key,
      version,
      content_hash: hash,
      document: JSON.stringify(doc),
      applied_by: `${ctx.actor.type}:${ctx.actor.name}`,
      applied_at: this.deps.clock.now().toISOString(),
      deleted: 0,
    });
    await this.governed.withdrawPending(tx, ctx, key, version, record);
    const change: ApplyChange = head && !head.deleted ? 'updated' : 'created';
    const governance =
      handler.governed && inForceRow?.content_hash !== hash
        ? await handler.governed({
            tx,
            doc,
            inForce: inForceRow ? parse(inForceRow.document) : undefined,
            ctx,
            read: this.reader(tx),
          })
        : undefined;
    const details = {
      version,
      contentHash: hash,
      ...(head && !head.deleted ? { previousHash: head.content_hash } : {}),
    };
    // The platform's own changes (bootstrap, set-up) take effect at once: no person to ask.
    if (governance && ctx.actor.type !== 'system') {
      const approval = await this.governed.open(tx, ctx, {
        handler,
        key,
        doc,
        version,
        contentHash: hash,
        governance,
        inForceVersion,
      });
      record({
        action: `resources.${doc.kind.toLowerCase()}.change-pending`,
        resource: { type: doc.kind, id: resourceId(doc) },
        details: {
          ...details,
          change,
          approval,
          governedBecause: governance.reason,
          // What the controls keep enforcing meanwhile (null: nothing yet).
          inForceVersion,
        },
      });
      return { ...base, version, change, state: 'pending', approval };
    }
    const outcome = await handler.materialize?.(
      tx,
      { ...doc, version, contentHash: hash, previous: inForceRow && parse(inForceRow.document) },
      ctx,
    );
    await store.setInForce(tx, key, version);
    record({
      action: `resources.${doc.kind.toLowerCase()}.${change}`,
      resource: { type: doc.kind, id: resourceId(doc) },
      details: {
        ...details,
        ...(governance ? { governed: platformApplied(governance) } : {}),
        ...(outcome?.approval ? { approval: outcome.approval } : {}),
      },
    });
    return {
      ...base,
      version,
      change,
      state: 'in-force',
      ...(outcome?.approval ? { approval: outcome.approval } : {}),
    };
  }

  // The newest version is in force, waiting (with its approval), or closed (refused).
  private async newestState(
    tx: AnyTx,
    key: ResourceKey,
    head: HeadRow,
  ): Promise<{ state: 'in-force' | 'pending' | 'closed'; approval?: string }> {
    if (head.in_force_version === head.version) return { state: 'in-force' };
    const waiting = (await this.deps.store.pendingChanges(tx, key)).find(
      (c) => c.version === head.version,
    );
    return waiting ? { state: 'pending', approval: waiting.approval_id } : { state: 'closed' };
  }

  // An approved version takes effect: the module's tables, then the in-force pointer.
  private async putInForce(
    tx: AnyTx,
    ctx: RequestContext,
    handler: AnyKindHandler,
    change: ChangeRow,
    record: RecordAudit,
  ): Promise<void> {
    const { store } = this.deps;
    const key = { kind: change.kind, project: change.project, name: change.name };
    const row = await store.version(tx, key, change.version);
    const head = await store.head(tx, key);
    if (!row || !head)
      throw new DomainError(resourceErrors.RESOURCES_VERSION_NOT_FOUND, `no ${change.kind}`);
    const inForce =
      head.in_force_version === null
        ? undefined
        : await store.version(tx, key, head.in_force_version);
    await handler.materialize?.(
      tx,
      {
        ...parse(row.document),
        version: change.version,
        contentHash: row.content_hash,
        previous: inForce && parse(inForce.document),
      },
      ctx,
    );
    await store.setInForce(tx, key, change.version);
    await this.inForce(tx, ctx, record, [
      {
        kind: change.kind,
        project: change.project || null,
        name: change.name,
        version: change.version,
        contentHash: row.content_hash,
      },
    ]);
  }

  async get(kind: string, name: string, project: string | undefined): Promise<ResourceView> {
    const handler = this.handler(kind);
    const key = { kind: handler.kind, project: project ?? '', name };
    const db = this.deps.database.db;
    const head = await this.deps.store.head(db, key);
    if (!head || head.deleted)
      throw new DomainError(
        resourceErrors.RESOURCES_NOT_FOUND,
        `no ${handler.kind} ${project ? `${project}/` : ''}${name}`,
      );
    return this.viewOf(db, key, head);
  }

  async list(
    kind: string,
    project: string | undefined,
    page: PageRequest = firstPage,
  ): Promise<PageOf<ResourceView>> {
    const handler = this.handler(kind);
    const db = this.deps.database.db;
    const heads = await this.deps.store.heads(
      db,
      { kind: handler.kind, project: handler.scope === 'organization' ? undefined : project },
      page,
    );
    const items: ResourceView[] = [];
    for (const head of heads.items) items.push(await this.viewOf(db, head, head));
    return { items, next: heads.next };
  }

  private async viewOf(db: AnyDb, key: ResourceKey, head: HeadRow): Promise<ResourceView> {
    const { store } = this.deps;
    const changes = await store.changes(db, key);
    const view = async (version: number): Promise<VersionView | null> => {
      const row = await store.version(db, key, version);
      return row
        ? versionView(
            row,
            head,
            changes.find((c) => c.version === version),
          )
        : null;
    };
    return {
      kind: key.kind,
      project: key.project || null,
      name: key.name,
      inForce: head.in_force_version === null ? null : await view(head.in_force_version),
      proposed: head.in_force_version === head.version ? null : await view(head.version),
    };
  }

  async history(
    kind: string,
    name: string,
    project: string | undefined,
    page: PageRequest = firstPage,
  ): Promise<PageOf<VersionView>> {
    const handler = this.handler(kind);
    const db = this.deps.database.db;
    const key = { kind: handler.kind, project: project ?? '', name };
    const [rows, head, changes] = await Promise.all([
      this.deps.store.history(db, key, page),
      this.deps.store.head(db, key),
      this.deps.store.changes(db, key),
    ]);
    if (!head || (rows.items.length === 0 && !page.after))
      throw new DomainError(resourceErrors.RESOURCES_NOT_FOUND, `no ${handler.kind} ${name}`);
    return {
      items: rows.items.map((r) =>
        versionView(
          r,
          head,
          changes.find((c) => c.version === r.version),
        ),
      ),
      next: rows.next,
    };
  }

  async version(
    kind: string,
    name: string,
    project: string | undefined,
    version: number,
  ): Promise<VersionView> {
    const handler = this.handler(kind);
    const db = this.deps.database.db;
    const key = { kind: handler.kind, project: project ?? '', name };
    const [row, head, changes] = await Promise.all([
      this.deps.store.version(db, key, version),
      this.deps.store.head(db, key),
      this.deps.store.changes(db, key),
    ]);
    if (!row || !head)
      throw new DomainError(
        resourceErrors.RESOURCES_VERSION_NOT_FOUND,
        `${handler.kind} ${name} has no version ${version}`,
      );
    return versionView(
      row,
      head,
      changes.find((c) => c.version === version),
    );
  }

  async diff(
    kind: string,
    name: string,
    project: string | undefined,
    from: number,
    to: number,
  ): Promise<{ from: VersionView; to: VersionView; lines: DiffLine[] }> {
    const a = await this.version(kind, name, project, from);
    const b = await this.version(kind, name, project, to);
    return { from: a, to: b, lines: diffDocuments(a.document, b.document) };
  }
}

export function resourceId(doc: ResourceDocument): string {
  return doc.metadata.project ? `${doc.metadata.project}/${doc.metadata.name}` : doc.metadata.name;
}

function keyOf(kind: string, doc: ResourceDocument): ResourceKey {
  return { kind, project: doc.metadata.project ?? '', name: doc.metadata.name };
}

function platformApplied(governance: Governance) {
  return {
    because: governance.reason,
    tookEffect: 'at once: applied by the platform itself (system actor), no second person',
  };
}
