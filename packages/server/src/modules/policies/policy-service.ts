import { createHash } from 'node:crypto';
import { canonicalJson } from '@custody/ledger';
import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import type { PageOf, PageRequest } from '../../platform/db/keyset.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import type { ProjectService } from '../projects/index.ts';
import type { ResourceDocument } from '../resources/index.ts';
import { policyErrors as E } from './errors.ts';
import { policyPermissions as P } from './permissions.ts';
import { checkPolicy } from './policy-compiler.ts';
import type { PolicyMessage, PolicyRef } from './policy-evaluation.ts';
import { analyseImpact, type Impact } from './policy-impact.ts';
import type { DecisionReplayer, Replay } from './policy-replay.ts';
import { policySpecSchema, type PolicySpec } from './policy-spec.ts';
import type { DecisionFilter, DecisionRow, KyselyPolicyStore } from './policy-store.ts';

export interface DecisionView {
  id: string;
  point: string;
  project: string;
  environment: string | null;
  subject: { type: string; id: string };
  policies: PolicyRef[];
  inputHash: string;
  result: string;
  deny: PolicyMessage[];
  warn: PolicyMessage[];
  errors: PolicyMessage[];
  durationUs: number;
  actor: string;
  decidedAt: string;
}

export const decisionView = (r: DecisionRow): DecisionView => ({
  id: r.id,
  point: r.point,
  project: r.project,
  environment: r.environment || null,
  subject: { type: r.subject_type, id: r.subject_id },
  policies: JSON.parse(r.policies) as PolicyRef[],
  inputHash: r.input_hash,
  result: r.result,
  deny: JSON.parse(r.deny) as PolicyMessage[],
  warn: JSON.parse(r.warn) as PolicyMessage[],
  errors: JSON.parse(r.errors) as PolicyMessage[],
  durationUs: r.duration_us,
  actor: r.actor,
  decidedAt: r.decided_at,
});

const scopeOf = (r: DecisionRow) => ({
  project: r.project,
  ...(r.environment ? { environment: r.environment } : {}),
});

// Reading the decision log, replaying a decision, and the impact of a candidate policy.
export class PolicyService {
  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyPolicyStore;
      projects: ProjectService;
      replayer: DecisionReplayer;
      clock: Clock;
    },
  ) {}

  now(): Date {
    return this.deps.clock.now();
  }

  async decisions(
    ctx: RequestContext,
    filter: DecisionFilter,
    page: PageRequest,
  ): Promise<PageOf<DecisionView>> {
    const rows = await this.deps.store.decisions(this.deps.database.db, filter, page);
    const items: DecisionView[] = [];
    for (const r of rows.items)
      if (await ctx.guard.can(P['policies.decision.read'], scopeOf(r))) items.push(decisionView(r));
    return { items, next: rows.next };
  }

  // Every decision about one subject, oldest first, without a permission check (the auditor's
  // dossier checks its own).
  async decisionsAbout(subject: { type: string; id: string }): Promise<DecisionView[]> {
    const out: DecisionView[] = [];
    let page: PageRequest = { limit: 500, after: undefined };
    for (;;) {
      const rows = await this.deps.store.decisions(this.deps.database.db, { subject }, page);
      out.push(...rows.items.map(decisionView));
      if (!rows.next) break;
      page = { limit: 500, after: rows.next };
    }
    return out.reverse();
  }

  private async readable(ctx: RequestContext, id: string): Promise<DecisionRow> {
    const row = await this.deps.store.decision(this.deps.database.db, id);
    if (!row) throw new DomainError(E.POLICIES_DECISION_NOT_FOUND, `no policy decision ${id}`);
    await ctx.guard.require(P['policies.decision.read'], scopeOf(row), {
      type: 'policy-decision',
      id,
    });
    return row;
  }

  async decision(ctx: RequestContext, id: string): Promise<DecisionView & { input: unknown }> {
    const row = await this.readable(ctx, id);
    const input = await this.deps.replayer.input(this.deps.database.db, row);
    return { ...decisionView(row), input: JSON.parse(input.text) };
  }

  // Re-performance, recorded in the ledger (who replayed which decision, and whether it held).
  async replay(ctx: RequestContext, id: string): Promise<Replay> {
    const row = await this.readable(ctx, id);
    const replay = await this.deps.replayer.replay(this.deps.database.db, row);
    await this.deps.uow.run(ctx, async (_tx, record) =>
      record({
        action: 'policies.decision.replayed',
        resource: { type: 'policy-decision', id },
        details: { same: replay.same, differences: replay.differences, inputHash: row.input_hash },
      }),
    );
    return replay;
  }

  async impact(ctx: RequestContext, input: { document: unknown; since: Date }): Promise<Impact> {
    const doc = candidateOf(input.document);
    const project = doc.metadata.project;
    await ctx.guard.require(P['policies.decision.read'], project ? { project } : {}, {
      type: 'Policy',
      id: `${project ? `${project}/` : ''}${doc.metadata.name}`,
    });
    checkPolicy(doc.spec);
    const contentHash = 'sha256:' + createHash('sha256').update(canonicalJson(doc)).digest('hex');
    return analyseImpact(this.deps.database.db, this.deps, { ...doc, contentHash }, input.since);
  }
}

function candidateOf(document: unknown): ResourceDocument<PolicySpec> {
  const d = document as Partial<ResourceDocument<unknown>> | null;
  const meta = d?.metadata as { name?: unknown; project?: unknown } | undefined;
  if (
    !d ||
    d.kind !== 'Policy' ||
    typeof meta?.name !== 'string' ||
    (meta.project !== undefined && typeof meta.project !== 'string')
  )
    throw new DomainError(E.POLICIES_CANDIDATE_INVALID, 'the document is not a kind: Policy');
  const spec = policySpecSchema.safeParse(d.spec);
  if (!spec.success)
    throw new DomainError(E.POLICIES_CANDIDATE_INVALID, spec.error.issues[0]?.message, {
      issues: spec.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  return {
    apiVersion: 'custody/v1',
    kind: 'Policy',
    metadata: { name: meta.name, ...(meta.project ? { project: meta.project as string } : {}) },
    spec: spec.data,
  };
}
