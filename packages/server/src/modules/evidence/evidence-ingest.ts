import {
  EvidenceError,
  parseReport,
  type EvidenceFormat,
  type EvidenceLimits,
  type ParsedReport,
} from '@custody/evidence';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type {
  EvidenceOrigin,
  EvidencePort,
  JobEvidence,
  ParsedEvidence,
} from '../executions/index.ts';
import { evidenceErrors, type EvidenceErrorCode } from './errors.ts';
import type { KyselyEvidenceStore, ReportRow } from './evidence-store.ts';
import { detailRows } from './report-rows.ts';

// A pipeline's evidence type → what the parser is asked for (`file` is never parsed).
const formatOf: Record<string, EvidenceFormat | 'sbom' | undefined> = {
  junit: 'junit',
  lcov: 'lcov',
  cobertura: 'cobertura',
  sarif: 'sarif',
  sbom: 'sbom',
  cyclonedx: 'cyclonedx',
  spdx: 'spdx',
};

interface Parsed extends ParsedEvidence {
  readonly report: ParsedReport;
}

// Reports are parsed when a runner uploads them, with the same code as `custody evidence
// parse`; a malformed one is refused before anything is written.
export class EvidenceIngest implements EvidencePort {
  constructor(
    private readonly deps: { store: KyselyEvidenceStore; limits?: Partial<EvidenceLimits> },
  ) {}

  parse(input: { type: string; path: string; bytes: Uint8Array }): Parsed | undefined {
    const format = formatOf[input.type];
    if (!format) return undefined;
    try {
      const report = parseReport({
        bytes: input.bytes,
        fileName: input.path,
        format,
        ...(this.deps.limits ? { limits: this.deps.limits } : {}),
      });
      return { format: report.format, report };
    } catch (err) {
      if (err instanceof EvidenceError) {
        const def =
          evidenceErrors[err.code as EvidenceErrorCode] ?? evidenceErrors.EVIDENCE_MALFORMED;
        throw new DomainError(def, err.message, {
          file: err.file,
          ...(err.format ? { format: err.format } : {}),
          ...(err.line !== undefined ? { line: err.line } : {}),
          ...(err.column !== undefined ? { column: err.column } : {}),
          ...(err.pointer !== undefined ? { pointer: err.pointer } : {}),
        });
      }
      throw err;
    }
  }

  async record(
    tx: AnyTx,
    _record: RecordAudit,
    input: { parsed: ParsedEvidence; origin: EvidenceOrigin },
  ): Promise<Record<string, unknown>> {
    const { report } = input.parsed as Parsed;
    const { origin } = input;
    const id = newId('evr');
    const row: ReportRow = {
      id,
      project: origin.run.project,
      run_id: origin.run.id,
      job_id: origin.job.id,
      stage: origin.job.stage,
      environment: origin.job.environment,
      step_idx: origin.step,
      file_id: origin.file.id,
      digest: origin.file.digest,
      path: origin.file.path,
      type: origin.file.type,
      format: report.format,
      figures: JSON.stringify(report.figures),
      created_at: origin.at,
    };
    await this.deps.store.insertReport(tx, row, detailRows(id, report));
    // The upload's ledger entry carries the report's figures, so the ledger alone shows
    // what the tests and scans said.
    return { report: id, format: report.format, figures: report.figures };
  }

  async ofJob(db: AnyDb | AnyTx, jobId: string): Promise<JobEvidence> {
    const reports = await this.deps.store.reportsOfJob(db, jobId);
    const junit = reports.filter((r) => r.format === 'junit');
    const out: JobEvidence = { sboms: [] };
    if (junit.length > 0) {
      const cases = await this.deps.store.testCases(
        db,
        junit.map((r) => r.id),
      );
      const label = (c: { class_name: string | null; name: string }) =>
        c.class_name ? `${c.class_name}.${c.name}` : c.name;
      out.tests = {
        reports: junit.map((r) => ({ path: r.path, digest: r.digest })),
        passed: cases.filter((c) => c.outcome === 'passed').map(label),
        failed: cases.filter((c) => c.outcome === 'failed' || c.outcome === 'error').map(label),
        skipped: cases.filter((c) => c.outcome === 'skipped').map(label),
      };
    }
    for (const r of reports) {
      if (r.format !== 'cyclonedx' && r.format !== 'spdx') continue;
      const figures = JSON.parse(r.figures) as Record<string, unknown>;
      const encoding = figures.encoding === 'xml' ? 'xml' : 'json';
      out.sboms.push({
        path: r.path,
        digest: r.digest,
        format: r.format,
        encoding,
        specVersion: String(figures.specVersion ?? figures.spdxVersion ?? ''),
        components: Number(figures.components ?? figures.packages ?? 0),
      });
    }
    return out;
  }
}
