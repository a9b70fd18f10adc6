import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { ExecutionReads } from '../executions/index.ts';
import type { FindingRow, KyselyEvidenceStore, ReportRow, WaiverRow } from './evidence-store.ts';
import { findingStatus, type FindingView, type SeverityCounts } from './finding-status.ts';

// The evidence of what a deployment would release (docs/reference/evidence.md, "Evidence
// summary document"): what the quality gates read and what the policy engine gets as input.
export interface EvidenceSummary {
  schema: 'https://custody.dev/evidence-summary/v1';
  project: string;
  environment: string | null;
  artifacts: { name: string; digest: string; builtBy: string[] }[];
  baseline: { run: string; artifacts: { name: string; digest: string }[] } | null;
  reports: {
    id: string;
    run: string;
    stage: string;
    format: string;
    path: string;
    digest: string;
    figures: Record<string, unknown>;
  }[];
  tests: {
    reports: number;
    tests: number;
    passed: number;
    failures: number;
    errors: number;
    skipped: number;
    flaky: number;
    failed: {
      name: string;
      className: string | null;
      file: string | null;
      outcome: string;
      message: string | null;
    }[];
  };
  coverage: {
    reports: number;
    lines: { found: number; hit: number; percent: number | null };
    branches: { found: number; hit: number; percent: number | null };
    baselineLinesPercent: number | null;
    drop: number | null;
  };
  findings: {
    total: number;
    suppressed: number;
    waived: number;
    fixed: number;
    new: SeverityCounts;
    existing: SeverityCounts;
    items: FindingView[];
  };
  sbom: {
    reports: number;
    components: number;
    licenses: string[];
    componentsByLicense: Record<string, string[]>;
  };
  // The signed statements of the artifacts, by the runs that built them.
  attestations: {
    digest: string;
    id: string;
    run: string;
    predicateType: string;
    bundleDigest: string;
  }[];
}

// The attestations module answers it (no reading of its tables from here).
export interface AttestationLookup {
  ofDigests(
    db: AnyDb | AnyTx,
    project: string,
    digests: readonly string[],
  ): Promise<EvidenceSummary['attestations']>;
}

export interface SummaryTarget {
  project: string;
  environment: string | null;
  // The run that deploys: its own build-side evidence counts for what it built itself.
  run: string;
  artifacts: readonly { name: string; digest: string }[];
  at: Date;
}

const maxFailedListed = 50;
const maxFindingsListed = 200;
const percent = (hit: number, found: number) =>
  found === 0 ? null : Math.round((hit / found) * 10_000) / 100;

export class EvidenceSummaries {
  constructor(
    private readonly deps: {
      store: KyselyEvidenceStore;
      executions: ExecutionReads;
      attestations?: AttestationLookup | undefined;
    },
  ) {}

  async summary(db: AnyDb | AnyTx, target: SummaryTarget): Promise<EvidenceSummary> {
    const built = await this.buildRuns(db, target.project, target.run, target.artifacts);
    const reports = await this.buildReports(db, built.runs);
    const baseline = target.environment
      ? await this.baseline(db, target.project, target.environment, target.run)
      : null;
    const baseReports = baseline ? await this.buildReports(db, baseline.runs) : [];
    const waivers = await this.deps.store.activeWaivers(
      db,
      target.project,
      target.at.toISOString(),
    );
    return {
      schema: 'https://custody.dev/evidence-summary/v1',
      project: target.project,
      environment: target.environment,
      artifacts: target.artifacts.map((a) => ({
        ...a,
        builtBy: built.byDigest.get(a.digest) ?? [],
      })),
      baseline: baseline ? { run: baseline.run, artifacts: baseline.artifacts } : null,
      reports: reports.map((r) => ({
        id: r.id,
        run: r.run_id,
        stage: r.stage,
        format: r.format,
        path: r.path,
        digest: r.digest,
        figures: JSON.parse(r.figures) as Record<string, unknown>,
      })),
      tests: await this.tests(db, reports),
      coverage: await this.coverage(reports, baseReports),
      findings: await this.findings(db, reports, baseReports, waivers, target.environment),
      sbom: await this.sbom(db, reports),
      attestations: await this.attestationsOf(db, target.project, target.artifacts, built.byDigest),
    };
  }

  private async attestationsOf(
    db: AnyDb | AnyTx,
    project: string,
    artifacts: readonly { digest: string }[],
    builtBy: Map<string, string[]>,
  ): Promise<EvidenceSummary['attestations']> {
    if (!this.deps.attestations || artifacts.length === 0) return [];
    const found = await this.deps.attestations.ofDigests(
      db,
      project,
      artifacts.map((a) => a.digest),
    );
    return found.filter((a) => builtBy.get(a.digest)?.includes(a.run));
  }

