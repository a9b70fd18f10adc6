import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { callApi, TestRunner } from '../../platform/testing/test-runner.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const manifest = `
apiVersion: custody/v1
kind: Project
metadata: { name: shop }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: shop }
spec: { type: pre-production }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: shop }
spec:
  type: production
  approvals: { expiresAfter: 30d }
  qualityGates:
    tests: { required: true, maxFailures: 0, minTests: 1 }
    findings: { maxNew: { critical: 0, high: 0 } }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: shop }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: build
      type: ci
      steps:
        - name: test
          run: ./gradlew test
          evidence: [{ type: junit, path: build/test-results/TEST-shop.xml }]
        - name: scan
          run: semgrep --sarif > scan.sarif
          evidence: [{ type: sarif, path: scan.sarif }]
        - name: package
          run: ./package.sh
          artifacts: [{ name: app, path: dist/app.tgz }]
    - name: deploy-qa
      type: deploy
      environment: qa
      needs: [build]
      steps:
        - name: deploy
          run: ./deploy.sh qa && ./smoke.sh
          evidence: [{ type: junit, path: smoke.xml }]
    - name: deploy-prod
      type: deploy
      environment: prod
      needs: [deploy-qa]
      steps: [{ name: deploy, run: ./deploy.sh prod }]
`;

// Gradle's shape: one failing case among passing ones, and the step still exits 0.
const junit = (failing: boolean) => `<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="shop.CartTest" tests="3" skipped="0" failures="0" errors="0" timestamp="2026-12-01T10:00:00" hostname="ci" time="0.42">
  <properties/>
  <testcase name="addsItem" classname="shop.CartTest" time="0.1"/>
  <testcase name="removesItem" classname="shop.CartTest" time="0.1"/>
  <testcase name="appliesDiscount" classname="shop.CartTest" time="0.2">${
    failing
      ? `
    <failure message="expected: &lt;90&gt; but was: &lt;100&gt;" type="org.opentest4j.AssertionFailedError">at shop.CartTest.appliesDiscount(CartTest.java:42)</failure>`
      : ''
  }
  </testcase>
  <system-out><![CDATA[]]></system-out>
