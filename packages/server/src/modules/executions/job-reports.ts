import { createHash } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import type { RecordAudit, UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { executionErrors } from './errors.ts';
import type { AttestationPort, JobEvidence, EvidencePort } from './evidence-port.ts';
import { stepTransition, type StepState } from './execution-state.ts';
import { commitRows, rangesToReport, type CommitRangeReport } from './commit-ranges.ts';
import type { JobRow, KyselyExecutionStore, RunRow, StepRow } from './execution-store.ts';
import type { PipelineService } from '../pipelines/index.ts';
import { withdrawnByGate, type GateCheckpoints } from './gate-checkpoints.ts';
import type { JobLifecycle, StepResult } from './job-lifecycle.ts';
import { transition, type LeaseGuard } from './lease-guard.ts';
import { maybe, NoChange } from './quiet-unit.ts';
import type { Scheduler } from './scheduler.ts';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

export interface StepReport {
  result: StepResult;
  exitCode: number | null;
  attempts: number;
  reason?: string | undefined;
  // Starts the following step in the same transaction (one round trip between steps).
  next?: number | undefined;
}

// What a runner reports under its lease: heartbeats, the commit, its steps, the end. Every
// report is checked against the lease it names and the job's steps: steps start in order,
// finish once, and a job succeeds only when every step did.
export class JobReports {
  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyExecutionStore;
      clock: Clock;
      pipelines: PipelineService;
      lifecycle: JobLifecycle;
      checkpoints: GateCheckpoints;
      scheduler: Scheduler;
      guard: LeaseGuard;
      leaseTtlMs: number;
      evidence?: EvidencePort | undefined;
      attestations?: AttestationPort | undefined;
    },
  ) {}

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  async heartbeat(
    ctx: RequestContext,
    jobId: string,
    leaseId: string,
  ): Promise<{ cancel: boolean }> {
    const db = this.deps.database.db;
    await this.deps.guard.held(db, ctx, jobId, leaseId);
    const expires = new Date(this.deps.clock.now().getTime() + this.deps.leaseTtlMs).toISOString();
    if (!(await this.deps.store.extendLease(db, jobId, leaseId, expires)))
      throw new DomainError(executionErrors.EXECUTIONS_LEASE_LOST);
    const job = (await this.deps.store.job(db, jobId))!;
    const run = await this.deps.store.run(db, job.run_id);
    return { cancel: run?.cancel_requested === 1 };
  }

  // The commit the job checked out (pins the run to it) and, per environment the run deploys
  // to, the commits from the release there to it.
  async reportCommit(
    ctx: RequestContext,
    jobId: string,
    leaseId: string,
    report: { commit: string; ranges?: CommitRangeReport[] | undefined },
  ): Promise<{ commit: string }> {
    await this.deps.guard.held(this.deps.database.db, ctx, jobId, leaseId);
    const { commit } = report;
    if (!/^[0-9a-f]{40,64}$/.test(commit))
      throw new DomainError(executionErrors.EXECUTIONS_COMMIT_INVALID);
    const result = await maybe(this.deps.uow, ctx, async (tx, record) => {
      const job = await this.deps.guard.current(tx, jobId, leaseId);
      const run = (await this.deps.store.run(tx, job.run_id, true))!;
      let changed = false;
      if (run.commit_sha && !commit.startsWith(run.commit_sha))
        throw new DomainError(
          executionErrors.EXECUTIONS_COMMIT_INVALID,
          `run is pinned to ${run.commit_sha}`,
        );
      if (run.commit_sha !== commit) {
        await this.deps.store.updateRun(tx, run.id, { commit_sha: commit });
        record({
          action: 'executions.run.commit-resolved',
          resource: { type: 'run', id: run.id },
          details: { commit },
        });
        changed = true;
      }
      if (report.ranges?.length) {
        await this.recordRanges(tx, record, { run, job, commit, ranges: report.ranges });
        changed = true;
      }
      if (!changed) throw new NoChange();
      return commit;
    });
    return { commit: result ?? commit };
  }

  private async recordRanges(
    tx: AnyTx,
    record: RecordAudit,
    input: { run: RunRow; job: JobRow; commit: string; ranges: CommitRangeReport[] },
  ): Promise<void> {
    const { run, job } = input;
    const pv = await this.deps.pipelines.version(
      run.project,
      run.pipeline,
      run.pipeline_version,
      tx,
    );
    const asked = await rangesToReport(tx, this.deps.store, run, pv.spec);
    for (const range of input.ranges) {
      const rows = commitRows(run, asked, range, input.commit);
      await this.deps.store.replaceCommitRange(
        tx,
        {
          run_id: run.id,
          environment: range.environment,
          since: range.since,
          head: input.commit,
          truncated: range.truncated ? 1 : 0,
          job_id: job.id,
          reported_at: this.now(),
        },
        rows,
      );
      record({
        action: 'executions.run.commits-recorded',
        resource: { type: 'run', id: run.id },
        details: {
          environment: range.environment,
          since: range.since,
          head: input.commit,
          commits: rows.length,
          truncated: range.truncated,
          authors: [...new Set(rows.flatMap((r) => [r.author_email, r.committer_email]))].slice(
            0,
            50,
          ),
        },
      });
    }
  }

  async stepStarted(
    ctx: RequestContext,
    jobId: string,
    leaseId: string,
    idx: number,
  ): Promise<void> {
    await this.deps.guard.held(this.deps.database.db, ctx, jobId, leaseId);
    const withdrawn = await this.deps.uow.run(ctx, async (tx, record) => {
      const job = await this.deps.guard.current(tx, jobId, leaseId);
      const step = await this.stepOf(tx, job, idx);
      return this.start(tx, record, job, step);
    });
    if (withdrawn) withdrawnByGate(withdrawn);
  }

  async stepFinished(
    ctx: RequestContext,
    jobId: string,
    leaseId: string,
    idx: number,
    report: StepReport,
  ): Promise<void> {
    await this.deps.guard.held(this.deps.database.db, ctx, jobId, leaseId);
    const withdrawn = await this.deps.uow.run(ctx, async (tx, record) => {
      const job = await this.deps.guard.current(tx, jobId, leaseId);
      const step = await this.stepOf(tx, job, idx);
      const next = await this.finishStep(tx, record, job, step, report);
      if (report.next === undefined || next !== 'succeeded') return undefined;
      return this.start(tx, record, job, await this.stepOf(tx, job, report.next));
    });
    if (withdrawn) withdrawnByGate(withdrawn);
  }

  private async stepOf(tx: AnyTx, job: JobRow, idx: number): Promise<StepRow> {
    const step = (await this.deps.store.steps(tx, job.id)).find((s) => s.idx === idx);
    if (!step)
      throw new DomainError(
        executionErrors.EXECUTIONS_REPORT_INVALID,
        `job ${job.id} has no step ${idx}`,
        {
          step: idx,
        },
      );
    return step;
  }

  // Starts a step after the gate's last word; returns the gate's summary if it withdrew the job.
  private async start(
    tx: AnyTx,
    record: RecordAudit,
    job: JobRow,
    step: StepRow,
  ): Promise<string | undefined> {
    const earlier = (await this.deps.store.steps(tx, job.id)).filter((s) => s.idx < step.idx);
    if (earlier.some((s) => s.state !== 'succeeded'))
      throw new DomainError(
        executionErrors.EXECUTIONS_TRANSITION_ILLEGAL,
        `step ${step.idx} cannot start before the steps before it succeeded`,
        { step: step.idx },
      );
    const state = transition(
      () => stepTransition(step.state as StepState, { type: 'start' }),
      `step ${step.idx}`,
    );
    const run = (await this.deps.store.run(tx, job.run_id))!;
    const blocked = await this.deps.checkpoints.check(tx, record, {
      run,
      job,
      point: 'step',
      step: step.idx,
    });
    if (blocked) return blocked;
    await this.deps.store.updateStep(tx, job.id, step.idx, { state, started_at: this.now() });
    record({
      action: 'executions.step.started',
      resource: { type: 'step', id: `${job.id}/${step.name}` },
    });
    return undefined;
  }

  private async finishStep(
    tx: AnyTx,
    record: RecordAudit,
    job: JobRow,
    step: StepRow,
    report: StepReport,
  ): Promise<StepState> {
    const next = transition(
      () => stepTransition(step.state as StepState, { type: 'finish', result: report.result }),
      `step ${step.idx}`,
    );
    if (report.result === 'succeeded') await this.assertEvidence(tx, job, step);
    const chunks = await this.deps.store.logChunks(tx, job.id, job.attempt, step.idx);
    const logDigest = `sha256:${sha256(chunks.map((c) => c.sha256).join('\n'))}`;
    await this.deps.store.updateStep(tx, job.id, step.idx, {
      state: next,
      exit_code: report.exitCode,
      attempts: report.attempts,
      reason: report.reason ?? null,
      log_digest: logDigest,
      finished_at: this.now(),
    });
    record({
      action: `executions.step.${next}`,
      resource: { type: 'step', id: `${job.id}/${step.name}` },
      details: {
        run: job.run_id,
        exitCode: report.exitCode,
        attempts: report.attempts,
        logDigest,
        logChunks: chunks.length,
        ...(report.reason ? { reason: report.reason } : {}),
      },
    });
    return next;
  }

  // A step succeeds only with every report it declared (unless `optional`): a runner that
  // skips the upload cannot pass a step whose tests it never showed.
  private async assertEvidence(tx: AnyTx, job: JobRow, step: StepRow): Promise<void> {
    if (!this.deps.evidence) return;
    const spec = await this.stepSpecOf(tx, job, step.idx);
    const recorded = (await this.deps.store.filesOfJob(tx, job.id))
      .filter(
        (f) =>
          f.kind === 'evidence' &&
          f.step_idx === step.idx &&
          f.created_at >= (step.started_at ?? ''),
      )
      .map((f) => `${f.type}\u0000${f.path}`);
    const missing = (spec.evidence ?? []).filter(
      (e) => !e.optional && e.type !== 'file' && !recorded.includes(`${e.type}\u0000${e.path}`),
    );
    if (missing.length > 0)
      throw new DomainError(
        executionErrors.EXECUTIONS_EVIDENCE_MISSING,
        `step ${step.name} cannot succeed without ${missing.map((e) => `${e.type} ${e.path}`).join(', ')}`,
        { step: step.idx, missing },
      );
  }

  private async stepSpecOf(tx: AnyTx, job: JobRow, idx: number) {
    const run = (await this.deps.store.run(tx, job.run_id))!;
    const pv = await this.deps.pipelines.version(
      run.project,
      run.pipeline,
      run.pipeline_version,
      tx,
    );
    const stage = pv.spec.stages[job.stage_idx]!;
    return (job.kind === 'main' ? stage.steps : (stage.rollback ?? []))[idx]!;
  }

  // Provenance of what the job built, signed in the transaction that completes it.
  private async attest(tx: AnyTx, record: RecordAudit, job: JobRow): Promise<void> {
    if (!this.deps.attestations) return;
    const artifacts = (await this.deps.store.filesOfJob(tx, job.id))
      .filter((f) => f.kind === 'artifact')
      .map((f) => ({ name: f.name, digest: f.digest }));
    if (artifacts.length === 0) return;
    const run = (await this.deps.store.run(tx, job.run_id))!;
    const stage = (await this.deps.store.stages(tx, run.id)).find((s) => s.idx === job.stage_idx)!;
    const evidence = this.deps.evidence
      ? await this.deps.evidence.ofJob(tx, job.id)
      : { sboms: [] };
    await this.deps.attestations.issueForJob(tx, record, {
      run: {
        id: run.id,
        project: run.project,
        pipeline: run.pipeline,
        pipelineVersion: run.pipeline_version,
        contentHash: run.content_hash,
        repository: run.repository || null,
        branch: run.branch,
        commit: run.commit_sha,
        inputs: JSON.parse(run.inputs) as Record<string, string>,
        createdBy: run.created_by,
        startedAt: run.started_at ?? run.created_at,
        finishedAt: this.now(),
      },
      job: { id: job.id, stage: stage.name },
      artifacts,
      ...(evidence.tests ? { tests: evidence.tests } : {}),
      ...(evidence.sboms.length > 0 ? { sboms: await this.withDocuments(tx, evidence.sboms) } : {}),
    });
  }

  // A JSON SBOM is attested as itself (the in-toto CycloneDX and SPDX predicates are the
  // document); its bytes are this module's blob, already parsed once on upload.
  private async withDocuments(
    tx: AnyTx,
    sboms: JobEvidence['sboms'],
  ): Promise<JobEvidence['sboms']> {
    const out: JobEvidence['sboms'] = [];
    for (const sbom of sboms) {
      const blob =
        sbom.encoding === 'json' ? await this.deps.store.blob(tx, sbom.digest) : undefined;
      let document: unknown;
      try {
        document = blob
          ? (JSON.parse(Buffer.from(blob.content_base64, 'base64').toString('utf8')) as unknown)
          : undefined;
      } catch {
        document = undefined;
      }
      out.push(document === undefined ? sbom : { ...sbom, document });
    }
    return out;
  }

  async completeJob(
    ctx: RequestContext,
    jobId: string,
    leaseId: string,
    report: { result: StepResult; reason?: string | undefined },
  ): Promise<void> {
    await this.deps.guard.held(this.deps.database.db, ctx, jobId, leaseId);
    const job = await this.deps.uow.run(ctx, async (tx, record) => {
      const job = await this.deps.guard.current(tx, jobId, leaseId);
      const reason =
        report.result === 'succeeded'
          ? null
          : (report.reason ?? (report.result === 'cancelled' ? 'CANCELLED' : 'STEP_FAILED'));
      if (report.result === 'succeeded') {
        const unfinished = (await this.deps.store.steps(tx, jobId)).filter(
          (s) => s.state !== 'succeeded',
        );
        if (unfinished.length > 0)
          throw new DomainError(
            executionErrors.EXECUTIONS_TRANSITION_ILLEGAL,
            `job ${jobId} cannot succeed: step ${unfinished.map((s) => s.name).join(', ')} did not`,
            { steps: unfinished.map((s) => ({ name: s.name, state: s.state })) },
          );
      }
      const from = { state: 'leased', lease_id: leaseId };
      if (!(await this.deps.lifecycle.finish(tx, job, from, report.result, reason)))
        throw new DomainError(executionErrors.EXECUTIONS_LEASE_LOST);
      if (report.result === 'succeeded') await this.attest(tx, record, job);
      record({
        action: `executions.job.${report.result}`,
        resource: { type: 'job', id: jobId },
        details: {
          run: job.run_id,
          runner: job.runner_id,
          attempt: job.attempt,
          ...(reason ? { reason } : {}),
        },
      });
      return job;
    });
    await this.deps.scheduler.advance(job.run_id);
  }
}
