import type { Actor } from '../../platform/context.ts';
import type { AnyTx } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';

// The policy engine's `custody.run` decision point (policies module): refuses a run a bound
// policy denies, and records the decision in the run's transaction.
export interface RunPolicyHook {
  enforce(
    tx: AnyTx,
    record: RecordAudit,
    actor: Actor,
    request: {
      point: 'run';
      project: string;
      environments: readonly string[];
      subject: { type: string; id: string };
      at: Date;
      input: () => Promise<unknown>;
    },
  ): Promise<unknown>;
  // What the SCM webhooks told about the run's commit and its pull requests, when known.
  commitsOf?(tx: AnyTx, project: string, shas: readonly string[]): Promise<unknown[]>;
}
