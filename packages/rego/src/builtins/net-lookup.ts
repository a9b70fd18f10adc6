// net.lookup_ip_addr: DNS resolution for a synchronous evaluator. Node only resolves
// names asynchronously, so a short-lived worker does the lookup (through getaddrinfo,
// which honours /etc/hosts like Go's resolver) while this thread waits on a shared
// buffer. IP literals are answered without a lookup.
import { isIP } from 'node:net';
import { Worker } from 'node:worker_threads';
import { builtinError } from '../errors.ts';
import { RSet } from '../value.ts';
import { str } from './helpers.ts';
import { def, type BuiltinTable } from './types.ts';

const WORKER = `
const { workerData } = require('node:worker_threads');
const dns = require('node:dns');
const { name, sab } = workerData;
const flag = new Int32Array(sab, 0, 2);
const bytes = new Uint8Array(sab, 8);
dns.lookup(name, { all: true, verbatim: true }, (err, addrs) => {
  const out = Buffer.from(JSON.stringify(err ? { error: err.code || err.message } : { addrs: addrs.map((a) => a.address) }));
  const n = Math.min(out.length, bytes.length);
  bytes.set(out.subarray(0, n));
  flag[1] = n;
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

const TIMEOUT_MS = 10_000;

export function lookupSync(name: string): string[] {
  const sab = new SharedArrayBuffer(8 + 64 * 1024);
  const flag = new Int32Array(sab, 0, 2);
  const worker = new Worker(WORKER, { eval: true, workerData: { name, sab } });
  try {
    if (Atomics.wait(flag, 0, 0, TIMEOUT_MS) === 'timed-out')
      throw builtinError(`lookup ${name}: i/o timeout`);
    const text = Buffer.from(new Uint8Array(sab, 8, flag[1])).toString('utf8');
    const r = JSON.parse(text) as { error?: string; addrs?: string[] };
    if (r.error !== undefined) throw builtinError(`lookup ${name}: ${r.error}`);
    return r.addrs ?? [];
  } finally {
    void worker.terminate();
  }
}

export const netLookupBuiltins: BuiltinTable = {
  'net.lookup_ip_addr': def('net.lookup_ip_addr', 1, (a, ctx) => {
    const name = str(a, 0);
    if (isIP(name)) return RSet.of([name]);
    // One lookup per name and evaluation keeps results consistent within a query.
    const key = `net.lookup_ip_addr:${name}`;
    let addrs = ctx.cache.get(key) as string[] | undefined;
    if (!addrs) {
      addrs = lookupSync(name);
      ctx.cache.set(key, addrs);
    }
    return RSet.of(addrs);
  }),
};
