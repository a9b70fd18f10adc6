import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { principalOf } from '../approvals/index.ts';
import type { ProjectService } from '../projects/index.ts';
import { secretErrors } from './errors.ts';
import { secretPermissions as P } from './permissions.ts';
import type { KyselySecretStore, SecretRow } from './secret-store.ts';

export interface SecretView {
  project: string;
  environment: string | null;
  name: string;
  version: number;
  pools: string[];
  updatedBy: string;
  updatedAt: string;
}

const toView = (r: SecretRow): SecretView => ({
  project: r.project,
  environment: r.environment || null,
  name: r.name,
  version: r.version,
  pools: JSON.parse(r.pools) as string[],
  updatedBy: r.updated_by,
  updatedAt: r.updated_at,
});

// Write-only secrets, sealed with AES-256-GCM under a key kept in the data directory (never in
// the database). Values leave the server only inside the lease of a job of matching scope and pool.
export class SecretService {
  private key: Buffer | undefined;

  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselySecretStore;
      clock: Clock;
      projects: ProjectService;
      keyFile: string;
    },
  ) {}

  private sealingKey(): Buffer {
    if (this.key) return this.key;
    const file = this.deps.keyFile;
    if (!existsSync(file)) {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      try {
        writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    this.key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    return this.key;
  }

  private seal(value: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealingKey(), iv);
    const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64')).join('.');
  }

  private open(sealed: string): string {
    const [iv, tag, data] = sealed.split('.').map((s) => Buffer.from(s, 'base64'));
    const decipher = createDecipheriv('aes-256-gcm', this.sealingKey(), iv!);
    decipher.setAuthTag(tag!);
    return Buffer.concat([decipher.update(data!), decipher.final()]).toString('utf8');
  }

  async set(
    ctx: RequestContext,
    input: {
      project: string;
      environment?: string | undefined;
      name: string;
      value: string;
      pools?: string[] | undefined;
    },
  ): Promise<SecretView> {
    const scope = {
      project: input.project,
      ...(input.environment ? { environment: input.environment } : {}),
    };
    const id = `${input.project}/${input.environment ? `${input.environment}/` : ''}${input.name}`;
    await ctx.guard.require(P['secrets.secret.write'], scope, { type: 'secret', id });
    if (!/^[A-Z_][A-Z0-9_]{0,127}$/.test(input.name))
      throw new DomainError(secretErrors.SECRETS_NAME_INVALID);
    if (!(await this.deps.projects.projectExists(input.project)))
      throw new DomainError(
        secretErrors.SECRETS_PROJECT_NOT_FOUND,
        `project ${input.project} does not exist`,
      );
    if (
      input.environment &&
      !(await this.deps.projects.environment(input.project, input.environment))
    )
      throw new DomainError(
        secretErrors.SECRETS_PROJECT_NOT_FOUND,
        `environment ${input.environment} does not exist`,
      );
    const sealed = this.seal(input.value);
    return this.deps.uow.run(ctx, async (tx, record) => {
      const env = input.environment ?? '';
      const prev = await this.deps.store.get(tx, input.project, env, input.name);
      const row: SecretRow = {
        project: input.project,
        environment: env,
        name: input.name,
        version: (prev?.version ?? 0) + 1,
        pools: JSON.stringify(input.pools ?? []),
        sealed,
        updated_by: principalOf(ctx.actor),
        updated_at: this.deps.clock.now().toISOString(),
      };
      await this.deps.store.upsert(tx, row);
      // Names, scope and version only: the value is never part of the audit trail.
      record({
        action: prev ? 'secrets.secret.updated' : 'secrets.secret.created',
        resource: { type: 'secret', id },
        details: { version: row.version, pools: input.pools ?? [] },
      });
      return toView(row);
    });
  }

  async list(project: string, page: PageRequest = firstPage): Promise<PageOf<SecretView>> {
    const rows = await this.deps.store.listPage(this.deps.database.db, project, page);
    return { items: rows.items.map(toView), next: rows.next };
  }

  // For the execution engine: project-wide secrets, overridden by the environment's own.
  async forJob(input: {
    project: string;
    environment: string | null;
    pool: string;
  }): Promise<Record<string, string>> {
    const rows = await this.deps.store.ofProject(this.deps.database.db, input.project);
    const out: Record<string, string> = {};
    for (const scope of ['', input.environment ?? null]) {
      if (scope === null) continue;
      for (const r of rows) {
        if (r.environment !== scope) continue;
        const pools = JSON.parse(r.pools) as string[];
        if (pools.length > 0 && !pools.includes(input.pool)) continue;
        out[r.name] = this.open(r.sealed);
      }
    }
    return out;
  }

  // Webhook verification reads a project secret by name.
  async reveal(project: string, name: string): Promise<string | undefined> {
    const row = await this.deps.store.get(this.deps.database.db, project, '', name);
    return row ? this.open(row.sealed) : undefined;
  }
}
