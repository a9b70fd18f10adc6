// SLSA Provenance v1.0 (slsa.dev/spec/v1.0/provenance) as an in-toto Statement v1: what a
// Custody pipeline job built, from which source and parameters, on which build platform.
//
// Build type https://custody.dev/buildtypes/pipeline/v1 (docs/reference/attestations.md):
//   externalParameters  what the run was asked to do, all of it under the requester's control:
//                       repository (clone URL), ref (`refs/heads/<branch>`), commit (when the
//                       run names one), pipeline { project, name, version, contentHash } (the
//                       pipeline version in force, by content hash) and inputs (the run's
//                       inputs, name → value)
//   internalParameters  set by the platform: stage and job (the job's id)
//   resolvedDependencies  the source: `git+<repository>@<ref>` with digest { gitCommit } (when
//                       the commit is a full SHA-1 or SHA-256 id; an abbreviated one is only
//                       an external parameter)
//   runDetails          builder.id (the server's runner fleet, e.g. `https://ci.example/runners`),
//                       metadata { invocationId: the run id, startedOn, finishedOn }
// Fields whose value is unknown (a run without a repository or commit) are left out: SLSA
// reads unset, null and empty alike.
import { makeStatement, type InTotoStatement, type InTotoSubject } from './in-toto.ts';
import {
  checkName,
  checkSubjects,
  checkTimestamp,
  checkUri,
  invalidPredicate,
} from './predicate-checks.ts';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const CUSTODY_PIPELINE_BUILD_TYPE = 'https://custody.dev/buildtypes/pipeline/v1';

export interface SlsaProvenanceInput {
  /** The artifacts the job built: `{ name, digest: { sha256 } }` each. */
  readonly subject: readonly InTotoSubject[];
  /** URI of the build platform, e.g. the server's public URL + `/runners`. */
  readonly builderId: string;
  /** Versions of the build platform's components (`{ custody: '0.1.0' }`), optional. */
  readonly builderVersion?: Readonly<Record<string, string>>;
  /** Clone URL of the source repository, or null when the run has none. */
  readonly repository: string | null;
  /** The git ref that was built, e.g. `refs/heads/main`. */
  readonly ref: string;
  /** The commit the run names (7 to 64 hex digits), or null when unknown. */
  readonly commit: string | null;
  readonly pipeline: {
    readonly project: string;
    readonly name: string;
    readonly version: number;
    readonly contentHash: string;
  };
  readonly inputs: Readonly<Record<string, string>>;
  readonly stage: string;
  readonly job: string;
  /** The run id: SLSA's invocationId. */
  readonly runId: string;
  /** RFC 3339 UTC timestamps. */
  readonly startedOn: string;
  readonly finishedOn: string;
}

const what = 'SLSA provenance';

export function makeSlsaProvenance(input: SlsaProvenanceInput): InTotoStatement {
  const subject = checkSubjects(what, input.subject);
  checkUri(`${what} builderId`, input.builderId);
  checkName(`${what} ref`, input.ref);
  if (input.repository !== null) checkUri(`${what} repository`, input.repository);
  if (input.commit !== null && !/^[0-9a-f]{7,64}$/.test(input.commit))
    invalidPredicate(what, 'commit must be 7 to 64 lowercase hex digits');
  // A digest must name the object: an abbreviated commit stays a parameter only.
  const fullCommit =
    input.commit !== null && /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(input.commit)
      ? input.commit
      : null;
  const { project, name, version, contentHash } = input.pipeline;
  checkName(`${what} pipeline.project`, project);
  checkName(`${what} pipeline.name`, name);
  checkName(`${what} pipeline.contentHash`, contentHash);
  if (!Number.isSafeInteger(version) || version < 1)
    invalidPredicate(what, 'pipeline.version must be a positive integer');
  checkName(`${what} stage`, input.stage);
  checkName(`${what} job`, input.job);
  checkName(`${what} runId`, input.runId);
  checkTimestamp(`${what} startedOn`, input.startedOn);
  checkTimestamp(`${what} finishedOn`, input.finishedOn);
  if (Date.parse(input.finishedOn) < Date.parse(input.startedOn))
    invalidPredicate(what, 'finishedOn is before startedOn');
  const inputs: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.inputs)) {
    if (typeof v !== 'string') invalidPredicate(what, `input ${k} must be a string`);
    inputs[k] = v;
  }

  const source =
    input.repository === null
      ? []
      : [
          {
            uri: `git+${input.repository}@${input.ref}`,
            ...(fullCommit !== null ? { digest: { gitCommit: fullCommit } } : {}),
          },
        ];
  return makeStatement({
    subject,
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: CUSTODY_PIPELINE_BUILD_TYPE,
        externalParameters: {
          ...(input.repository !== null ? { repository: input.repository } : {}),
          ref: input.ref,
          ...(input.commit !== null ? { commit: input.commit } : {}),
          pipeline: { project, name, version, contentHash },
          inputs,
        },
        internalParameters: { stage: input.stage, job: input.job },
        resolvedDependencies: source,
      },
      runDetails: {
        builder: {
          id: input.builderId,
          ...(input.builderVersion ? { version: { ...input.builderVersion } } : {}),
        },
        metadata: {
          invocationId: input.runId,
          startedOn: input.startedOn,
          finishedOn: input.finishedOn,
        },
      },
    },
  });
}
