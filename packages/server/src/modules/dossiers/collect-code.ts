import { stringify } from 'yaml';
import type { PageRequest } from '../../platform/db/keyset.ts';
import { DomainError } from '../../platform/errors.ts';
import type { VersionView } from '../resources/index.ts';
import {
  notCollected,
  type DossierSources,
  type DossierSubject,
  type NotCollected,
} from './dossier-sources.ts';

export interface CodeSections {
  commits: Record<string, unknown> | NotCollected;
  pipeline: Record<string, unknown> | NotCollected;
  pipelineYaml: string | undefined;
  environment: Record<string, unknown> | NotCollected;
  // For the ledger section: the resource versions in force, and their approval requests.
  refs: { resources: { kind: string; id: string; version: number; contentHash: string }[] };
}

const versionOf = (v: VersionView) => ({
  version: v.version,
  contentHash: v.contentHash,
  appliedBy: v.appliedBy,
  appliedAt: v.appliedAt,
  stateNow: v.state,
  approval: v.approval,
  document: v.document,
});

// When a version took effect: at its apply, or (governed) when a second person approved it.
function effectiveAt(v: VersionView): string | null {
  if (!v.approval) return v.appliedAt;
  return v.approval.state === 'approved' ? (v.approval.decidedAt ?? v.appliedAt) : null;
}

async function allHistory(
  src: DossierSources,
  kind: string,
  name: string,
  project: string,
): Promise<VersionView[]> {
  const out: VersionView[] = [];
  let page: PageRequest = { limit: 100, after: undefined };
  for (;;) {
    const found = await src.resources.history(kind, name, project, page);
    out.push(...found.items);
    if (!found.next) return out;
    page = { limit: 100, after: found.next };
  }
}

// commits.json, pipeline.json (+ pipeline.yaml) and environment.json.
export async function collectCode(
  src: DossierSources,
  subject: DossierSubject,
): Promise<CodeSections> {
  const d = subject.deployment;
  const db = src.database.db;
  const refs: CodeSections['refs'] = { resources: [] };

  const range = await src.executions.commitRange(db, d.runId, d.environment);
  let commits: CodeSections['commits'];
  if (!range) {
    commits = notCollected(
      `the runner reported no commit range for ${d.id} (no git checkout, or a runner before commit-range reports)`,
    );
  } else {
    const trail = await src.scm.reviewTrail(
      d.project,
      range.commits.map((c) => c.sha),
    );
    commits = {
      collected: true,
      // The previous release in this environment (null: the first release there).
      since: range.since,
      head: range.head,
      truncated: range.truncated,
      reportedAt: range.reportedAt,
      commits: range.commits.map((c) => ({
        ...c,
        pushes: trail.pushes.filter((p) => p.sha === c.sha),
      })),
      changes:
        trail.changes.length > 0
          ? trail.changes
          : notCollected(
              'no pull/merge request carrying these commits was received (no SCM webhook configured, or the commits were pushed directly)',
            ),
    };
  }

  let pipeline: CodeSections['pipeline'];
  let pipelineYaml: string | undefined;
  try {
    const v = await src.resources.version('Pipeline', d.pipeline, d.project, d.pipelineVersion);
    pipelineYaml = stringify(v.document);
    pipeline = {
      collected: true,
      project: d.project,
      name: d.pipeline,
      ...versionOf(v),
      // contentHash is "sha256:" + SHA-256 of the canonical JSON (RFC 8785) of `document`;
      // pipeline.yaml is that document as YAML.
      runContentHash: d.contentHash,
      matchesRun: v.contentHash === d.contentHash,
    };
    refs.resources.push({
      kind: 'Pipeline',
      id: `${d.project}/${d.pipeline}`,
      version: v.version,
      contentHash: v.contentHash,
    });
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    pipeline = notCollected(
      `pipeline ${d.project}/${d.pipeline} version ${d.pipelineVersion} is not in the resource history: ${err.message}`,
    );
  }

  let environment: CodeSections['environment'];
  try {
    const history = await allHistory(src, 'Environment', d.environment, d.project);
    const inForce = history
      .filter((v) => {
        const at = effectiveAt(v);
        return at !== null && at <= d.startedAt;
      })
      .sort((a, b) => b.version - a.version)[0];
    const current = await src.projects.environment(d.project, d.environment);
    environment = inForce
      ? {
          collected: true,
          project: d.project,
          name: d.environment,
          type:
            inForce.document.spec && typeof inForce.document.spec === 'object'
              ? ((inForce.document.spec as { type?: unknown }).type ?? current?.type ?? null)
              : (current?.type ?? null),
          inForceAt: d.startedAt,
          ...versionOf(inForce),
        }
      : notCollected(`no version of ${d.project}/${d.environment} was in force at ${d.startedAt}`);
    if (inForce)
      refs.resources.push({
        kind: 'Environment',
        id: `${d.project}/${d.environment}`,
        version: inForce.version,
        contentHash: inForce.contentHash,
      });
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    environment = notCollected(`environment ${d.project}/${d.environment}: ${err.message}`);
  }
  return { commits, pipeline, pipelineYaml, environment, refs };
}
