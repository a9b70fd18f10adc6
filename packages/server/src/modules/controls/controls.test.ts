import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { checkCatalog } from './catalog.ts';
import { catalogCsvColumns } from './control-csv.ts';

// A SIEM webhook that keeps the actions it receives.
async function siem(): Promise<{ server: Server; url: string; actions: string[] }> {
  const actions: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      actions.push((JSON.parse(body) as { action: string }).action);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/a`, actions };
}

const base = `
apiVersion: custody/v1
kind: Project
metadata: { name: shop }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: shop }
spec: { type: pre-production, runnerPool: qa-pool }
---
apiVersion: custody/v1
kind: Policy
metadata: { name: gate, project: shop }
spec:
  decisionPoint: deploy
  modules:
    - name: gate.rego
      source: |
        package custody.deploy
        deny contains "never" if { input.never == true }
`;
const prod = (o: { rules?: string; policies?: string; name?: string } = {}) => `
apiVersion: custody/v1
kind: Environment
metadata: { name: ${o.name ?? 'prod'}, project: shop }
spec:
  type: production
  runnerPool: prod-pool
  changeRecord: native
  promotion: { requires: [qa] }
  sod: { unlinkedAuthors: block }
  qualityGates: { tests: { required: true } }
  policies: ${o.policies ?? '[gate]'}
  approvals:
    rules: ${o.rules ?? '[{ name: release, users: [carol], required: 1 }]'}
`;
const freeze = (enabled: boolean) => `
apiVersion: custody/v1
kind: FreezeWindow
metadata: { name: weekend }
spec:
  enabled: ${enabled}
  scope: { environmentTypes: [production] }
  timeZone: UTC
  schedule: { recurring: { rrule: "FREQ=WEEKLY;BYDAY=SA", duration: 48h } }
