import { createHash } from 'node:crypto';
import {
  canonicalJson,
  fromBase64,
  LedgerError,
  makeSbomStatement,
  makeSlsaProvenance,
  makeTestResultStatement,
  signAttestationBundle,
  type InTotoStatement,
  type InTotoSubject,
} from '@custody/ledger';
import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { AnyDb, AnyTx, Database } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type { AttestationKey } from './attestation-key.ts';
import type { AttestationRow, KyselyAttestationStore } from './attestation-store.ts';
import { attestationErrors as E } from './errors.ts';
import { attestationPermissions as P } from './permissions.ts';
import type { AttestationPort, AttestationRequest } from '../executions/index.ts';

// What the execution engine hands over in the transaction that completes a job successfully
// (declared by the engine, which owns the port).
export type { AttestationRequest };

export interface IssuedAttestation {
  id: string;
  predicateType: string;
  /** `sha256:<hex>` of the bundle's canonical JSON bytes (what GET /attestations/:id returns). */
  digest: string;
  /** `sha256:<hex>` of the DSSE payload: the signed statement bytes. */
  payloadDigest: string;
}

export interface AttestationView {
  id: string;
  run: string;
  job: string;
  predicateType: string;
  subject: { name: string; digest: string }[];
  digest: string;
  payloadDigest: string;
  createdAt: string;
}

export interface AttestationServiceDeps {
  readonly database: Database;
  readonly store: KyselyAttestationStore;
  readonly key: AttestationKey;
  readonly clock: Clock;
  /** SLSA builder.id: the build platform (the server's URL + `/runners`). */
  readonly builderId: string;
  readonly builderVersion?: Readonly<Record<string, string>>;
  /** A URL where people look at a run (the test result's `url`), when the server has one. */
  readonly runUrl?: (runId: string) => string;
}

const sha256Digest = /^sha256:([0-9a-f]{64})$/;

function hexOf(digest: string, what: string): string {
  const m = sha256Digest.exec(digest);
  if (!m)
    throw new DomainError(
      E.ATTESTATIONS_REQUEST_INVALID,
      `${what}: digest must be sha256:<64 hex>`,
      {
        digest,
      },
    );
  return m[1]!;
}

function isoOf(value: string, what: string): string {
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new DomainError(E.ATTESTATIONS_REQUEST_INVALID, `${what} is not a timestamp`, { value });
  return new Date(t).toISOString();
}

function gitRef(branch: string): string {
  return branch.startsWith('refs/') ? branch : `refs/heads/${branch}`;
}

