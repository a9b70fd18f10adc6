import { createHash, createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { ManualClock } from '../clock.ts';
import type { DialectName } from '../db/database.ts';
import { createTestApp, type TestApp } from './test-app.ts';
import { callApi, TestRunner, type ApiResult, type LeasedJob } from './test-runner.ts';

// A change from commit to production through the real stack (API, gate, approvals, runner
// protocol, SCM webhooks, a ServiceNow ticket), for the dossier's tests and its benchmark.
// Secrets planted on the way (connector password, webhook secret, a secret-named input) must
// never come out in a dossier.

export const secrets = {
  connectorPassword: 'sn-dossier-password-4f1d',
  webhookSecret: 'gh-dossier-webhook-secret-77aa',
  inputToken: 'input-token-value-9c2e',
};
export const hostile = '<script>alert("dossier")</script>';
const repo = 'https://github.com/Codertocat/Hello-World.git';

const manifest = (snUrl: string, evidence: number, policies: boolean) => `
apiVersion: custody/v1
kind: Project
metadata: { name: shop }
${policies ? 'spec: { policies: [deploy-check] }\n' : ''}---
apiVersion: custody/v1
kind: Group
metadata: { name: releasers }
spec: { members: [user:rm1, user:rm2] }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: shop }
spec:
  type: production
  changeRecord: servicenow
  approvals: { rules: [{ name: two-releasers, group: releasers, required: 2 }] }
---
apiVersion: custody/v1
kind: ChangeConnector
metadata: { name: snow }
spec:
  type: servicenow
  baseUrl: ${snUrl}
  scope: { environments: [shop/prod] }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: shop }
spec:
  source: { repository: '${repo}', branch: master }
  inputs: [{ name: ticket }, { name: change }, { name: api_token }]
  stages:
    - name: build
      type: ci
      steps:
        - name: compile
          run: make
          artifacts: [{ name: app, path: dist/app }]
          evidence: [${Array.from({ length: evidence }, (_, i) => `{ type: junit, path: reports/junit-${i + 1}.xml }`).join(', ')}]
    - name: deploy-prod
      type: deploy
      needs: [build]
      environment: prod
      steps: [{ name: ship, run: ./deploy.sh }]
`;

// A custody.deploy policy bound to the project (allows, with a warning), for the policy section.
const deployPolicy = `
---
apiVersion: custody/v1
kind: Policy
metadata: { name: deploy-check, project: shop }
spec:
  decisionPoint: deploy
  modules:
    - name: deploy-check.rego
      source: |
        package custody.deploy

        warn contains "deploying to production" if {
          input.environment.type == "production"
        }
`;

const field = (value: string, display = value) => ({ value, display_value: display });

async function serviceNow(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'PATCH') {
      req.resume();
      req.on('end', () => send(200, { result: { sys_id: field('x') } }));
      return;
    }
    const basic = `Basic ${Buffer.from(`custody:${secrets.connectorPassword}`).toString('base64')}`;
    if (req.headers.authorization !== basic) return send(401, { status: 'failure' });
    const number = /number=(.+)$/.exec(
      new URL(req.url!, 'http://x').searchParams.get('sysparm_query') ?? '',
    )?.[1];
    return send(200, {
      result:
        number === 'CHG0040001'
          ? [
              {
                sys_id: field('sys-1'),
                number: field(number),
                state: field('-2', 'Scheduled'),
                approval: field('approved'),
                type: field('normal', 'Normal'),
              },
            ]
          : [],
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

interface Example {
  name: string;
  examples: Record<string, unknown>[];
}
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as Example[];
const example = (name: string, action?: string) =>
  structuredClone(
    examples.find((e) => e.name === name)!.examples.find((x) => !action || x.action === action)!,
  ) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** JUnit reports for the build step, as declared: reports/junit-1.xml … reports/junit-N.xml. */
export function junitReports(n: number): { path: string; type: string; content: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    path: `reports/junit-${i + 1}.xml`,
    type: 'junit',
    content: `<testsuite name="suite-${i + 1}" tests="2"><testcase name="pays-${i + 1}" classname="shop"/><testcase name="refunds-${i + 1}" classname="shop"/></testsuite>`,
  }));
}

type Job = LeasedJob & { stage: string; steps: { name: string }[] };

export class DossierScenario {
  private constructor(
    readonly t: TestApp,
    readonly clock: ManualClock,
    readonly runner: TestRunner,
    readonly tokens: Record<string, string>,
    private readonly sn: Server,
    readonly evidenceFiles: number,
  ) {}

