// Building a change dossier (every section collected from the database, the ledger entries
// with their inclusion proofs, index.html, the signed zip) for a production change with 20
// evidence files, p50 over N builds, against a baseline measured in the same run: zipping and
// hashing the very same bytes alone (what packing costs without collecting anything).
// Target: ≤ 500 ms p50.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { entriesFileBytes, proofsFileBytes, zipFiles } from '@custody/ledger';
import {
  DossierScenario,
  junitReports,
} from '../../packages/server/src/platform/testing/change-scenario.ts';

const BUILDS = Number(process.env.BENCH_DOSSIER_BUILDS ?? 30);
const EVIDENCE = 20;

const s = await DossierScenario.start('sqlite', { evidenceFiles: EVIDENCE });
try {
  const deployment = await s.normalChange(
    'f00df00df00df00df00df00df00df00df00df00d',
    junitReports(EVIDENCE),
  );
  const dossiers = s.t.app.services.dossiers;
  const collected = await dossiers.collect(deployment);
  const reports = (collected.sections['evidence.json'] as { summary: { reports: unknown[] } })
    .summary.reports.length;
  if (reports !== EVIDENCE)
    throw new Error(`expected ${EVIDENCE} evidence reports in the dossier, got ${reports}`);

  const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const time = async (f: () => unknown | Promise<unknown>) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  // Warm-up (compiled statements, JIT).
  const first = await dossiers.buildOnly(deployment);
  await dossiers.buildOnly(deployment);

  const builds: number[] = [];
  for (let i = 0; i < BUILDS; i++) builds.push(await time(() => dossiers.buildOnly(deployment)));

  // Baseline: the same files (content and ledger), each hashed and written into a zip by the
  // format's own zip writer: packing alone, with nothing collected and nothing signed.
  const files = new Map<string, Uint8Array>(collected.files.map((f) => [f.path, f.bytes]));
  files.set('ledger/checkpoint', new TextEncoder().encode(collected.ledger.checkpoint));
  files.set('ledger/entries.jsonl', entriesFileBytes(collected.ledger.entries));
  files.set(
    'ledger/proofs.json',
    proofsFileBytes(
      Number(collected.ledger.checkpoint.split('\n')[1]),
      collected.ledger.entries,
      collected.ledger.proofs,
    ),
  );
  const baselines: number[] = [];
  for (let i = 0; i < BUILDS; i++)
    baselines.push(
      await time(() => {
        for (const bytes of files.values()) createHash('sha256').update(bytes).digest();
        zipFiles(files);
      }),
    );

  const build = p50(builds);
  const baseline = p50(baselines);
  console.log(
    `dossier build (${EVIDENCE} evidence files, ${collected.ledger.entries.length} ledger entries, ${collected.files.length} content files, ${first.zip.length} bytes): p50 ${build.toFixed(1)} ms over ${BUILDS} builds`,
  );
  console.log(`baseline (SHA-256 and zip of the same bytes): p50 ${baseline.toFixed(2)} ms`);
  console.log(
    `ratio build/baseline: ${(build / baseline).toFixed(1)}x; target p50 <= 500 ms: ${build <= 500 ? 'met' : 'NOT met'}`,
  );
  if (build > 500) process.exitCode = 1;
} finally {
  await s.close();
}