</testsuite>
`;

const sarif = (results: object[]) =>
  JSON.stringify({
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    runs: [
      {
        tool: {
          driver: {
            name: 'Semgrep OSS',
            rules: [
              {
                id: 'python.sqli',
                shortDescription: { text: 'SQL injection' },
                defaultConfiguration: { level: 'error' },
                properties: { 'security-severity': '8.1' },
              },
            ],
          },
        },
        results,
      },
    ],
  });
const sqli = {
  ruleId: 'python.sqli',
  message: { text: 'User input reaches a SQL query' },
  locations: [
    {
      physicalLocation: {
        artifactLocation: { uri: 'src/shop/orders.py' },
        region: {
          startLine: 17,
          snippet: { text: 'cur.execute("SELECT * FROM o WHERE id=" + id)' },
        },
      },
    },
  ],
};

interface Job {
  jobId: string;
  leaseId: string;
  stage: string;
  steps: { name: string }[];
}
interface Reason {
  check: string;
  code: string;
  message: string;
  blocking: boolean;
}

for (const dialect of dialects) {
  describe(`evidence and quality gates: the story [${dialect}]`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let runner: TestRunner;
    let dev: string;
    let rita: string;
    let bot: string;

    const api = (method: 'GET' | 'POST', url: string, json?: unknown, token?: string) =>
      callApi(t, method, url, json, token);
    const upload = (job: Job, step: number, type: string, path: string, content: string) =>
      runner.report(job, 'files', {
        step,
        kind: type === 'artifact' ? 'artifact' : 'evidence',
        name: type === 'artifact' ? 'app' : type,
        type: type === 'artifact' ? 'file' : type,
        path,
        sha256: sha(content),
        contentBase64: Buffer.from(content).toString('base64'),
      });
    const step = async (job: Job, i: number, files: () => Promise<void> = async () => {}) => {
      expect((await runner.report(job, 'steps/start', { step: i })).status).toBe(200);
      await files();
      const done = await runner.report(job, 'steps/finish', {
        step: i,
        result: 'succeeded',
        exitCode: 0,
        attempts: 1,
      });
      expect(done.status, JSON.stringify(done.body)).toBe(200);
    };
    const complete = async (job: Job) =>
      expect((await runner.report(job, 'complete', { result: 'succeeded' })).status).toBe(200);
    const tick = () => t.app.services.engine.tick();

    // Build (tests, scan, package) and deploy to QA; returns the run id, its prod stage waiting.
    async function buildAndQa(tests: string, scan: string, artifact: string): Promise<string> {
      clock.advance(60_000);
      const res = await api('POST', '/api/v1/projects/shop/pipelines/release/runs', {}, dev);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const runId = res.body.id as string;
      const build = (await runner.lease<Job>())!;
      expect(build.stage).toBe('build');
      await step(build, 0, async () => {
        const up = await upload(build, 0, 'junit', 'build/test-results/TEST-shop.xml', tests);
        expect(up.status, JSON.stringify(up.body)).toBe(201);
      });
      await step(build, 1, async () => {
        const up = await upload(build, 1, 'sarif', 'scan.sarif', scan);
        expect(up.status, JSON.stringify(up.body)).toBe(201);
      });
      await step(build, 2, async () => {
        expect((await upload(build, 2, 'artifact', 'dist/app.tgz', artifact)).status).toBe(201);
      });
      await complete(build);
      await tick();
      const qa = (await runner.lease<Job>())!;
      expect(qa.stage).toBe('deploy-qa');
      // A deploy stage's own reports are not the build's: a passing smoke test in QA never
      // masks what the build's tests said.
      await step(qa, 0, async () => {
        const up = await upload(qa, 0, 'junit', 'smoke.xml', junit(false));
        expect(up.status, JSON.stringify(up.body)).toBe(201);
      });
      await complete(qa);
      await tick();
      await tick();
      return runId;
    }
    const prodGate = async (runId: string) => {
      const stages = (await api('GET', `/api/v1/runs/${runId}/gate`)).body.stages as {
        stage: string;
        decision: { reasons: Reason[] } | null;
      }[];
      const reasons = stages.find((s) => s.stage === 'deploy-prod')!.decision?.reasons ?? [];
      return reasons.filter((r) => r.blocking);
    };

    beforeAll(async () => {
      clock = new ManualClock('2026-12-01T09:00:00Z');
      t = await createTestApp(dialect, { clock });
      dev = await t.user('dana', ['developer@project:shop']);
      rita = await t.user('rita', ['release-manager@project:shop']);
      bot = await t.user('ci-bot', ['release-manager@project:shop'], 'service_account');
      expect((await t.applyApproved(manifest)).statusCode).toBe(200);
      // The pipeline deploys to production: its first run opens the version's approval,
      // which a second administrator gives.
      const first = await callApi(
        t,
        'POST',
        '/api/v1/projects/shop/pipelines/release/runs',
        {},
        dev,
      );
      expect(first.body.error?.code).toBe('EXECUTIONS_VERSION_NOT_APPROVED');
      await t.approve(first.body.error.details.approval as string);
      runner = await TestRunner.register(t);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('a report that is not what its step declared is refused, and nothing is written', async () => {
      const res = await api('POST', '/api/v1/projects/shop/pipelines/release/runs', {}, dev);
      const runId = res.body.id as string;
      const build = (await runner.lease<Job>())!;
      expect((await runner.report(build, 'steps/start', { step: 0 })).status).toBe(200);
      const notXml = await upload(
        build,
        0,
        'junit',
        'build/test-results/TEST-shop.xml',
        'this is not junit',
      );
      expect(notXml.status).toBe(400);
      expect(notXml.body.error.code).toBe('EVIDENCE_MALFORMED');
      expect(notXml.body.error.message).toContain('build/test-results/TEST-shop.xml');
      const sarifAsJunit = await upload(
        build,
        0,
        'junit',
        'build/test-results/TEST-shop.xml',
        sarif([]),
      );
      expect(sarifAsJunit.body.error.code).toMatch(/^EVIDENCE_(WRONG_FORMAT|MALFORMED)$/);
      const xxe = await upload(
        build,
        0,
        'junit',
        'build/test-results/TEST-shop.xml',
        '<?xml version="1.0"?>\n<!DOCTYPE t [ <!ENTITY x SYSTEM "file:///etc/passwd"> ]>\n<testsuite><testcase name="&x;"/></testsuite>',
      );
      expect(xxe.status).toBe(400);
      expect(xxe.body.error.code).toBe('EVIDENCE_XML_DTD_REFUSED');
      expect(JSON.stringify(xxe.body)).not.toContain('root:');
      // The step cannot succeed without the report it declares.
      const finish = await runner.report(build, 'steps/finish', {
        step: 0,
        result: 'succeeded',
        exitCode: 0,
        attempts: 1,
      });
      expect(finish.status).toBe(409);
      expect(finish.body.error.code).toBe('EXECUTIONS_EVIDENCE_MISSING');
      const detail = (await api('GET', `/api/v1/runs/${runId}`)).body as {
        stages: { jobs: { steps: { state: string }[] }[] }[];
      };
      expect(detail.stages[0]!.jobs[0]!.steps[0]!.state).toBe('running');
      expect((await api('GET', `/api/v1/runs/${runId}/evidence`)).body.items).toEqual([]);
      const denied = await t.app.services.audit.list({
        action: 'executions.evidence.recorded',
        outcome: 'denied',
        limit: 10,
      });
      expect(denied.map((e) => e.details.code)).toContain('EVIDENCE_MALFORMED');
      await runner.report(build, 'steps/finish', {
        step: 0,
        result: 'failed',
        exitCode: 1,
        attempts: 1,
      });
      await runner.report(build, 'complete', { result: 'failed', reason: 'EVIDENCE_MALFORMED' });
      await tick();
      expect((await api('GET', `/api/v1/runs/${runId}`)).body.state).toBe('failed');
    });

    let second = '';
    let fingerprint = '';
    let waiver = '';

    it('a build whose JUnit has a failure (exit code 0) passes QA and is blocked at prod by qualityGates.tests', async () => {
      const runId = await buildAndQa(junit(true), sarif([]), 'app v1');
      const tests = (await api('GET', `/api/v1/runs/${runId}/tests`, undefined, dev)).body;
      expect(tests.totals).toMatchObject({ tests: 6, passed: 5, failures: 1, errors: 0 });
      expect(tests.failed[0]).toMatchObject({
        name: 'appliesDiscount',
        className: 'shop.CartTest',
      });
      const blocking = await prodGate(runId);
      const quality = blocking.find((r) => r.code === 'QUALITY_TESTS_FAILED');
      expect(quality?.check).toBe('quality');
      expect(quality?.message).toContain('shop.CartTest.appliesDiscount');
      expect(quality?.message).toContain('qualityGates.tests.maxFailures');
      const stage = (await api('GET', `/api/v1/runs/${runId}`)).body.stages as {
        name: string;
        state: string;
      }[];
      expect(stage.find((s) => s.name === 'deploy-prod')!.state).toBe('blocked');
      expect(stage.find((s) => s.name === 'deploy-qa')!.state).toBe('succeeded');
      // The run recorded both the failing build report and the passing QA smoke report.
      const reports = (await api('GET', `/api/v1/runs/${runId}/evidence`, undefined, dev)).body
        .items as { stage: string }[];
      expect(reports.map((r) => r.stage).sort()).toEqual(['build', 'build', 'deploy-qa']);
      await api('POST', `/api/v1/runs/${runId}/cancel`, {}, dev);
      await tick();
    });

    it('a new high SARIF finding blocks, named with its rule and location', async () => {
      second = await buildAndQa(junit(false), sarif([sqli]), 'app v2');
      const blocking = await prodGate(second);
      expect(blocking.map((r) => r.code)).toContain('QUALITY_FINDINGS_NEW');
      const f = blocking.find((r) => r.code === 'QUALITY_FINDINGS_NEW')!;
      expect(f.message).toContain('python.sqli');
      expect(f.message).toContain('src/shop/orders.py:17');
      expect(blocking.map((r) => r.code)).not.toContain('QUALITY_TESTS_FAILED');
      const findings = (
        await api(
          'GET',
          '/api/v1/projects/shop/environments/prod/findings?status=new',
          undefined,
          dev,
        )
      ).body;
      expect(findings.run).toBe(second);
      expect(findings.counts.new.high).toBe(1);
      expect(findings.items).toHaveLength(1);
      expect(findings.items[0]).toMatchObject({
        ruleId: 'python.sqli',
        severity: 'high',
        status: 'new',
        waiver: null,
      });
      fingerprint = findings.items[0].fingerprint as string;
    });

    it('a waiver by the same person does not unblock; service accounts cannot request or approve', async () => {
      const req = await api(
        'POST',
        '/api/v1/waivers',
        {
          project: 'shop',
          environment: 'prod',
          fingerprint,
          reason: 'parameterised in the ORM layer',
          expiresIn: '2d',
        },
        dev,
      );
      expect(req.status, JSON.stringify(req.body)).toBe(201);
      waiver = req.body.id as string;
      expect(req.body.state).toBe('pending');
      // The requester (a developer holding no approve permission) and a release manager who
      // requested their own waiver are both refused.
      expect((await api('POST', `/api/v1/waivers/${waiver}/approve`, {}, dev)).status).toBe(403);
      const own = await api(
        'POST',
        '/api/v1/waivers',
        { project: 'shop', rule: 'python.sqli', reason: 'mine', expiresIn: '1d' },
        rita,
      );
      const self = await api('POST', `/api/v1/waivers/${own.body.id}/approve`, {}, rita);
      expect(self.status).toBe(403);
      expect(self.body.error.code).toBe('EVIDENCE_WAIVER_SELF_APPROVAL_FORBIDDEN');
      const byBot = await api(
        'POST',
        '/api/v1/waivers',
        { project: 'shop', fingerprint, reason: 'bot', expiresIn: '1d' },
        bot,
      );
      expect(byBot.body.error.code).toBe('EVIDENCE_WAIVER_SERVICE_ACCOUNT_FORBIDDEN');
      const botApproves = await api('POST', `/api/v1/waivers/${waiver}/approve`, {}, bot);
      expect(botApproves.body.error.code).toBe('EVIDENCE_WAIVER_SERVICE_ACCOUNT_FORBIDDEN');
      const tooLong = await api(
        'POST',
        '/api/v1/waivers',
        { project: 'shop', fingerprint, reason: 'forever', expiresIn: '91d' },
        dev,
      );
      expect(tooLong.body.error.code).toBe('EVIDENCE_WAIVER_INVALID');
      await tick();
      expect((await prodGate(second)).map((r) => r.code)).toContain('QUALITY_FINDINGS_NEW');
      const denied = await t.app.services.audit.list({ outcome: 'denied', limit: 1000 });
      const waiverDenials = denied.filter((e) => e.action.startsWith('evidence.waiver.'));
      expect(waiverDenials.map((e) => e.details.code)).toEqual(
        expect.arrayContaining([
          'EVIDENCE_WAIVER_SELF_APPROVAL_FORBIDDEN',
          'EVIDENCE_WAIVER_SERVICE_ACCOUNT_FORBIDDEN',
        ]),
      );
    });

    it('a waiver approved by a second person unblocks the quality gate', async () => {
      const ok = await api(
        'POST',
        `/api/v1/waivers/${waiver}/approve`,
        { comment: 'checked the ORM' },
        rita,
      );
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.body).toMatchObject({
        state: 'approved',
        decidedBy: 'user:rita',
        requestedBy: 'user:dana',
      });
      // Replayed: decided once only.
      const again = await api('POST', `/api/v1/waivers/${waiver}/reject`, {}, rita);
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('EVIDENCE_WAIVER_NOT_PENDING');
      const replays = await t.app.services.audit.list({
        action: 'evidence.waiver.rejected',
        outcome: 'denied',
        limit: 10,
      });
      expect(replays.map((e) => e.details.code)).toContain('EVIDENCE_WAIVER_NOT_PENDING');
      await tick();
      const blocking = await prodGate(second);
      expect(blocking.filter((r) => r.check === 'quality')).toEqual([]);
      // What still holds it is the production four-eyes approval, not the finding.
      expect(blocking.map((r) => r.code)).toContain('APPROVAL_REQUIRED');
      const findings = (
        await api('GET', `/api/v1/projects/shop/environments/prod/findings`, undefined, dev)
      ).body;
      expect(findings.items[0].waiver).toBe(waiver);
      expect(findings.counts.waived).toBe(1);
    });

    it("the waiver's expiry re-blocks, and every waiver event is in the ledger", async () => {
      clock.advance(2 * 86_400_000 + 1000);
      await tick();
      expect((await prodGate(second)).map((r) => r.code)).toContain('QUALITY_FINDINGS_NEW');
      // Two days on, the test's tokens have lapsed: a fresh one for the developer.
      const later = await t.tokenFor('dana');
      const res = await api('GET', '/api/v1/waivers?project=shop', undefined, later);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const listed = res.body.items as {
        id: string;
        state: string;
      }[];
      expect(listed.find((w) => w.id === waiver)?.state).toBe('expired');
      const actions = (await t.app.services.audit.list({ limit: 10_000 }))
        .filter((e) => e.resource.id === waiver)
        .map((e) => `${e.action}:${e.outcome}`);
      expect(actions).toEqual(
        expect.arrayContaining([
          'evidence.waiver.requested:succeeded',
          'evidence.waiver.approved:succeeded',
          'evidence.waiver.expired:succeeded',
        ]),
      );
    });
  });
}
