import { createHash } from 'node:crypto';
import { canonicalJson } from '@custody/ledger';
import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import { resourceErrors } from './errors.ts';
import type { AnyKindHandler, ResourceDocument } from './kind-handler.ts';
import { parseManifest } from './manifest-parser.ts';
import type { KyselyResourceStore, ResourceKey, VersionRow } from './resource-store.ts';
import { diffDocuments, type DiffLine } from './resource-diff.ts';

export type ApplyChange = 'created' | 'updated' | 'unchanged';

export interface ApplyResult {
  kind: string;
  project: string | null;
  name: string;
  version: number;
  contentHash: string;
  change: ApplyChange;
  // Set when this version waits for a second person's approval before it takes effect.
  approval?: string;
}

export interface ResourceView {
  kind: string;
  project: string | null;
  name: string;
  version: number;
  contentHash: string;
  appliedBy: string;
  appliedAt: string;
  document: ResourceDocument;
}

export function contentHash(doc: ResourceDocument): string {
  return 'sha256:' + createHash('sha256').update(canonicalJson(doc)).digest('hex');
}

export class ResourceService {
  private readonly handlers = new Map<string, AnyKindHandler>();

  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyResourceStore;
      clock: Clock;
    },
  ) {}

  register(handler: AnyKindHandler): void {
    if (this.handlers.has(handler.kind)) throw new Error(`kind ${handler.kind} registered twice`);
    this.handlers.set(handler.kind, handler);
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
      for (const doc of documents) {
        const handler = this.handler(doc.kind);
        await handler.validate?.(tx, doc, ctx);
        const key: ResourceKey = {
          kind: doc.kind,
          project: doc.metadata.project ?? '',
          name: doc.metadata.name,
        };
        const hash = contentHash(doc);
        const head = await this.deps.store.head(tx, key);
        if (head && !head.deleted && head.content_hash === hash) {
          results.push({
            kind: doc.kind,
            project: doc.metadata.project ?? null,
            name: doc.metadata.name,
            version: head.version,
            contentHash: hash,
            change: 'unchanged',
          });
          continue;
        }
        const previousRow =
          head && !head.deleted ? await this.deps.store.version(tx, key, head.version) : undefined;
        const version = (head?.version ?? 0) + 1;
        await this.deps.store.insertVersion(tx, {
          ...key,
          version,
          content_hash: hash,
          document: JSON.stringify(doc),
          applied_by: `${ctx.actor.type}:${ctx.actor.name}`,
          applied_at: this.deps.clock.now().toISOString(),
          deleted: 0,
        });
        const previous = previousRow
          ? (JSON.parse(previousRow.document) as ResourceDocument)
          : undefined;
        const outcome = await handler.materialize?.(
          tx,
          { ...doc, version, contentHash: hash, previous },
          ctx,
        );
        const change: ApplyChange = previous ? 'updated' : 'created';
        results.push({
          kind: doc.kind,
          project: doc.metadata.project ?? null,
          name: doc.metadata.name,
          version,
          contentHash: hash,
          change,
          ...(outcome?.approval ? { approval: outcome.approval } : {}),
        });
        record({
          action: `resources.${doc.kind.toLowerCase()}.${change}`,
          resource: { type: doc.kind, id: resourceId(doc) },
          details: {
            version,
            contentHash: hash,
            ...(previousRow ? { previousHash: previousRow.content_hash } : {}),
            ...(outcome?.approval ? { approval: outcome.approval } : {}),
          },
        });
      }
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

  async get(kind: string, name: string, project: string | undefined): Promise<ResourceView> {
    const handler = this.handler(kind);
    const key = { kind: handler.kind, project: project ?? '', name };
    const row = await this.deps.store.current(this.deps.database.db, key);
    if (!row)
      throw new DomainError(
        resourceErrors.RESOURCES_NOT_FOUND,
        `no ${handler.kind} ${project ? `${project}/` : ''}${name}`,
      );
    return toView(row);
  }

  async list(
    kind: string,
    project: string | undefined,
    page: PageRequest = firstPage,
  ): Promise<PageOf<ResourceView>> {
    const handler = this.handler(kind);
    const rows = await this.deps.store.list(
      this.deps.database.db,
      { kind: handler.kind, project: handler.scope === 'project' ? project : undefined },
      page,
    );
    return { items: rows.items.map(toView), next: rows.next };
  }

  async history(
    kind: string,
    name: string,
    project: string | undefined,
    page: PageRequest = firstPage,
  ): Promise<PageOf<ResourceView>> {
    const handler = this.handler(kind);
    const rows = await this.deps.store.history(
      this.deps.database.db,
      { kind: handler.kind, project: project ?? '', name },
      page,
    );
    if (rows.items.length === 0 && !page.after)
      throw new DomainError(resourceErrors.RESOURCES_NOT_FOUND, `no ${handler.kind} ${name}`);
    return { items: rows.items.map(toView), next: rows.next };
  }

  async version(
    kind: string,
    name: string,
    project: string | undefined,
    version: number,
  ): Promise<ResourceView> {
    const handler = this.handler(kind);
    const row = await this.deps.store.version(
      this.deps.database.db,
      { kind: handler.kind, project: project ?? '', name },
      version,
    );
    if (!row)
      throw new DomainError(
        resourceErrors.RESOURCES_VERSION_NOT_FOUND,
        `${handler.kind} ${name} has no version ${version}`,
      );
    return toView(row);
  }

  async diff(
    kind: string,
    name: string,
    project: string | undefined,
    from: number,
    to: number,
  ): Promise<{ from: ResourceView; to: ResourceView; lines: DiffLine[] }> {
    const a = await this.version(kind, name, project, from);
    const b = await this.version(kind, name, project, to);
    return { from: a, to: b, lines: diffDocuments(a.document, b.document) };
  }
}

export function resourceId(doc: ResourceDocument): string {
  return doc.metadata.project ? `${doc.metadata.project}/${doc.metadata.name}` : doc.metadata.name;
}

function toView(row: VersionRow): ResourceView {
  return {
    kind: row.kind,
    project: row.project || null,
    name: row.name,
    version: row.version,
    contentHash: row.content_hash,
    appliedBy: row.applied_by,
    appliedAt: row.applied_at,
    document: JSON.parse(row.document) as ResourceDocument,
  };
}
