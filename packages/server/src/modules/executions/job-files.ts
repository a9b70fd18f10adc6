import { createHash } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { AnyDb, AnyTx, Database } from '../../platform/db/database.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type { PipelineService, StepSpec } from '../pipelines/index.ts';
import { executionErrors } from './errors.ts';
import type { EvidencePort, ParsedEvidence } from './evidence-port.ts';
import type { JobRow, KyselyExecutionStore } from './execution-store.ts';
import { jobArtifacts, type SecretSource } from './job-payload.ts';
import type { LeaseGuard } from './lease-guard.ts';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

export interface FileUpload {
  step: number;
  kind: 'artifact' | 'evidence';
  name: string;
  type: string;
  path: string;
  sha256: string;
  contentBase64: string;
}

// The data a runner sends and fetches under its lease: log chunks, the files its steps
// declared, and the blobs of its own job — nothing of any other job or pool.
export class JobFiles {
  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyExecutionStore;
      clock: Clock;
      pipelines: PipelineService;
      guard: LeaseGuard;
      secrets?: SecretSource | undefined;
      evidence?: EvidencePort | undefined;
    },
  ) {}

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  async appendLog(
    ctx: RequestContext,
    jobId: string,
    leaseId: string,
    chunk: { step: number; seq: number; content: string; sha256: string },
  ): Promise<void> {
    if (sha256(chunk.content) !== chunk.sha256)
      throw new DomainError(executionErrors.EXECUTIONS_DIGEST_MISMATCH);
    const db = this.deps.database.db;
    const job = await this.deps.guard.held(db, ctx, jobId, leaseId);
    await this.stepSpec(db, job, chunk.step);
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

  // A file is accepted only as its step declared it (artifact name and path, or evidence
  // type and path) while that step runs or has just succeeded.
  async uploadFile(
    ctx: RequestContext,
    jobId: string,
    leaseId: string,
    file: FileUpload,
  ): Promise<{ id: string; digest: string; size: number }> {
    const bytes = Buffer.from(file.contentBase64, 'base64');
    if (sha256(bytes) !== file.sha256)
      throw new DomainError(executionErrors.EXECUTIONS_DIGEST_MISMATCH);
    const digest = `sha256:${file.sha256}`;
    const held = await this.deps.guard.held(this.deps.database.db, ctx, jobId, leaseId);
    // What the step did not declare is refused as such before its content is even read.
    await this.declared(this.deps.database.db, held, file);
    const parsed = file.kind === 'evidence' ? await this.parse(ctx, jobId, file, bytes) : undefined;
    return this.deps.uow.run(ctx, async (tx, record) => {
      const job = await this.deps.guard.current(tx, jobId, leaseId);
      await this.declared(tx, job, file);
      const id = newId('file');
      const at = this.now();
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
        created_at: at,
      });
      const report = parsed
        ? await this.deps.evidence!.record(tx, record, {
            parsed,
            origin: await this.origin(
              tx,
              job,
              { id, digest, path: file.path, type: file.type },
              file.step,
              at,
            ),
          })
        : {};
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
          ...report,
        },
      });
      return { id, digest, size: bytes.length };
    });
  }

  // A report that does not parse as the type its step declared is refused before anything is
  // written; the refusal is in the ledger with its code.
  private async parse(
    ctx: RequestContext,
    jobId: string,
    file: FileUpload,
    bytes: Buffer,
  ): Promise<ParsedEvidence | undefined> {
    if (!this.deps.evidence) return undefined;
    try {
      return this.deps.evidence.parse({ type: file.type, path: file.path, bytes });
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      await this.deps.uow.recordAttempt(ctx, {
        action: 'executions.evidence.recorded',
        resource: { type: 'evidence', id: `${jobId}/${file.step}` },
        outcome: 'denied',
        details: { code: err.code, job: jobId, type: file.type, path: file.path },
      });
      throw err;
    }
  }

  private async origin(
    tx: AnyTx,
    job: JobRow,
    file: { id: string; digest: string; path: string; type: string },
    step: number,
    at: string,
  ) {
    const run = (await this.deps.store.run(tx, job.run_id))!;
    const stage = (await this.deps.store.stages(tx, job.run_id)).find(
      (s) => s.idx === job.stage_idx,
    )!;
    return {
      run: { id: run.id, project: run.project },
      job: { id: job.id, stageIdx: stage.idx, stage: stage.name, environment: stage.environment },
      step,
      file,
      at,
    };
  }

  private async declared(tx: AnyDb | AnyTx, job: JobRow, file: FileUpload): Promise<void> {
    const spec = await this.stepSpec(tx, job, file.step);
    const step = (await this.deps.store.steps(tx, job.id)).find((s) => s.idx === file.step)!;
    if (step.state !== 'running' && step.state !== 'succeeded')
      throw new DomainError(
        executionErrors.EXECUTIONS_TRANSITION_ILLEGAL,
        `step ${step.name} is ${step.state}: it records no files`,
        { step: file.step, state: step.state },
      );
    const ok =
      file.kind === 'artifact'
        ? (spec.artifacts ?? []).some((a) => a.name === file.name && a.path === file.path)
        : (spec.evidence ?? []).some((e) => e.type === file.type && e.path === file.path);
    if (!ok)
      throw new DomainError(
        executionErrors.EXECUTIONS_REPORT_INVALID,
        `step ${step.name} declares no ${file.kind} ${file.kind === 'artifact' ? file.name : file.type} at ${file.path}`,
        { step: file.step, kind: file.kind, path: file.path },
      );
  }

  // The spec of step `idx` of the job, or REPORT_INVALID when the job has no such step.
  private async stepSpec(db: AnyDb | AnyTx, job: JobRow, idx: number): Promise<StepSpec> {
    const run = (await this.deps.store.run(db, job.run_id))!;
    const pv = await this.deps.pipelines.version(
      run.project,
      run.pipeline,
      run.pipeline_version,
      db as AnyTx,
    );
    const stage = pv.spec.stages[job.stage_idx]!;
    const steps = job.kind === 'main' ? stage.steps : (stage.rollback ?? []);
    const spec = steps[idx];
    if (!spec)
      throw new DomainError(
        executionErrors.EXECUTIONS_REPORT_INVALID,
        `job ${job.id} has no step ${idx}`,
        {
          step: idx,
        },
      );
    return spec;
  }

  // An artifact the runner's own job uses (its run's, or the previous release's for a
  // rollback step): each download is a ledger entry.
  async blob(
    ctx: RequestContext,
    jobId: string,
    leaseId: string,
    digest: string,
  ): Promise<{ size: number; contentBase64: string }> {
    const db = this.deps.database.db;
    const job = await this.deps.guard.held(db, ctx, jobId, leaseId);
    const run = (await this.deps.store.run(db, job.run_id))!;
    const stage = (await this.deps.store.stages(db, run.id)).find((s) => s.idx === job.stage_idx)!;
    const usable = await jobArtifacts(db, this.deps.store, run, stage.environment);
    const artifact = usable.find((a) => a.digest === digest);
    if (!artifact) {
      await this.deps.uow.recordAttempt(ctx, {
        action: 'executions.artifact.downloaded',
        resource: { type: 'blob', id: digest },
        outcome: 'denied',
        details: { code: executionErrors.EXECUTIONS_BLOB_NOT_FOUND.code, job: jobId },
      });
      throw new DomainError(executionErrors.EXECUTIONS_BLOB_NOT_FOUND);
    }
    const row = await this.deps.store.blob(db, digest);
    if (!row) throw new DomainError(executionErrors.EXECUTIONS_BLOB_NOT_FOUND);
    await this.deps.uow.run(ctx, async (_tx, record) => {
      record({
        action: 'executions.artifact.downloaded',
        resource: { type: 'blob', id: digest },
        details: { job: jobId, run: run.id, name: artifact.name, runner: job.runner_id },
      });
    });
    return { size: row.size, contentBase64: row.content_base64 };
  }
}