  // Evidence follows the digest: the runs that built each artifact (only the deploying run when
  // it built it itself, since a rebuild elsewhere is another build). No artifacts: the run's own.
  private async buildRuns(
    db: AnyDb | AnyTx,
    project: string,
    run: string,
    artifacts: readonly { digest: string }[],
  ): Promise<{ runs: string[]; byDigest: Map<string, string[]> }> {
    if (artifacts.length === 0) return { runs: [run], byDigest: new Map() };
    const origins = await this.deps.executions.artifactOrigins(
      db,
      project,
      artifacts.map((a) => a.digest),
    );
    const byDigest = new Map<string, string[]>();
    for (const o of origins) {
      const list = byDigest.get(o.digest) ?? [];
      if (!list.includes(o.runId)) list.push(o.runId);
      byDigest.set(o.digest, list);
    }
    for (const [digest, list] of byDigest) if (list.includes(run)) byDigest.set(digest, [run]);
    return { runs: [...new Set([...byDigest.values()].flat())], byDigest };
  }

  // Build-side reports only: what a deploy stage's own steps recorded is not the build's.
  private async buildReports(db: AnyDb | AnyTx, runs: readonly string[]): Promise<ReportRow[]> {
    return (await this.deps.store.reportsOfRuns(db, runs)).filter((r) => r.environment === null);
  }

  // The release now in the environment, and the runs that built its artifacts.
  private async baseline(
    db: AnyDb | AnyTx,
    project: string,
    environment: string,
    exceptRun: string,
  ): Promise<{
    run: string;
    runs: string[];
    artifacts: { name: string; digest: string }[];
  } | null> {
    const release = (await this.deps.executions.releases(db, project, environment)).find(
      (r) => r.runId !== exceptRun,
    );
    if (!release) return null;
    const artifacts = await this.deps.executions.artifacts(db, release.runId);
    const built = await this.buildRuns(db, project, release.runId, artifacts);
    return { run: release.runId, runs: built.runs, artifacts };
  }

  private async tests(db: AnyDb | AnyTx, reports: ReportRow[]): Promise<EvidenceSummary['tests']> {
    const junit = reports.filter((r) => r.format === 'junit');
    const sum = { tests: 0, passed: 0, failures: 0, errors: 0, skipped: 0, flaky: 0 };
    for (const r of junit) {
      const f = JSON.parse(r.figures) as Record<string, number>;
      for (const key of Object.keys(sum) as (keyof typeof sum)[]) sum[key] += Number(f[key] ?? 0);
    }
    const failed = await this.deps.store.testCases(
      db,
      junit.map((r) => r.id),
      ['failed', 'error'],
    );
    return {
      reports: junit.length,
      ...sum,
      failed: failed.slice(0, maxFailedListed).map((c) => ({
        name: c.name,
        className: c.class_name,
        file: c.file,
        outcome: c.outcome,
        message: c.message,
      })),
    };
  }

  private coverage(reports: ReportRow[], base: ReportRow[]): EvidenceSummary['coverage'] {
    const total = (rows: ReportRow[]) => {
      const t = { lines: { found: 0, hit: 0 }, branches: { found: 0, hit: 0 }, reports: 0 };
      for (const r of rows) {
        if (r.format !== 'lcov' && r.format !== 'cobertura') continue;
        const f = JSON.parse(r.figures) as {
          lines: { found: number; hit: number };
          branches: { found: number; hit: number };
        };
        t.reports++;
        t.lines.found += f.lines.found;
        t.lines.hit += f.lines.hit;
        t.branches.found += f.branches.found;
        t.branches.hit += f.branches.hit;
      }
      return t;
    };
    const now = total(reports);
    const before = total(base);
    const linesPercent = percent(now.lines.hit, now.lines.found);
    const baselineLinesPercent = before.reports
      ? percent(before.lines.hit, before.lines.found)
      : null;
    return {
      reports: now.reports,
      lines: { ...now.lines, percent: linesPercent },
      branches: { ...now.branches, percent: percent(now.branches.hit, now.branches.found) },
      baselineLinesPercent,
      drop:
        linesPercent !== null && baselineLinesPercent !== null
          ? Math.round((baselineLinesPercent - linesPercent) * 100) / 100
          : null,
    };
  }

  private async findings(
    db: AnyDb | AnyTx,
    reports: ReportRow[],
    base: ReportRow[],
    waivers: WaiverRow[],
    environment: string | null,
  ): Promise<EvidenceSummary['findings']> {
    const rows = await this.deps.store.findings(
      db,
      reports.map((r) => r.id),
    );
    const baseRows: FindingRow[] = await this.deps.store.findings(
      db,
      base.map((r) => r.id),
    );
    const status = findingStatus(rows, baseRows, waivers, environment);
    return { ...status, items: status.items.slice(0, maxFindingsListed) };
  }

  private async sbom(db: AnyDb | AnyTx, reports: ReportRow[]): Promise<EvidenceSummary['sbom']> {
    const sboms = reports.filter((r) => r.format === 'cyclonedx' || r.format === 'spdx');
    const components = await this.deps.store.components(
      db,
      sboms.map((r) => r.id),
    );
    const byLicense: Record<string, string[]> = {};
    for (const c of components)
      for (const l of JSON.parse(c.licenses) as string[]) {
        const list = (byLicense[l] ??= []);
        const label = c.purl ?? (c.version ? `${c.name}@${c.version}` : c.name);
        if (!list.includes(label)) list.push(label);
      }
    return {
      reports: sboms.length,
      components: components.length,
      licenses: Object.keys(byLicense).sort(),
      componentsByLicense: byLicense,
    };
  }
}
