import {
  notCollected,
  type DossierSources,
  type DossierSubject,
  type NotCollected,
} from './dossier-sources.ts';

export interface RunSections {
  run: Record<string, unknown>;
  evidence: Record<string, unknown> | NotCollected;
  attestations: {
    index: Record<string, unknown> | NotCollected;
    bundles: { path: string; text: string }[];
  };
  // For the ledger section: the runs that built the deployed digests (besides this run).
  refs: { originRuns: string[]; attestations: string[] };
}

// run.json, evidence.json and attestations/.
export async function collectRun(
  src: DossierSources,
  subject: DossierSubject,
): Promise<RunSections> {
  const d = subject.deployment;
  const db = src.database.db;
  const [run, stages, jobs, artifacts] = await Promise.all([
    src.executions.run(db, d.runId),
    src.executions.stages(db, d.runId),
    src.executions.jobs(db, d.runId),
    src.executions.artifacts(db, d.runId),
  ]);
  const stageJobs = jobs.filter((j) => j.stageIdx === d.stageIdx);
  const runJson = {
    collected: true,
    run: {
      id: d.runId,
      project: d.project,
      pipeline: d.pipeline,
      pipelineVersion: d.pipelineVersion,
      contentHash: d.contentHash,
      branch: d.branch,
      commit: d.commit,
      inputs: d.inputs,
      trigger: d.trigger,
      triggeredBy: d.createdBy,
      createdAt: d.runCreatedAt,
      state: run?.state ?? null,
      rollbackOf: d.rollbackOf,
    },
    stages,
    deployment: {
      id: d.id,
      stage: d.stage,
      environment: d.environment,
      state: d.state,
      reason: d.reason,
      startedAt: d.startedAt,
      finishedAt: d.finishedAt,
      // The deploy stage's jobs (a retried job is a new generation) and their steps.
      jobs: stageJobs,
    },
    otherJobs: jobs.filter((j) => j.stageIdx !== d.stageIdx),
    artifacts,
  };

  let evidence: RunSections['evidence'];
  const refs: RunSections['refs'] = { originRuns: [], attestations: [] };
  const digests = [...new Set(artifacts.map((a) => a.digest))];
  if (artifacts.length === 0) {
    evidence = notCollected(
      `run ${d.runId} declared no artifacts, so no evidence is tied to what was deployed`,
    );
  } else {
    const summary = await src.evidence.summaries.summary(db, {
      project: d.project,
      environment: d.environment,
      run: d.runId,
      artifacts,
      at: new Date(d.startedAt),
    });
    evidence =
      summary.reports.length === 0
        ? {
            ...notCollected(
              `no test, coverage, scan or SBOM report was uploaded for the deployed digests`,
            ),
            summary,
          }
        : { collected: true, summary };
    refs.originRuns = [
      ...new Set(summary.artifacts.flatMap((a) => a.builtBy).filter((r) => r !== d.runId)),
    ];
  }

  const found = digests.length > 0 ? await src.attestations.ofDigests(db, d.project, digests) : [];
  const bundles: RunSections['attestations']['bundles'] = [];
  const seen = new Set<string>();
  for (const a of found) {
    if (seen.has(a.id)) continue;
    seen.add(a.id);
    const text = await src.attestations.bundleText(db, a.id);
    if (text !== undefined) bundles.push({ path: `attestations/${a.id}.sigstore.json`, text });
  }
  refs.attestations = [...seen];
  return {
    run: runJson,
    evidence,
    attestations: {
      index:
        found.length > 0
          ? {
              collected: true,
              // Sigstore bundles v0.3, verifiable with the attestation key
              // (GET /api/v1/attestations/public-key, `cosign verify-blob-attestation`).
              attestations: found.map((a) => ({
                ...a,
                file: `attestations/${a.id}.sigstore.json`,
              })),
            }
          : notCollected(
              digests.length === 0
                ? 'no artifact was deployed, so there is nothing attested'
                : 'no attestation exists for the deployed digests',
            ),
      bundles,
    },
    refs,
  };
}