`;
const stream = (url: string, enabled: boolean) => `
apiVersion: custody/v1
kind: AuditStream
metadata: { name: siem }
spec: { type: webhook, url: ${url}, enabled: ${enabled} }
`;

interface Item {
  check: string;
  project: string;
  environment: string;
  state: string;
  message: string;
  since: string | null;
  evidence: Record<string, unknown>;
}

for (const dialect of dialects) {
  describe(`the live control catalog [${dialect}]`, () => {
    let t: TestApp;
    let receiver: Awaited<ReturnType<typeof siem>>;
    const clock = new ManualClock('2026-12-01T10:00:00Z');
    let failCommitOf: string | undefined;
    const tokens: Record<string, string> = {};

    const catalog = async (query = '?project=shop&environment=prod', token?: string) => {
      const res = await t.request({ method: 'GET', url: `/api/v1/controls${query}`, token });
      expect(res.statusCode).toBe(200);
      return (res.json() as { items: Item[] }).items;
    };
    const check = async (id: string, env = 'prod') =>
      (await catalog(`?project=shop&environment=${env}`)).find((i) => i.check === id)!;
    const entries = async (action: string, check?: string) =>
      (await t.app.services.audit.list({ limit: 5000 })).filter(
        (e) =>
          e.action === action &&
          (!check || (e.details as { check?: string } | null)?.check === check),
      );
    const history = async (id: string) => {
      const res = await t.request({
        method: 'GET',
        url: `/api/v1/controls/history?check=${id}&project=shop&environment=prod`,
      });
      expect(res.statusCode).toBe(200);
      return (res.json() as { items: { state: string; from: string; until: string | null }[] })
        .items;
    };
    const applyApproved = async (yaml: string) => {
      const res = await t.applyApproved(yaml, tokens.alice);
      expect(res.statusCode, res.body).toBe(200);
    };

    beforeAll(async () => {
      t = await createTestApp(dialect, {
        clock,
        faults: {
          beforeCommit: async (records) => {
            if (failCommitOf && records.some((r) => r.action === failCommitOf))
              throw new Error('injected failure before commit');
          },
        },
      });
      receiver = await siem();
      tokens.alice = await t.user('alice', ['admin']);
      tokens.dev = await t.user('dev', ['developer@project:shop']);
      tokens.nobody = await t.user('nobody');
      tokens.carol = await t.user('carol', ['approver']);
      await applyApproved(base + '---' + prod() + '---' + freeze(true));
      await applyApproved(stream(receiver.url, true));
      const secret = await t.request({
        method: 'PUT',
        url: '/api/v1/streams/siem/secret',
        json: { value: 'hmac-key-for-the-test' },
      });
      expect(secret.statusCode, secret.body).toBe(200);
      await t.app.services.streams.deliverAll({ ignoreBackoff: true });
      await t.app.services.ledger.service.integrateAll();
      await t.app.services.controls.tick();
    });
    afterAll(async () => {
      await t?.close();
      receiver?.server.close();
    });

    it('evaluates every check of a production environment with its evidence', async () => {
      const items = await catalog();
      expect(items.map((i) => i.check).sort()).toEqual(checkCatalog.map((c) => c.id).sort());
      const state = Object.fromEntries(items.map((i) => [i.check, i.state]));
      expect(state).toMatchObject({
        'deployment.approvals-required': 'pass',
        'segregation.authors-excluded': 'pass',
        'testing.promotion-required': 'pass',
        'change.ticket-required': 'pass',
        'testing.quality-gates-configured': 'pass',
        'deployment.runner-pool-dedicated': 'pass',
        'change.freeze-windows-defined': 'pass',
        'deployment.policies-bound': 'pass',
        'monitoring.audit-stream-delivering': 'pass',
        'audit-trail.checkpoint-recent': 'pass',
        'change.emergency-reviews-on-time': 'pass',
        // The app wires the retention module: 7 years by default.
        'retention.evidence-seven-years': 'pass',
      });
      const approvals = items.find((i) => i.check === 'deployment.approvals-required')!;
      const env = await t.app.services.resources.get('Environment', 'prod', 'shop');
      expect(approvals.evidence).toMatchObject({
        environmentVersion: {
          version: env.inForce!.version,
          contentHash: env.inForce!.contentHash,
        },
        approvalsRequired: 1,
      });
      expect(approvals.since).not.toBeNull();
      expect(items.find((i) => i.check === 'retention.evidence-seven-years')).toMatchObject({
        message: 'evidence is kept 7 years',
        evidence: { years: 7 },
      });
      // A non-production environment has no catalog.
      expect(await catalog('?project=shop&environment=qa')).toEqual([]);
    });

    it('lowering the approval count (approved by a second person) flips the check and writes one weakened entry, raising it back restores it', async () => {
      clock.advance(60_000);
      const res = await t.apply(prod({ rules: '[]' }), tokens.alice);
      const [pending] = (res.json() as { results: { state: string; approval: string }[] }).results;
      expect(pending!.state).toBe('pending');
      // Still in force until approved: nothing weakened yet.
      expect((await check('deployment.approvals-required')).state).toBe('pass');
      expect(
        await entries('controls.check.weakened', 'deployment.approvals-required'),
      ).toHaveLength(0);
      await t.approve(pending!.approval);
      const after = await check('deployment.approvals-required');
      expect(after).toMatchObject({ state: 'fail', evidence: { approvalsRequired: 0 } });
      const weakened = await entries('controls.check.weakened', 'deployment.approvals-required');
      expect(weakened).toHaveLength(1);
      expect(weakened[0]!.details).toMatchObject({
        project: 'shop',
        environment: 'prod',
        before: { state: 'pass' },
        after: { state: 'fail' },
        evidence: { approvalsRequired: 0 },
        cause: { type: 'resources', versions: [{ kind: 'Environment', name: 'prod', version: 2 }] },
      });
      // The history shows when it was weak.
      const [weak, strong] = await history('deployment.approvals-required');
      expect(weak).toMatchObject({ state: 'fail', until: null, from: clock.now().toISOString() });
      expect(strong).toMatchObject({ state: 'pass', until: weak!.from });
      // The audit stream delivers the entry to the SIEM.
      await t.app.services.streams.deliverAll({ ignoreBackoff: true });
      expect(receiver.actions).toContain('controls.check.weakened');

      clock.advance(60_000);
      await applyApproved(prod());
      expect((await check('deployment.approvals-required')).state).toBe('pass');
      const restored = await entries('controls.check.restored', 'deployment.approvals-required');
      expect(restored).toHaveLength(1);
      expect(
        await entries('controls.check.weakened', 'deployment.approvals-required'),
      ).toHaveLength(1);
      const periods = await history('deployment.approvals-required');
      expect(periods.map((p) => p.state)).toEqual(['pass', 'fail', 'pass']);
    });

    it('disabling the freeze window flips its check and writes the entry', async () => {
      clock.advance(60_000);
      await applyApproved(freeze(false));
      expect((await check('change.freeze-windows-defined')).state).toBe('fail');
      const [e] = await entries('controls.check.weakened', 'change.freeze-windows-defined');
      expect(e!.details).toMatchObject({
        cause: { type: 'resources', versions: [{ kind: 'FreezeWindow', name: 'weekend' }] },
      });
      await applyApproved(freeze(true));
      expect(
        await entries('controls.check.restored', 'change.freeze-windows-defined'),
      ).toHaveLength(1);
    });

    it('unbinding the policy flips its check and writes the entry', async () => {
      clock.advance(60_000);
      await applyApproved(prod({ policies: '[]' }));
      const c = await check('deployment.policies-bound');
      expect(c).toMatchObject({ state: 'fail', evidence: { bound: [] } });
      expect(await entries('controls.check.weakened', 'deployment.policies-bound')).toHaveLength(1);
      await applyApproved(prod());
      expect((await check('deployment.policies-bound')).state).toBe('pass');
    });

    it('a checkpoint older than an hour flips its check on the periodic tick (cause: time)', async () => {
      await t.app.services.ledger.service.integrateAll();
      expect(await t.app.services.controls.tick()).toBe(0);
      const restoredBefore = (
        await entries('controls.check.restored', 'audit-trail.checkpoint-recent')
      ).length;
      // New entries wait for a checkpoint the checkpointer (stopped here) never signs.
      await t.user('erin');
      clock.advance(61 * 60_000);
      expect((await check('audit-trail.checkpoint-recent')).state).toBe('fail');
      expect(await t.app.services.controls.tick()).toBeGreaterThan(0);
      const [e] = await entries('controls.check.weakened', 'audit-trail.checkpoint-recent');
      expect(e!.details).toMatchObject({ cause: { type: 'time' }, after: { state: 'fail' } });
      await t.app.services.ledger.service.integrateAll();
      await t.app.services.controls.tick();
      expect(
        await entries('controls.check.restored', 'audit-trail.checkpoint-recent'),
      ).toHaveLength(restoredBefore + 1);
      expect((await check('audit-trail.checkpoint-recent')).state).toBe('pass');
    });

    it('a rolled-back change writes no entry and no history; a committed one always has its entry', async () => {
      clock.advance(60_000);
      const before = await history('change.ticket-required');
      failCommitOf = 'controls.check.weakened';
      const weak = prod().replace('changeRecord: native', 'changeRecord: none');
      const res = await t.apply(weak, tokens.alice);
      const [pending] = (res.json() as { results: { approval: string }[] }).results;
      await expect(t.approve(pending!.approval)).rejects.toThrow(/approving/);
      failCommitOf = undefined;
      expect(await entries('controls.check.weakened', 'change.ticket-required')).toHaveLength(0);
      expect(await history('change.ticket-required')).toEqual(before);
      expect((await check('change.ticket-required')).state).toBe('pass');
      // Approving again commits the change and its entry together.
      await t.approve(pending!.approval);
      expect((await check('change.ticket-required')).state).toBe('fail');
      expect(await entries('controls.check.weakened', 'change.ticket-required')).toHaveLength(1);
    });

    it('a DBA deleting the history cannot make a weakened period disappear from the ledger', async () => {
      await sql`delete from control_check_states where check_id = ${'change.ticket-required'}`.execute(
        t.app.database.db,
      );
      expect(await history('change.ticket-required')).toEqual([]);
      const [e] = await entries('controls.check.weakened', 'change.ticket-required');
      expect(e!.details).toMatchObject({ before: { state: 'pass' }, after: { state: 'fail' } });
      // The ledger refuses the delete of the entry itself.
      await expect(
        sql`delete from audit_entries where action = ${'controls.check.weakened'}`.execute(
          t.app.database.db,
        ),
      ).rejects.toThrow();
      expect(await entries('controls.check.weakened', 'change.ticket-required')).toHaveLength(1);
      // Nor can a second open period be slipped in beside the one in force.
      const open = await history('deployment.approvals-required');
      await expect(
        sql`insert into control_check_states (id, check_id, project, environment, state, evidence, cause, from_at, until_at)
            values ('chk_forged', 'deployment.approvals-required', 'shop', 'prod', 'pass', '{}', '{}', ${open[0]!.from}, null)`.execute(
          t.app.database.db,
        ),
      ).rejects.toThrow();
      // The catalog is evaluated live, so it still says fail, and the next tick records it again.
      expect((await check('change.ticket-required')).state).toBe('fail');
      await t.app.services.controls.tick();
      expect((await history('change.ticket-required')).map((p) => p.state)).toEqual(['fail']);
      await applyApproved(prod());
    });

    it('pausing the audit stream flips its check and writes the entry', async () => {
      clock.advance(60_000);
      await t.app.services.streams.deliverAll({ ignoreBackoff: true });
      await t.app.services.controls.tick();
      expect((await check('monitoring.audit-stream-delivering')).state).toBe('pass');
      // Filtering the controls entries out of the stream blinds it to this catalog.
      const filtered = stream(receiver.url, true).replace(
        'enabled: true }',
        'enabled: true, actions: ["deployments.*.*"] }',
      );
      await applyApproved(filtered);
      expect(await check('monitoring.audit-stream-delivering')).toMatchObject({
        state: 'fail',
        evidence: { streams: [{ name: 'siem', receivesControlEntries: false }] },
      });
      await applyApproved(stream(receiver.url, true));
      await t.app.services.streams.deliverAll({ ignoreBackoff: true });
      await t.app.services.controls.tick();
      expect((await check('monitoring.audit-stream-delivering')).state).toBe('pass');
      await applyApproved(stream(receiver.url, false));
      expect((await check('monitoring.audit-stream-delivering')).state).toBe('fail');
      const e = (await entries('controls.check.weakened', 'monitoring.audit-stream-delivering')).at(
        -1,
      );
      expect(e!.details).toMatchObject({
        cause: { type: 'resources', versions: [{ kind: 'AuditStream', name: 'siem' }] },
        evidence: { streams: [{ name: 'siem', enabled: false }] },
      });
    });

    it('reads need controls.catalog.read: a developer reads, a principal without it is refused', async () => {
      expect((await catalog(undefined, tokens.dev)).length).toBe(checkCatalog.length);
      for (const url of [
        '/api/v1/controls',
        '/api/v1/controls/history',
        '/api/v1/controls/export.csv',
      ]) {
        const res = await t.request({ method: 'GET', url, token: tokens.nobody });
        expect(res.statusCode).toBe(403);
        expect(res.json()).toMatchObject({ error: { code: 'AUTHZ_PERMISSION_DENIED' } });
      }
      const denied = await t.app.services.audit.list({ limit: 5000 });
      expect(denied.some((e) => e.outcome === 'denied' && e.actor.name === 'nobody')).toBe(true);
    });

    it('exports CSV: a header row and one row per (environment, check)', async () => {
      await applyApproved(prod({ name: 'prod-eu' }));
      const res = await t.request({ method: 'GET', url: '/api/v1/controls/export.csv' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      const lines = res.body.trimEnd().split('\r\n');
      expect(lines[0]).toBe(catalogCsvColumns.join(','));
      expect(lines).toHaveLength(1 + 2 * checkCatalog.length);
      const keys = lines.slice(1).map((l) => l.split(',').slice(0, 3).join('/'));
      expect(new Set(keys).size).toBe(2 * checkCatalog.length);
    });

    it('history pages on the server and refuses an unknown check', async () => {
      const first = await t.request({ method: 'GET', url: '/api/v1/controls/history?limit=2' });
      const page = first.json() as { items: { from: string }[]; next: string | null };
      expect(page.items).toHaveLength(2);
      expect(page.next).not.toBeNull();
      const second = await t.request({
        method: 'GET',
        url: `/api/v1/controls/history?limit=2&cursor=${encodeURIComponent(page.next!)}`,
      });
      const next = second.json() as { items: { from: string }[] };
      expect(next.items[0]!.from <= page.items[1]!.from).toBe(true);
      const bad = await t.request({ method: 'GET', url: '/api/v1/controls/history?check=nope' });
      expect(bad.json()).toMatchObject({ error: { code: 'CONTROLS_CHECK_UNKNOWN' } });
    });

    it('a wired retention reader decides the retention check', async () => {
      t.app.services.controls.useRetention({ yearsFor: async () => 5 });
      expect((await check('retention.evidence-seven-years')).state).toBe('fail');
      t.app.services.controls.useRetention({ yearsFor: async () => 7 });
      expect((await check('retention.evidence-seven-years')).state).toBe('pass');
    });
  });
}