  static async start(
    dialect: DialectName,
    options: { evidenceFiles?: number; policies?: boolean } = {},
  ): Promise<DossierScenario> {
    const sn = await serviceNow();
    const clock = new ManualClock('2026-11-24T15:00:00Z');
    const t = await createTestApp(dialect, { clock });
    const tokens: Record<string, string> = {};
    tokens.dev = await t.user('dev', ['developer@project:shop']);
    for (const n of ['rm1', 'rm2']) tokens[n] = await t.user(n, ['release-manager@project:shop']);
    tokens.auditor = await t.user('audrey', ['auditor@organization']);
    const applied = await t.applyApproved(
      manifest(sn.url, options.evidenceFiles ?? 1, options.policies ?? false) +
        (options.policies ? deployPolicy : ''),
    );
    if (applied.statusCode !== 200) throw new Error(applied.body);
    // The pipeline deploys to production: its version waits for a second person too.
    const pending = await callApi(t, 'GET', '/api/v1/approvals?state=pending');
    for (const r of pending.body.items as { id: string }[]) await t.approve(r.id);
    const must = async (p: Promise<{ status: number; body: unknown }>, status = 200) => {
      const r = await p;
      if (r.status !== status) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
      return r;
    };
    await must(
      callApi(t, 'PUT', '/api/v1/changes/connectors/snow/credentials', {
        username: 'custody',
        password: secrets.connectorPassword,
      }),
    );
    await must(
      callApi(t, 'PUT', '/api/v1/projects/shop/scm/webhook-secrets/github', {
        value: secrets.webhookSecret,
      }),
    );
    const runner = await TestRunner.register(t, 'dossier-runner', ['default']);
    return new DossierScenario(t, clock, runner, tokens, sn.server, options.evidenceFiles ?? 1);
  }

  async close(): Promise<void> {
    await this.t.close();
    await new Promise((r) => this.sn.close(r));
  }

  api(method: 'GET' | 'POST' | 'PUT', url: string, json?: unknown, token?: string) {
    return callApi(this.t, method, url, json, token);
  }

  private async ok(p: Promise<ApiResult>, status = 200): Promise<ApiResult> {
    const r = await p;
    if (r.status !== status)
      throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r;
  }

