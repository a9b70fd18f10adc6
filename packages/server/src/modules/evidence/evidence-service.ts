import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { executionErrors, type ExecutionReads } from '../executions/index.ts';
import type { ProjectService } from '../projects/index.ts';
import { evidenceErrors } from './errors.ts';
import type { KyselyEvidenceStore, ReportRow } from './evidence-store.ts';
import {
  EvidenceSummaries,
  type EvidenceSummary,
  type SummaryTarget,
  type AttestationLookup,
} from './evidence-summary.ts';
import type { FindingView } from './finding-status.ts';
import { evidencePermissions as P } from './permissions.ts';
import { evaluateQualityGates, type QualityReason } from './quality-gates.ts';
import type { WaiverService } from './waiver-service.ts';

export interface ReportView {
  id: string;
  run: string;
  job: string;
  stage: string;
  environment: string | null;
  step: number;
  file: string;
  type: string;
  format: string;
  path: string;
  digest: string;
  figures: Record<string, unknown>;
  createdAt: string;
}

const present = (r: ReportRow): ReportView => ({
  id: r.id,
  run: r.run_id,
  job: r.job_id,
  stage: r.stage,
  environment: r.environment,
  step: r.step_idx,
  file: r.file_id,
  type: r.type,
  format: r.format,
  path: r.path,
  digest: r.digest,
  figures: JSON.parse(r.figures) as Record<string, unknown>,
  createdAt: r.created_at,
});

const maxCasesListed = 500;

// Reading evidence (reports, tests, findings) and what the deployment gate asks of it.
export class EvidenceService {
  readonly summaries: EvidenceSummaries;

  constructor(
    private readonly deps: {
      database: Database;
      store: KyselyEvidenceStore;
      executions: ExecutionReads;
      projects: ProjectService;
      waivers: WaiverService;
      clock: Clock;
      attestations?: AttestationLookup | undefined;
    },
  ) {
    this.summaries = new EvidenceSummaries(deps);
  }

  private async readableRun(ctx: RequestContext, runId: string) {
    const run = await this.deps.executions.run(this.deps.database.db, runId);
    if (!run) throw new DomainError(executionErrors.EXECUTIONS_RUN_NOT_FOUND);
    await ctx.guard.require(
      P['evidence.report.read'],
      { project: run.project },
      { type: 'run', id: runId },
    );
    return run;
  }

  async reportsOfRun(ctx: RequestContext, runId: string): Promise<ReportView[]> {
    await this.readableRun(ctx, runId);
    return (await this.deps.store.reportsOfRuns(this.deps.database.db, [runId])).map(present);
  }

  // The run's test reports: totals and every failed, errored (and skipped) case.
  async testsOfRun(
    ctx: RequestContext,
    runId: string,
  ): Promise<{
    run: string;
    reports: ReportView[];
    totals: {
      tests: number;
      passed: number;
      failures: number;
      errors: number;
      skipped: number;
      flaky: number;
    };
    failed: {
      report: string;
      name: string;
      className: string | null;
      file: string | null;
      outcome: string;
      message: string | null;
      durationMs: number | null;
    }[];
  }> {
    await this.readableRun(ctx, runId);
    const db = this.deps.database.db;
    const reports = (await this.deps.store.reportsOfRuns(db, [runId])).filter(
      (r) => r.format === 'junit',
    );
    const totals = { tests: 0, passed: 0, failures: 0, errors: 0, skipped: 0, flaky: 0 };
    for (const r of reports) {
      const f = JSON.parse(r.figures) as Record<string, number>;
      for (const key of Object.keys(totals) as (keyof typeof totals)[])
        totals[key] += Number(f[key] ?? 0);
    }
    const failed = await this.deps.store.testCases(
      db,
      reports.map((r) => r.id),
      ['failed', 'error'],
    );
    return {
      run: runId,
      reports: reports.map(present),
      totals,
      failed: failed.slice(0, maxCasesListed).map((c) => ({
        report: c.report_id,
        name: c.name,
        className: c.class_name,
        file: c.file,
        outcome: c.outcome,
        message: c.message,
        durationMs: c.duration_ms,
      })),
    };
  }

  // The evidence summary of a run's artifacts as the gate of `environment` would see it.
  async summaryOfRun(
    ctx: RequestContext,
    runId: string,
    environment: string | null,
  ): Promise<EvidenceSummary> {
    const run = await this.readableRun(ctx, runId);
    const db = this.deps.database.db;
    if (environment && !(await this.deps.projects.environment(run.project, environment)))
      throw new DomainError(evidenceErrors.EVIDENCE_ENVIRONMENT_NOT_FOUND);
    return this.summaries.summary(db, {
      project: run.project,
      environment,
      run: runId,
      artifacts: await this.deps.executions.artifacts(db, runId),
      at: this.deps.clock.now(),
    });
  }

  // Findings of what would go to `environment` next (a given run, else the newest run that
  // deploys there), with their status against the release now in it.
  async findings(
    ctx: RequestContext,
    input: {
      project: string;
      environment: string;
      run?: string | undefined;
      status?: 'new' | 'existing' | undefined;
    },
  ): Promise<{
    run: string | null;
    baseline: string | null;
    counts: EvidenceSummary['findings'];
    items: FindingView[];
  }> {
    await ctx.guard.require(
      P['evidence.report.read'],
      { project: input.project, environment: input.environment },
      { type: 'environment', id: `${input.project}/${input.environment}` },
    );
    const db = this.deps.database.db;
    if (!(await this.deps.projects.environment(input.project, input.environment)))
      throw new DomainError(evidenceErrors.EVIDENCE_ENVIRONMENT_NOT_FOUND);
    const runId =
      input.run ?? (await this.deps.executions.latestRunTo(db, input.project, input.environment));
    const run = runId ? await this.deps.executions.run(db, runId) : undefined;
    if (runId && (!run || run.project !== input.project))
      throw new DomainError(executionErrors.EXECUTIONS_RUN_NOT_FOUND);
    if (!run) {
      const empty = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
      return {
        run: null,
        baseline: null,
        counts: {
          total: 0,
          suppressed: 0,
          waived: 0,
          fixed: 0,
          new: empty,
          existing: { ...empty },
          items: [],
        },
        items: [],
      };
    }
    const summary = await this.summaries.summary(db, {
      project: input.project,
      environment: input.environment,
      run: run.id,
      artifacts: await this.deps.executions.artifacts(db, run.id),
      at: this.deps.clock.now(),
    });
    const items = summary.findings.items.filter((f) => !input.status || f.status === input.status);
    return {
      run: run.id,
      baseline: summary.baseline?.run ?? null,
      counts: summary.findings,
      items,
    };
  }

  // For the deployment gate, in its transaction: the summary and every quality gate it fails.
  async evaluateGates(
    tx: AnyTx,
    record: RecordAudit,
    target: SummaryTarget,
    gates: Parameters<typeof evaluateQualityGates>[0],
  ): Promise<{ summary: EvidenceSummary; reasons: QualityReason[]; recorded: boolean }> {
    const recorded = await this.deps.waivers.expireDue(tx, record, target.project, target.at);
    const summary = await this.summaries.summary(tx, target);
    return { summary, reasons: evaluateQualityGates(gates, summary), recorded };
  }
}
