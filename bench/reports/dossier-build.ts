// Building a change dossier (every section collected from the database, the ledger entries
// with their inclusion proofs, index.html, the signed zip) for a production change with 20
// evidence files, p50 over N builds, against a baseline measured in the same run: zipping and
// hashing the very same bytes alone (what packing costs without collecting anything).
// Target: ≤ 500 ms p50.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { zipSync } from 'fflate';
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

  // Baseline: the same content files and ledger lines, zipped and each hashed, nothing collected.
  const files: Record<string, Uint8Array> = {};
  for (const f of collected.files) files[f.path] = f.bytes;
  files['ledger/entries.jsonl'] = new TextEncoder().encode(
    collected.ledger.entries.map((e) => new TextDecoder().decode(e.leaf)).join('\n'),
  );
  const baselines: number[] = [];
  for (let i = 0; i < BUILDS; i++)
    baselines.push(
      await time(() => {
        for (const bytes of Object.values(files)) createHash('sha256').update(bytes).digest();
        zipSync(files, { level: 6, mtime: new Date('1980-01-01T00:00:00Z') });
      }),
    );

  const build = p50(builds);
  const baseline = p50(baselines);
  console.log(
    `dossier build (${EVIDENCE} evidence files, ${collected.ledger.entries.length} ledger entries, ${collected.files.length} content files, ${first.zip.length} bytes): p50 ${build.toFixed(1)} ms over ${BUILDS} builds`,
  );
  console.log(`baseline (zip + SHA-256 of the same bytes): p50 ${baseline.toFixed(2)} ms`);
  console.log(
    `ratio build/baseline: ${(build / baseline).toFixed(1)}x; target p50 <= 500 ms: ${build <= 500 ? 'met' : 'NOT met'}`,
  );
  if (build > 500) process.exitCode = 1;
} finally {
  await s.close();
}
