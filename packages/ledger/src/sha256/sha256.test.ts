import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as selected from '#sha256';
import * as browser from './browser.ts';
import * as node from './node.ts';

describe('sha256 implementations', () => {
  it('selects node:crypto under Node through the package.json import conditions', () => {
    expect(selected.sha256Implementation).toBe('node:crypto');
  });

  it('agree with each other and with node:crypto', () => {
    for (const n of [0, 1, 31, 32, 33, 55, 56, 64, 300, 2000]) {
      const data = new Uint8Array(randomBytes(n));
      const want = new Uint8Array(createHash('sha256').update(data).digest());
      const leaf = new Uint8Array(
        createHash('sha256').update(Uint8Array.of(0)).update(data).digest(),
      );
      for (const impl of [node, browser]) {
        expect(impl.sha256(data)).toEqual(want);
        expect(impl.sha256Leaf(data)).toEqual(leaf);
        expect(Object.getPrototypeOf(impl.sha256(data))).toBe(Uint8Array.prototype);
      }
    }
    for (const text of ['', 'a', '{"k":"€😀\u0000"}', 'x'.repeat(3000)]) {
      const bytes = new TextEncoder().encode(text);
      for (const impl of [node, browser])
        expect(impl.sha256LeafTextHex(text)).toBe(
          Buffer.from(impl.sha256Leaf(bytes)).toString('hex'),
        );
    }
    const l = new Uint8Array(randomBytes(32));
    const r = new Uint8Array(randomBytes(32));
    const want = new Uint8Array(
      createHash('sha256').update(Uint8Array.of(1)).update(l).update(r).digest(),
    );
    expect(node.sha256Node(l, r)).toEqual(want);
    expect(browser.sha256Node(l, r)).toEqual(want);
    const bin = (b: Uint8Array): string => String.fromCharCode(...b);
    for (const impl of [node, browser]) {
      expect(impl.sha256NodeBinary(bin(l), bin(r))).toBe(bin(want));
      const data = new Uint8Array(randomBytes(5000)); // larger than the initial scratch
      expect(impl.sha256LeafBinary(data)).toBe(bin(impl.sha256Leaf(data)));
      expect(impl.sha256LeafBinary(data.subarray(0, 7))).toBe(
        bin(impl.sha256Leaf(data.subarray(0, 7))),
      );
    }
  });

  it('returns independent results (no shared scratch buffer leaks out)', () => {
    const a = node.sha256Leaf(Uint8Array.of(1));
    const copy = a.slice();
    node.sha256Leaf(Uint8Array.of(2));
    node.sha256Node(a, a);
    expect(a).toEqual(copy);
  });
});
