import { readFileSync } from 'node:fs';
const src = readFileSync('/work/main/bench/rego/index.ts', 'utf8');
const policy = /const POLICY = `([\s\S]*?)`;/
  .exec(src)![1]!
  .replace(/\\\\/g, '\\')
  .replace(/\\`/g, '`');
import { compile } from '../../packages/rego/src/index.ts';
const stages: unknown[] = [];
let n = 0;
for (let s = 0; s < 10; s++) {
  const steps = [];
  for (let i = 0; i < 5; i++, n++)
    steps.push({
      name: `step-${n}`,
      run: i === 2 ? `npm ci && npm test -- --shard=${n}` : `make target-${n}`,
    });
  const deploy = s >= 7;
  stages.push({
    name: `stage-${s}`,
    type: deploy ? 'deploy' : 'build',
    environment: deploy ? (s === 9 ? 'production' : 'staging') : 'none',
    approvals: deploy ? [{ group: 'rm', min: 2 }] : [],
    steps,
  });
}
const input = { stages };
const q = compile({ modules: [{ name: 'p.rego', source: policy }] }).query(
  'data.pipeline.policy.allow',
);
console.log(q.eval({ input }).results.length);
const t0 = performance.now();
for (let i = 0; i < 300000; i++) q.eval({ input });
console.log(((performance.now() - t0) * 1000) / 300000, 'us');
