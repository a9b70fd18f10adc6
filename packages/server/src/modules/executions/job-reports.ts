import { createHash } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import type { RecordAudit, UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { executionErrors } from './errors.ts';
import { stepTransition, type StepState } from './execution-state.ts';
import { commitRows, rangesToReport, type CommitRangeReport } from './commit-ranges.ts';
import type { JobRow, KyselyExecutionStore, RunRow, StepRow } from './execution-store.ts';
import type { PipelineService } from '../pipelines/index.ts';
import { withdrawnByGate, type GateCheckpoints } from './gate-checkpoints.ts';
import type { JobLifecycle, StepResult } from './job-lifecycle.ts';
import type { SecretSource } from './job-payload.ts';
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

// What a runner reports under its lease: heartbeats, the commit, steps, logs, files, the end.
// Every report is checked against the lease it names.
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
      secrets?: SecretSource | undefined;
      leaseTtlMs: number;
    },
  ) {}

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  private async leased(tx: AnyTx, jobId: string, leaseId: string): Promise<JobRow> {
    const job = await this.deps.store.job(tx, jobId);
    if (!job) throw new DomainError(executionErrors.EXECUTIONS_JOB_NOT_FOUND);
    if (job.state !== 'leased' || job.lease_id !== leaseId)
      throw new DomainError(executionErrors.EXECUTIONS_LEASE_LOST);
    return job;
  }

  async heartbeat(
    _ctx: RequestContext,
    jobId: string,
    leaseId: string,
  ): Promise<{ cancel: boolean }> {
    const db = this.deps.database.db;
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
    const { commit } = report;
    if (!/^[0-9a-f]{40,64}$/.test(commit))
      throw new DomainError(executionErrors.EXECUTIONS_COMMIT_INVALID);
    const result = await maybe(this.deps.uow, ctx, async (tx, record) => {
      const job = await this.leased(tx, jobId, leaseId);
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
    const withdrawn = await this.deps.uow.run(ctx, async (tx, record) => {
      const job = await this.leased(tx, jobId, leaseId);
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
    const withdrawn = await this.deps.uow.run(ctx, async (tx, record) => {
      const job = await this.leased(tx, jobId, leaseId);
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
        executionErrors.EXECUTIONS_JOB_NOT_FOUND,
        `job ${job.id} has no step ${idx}`,
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
    const run = (await this.deps.store.run(tx, job.run_id))!;
    const blocked = await this.deps.checkpoints.check(tx, record, {
      run,
      job,
      point: 'step',
      step: step.idx,
    });
    if (blocked) return blocked;
    await this.deps.store.updateStep(tx, job.id, step.idx, {
      state: stepTransition(step.state as StepState, { type: 'start' }),
      started_at: this.now(),
    });
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
    const next = stepTransition(step.state as StepState, { type: 'finish', result: report.result });
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

  async appendLog(
    _ctx: RequestContext,
    jobId: string,
    leaseId: string,
    chunk: { step: number; seq: number; content: string; sha256: string },
  ): Promise<void> {
    if (sha256(chunk.content) !== chunk.sha256)
      throw new DomainError(executionErrors.EXECUTIONS_DIGEST_MISMATCH);
    const db = this.deps.database.db;
    const job = await this.deps.store.job(db, jobId);
    if (!job) throw new DomainError(executionErrors.EXECUTIONS_JOB_NOT_FOUND);
    if (job.state !== 'leased' || job.lease_id !== leaseId)
      throw new DomainError(executionErrors.EXECUTIONS_LEASE_LOST);
    // Defence in depth: the runner masks secrets; the server masks again before storing.
    const content = await this.mask(job, chunk.content);
    // Log chunks are data sealed by the step's audit entry (its log digest), not state changes.
    await this.deps.store.appendLog(db, {
      run_id: job.run_id,
      job_id: jobId,
      attempt: job.attempt,
      step_idx: chunk.step,
      seq: chunk.seq,
      content,
      sha256: content === chunk.content ? chunk.sha256 : sha256(content),
      created_at: this.now(),
    });
  }

  // Every secret of the job's scope and its common encodings (secrets module, masking.ts).
  private async mask(job: JobRow, content: string): Promise<string> {
    if (!this.deps.secrets) return content;
    const db = this.deps.database.db;
    const run = (await this.deps.store.run(db, job.run_id))!;
    const stage = (await this.deps.store.stages(db, job.run_id)).find(
      (s) => s.idx === job.stage_idx,
    );
    const masker = await this.deps.secrets.masker({
      project: run.project,
      environment: stage?.environment ?? null,
    });
    return masker.mask(content);
  }

  async uploadFile(
    ctx: RequestContext,
    jobId: string,
    leaseId: string,
    file: {
      step: number;
      kind: 'artifact' | 'evidence';
      name: string;
      type: string;
      path: string;
      sha256: string;
      contentBase64: string;
    },
  ): Promise<{ id: string; digest: string; size: number }> {
    const bytes = Buffer.from(file.contentBase64, 'base64');
    if (sha256(bytes) !== file.sha256)
      throw new DomainError(executionErrors.EXECUTIONS_DIGEST_MISMATCH);
    const digest = `sha256:${file.sha256}`;
    return this.deps.uow.run(ctx, async (tx, record) => {
      const job = await this.leased(tx, jobId, leaseId);
      const id = newId('file');
      await this.deps.store.putBlob(tx, digest, bytes.length, file.contentBase64);
      await this.deps.store.insertFile(tx, {
        id,
        run_id: job.run_id,
        job_id: jobId,
        step_idx: file.step,
        kind: file.kind,
        name: file.name,
        type: file.type,
        path: file.path,
        digest,
        size: bytes.length,
        created_at: this.now(),
      });
      record({
        action: `executions.${file.kind}.recorded`,
        resource: { type: file.kind, id },
        details: {
          run: job.run_id,
          name: file.name,
          type: file.type,
          path: file.path,
          digest,
          size: bytes.length,
        },
      });
      return { id, digest, size: bytes.length };
    });
  }

  async completeJob(
    ctx: RequestContext,
    jobId: string,
    leaseId: string,
    report: { result: StepResult; reason?: string | undefined },
  ): Promise<void> {
    const job = await this.deps.uow.run(ctx, async (tx, record) => {
      const job = await this.leased(tx, jobId, leaseId);
      const reason =
        report.result === 'succeeded'
          ? null
          : (report.reason ?? (report.result === 'cancelled' ? 'CANCELLED' : 'STEP_FAILED'));
      const from = { state: 'leased', lease_id: leaseId };
      if (!(await this.deps.lifecycle.finish(tx, job, from, report.result, reason)))
        throw new DomainError(executionErrors.EXECUTIONS_LEASE_LOST);
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

  async blob(digest: string): Promise<{ size: number; contentBase64: string }> {
    const row = await this.deps.store.blob(this.deps.database.db, digest);
    if (!row) throw new DomainError(executionErrors.EXECUTIONS_BLOB_NOT_FOUND);
    return { size: row.size, contentBase64: row.content_base64 };
  }
}
