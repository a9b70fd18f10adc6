import { DomainError } from '../../platform/errors.ts';
import type { EvidenceService } from '../evidence/index.ts';
import type { GateEvaluation } from './gate-evaluation.ts';

// 4. Quality gates: what the evidence of the artifacts being deployed must show. The evidence
// follows the artifacts' digests (the build that produced them), never the deploy run's steps.
export async function checkQuality(
  e: GateEvaluation,
  evidence: EvidenceService | undefined,
): Promise<void> {
  const gates = e.env.spec.qualityGates;
  if (!gates) return;
  // Fail closed: an environment that sets quality gates is never waved through for want of
  // the evidence module.
  if (!evidence) {
    e.block(
      'quality',
      'QUALITY_EVIDENCE_UNAVAILABLE',
      'the environment sets quality gates but this server reads no evidence',
      'run a server with the evidence module',
    );
    return;
  }
  try {
    const { summary, reasons, recorded } = await evidence.evaluateGates(
      e.tx,
      e.record,
      {
        project: e.run.project,
        environment: e.env.name,
        run: e.run.id,
        artifacts: e.intent.artifacts,
        at: e.at,
      },
      gates,
    );
    e.facts.evidence = summary;
    if (recorded) e.recorded = true;
    for (const r of reasons) e.block('quality', r.code, r.message, r.unblock);
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    e.block('quality', err.code, err.message, 'see the evidence of the run');
  }
}
