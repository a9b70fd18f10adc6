// Rego decision latency on a typical pipeline policy, against a hand-written
// TypeScript check of the same rules, measured in the same run.
//
// Policy: every deploy stage that targets production has approval rules, and no
// step pipes a download (curl/wget) into a shell. Input: a 50-step pipeline.
import { compile } from '@custody/rego';

const POLICY = `package pipeline.policy

deny contains msg if {
  some stage in input.stages
  stage.type == "deploy"
  stage.environment == "production"
  not has_approvals(stage)
  msg := sprintf("stage %s deploys to production without approval rules", [stage.name])
}

deny contains msg if {
  some stage in input.stages
  some step in stage.steps
  pipes_download_to_shell(step.run)
  msg := sprintf("step %s pipes a download into a shell", [step.name])
}

has_approvals(stage) if count(stage.approvals) > 0

pipes_download_to_shell(cmd) if {
  regex.match(\`(curl|wget)[^|]*\\|\\s*(ba|z)?sh\\b\`, cmd)
}

allow if count(deny) == 0
`;

interface Step {
  name: string;
  run: string;
}
interface Stage {
  name: string;
  type: string;
  environment: string;
  approvals: { group: string; min: number }[];
  steps: Step[];
}

function makeInput(): { stages: Stage[] } {
  const stages: Stage[] = [];
  let n = 0;
  for (let s = 0; s < 10; s++) {
    const steps: Step[] = [];
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
      approvals: deploy ? [{ group: 'release-managers', min: 2 }] : [],
      steps,
    });
  }
  return { stages };
}

const PIPE_RE = /(curl|wget)[^|]*\|\s*(ba|z)?sh\b/;

function handWritten(input: { stages: Stage[] }): boolean {
  const deny: string[] = [];
  for (const stage of input.stages) {
    if (
      stage.type === 'deploy' &&
      stage.environment === 'production' &&
      !(stage.approvals.length > 0)
    )
      deny.push(`stage ${stage.name} deploys to production without approval rules`);
    for (const step of stage.steps)
      if (PIPE_RE.test(step.run)) deny.push(`step ${step.name} pipes a download into a shell`);
  }
  return deny.length === 0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function measure(fn: () => unknown, rounds: number, batch: number): number {
  for (let i = 0; i < batch * 20; i++) fn();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / batch);
  }
  return median(samples);
}

const input = makeInput();
const query = compile({ modules: [{ name: 'pipeline.rego', source: POLICY }] }).query(
  'data.pipeline.policy.allow',
);

const regoResult = query.eval({ input }).results[0]?.bindings;
void regoResult;
const decision = query.eval({ input }).results.length > 0;
if (decision !== handWritten(input)) throw new Error('Rego and TypeScript disagree');
// A violating input must be denied by both.
const bad = makeInput();
(bad.stages[3] as Stage).steps[1] = {
  name: 'bootstrap',
  run: 'curl -sSL https://example.com/install.sh | bash',
};
if (query.eval({ input: bad }).results.length !== 0 || handWritten(bad))
  throw new Error('violation not detected');

const steps = input.stages.reduce((n, s) => n + s.steps.length, 0);
const regoUs = measure(() => query.eval({ input }), 60, 200);
const tsUs = measure(() => handWritten(input), 30, 2000);
console.log(`rego pipeline policy (${steps} steps): median ${regoUs.toFixed(1)} µs/decision`);
console.log(`hand-written TypeScript:             median ${tsUs.toFixed(2)} µs/decision`);
console.log(`ratio rego/typescript: ${(regoUs / tsUs).toFixed(0)}x`);
console.log(`target median ≤ 10 µs: ${regoUs <= 10 ? 'met' : 'NOT met'}`);
