import { createHash } from 'node:crypto';
import {
  packDossier,
  readDossier,
  type DossierFile,
  type DossierLedgerSection,
  type DsseSigner,
} from '@custody/ledger';
import type { DeploymentRecord } from '../executions/index.ts';
import { collectChange } from './collect-change.ts';
import { collectCode } from './collect-code.ts';
import { collectLedger } from './collect-ledger.ts';
import { collectRun } from './collect-run.ts';
import { renderIndexHtml } from './dossier-html.ts';
import { isNotCollected, subjectOf, type DossierSources } from './dossier-sources.ts';
import { scrub } from './secret-scrub.ts';

export interface BuiltDossier {
  readonly zip: Uint8Array;
  readonly manifestSha256: string;
  readonly final: boolean;
  readonly entries: number;
}

export interface CollectedDossier {
  readonly files: DossierFile[];
  readonly ledger: DossierLedgerSection;
  readonly final: boolean;
  // The content of each JSON section as written (tests read it back).
  readonly sections: Record<string, unknown>;
}

const encoder = new TextEncoder();

/** How long after a deployment finished its dossier becomes final. */
export const settleMs = 30_000;

// Collects every section of a deployment's dossier, renders index.html and packs it.
export class DossierBuilder {
  constructor(private readonly deps: { sources: DossierSources; signer: () => DsseSigner }) {}

  async collect(d: DeploymentRecord, builtBy: string): Promise<CollectedDossier> {
    const src = this.deps.sources;
    const subject = subjectOf(d);
    const [change, code, run, stages] = await Promise.all([
      collectChange(src, subject),
      collectCode(src, subject),
      collectRun(src, subject),
      src.executions.stages(src.database.db, d.runId),
    ]);
    const ledger = await collectLedger(src, subject, {
      ticket: subject.ticket ?? null,
      stages: stages.map((s) => s.name),
      change: change.refs.change?.id ?? null,
      approvals: change.refs.approvals,
      policyDecisions: change.refs.policyDecisions,
      attestations: run.refs.attestations,
      originRuns: run.refs.originRuns,
      resources: code.refs.resources,
    });
    // A dossier is final once the deployment finished (and settled: the ticket system is told
    // of the outcome just after) and, for an emergency change, its post-implementation review
    // is done; until then it is rebuilt on every request.
    const review = change.refs.change?.riskClass === 'emergency' ? change.refs.change.review : null;
    const final =
      d.finishedAt !== null &&
      Date.parse(d.finishedAt) + settleMs <= src.clock.now().getTime() &&
      (!review || review.status === 'done');
    const raw: Record<string, unknown> = {
      'change.json': change.change,
      'commits.json': code.commits,
      'pipeline.json': code.pipeline,
      'environment.json': code.environment,
      'gate-decisions.json': change.gateDecisions,
      'policy-decisions.json': change.policyDecisions,
      'approvals.json': change.approvals,
      'evidence.json': run.evidence,
      'attestations/index.json': run.attestations.index,
      'run.json': run.run,
    };
    const sections: Record<string, unknown> = {};
    const redacted: Record<string, string[]> = {};
    for (const [path, value] of Object.entries(raw)) {
      const s = scrub(value);
      sections[path] = s.value;
      if (s.redacted.length > 0) redacted[path] = s.redacted;
    }
    const builtAt = src.clock.now().toISOString();
    const meta = {
      format: 'https://custody.dev/dossier/v1',
      deployment: d.id,
      project: d.project,
      environment: d.environment,
      state: d.state,
      final,
      builtAt,
      builtBy,
      sections: Object.fromEntries(
        Object.entries(sections).map(([p, v]) => [
          p,
          isNotCollected(v) ? { collected: false, reason: v.reason } : { collected: true },
        ]),
      ),
      redacted,
      ledger: { checkpointSize: ledger.checkpoint.size, entries: ledger.entries.length },
    };
    const json = (v: unknown) => encoder.encode(`${JSON.stringify(v, null, 2)}\n`);
    const files: DossierFile[] = [{ path: 'dossier.json', bytes: json(meta) }];
    for (const [path, value] of Object.entries(sections)) files.push({ path, bytes: json(value) });
    if (code.pipelineYaml !== undefined && !isNotCollected(sections['pipeline.json'])) {
      const yaml = redacted['pipeline.json']
        ? '# not included: the pipeline document had values redacted (see dossier.json)\n'
        : code.pipelineYaml;
      files.push({ path: 'pipeline.yaml', bytes: encoder.encode(yaml) });
    }
    for (const b of run.attestations.bundles)
      files.push({ path: b.path, bytes: encoder.encode(b.text) });
    files.push({
      path: 'index.html',
      bytes: encoder.encode(
        renderIndexHtml({
          meta,
          sections,
          ledger: {
            checkpoint: ledger.checkpoint.note,
            size: ledger.checkpoint.size,
            entries: ledger.entries,
          },
        }),
      ),
    });
    return {
      files,
      final,
      sections: { ...sections, 'dossier.json': meta },
      ledger: { checkpoint: ledger.checkpoint.note, entries: ledger.leaves, proofs: ledger.proofs },
    };
  }

  async build(
    d: DeploymentRecord,
    builtBy: string,
  ): Promise<BuiltDossier & { collected: CollectedDossier }> {
    const collected = await this.collect(d, builtBy);
    const builtAt = (
      JSON.parse(new TextDecoder().decode(collected.files[0]!.bytes)) as { builtAt: string }
    ).builtAt;
    const zip = packDossier({
      files: collected.files,
      ledger: collected.ledger,
      signer: this.deps.signer(),
      subject: d.id,
      createdAt: builtAt,
    });
    const manifest = readDossier(zip).get('manifest.json');
    if (!manifest) throw new Error('the packed dossier has no manifest.json');
    return {
      zip,
      manifestSha256: createHash('sha256').update(manifest).digest('hex'),
      final: collected.final,
      entries: collected.ledger.entries.length,
      collected,
    };
  }
}
