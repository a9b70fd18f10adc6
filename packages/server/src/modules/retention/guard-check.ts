import type { Database } from '../../platform/db/database.ts';
import type { KyselyRetentionStore } from './retention-store.ts';

// The triggers the retention migration installs, by dialect. A superuser (or the tables'
// owner) can drop or disable them; this is how that is noticed: the fixity check records the
// result, and the controls catalog can ask for it.
const guarded = [
  'runs',
  'run_stages',
  'log_chunks',
  'run_files',
  'evidence_reports',
  'evidence_test_cases',
  'evidence_coverage_files',
  'evidence_findings',
  'evidence_components',
  'evidence_waivers',
  'evidence_documents',
  'policy_decisions',
];
const own = [
  'retention_periods',
  'retention_holds',
  'retention_hold_runs',
  'retention_hold_events',
];

export function expectedTriggers(dialect: 'sqlite' | 'postgres'): string[] {
  const names =
    dialect === 'sqlite'
      ? [
          ...guarded.flatMap((t) =>
            ['retained', 'held', 'immutable', 'no_replace'].map((s) => `retention_${t}_${s}`),
          ),
          'retention_blobs_in_use',
          'retention_blobs_immutable',
          'retention_blobs_no_replace',
          ...own.flatMap((t) => [`${t}_no_update`, `${t}_no_delete`]),
        ]
      : [
          ...[...guarded, 'blobs'].flatMap((t) => [
            `retention_${t}_guard`,
            `retention_${t}_no_truncate`,
          ]),
          ...own.flatMap((t) => [`${t}_append_only`, `${t}_no_truncate`]),
        ];
  return names.sort();
}

export interface GuardState {
  intact: boolean;
  // Expected triggers the database does not have, or has disabled.
  missing: string[];
}

export async function checkGuards(
  database: Database,
  store: KyselyRetentionStore,
): Promise<GuardState> {
  const present = new Set(await store.enforcedTriggers(database.db, database.dialect));
  const missing = expectedTriggers(database.dialect).filter((n) => !present.has(n));
  return { intact: missing.length === 0, missing };
}
