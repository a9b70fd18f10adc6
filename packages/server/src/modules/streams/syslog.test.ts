import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../bootstrap.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { selfSignedCert } from './test-support.ts';

// The syslog destination against a real syslog daemon: Debian's rsyslog, started here on a
// loopback port (plain TCP and TLS through rsyslog-gnutls). Missing rsyslogd fails the test.
const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((p) => existsSync(p));

function requireRsyslogd(): string {
  if (!RSYSLOGD)
    throw new Error(
      'rsyslogd is not installed: the syslog test needs a real syslog daemon. Install it with `apt-get install -y rsyslog rsyslog-gnutls` (Debian).',
    );
  return RSYSLOGD;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`rsyslogd exited (${child.exitCode}): ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`rsyslogd did not listen on ${port}: ${log()}`);
}

interface Daemon {
  port: number;
  output: string;
  certFile?: string;
  stop(): Promise<void>;
}

async function startRsyslogd(transport: 'tcp' | 'tls'): Promise<Daemon> {
  const bin = requireRsyslogd();
  const dir = mkdtempSync(path.join(tmpdir(), `custody-rsyslog-${transport}-`));
  const port = await freePort();
  const output = path.join(dir, 'received.log');
  const lines = [`global(workDirectory="${dir}"`];
  let certFile: string | undefined;
  if (transport === 'tls') {
    const tls = selfSignedCert(dir);
    certFile = tls.certFile;
    lines[0] += ` DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="${tls.certFile}" DefaultNetstreamDriverCertFile="${tls.certFile}" DefaultNetstreamDriverKeyFile="${tls.keyFile}"`;
    lines[0] += ')';
    lines.push(
      'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")',
    );
  } else {
    lines[0] += ')';
    lines.push('module(load="imtcp")');
  }
  lines.push(
    `input(type="imtcp" port="${port}" address="127.0.0.1")`,
    // One line per message: the RFC 5424 fields as rsyslog parsed them, then the raw message.
    'template(name="fields" type="string" string="%protocol-version%|%pri%|%app-name%|%msgid%|%structured-data%|%msg%\\n")',
    `*.* action(type="omfile" file="${output}" template="fields")`,
  );
  const conf = path.join(dir, 'rsyslog.conf');
  writeFileSync(conf, lines.join('\n') + '\n');
  const check = spawnSync(bin, ['-N1', '-f', conf], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`rsyslogd rejects its config: ${check.stderr}`);
  const child = spawn(bin, ['-n', '-f', conf, '-i', path.join(dir, 'rsyslogd.pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  await waitForPort(port, child, () => log);
  return {
    port,
    output,
    ...(certFile ? { certFile } : {}),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function receivedLines(file: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  let lines: string[] = [];
  while (Date.now() < deadline) {
    lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    if (lines.length >= count) return lines;
    await new Promise((r) => setTimeout(r, 100));
  }
  return lines;
}

describe('syslog RFC 5424 to a real rsyslogd', () => {
  let t: TestApp;
  const daemons: Daemon[] = [];
  beforeAll(async () => {
    t = await createTestApp('sqlite');
  });
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    await t?.close();
  });

  for (const transport of ['tcp', 'tls'] as const) {
    it(`delivers every entry in order over ${transport.toUpperCase()} with octet-counted framing`, async () => {
      const daemon = await startRsyslogd(transport);
      daemons.push(daemon);
      const name = `syslog-${transport}`;
      const applied = await t.apply(`apiVersion: custody/v1
kind: AuditStream
metadata: { name: ${name} }
spec:
  type: syslog
  host: 127.0.0.1
  port: ${daemon.port}
  transport: ${transport}
  batchSize: 7
${daemon.certFile ? `  tls: { caFile: ${daemon.certFile} }\n` : ''}`);
      expect(applied.statusCode, applied.body).toBe(200);
      const ctx = systemContext(t.app, 'test');
      await t.app.uow.run(ctx, async (_tx, record) => {
        for (let i = 0; i < 20; i++)
          record({
            action: 'test.thing.changed',
            resource: { type: 'thing', id: `t "${i}" ]` },
            outcome: i % 5 === 0 ? 'denied' : 'succeeded',
            details: { i, text: 'multi\nline ünïcode' },
          });
      });
      await t.app.services.streams.deliverAll({ ignoreBackoff: true });
      const total = await t.app.services.audit.size();
      const lines = await receivedLines(daemon.output, total);
      expect(lines).toHaveLength(total);
      const seqs = lines.map((l) => {
        const [version, pri, app, msgid, sd, ...msg] = l.split('|');
        expect(version).toBe('1');
        expect(app).toBe('custody');
        const entry = JSON.parse(msg.join('|'));
        expect(msgid).toBe(entry.action.slice(0, 32));
        expect(Number(pri)).toBe(13 * 8 + (entry.outcome === 'denied' ? 4 : 6));
        expect(sd).toContain(`[custody@32473 seq="${entry.seq}"`);
        return entry.seq as number;
      });
      expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i));
      const odd = lines
        .map((l) => JSON.parse(l.split('|').slice(5).join('|')))
        .find((e) => e.resource.id === 't "5" ]');
      expect(odd).toMatchObject({ outcome: 'denied', details: { text: 'multi\nline ünïcode' } });
      const [view] = (await t.request({ method: 'GET', url: '/api/v1/streams' }))
        .json()
        .destinations.filter((d: { name: string }) => d.name === name);
      expect(view).toMatchObject({ nextSeq: total, pending: 0, lastError: null });
    });
  }
});
