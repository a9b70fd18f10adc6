// The package must run in browsers: no node: imports outside the Node SHA-256 module, and a
// browser bundle (resolved with the "browser" condition) must work without Node globals.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const srcDir = path.dirname(fileURLToPath(import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return sources(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') ? [p] : [];
  });
}

describe('browser compatibility', () => {
  it('imports node: modules only in the Node SHA-256 implementation and test helpers', () => {
    const allowed = new Set(['sha256/node.ts', 'test-support.ts']);
    for (const file of sources(srcDir)) {
      const rel = path.relative(srcDir, file);
      if (allowed.has(rel)) continue;
      const text = readFileSync(file, 'utf8');
      expect(/from ['"]node:|import\(['"]node:|require\(/.test(text), rel).toBe(false);
      expect(/\bBuffer\.\w+\(|\bprocess\.\w/.test(text), rel).toBe(false);
    }
  });

  it('bundles for the browser with @noble/hashes and verifies a log inside a bare JS realm', async () => {
    const out = await build({
      entryPoints: [path.join(srcDir, 'index.ts')],
      bundle: true,
      write: false,
      format: 'iife',
      globalName: 'ledger',
      platform: 'browser',
      logLevel: 'silent',
    });
    const code = out.outputFiles[0]!.text;
    expect(code).not.toContain('node:crypto');
    expect(code).toContain('@noble/hashes');
    // A context with only what browsers provide and the library needs.
    const context = vm.createContext({ TextEncoder, TextDecoder, crypto: globalThis.crypto });
    vm.runInContext(code, context);
    const result = vm.runInContext(
      `(() => {
        const L = ledger;
        const enc = (s) => new TextEncoder().encode(s);
        const leaves = [0, 1, 2, 3, 4].map((i) => L.canonicalBytes({ seq: i, action: 'x' }));
        const tree = L.MemoryTree.fromLeaves(leaves);
        const keys = L.generateSignerKey('browser.example/log');
        const cp = L.signCheckpoint({ origin: 'browser.example/log', size: 5, rootHash: tree.root() }, L.parseSignerKey(keys.signerKey));
        const ok = L.verifyLog({ entries: leaves.map((data, index) => ({ index, data })), checkpoints: [cp], keys: keys.verifierKey });
        const bad = L.verifyLog({ entries: leaves.map((data, index) => ({ index, data: index === 3 ? enc('x') : data })), checkpoints: [cp], keys: keys.verifierKey });
        return { impl: typeof L.rootFromLeaves, ok: ok.ok, bad: bad.code, root: L.toHex(L.rootFromLeaves([enc('')])) };
      })()`,
      context,
    ) as { ok: boolean; bad: string; root: string };
    expect(result.ok).toBe(true);
    expect(result.bad).toBe('LEDGER_ROOT_MISMATCH');
    expect(result.root).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  });
});