  // A reviewed pull request carrying `commit`, as GitHub would send it.
  async pullRequest(commit: string, number: number, title: string): Promise<void> {
    const post = async (event: string, payload: unknown) => {
      const body = JSON.stringify(payload);
      const res = await this.t.request({
        method: 'POST',
        url: '/api/v1/webhooks/github/shop',
        token: '',
        body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': event,
          'x-github-delivery': `d-${event}-${number}-${commit}`,
          'x-hub-signature-256': `sha256=${createHmac('sha256', secrets.webhookSecret).update(body).digest('hex')}`,
        },
      });
      if (res.statusCode !== 200) throw new Error(res.body);
    };
    const pr = example('pull_request', 'opened');
    pr.number = number;
    pr.pull_request.number = number;
    pr.pull_request.title = title;
    pr.pull_request.head.sha = commit;
    await post('pull_request', pr);
    const review = example('pull_request_review');
    review.pull_request.number = number;
    review.review.user.login = 'rm1-gh';
    review.review.state = 'approved';
    review.review.commit_id = commit;
    await post('pull_request_review', review);
  }

  async lease(stage: string): Promise<Job> {
    const job = await this.runner.lease<Job>();
    if (!job || job.stage !== stage)
      throw new Error(`expected a job of ${stage}, got ${JSON.stringify(job)}`);
    return job;
  }

  // Plays every step; the first step of a build uploads the artifact and `reports` files.
  async play(
    job: Job,
    opts: {
      artifact?: string;
      reports?: { path: string; type: string; content: string }[];
      commit?: string;
    } = {},
  ) {
    if (opts.commit)
      await this.ok(
        this.runner.report(job, 'commit', {
          commit: opts.commit,
          ranges: [
            {
              environment: 'prod',
              since: null,
              truncated: false,
              commits: [
                {
                  sha: opts.commit,
                  authorName: 'Dev',
                  authorEmail: 'dev@example.com',
                  committerName: 'Dev',
                  committerEmail: 'dev@example.com',
                  signature: 'good',
                },
              ],
            },
          ],
        }),
      );
    for (const [i] of job.steps.entries()) {
      await this.ok(this.runner.report(job, 'steps/start', { step: i }));
      if (i === 0 && opts.artifact) {
        const sha = createHash('sha256').update(opts.artifact).digest('hex');
        await this.ok(
          this.runner.report(job, 'files', {
            step: 0,
            kind: 'artifact',
            name: 'app',
            type: 'binary',
            path: 'dist/app',
            sha256: sha,
            contentBase64: Buffer.from(opts.artifact).toString('base64'),
          }),
          201,
        );
      }
      for (const r of i === 0 ? (opts.reports ?? []) : []) {
        await this.ok(
          this.runner.report(job, 'files', {
            step: 0,
            kind: 'evidence',
            name: r.path.replace(/[^a-z0-9]/gi, '-'),
            type: r.type,
            path: r.path,
            sha256: createHash('sha256').update(r.content).digest('hex'),
            contentBase64: Buffer.from(r.content).toString('base64'),
          }),
          201,
        );
      }
      await this.ok(
        this.runner.report(job, 'steps/finish', {
          step: i,
          result: 'succeeded',
          exitCode: 0,
          attempts: 1,
        }),
      );
    }
    await this.ok(this.runner.report(job, 'complete', { result: 'succeeded' }));
  }

  async approvalOf(run: string, stage: string): Promise<string> {
    const g = await this.ok(this.api('GET', `/api/v1/runs/${run}/gate`));
    const s = (g.body.stages as { stage: string; approval: { id: string } | null }[]).find(
      (x) => x.stage === stage,
    );
    if (!s?.approval) throw new Error(`no approval request for ${run}/${stage}`);
    return s.approval.id;
  }

  /** A normal change with a ServiceNow ticket, approved by rm1 and rm2: returns the deployment id. */
  async normalChange(
    commit: string,
    reports: { path: string; type: string; content: string }[] = [],
  ): Promise<string> {
    await this.pullRequest(commit, 7, `Fix checkout ${hostile}`);
    const run = (
      await this.ok(
        this.api(
          'POST',
          '/api/v1/projects/shop/pipelines/release/runs',
          { commit, inputs: { ticket: 'CHG0040001', api_token: secrets.inputToken } },
          this.tokens.dev,
        ),
        201,
      )
    ).body.id as string;
    await this.play(await this.lease('build'), { artifact: `app ${commit}`, reports, commit });
    await this.t.app.services.engine.tick();
    const approval = await this.approvalOf(run, 'deploy-prod');
    for (const who of ['rm1', 'rm2'])
      await this.ok(
        this.api(
          'POST',
          `/api/v1/deployments/approvals/${approval}/approve`,
          { comment: `ok from ${who}` },
          this.tokens[who],
        ),
      );
    await this.t.app.services.engine.tick();
    await this.play(await this.lease('deploy-prod'));
    await this.t.app.services.engine.tick();
    return `${run}/deploy-prod`;
  }

  /** Waits until the ticket system was told of the deployment's outcome (it is told after). */
  async ticketUpdated(ticket: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const found = await this.t.app.services.audit.list({
        action: 'changes.ticket.updated',
        resourceId: ticket,
        limit: 1,
      });
      if (found.length > 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`ticket ${ticket} was never updated`);
  }

  /** A normal change whose deploy job is running (its first step started, nothing finished). */
  async runningChange(
    commit: string,
  ): Promise<{ deployment: string; finish: () => Promise<void> }> {
    const run = (
      await this.ok(
        this.api(
          'POST',
          '/api/v1/projects/shop/pipelines/release/runs',
          { commit, inputs: { ticket: 'CHG0040001' } },
          this.tokens.dev,
        ),
        201,
      )
    ).body.id as string;
    await this.play(await this.lease('build'), {
      artifact: `app ${commit}`,
      commit,
      reports: junitReports(this.evidenceFiles),
    });
    await this.t.app.services.engine.tick();
    const approval = await this.approvalOf(run, 'deploy-prod');
    for (const who of ['rm1', 'rm2'])
      await this.ok(
        this.api('POST', `/api/v1/deployments/approvals/${approval}/approve`, {}, this.tokens[who]),
      );
    await this.t.app.services.engine.tick();
    const job = await this.lease('deploy-prod');
    await this.ok(this.runner.report(job, 'steps/start', { step: 0 }));
    const finish = async () => {
      await this.ok(
        this.runner.report(job, 'steps/finish', {
          step: 0,
          result: 'succeeded',
          exitCode: 0,
          attempts: 1,
        }),
      );
      await this.ok(this.runner.report(job, 'complete', { result: 'succeeded' }));
      await this.t.app.services.engine.tick();
    };
    return { deployment: `${run}/deploy-prod`, finish };
  }

  /** An emergency change requested by dev, activated by rm1 (not yet reviewed). */
  async emergencyChange(commit: string): Promise<{ deployment: string; change: string }> {
    const change = (
      await this.ok(
        this.api(
          'POST',
          '/api/v1/changes',
          {
            project: 'shop',
            environment: 'prod',
            riskClass: 'emergency',
            title: 'payments down',
            reason: `INC-9 ${hostile}`,
            commit,
          },
          this.tokens.dev,
        ),
        201,
      )
    ).body.id as string;
    await this.ok(this.api('POST', `/api/v1/changes/${change}/activate`, {}, this.tokens.rm1));
    const run = (
      await this.ok(
        this.api(
          'POST',
          '/api/v1/projects/shop/pipelines/release/runs',
          { commit, inputs: { change } },
          this.tokens.dev,
        ),
        201,
      )
    ).body.id as string;
    await this.play(await this.lease('build'), {
      artifact: `hotfix ${commit}`,
      commit,
      reports: junitReports(this.evidenceFiles),
    });
    await this.t.app.services.engine.tick();
    await this.play(await this.lease('deploy-prod'));
    await this.t.app.services.engine.tick();
    return { deployment: `${run}/deploy-prod`, change };
  }

  async review(change: string, notes: string): Promise<void> {
    await this.ok(this.api('POST', `/api/v1/changes/${change}/review`, { notes }, this.tokens.rm2));
  }
}
