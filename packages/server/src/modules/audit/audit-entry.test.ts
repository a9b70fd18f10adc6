import { canonicalJson, leafHash, toHex } from '@custody/ledger';
import { describe, expect, it } from 'vitest';
import {
  encodeLeaf,
  leafHashHex,
  leafHashHexWith,
  leafFormatVersion,
  leafText,
  sharedLeafFields,
  type AuditEntry,
} from './audit-entry.ts';

const base: AuditEntry = {
  seq: 0,
  time: '2026-11-22T07:00:00.000Z',
  actor: { type: 'user', id: 'usr_1', name: 'alice', authMethod: 'token', ip: '127.0.0.1' },
  action: 'resources.environment.updated',
  resource: { type: 'Environment', id: 'shop/prod' },
  outcome: 'succeeded',
  requestId: 'req-1',
  details: { version: 2 },
};

// Strings that stress JSON escaping and key order: quotes, controls, non-BMP, U+2028.
const awkward = [
  '',
  'a"b\\c',
  '\u0000\u001f\n\t',
  'ünï €😀',
  '\u2028\u2029',
  '</script>',
  '10',
  ' ~\u007f!#[]',
];

function variants(): AuditEntry[] {
  const out: AuditEntry[] = [];
  let seq = 0;
  for (const s of awkward) {
    out.push({
      ...base,
      seq: seq++,
      action: s,
      actor: { ...base.actor, id: null, ip: null, name: s },
      resource: { type: s, id: s },
      requestId: null,
      details: { [s]: s, nested: { z: [1, -0, 1e21, 0.1, true, null, { b: s, a: s }] }, 2: 'x' },
    });
    out.push({ ...base, seq: 2 ** 53 - 1 - seq++, time: s, details: {} });
  }
  return out;
}

describe('audit leaf encoding', () => {
  it('the write-path encoding is byte for byte the canonical JSON of the entry', () => {
    for (const e of variants()) {
      const text = leafText(e);
      expect(text).toBe(canonicalJson({ v: leafFormatVersion, ...e }));
      expect(leafText(e, canonicalJson(e.details))).toBe(text);
      expect(leafHashHex(e)).toBe(toHex(leafHash(encodeLeaf(e))));
      expect(leafHashHex(e, canonicalJson(e.details))).toBe(toHex(leafHash(encodeLeaf(e))));
    }
  });

  it('the unit-of-work path (shared fields serialized once) hashes exactly the same bytes', () => {
    for (const e of variants()) {
      const { seq, ...rest } = e;
      const expected = toHex(leafHash(encodeLeaf(e)));
      const shared = sharedLeafFields(e.actor, e.time, e.requestId);
      expect(leafHashHexWith(shared, rest, seq, canonicalJson(e.details))).toBe(expected);
      // Shared fields of another entry (another actor object, time or request) are not used.
      const other = sharedLeafFields({ ...e.actor }, 'another time', 'another request');
      expect(leafHashHexWith(other, rest, seq, canonicalJson(e.details))).toBe(expected);
      expect(leafHashHexWith(undefined, rest, seq, canonicalJson(e.details))).toBe(expected);
    }
    const extra = { ...base, extra: 1 } as unknown as AuditEntry;
    const { seq, ...rest } = extra;
    const shared = sharedLeafFields(extra.actor, extra.time, extra.requestId);
    expect(leafHashHexWith(shared, rest, seq, canonicalJson(extra.details))).toBe(
      toHex(leafHash(encodeLeaf(extra))),
    );
  });

  it('an entry of another shape takes the generic route, and bad strings are refused', () => {
    const extra = { ...base, extra: 1 } as unknown as AuditEntry;
    expect(leafText(extra)).toBeUndefined();
    expect(leafHashHex(extra)).toBe(toHex(leafHash(encodeLeaf(extra))));
    const lone = { ...base, action: 'x\ud800' };
    expect(leafText(lone)).toBeUndefined();
    expect(() => leafHashHex(lone)).toThrow(/lone surrogate/);
    const missing = { ...base, requestId: undefined } as unknown as AuditEntry;
    expect(() => leafHashHex(missing)).toThrow(/undefined is not JSON/);
  });
});
