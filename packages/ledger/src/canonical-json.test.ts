import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalJson, isCanonicalJson } from './canonical-json.ts';
import { LedgerError } from './errors.ts';
import { toHex } from './bytes.ts';

function float64(bits: string): number {
  return new DataView(new Uint8Array(Buffer.from(bits, 'hex')).buffer).getFloat64(0);
}

describe('canonicalJson (RFC 8785)', () => {
  it('serializes the section 3.2.2 sample', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        '"literals": [null, true, false]}',
    ) as unknown;
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts keys by UTF-16 code units (section 3.2.3)', () => {
    const input = JSON.parse(
      '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One",' +
        '"\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}',
    ) as unknown;
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('orders integer-like keys as strings and keeps a __proto__ key', () => {
    expect(canonicalJson({ 10: 'a', 9: 'b', x: { 2: true, 11: false }, a: [{ '01': 1 }] })).toBe(
      '{"10":"a","9":"b","a":[{"01":1}],"x":{"11":false,"2":true}}',
    );
    expect(canonicalJson(JSON.parse('{"b":2,"__proto__":{"z":1}}'))).toBe(
      '{"__proto__":{"z":1},"b":2}',
    );
  });

  it('prints a typical audit entry like the reference serializer, whatever its key order', () => {
    const entry = {
      v: 1,
      seq: 42,
      time: '2026-11-22T07:00:00.000Z',
      actor: { type: 'user', id: 'u1', name: 'alice', authMethod: 'token', ip: null },
      action: 'pipelines.run.started',
      resource: { type: 'run', id: 'run-7' },
      outcome: 'succeeded',
      requestId: 'req-1',
      details: { step: 'deploy', attempt: 1, ratio: -0, nested: [1.5, 'x', { b: 1, a: 2 }] },
    };
    expect(canonicalJson(entry)).toBe(
      '{"action":"pipelines.run.started","actor":{"authMethod":"token","id":"u1","ip":null,"name":"alice","type":"user"},' +
        '"details":{"attempt":1,"nested":[1.5,"x",{"a":2,"b":1}],"ratio":0,"step":"deploy"},' +
        '"outcome":"succeeded","requestId":"req-1","resource":{"id":"run-7","type":"run"},"seq":42,"time":"2026-11-22T07:00:00.000Z","v":1}',
    );
  });

  it('encodes as UTF-8 without normalizing (section 3.2.4)', () => {
    expect(toHex(canonicalBytes({ 'Unnormalized Unicode': 'A\u030a' }))).toBe(
      '7b22556e6e6f726d616c697a656420556e69636f6465223a2241cc8a227d',
    );
  });

  it('serializes the Appendix B numbers', () => {
    const samples: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, want] of samples) {
      const n = float64(bits);
      expect(canonicalJson(n), bits).toBe(want);
    }
  });

  it('rejects NaN and Infinity (Appendix B)', () => {
    for (const bits of ['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000']) {
      const n = float64(bits);
      expect(() => canonicalJson([n])).toThrow(LedgerError);
    }
  });

  it('rejects values outside the JSON data model', () => {
    const bad: unknown[] = [
      undefined,
      { a: undefined },
      [1, undefined],
      // eslint-disable-next-line no-sparse-arrays
      [1, , 3],
      10n,
      () => 1,
      Symbol('x'),
      new Date(0),
      new Map(),
      new Uint8Array(2),
      { s: 'lone \ud800 surrogate' },
      { ['\udc00']: 1 },
    ];
    for (const v of bad)
      expect(() => canonicalJson(v), String(typeof v)).toThrowError(/canonical JSON/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrowError(/cyclic/);
  });

  it('allows shared (non-cyclic) references and null-prototype objects', () => {
    const shared = { x: 1 };
    const bare = Object.create(null) as Record<string, unknown>;
    bare.b = 2;
    bare.a = 1;
    expect(canonicalJson({ p: shared, q: shared, r: bare })).toBe(
      '{"p":{"x":1},"q":{"x":1},"r":{"a":1,"b":2}}',
    );
  });

  it('escapes control characters like JSON.stringify and keeps other characters literal', () => {
    expect(canonicalJson('\u0000\u0008\t\n\u000b\f\r\u001f"\\/\u007f\u2028')).toBe(
      '"\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f\\"\\\\/\u007f\u2028"',
    );
    expect(canonicalJson(-0)).toBe('0');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
  });

  it('recognises canonical text', () => {
    expect(isCanonicalJson('{"a":1,"b":[true,null]}')).toBe(true);
    expect(isCanonicalJson('{"b":1,"a":2}')).toBe(false);
    expect(isCanonicalJson('{"a": 1}')).toBe(false);
    expect(isCanonicalJson('{"a":1,"a":1}')).toBe(false);
    expect(isCanonicalJson('1.0')).toBe(false);
    expect(isCanonicalJson('-0')).toBe(false);
    expect(isCanonicalJson('{')).toBe(false);
  });
});
