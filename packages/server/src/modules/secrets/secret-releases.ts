import { principalOf, type RequestContext } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import type { StoredAuditEntry } from '../audit/index.ts';
import { secretPermissions as P } from './permissions.ts';
import { secretId } from './secret-names.ts';
import type { KyselySecretStore } from './secret-store.ts';

export interface SecretAuditReader {
  list(filter: {
    action: string;
    resourceType: string;
    resourceId: string;
    beforeSeq?: number | undefined;
    limit: number;
    order: 'desc';
  }): Promise<StoredAuditEntry[]>;
}

export interface SecretRelease {
  seq: number;
  time: string;
  secret: string;
  name: string;
  scope: string;
  version: number;
  environment: string | null;
  job: string;
  run: string;
  attempt: number;
  runner: string;
  pool: string;
  steps: string[];
  receivedBy: string;
}

// "Who received production credentials": the releases recorded in the ledger at lease time,
// read back from the audit trail (which is the record; nothing else is kept). Newest first.
export class SecretReleases {
  constructor(
    private readonly deps: {
      database: Database;
      store: KyselySecretStore;
      audit: SecretAuditReader;
    },
  ) {}

  async list(
    ctx: RequestContext,
    input: { project: string; environment?: string | undefined; before?: number; limit: number },
  ): Promise<{ items: SecretRelease[]; next: number | null }> {
    const scope = {
      project: input.project,
      ...(input.environment ? { environment: input.environment } : {}),
    };
    await ctx.guard.require(P['secrets.release.read'], scope, {
      type: 'secret',
      id: `${input.project}/*`,
    });
    // Project-wide secrets and the environment's own; releases to jobs of that environment.
    const rows = (await this.deps.store.ofProject(this.deps.database.db, input.project)).filter(
      (r) => !input.environment || r.environment === '' || r.environment === input.environment,
    );
    const found: SecretRelease[] = [];
    for (const r of rows) found.push(...(await this.ofSecret(secretId(r), r.name, input)));
    found.sort((a, b) => b.seq - a.seq);
    const items = found.slice(0, input.limit);
    return {
      items,
      next: found.length > input.limit ? (items[items.length - 1]?.seq ?? null) : null,
    };
  }

  // One more than the limit of this secret's releases (to the environment, when given).
  private async ofSecret(
    id: string,
    name: string,
    input: { environment?: string | undefined; before?: number; limit: number },
  ): Promise<SecretRelease[]> {
    const out: SecretRelease[] = [];
    let before = input.before;
    for (let page = 0; page < 100 && out.length <= input.limit; page++) {
      const entries = await this.deps.audit.list({
        action: 'secrets.secret.released',
        resourceType: 'secret',
        resourceId: id,
        beforeSeq: before,
        limit: 500,
        order: 'desc',
      });
      for (const e of entries) {
        const d = e.details;
        if (input.environment && d.environment !== input.environment) continue;
        out.push({
          seq: e.seq,
          time: e.time,
          secret: id,
          name,
          scope: String(d.scope),
          version: Number(d.version),
          environment: typeof d.environment === 'string' ? d.environment : null,
          job: String(d.job),
          run: String(d.run),
          attempt: Number(d.attempt),
          runner: String(d.runner),
          pool: String(d.pool),
          steps: Array.isArray(d.steps) ? d.steps.map(String) : [],
          receivedBy: principalOf(e.actor),
        });
      }
      if (entries.length < 500) break;
      before = entries[entries.length - 1]!.seq;
    }
    return out;
  }
}