function sha256Of(data: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

// Signs and keeps the attestations of what a job built: one SLSA provenance statement per
// artifact (the form `cosign verify-blob-attestation ARTIFACT` checks most simply), one test
// result statement over all the artifacts when the job reported tests, and one statement per
// SBOM over the artifacts it describes. Each is a Sigstore bundle signed with the attestation
// key, stored with a ledger entry, in the caller's transaction.
export class AttestationService implements AttestationPort {
  constructor(private readonly deps: AttestationServiceDeps) {}

  /** The public key that verifies every bundle (PEM), and its id (the bundles' hint). */
  publicKey(): { pem: string; keyId: string } {
    return { pem: this.deps.key.publicKeyPem, keyId: this.deps.key.keyId };
  }

  /**
   * In the transaction that completes a job successfully. Artifacts named twice count once
   * (the last digest wins, as in the run's artifact list). Issues nothing without artifacts.
   */
  async issueForJob(
    tx: AnyTx,
    record: RecordAudit,
    req: AttestationRequest,
  ): Promise<IssuedAttestation[]> {
    const byName = new Map<string, InTotoSubject>();
    for (const a of req.artifacts)
      byName.set(a.name, {
        name: a.name,
        digest: { sha256: hexOf(a.digest, `artifact ${a.name}`) },
      });
    const artifacts = [...byName.values()];
    if (artifacts.length === 0) return [];

    const { run, job } = req;
    const startedOn = isoOf(run.startedAt, 'run.startedAt');
    const finishedOn = isoOf(run.finishedAt, 'run.finishedAt');
    const statements: InTotoStatement[] = [];
    const build = (make: () => InTotoStatement): void => {
      try {
        statements.push(make());
      } catch (err) {
        if (err instanceof LedgerError)
          throw new DomainError(E.ATTESTATIONS_REQUEST_INVALID, err.message, {
            run: run.id,
            job: job.id,
            code: err.code,
          });
        throw err;
      }
    };
    for (const artifact of artifacts)
      build(() =>
        makeSlsaProvenance({
          subject: [artifact],
          builderId: this.deps.builderId,
          ...(this.deps.builderVersion ? { builderVersion: this.deps.builderVersion } : {}),
          repository: run.repository,
          ref: gitRef(run.branch),
          commit: run.commit?.toLowerCase() ?? null,
          pipeline: {
            project: run.project,
            name: run.pipeline,
            version: run.pipelineVersion,
            contentHash: run.contentHash,
          },
          inputs: run.inputs,
          stage: job.stage,
          job: job.id,
          runId: run.id,
          startedOn,
          finishedOn,
        }),
      );
    if (req.tests) {
      const tests = req.tests;
      const url = this.deps.runUrl?.(run.id);
      build(() =>
        makeTestResultStatement({
          subject: artifacts,
          configuration: tests.reports.map((r) => ({
            name: r.path,
            sha256: hexOf(r.digest, `test report ${r.path}`),
          })),
          passedTests: tests.passed,
          // JUnit's skipped tests neither passed nor failed: the predicate's "warned".
          warnedTests: tests.skipped,
          failedTests: tests.failed,
          ...(url !== undefined ? { url } : {}),
        }),
      );
    }
    for (const sbom of req.sboms ?? []) {
      const sha256 = hexOf(sbom.digest, `SBOM ${sbom.path}`);
      // An SBOM uploaded as an artifact too describes the others, not itself.
      const subject = artifacts.filter((a) => a.digest.sha256 !== sha256);
      if (subject.length === 0) continue;
      build(() =>
        makeSbomStatement({
          subject,
          format: sbom.format,
          encoding: sbom.encoding,
          sha256,
          specVersion: sbom.specVersion,
          components: sbom.components,
          ...(sbom.document !== undefined ? { document: sbom.document } : {}),
        }),
      );
    }

    const createdAt = this.deps.clock.now().toISOString();
    const issued: IssuedAttestation[] = [];
    for (const [idx, statement] of statements.entries()) {
      const signed = signAttestationBundle(statement, this.deps.key.signer, this.deps.key.keyId);
      const bundle = canonicalJson(signed);
      const id = newId('att');
      const digest = sha256Of(bundle);
      const payloadDigest = sha256Of(fromBase64(signed.dsseEnvelope.payload));
      const subjects = statement.subject.map((s) => ({
        name: s.name,
        digest: `sha256:${s.digest.sha256!}`,
      }));
      await this.deps.store.insert(
        tx,
        {
          id,
          run_id: run.id,
          job_id: job.id,
          idx,
          project: run.project,
          predicate_type: statement.predicateType,
          subject_name: subjects[0]!.name,
          subject_digest: subjects[0]!.digest,
          bundle,
          digest,
          payload_digest: payloadDigest,
          created_at: createdAt,
        },
        subjects,
      );
      record({
        action: 'attestations.attestation.issued',
        resource: { type: 'attestation', id },
        details: {
          run: run.id,
          job: job.id,
          predicateType: statement.predicateType,
          subjectDigests: subjects.map((s) => s.digest),
          bundleDigest: digest,
          payloadDigest,
          keyId: this.deps.key.keyId,
        },
      });
      issued.push({ id, predicateType: statement.predicateType, digest, payloadDigest });
    }
    return issued;
  }

  /**
   * A run's attestations, oldest first; the run's project must be readable. A run without
   * attestations (or no such run) lists nothing: this module keeps no runs of its own, and an
   * empty list tells a caller nothing about runs it may not see.
   */
  async list(ctx: RequestContext, runId: string): Promise<AttestationView[]> {
    const rows = await this.deps.store.listByRun(this.deps.database.db, runId);
    if (rows.length === 0) return [];
    await ctx.guard.require(
      P['attestations.attestation.read'],
      { project: rows[0]!.row.project },
      { type: 'run', id: runId },
    );
    return rows.map(({ row, subjects }) => ({
      id: row.id,
      run: row.run_id,
      job: row.job_id,
      predicateType: row.predicate_type,
      subject: subjects.map((s) => ({ name: s.name, digest: s.digest })),
      digest: row.digest,
      payloadDigest: row.payload_digest,
      createdAt: row.created_at,
    }));
  }

  /** The bundle's canonical JSON text, exactly as stored (its SHA-256 is the listed digest). */
  async bundle(ctx: RequestContext, id: string): Promise<string> {
    const row: AttestationRow | undefined = await this.deps.store.get(this.deps.database.db, id);
    if (!row) throw new DomainError(E.ATTESTATIONS_NOT_FOUND);
    await ctx.guard.require(
      P['attestations.attestation.read'],
      { project: row.project },
      { type: 'attestation', id },
    );
    return row.bundle;
  }

  /** The bundle text of an attestation, without a permission check (for the dossier). */
  async bundleText(db: AnyDb | AnyTx, id: string): Promise<string | undefined> {
    return (await this.deps.store.get(db, id))?.bundle;
  }

  // What the evidence summary reports of a deployment's artifacts: which signed statements
  // exist for each digest (no permission check: the caller already checked its own).
  async ofDigests(
    db: AnyDb | AnyTx,
    project: string,
    digests: readonly string[],
  ): Promise<
    { digest: string; id: string; run: string; predicateType: string; bundleDigest: string }[]
  > {
    const rows = await this.deps.store.bySubjects(db, project, digests);
    return rows.map((r) => ({
      digest: r.subject,
      id: r.id,
      run: r.run_id,
      predicateType: r.predicate_type,
      bundleDigest: r.digest,
    }));
  }
}
