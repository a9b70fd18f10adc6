// net.cidr_* builtins over IPv4 and IPv6 addresses held as bigint.
import { builtinError } from '../errors.ts';
import { RObject, RSet, type Value } from '../value.ts';
import { collection, operandErr, str } from './helpers.ts';
import { def, type BuiltinTable } from './types.ts';

interface Net {
  v6: boolean;
  addr: bigint;
  bits: number;
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(p);
  }
  return n;
}

function parseV6(s: string): bigint | undefined {
  let str = s;
  let tail: bigint[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(str);
  if (v4) {
    const n = parseV4(v4[1] as string);
    if (n === undefined) return undefined;
    tail = [n >> 16n, n & 0xffffn];
    str = str.slice(0, -(v4[1] as string).length) + (str.endsWith('::' + v4[1]) ? '' : '');
    if (str.endsWith(':') && !str.endsWith('::')) str = str.slice(0, -1);
  }
  const halves = str.split('::');
  if (halves.length > 2) return undefined;
  const parse = (x: string): bigint[] | undefined => {
    if (x === '') return [];
    const out: bigint[] = [];
    for (const g of x.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(BigInt('0x' + g));
    }
    return out;
  };
  const head = parse(halves[0] as string);
  const rest = halves.length === 2 ? parse(halves[1] as string) : [];
  if (!head || !rest) return undefined;
  const total = head.length + rest.length + tail.length;
  let groups: bigint[];
  if (halves.length === 2) {
    if (total > 7) return undefined;
    groups = [...head, ...new Array<bigint>(8 - total).fill(0n), ...rest, ...tail];
  } else {
    if (total !== 8) return undefined;
    groups = [...head, ...tail];
  }
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

function parseIP(s: string): { v6: boolean; addr: bigint } | undefined {
  if (s.includes(':')) {
    const a = parseV6(s);
    return a === undefined ? undefined : { v6: true, addr: a };
  }
  const a = parseV4(s);
  return a === undefined ? undefined : { v6: false, addr: a };
}

function parseCIDR(s: string, name = 'cidr'): Net {
  const i = s.indexOf('/');
  if (i < 0) throw builtinError(`invalid CIDR address: ${s}`);
  const ip = parseIP(s.slice(0, i));
  const bitsText = s.slice(i + 1);
  if (!ip || !/^\d+$/.test(bitsText)) throw builtinError(`invalid CIDR address: ${s}`);
  const bits = Number(bitsText);
  const width = ip.v6 ? 128 : 32;
  if (bits > width) throw builtinError(`invalid CIDR address: ${s}`);
  void name;
  return { v6: ip.v6, addr: ip.addr & mask(bits, width), bits };
}

function mask(bits: number, width: number): bigint {
  const all = (1n << BigInt(width)) - 1n;
  return bits === 0 ? 0n : (all << BigInt(width - bits)) & all;
}

function parseNetOrIP(s: string): Net {
  if (s.includes('/')) return parseCIDR(s);
  const ip = parseIP(s);
  if (!ip) throw builtinError(`invalid IP address: ${s}`);
  return { v6: ip.v6, addr: ip.addr, bits: ip.v6 ? 128 : 32 };
}

/** A bare IPv4 address in cidr_merge stands for its classful network (Go's DefaultMask). */
function classfulNet(s: string): Net {
  const ip = parseIP(s);
  if (!ip) throw builtinError(`invalid IP address: ${s}`);
  if (ip.v6) return { v6: true, addr: ip.addr, bits: 128 };
  const first = Number(ip.addr >> 24n);
  const bits = first < 0x80 ? 8 : first < 0xc0 ? 16 : 24;
  return { v6: false, addr: ip.addr & mask(bits, 32), bits };
}

function contains(outer: Net, inner: Net): boolean {
  if (outer.v6 !== inner.v6 || inner.bits < outer.bits) return false;
  const w = outer.v6 ? 128 : 32;
  return (inner.addr & mask(outer.bits, w)) === outer.addr;
}

function fmtIP(v6: boolean, a: bigint): string {
  if (!v6) return [24n, 16n, 8n, 0n].map((s) => String((a >> s) & 255n)).join('.');
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((a >> BigInt(i * 16)) & 0xffffn).toString(16));
  // Compress the longest run of zero groups, as Go does.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return groups.slice(0, best).join(':') + '::' + groups.slice(best + bestLen).join(':');
}

function fmtNet(n: Net): string {
  return `${fmtIP(n.v6, n.addr)}/${n.bits}`;
}

function merge(nets: Net[]): Net[] {
  const out: Net[] = [];
  for (const v6 of [false, true]) {
    let list = nets
      .filter((n) => n.v6 === v6)
      .sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : a.bits - b.bits));
    // Drop nets contained in an earlier one, then repeatedly join sibling halves.
    let changed = true;
    while (changed) {
      changed = false;
      const kept: Net[] = [];
      for (const n of list) {
        const last = kept[kept.length - 1];
        if (last && contains(last, n)) {
          changed = true;
          continue;
        }
        if (last && last.bits === n.bits && last.bits > 0) {
          const w = v6 ? 128 : 32;
          const parent = { v6, addr: last.addr & mask(last.bits - 1, w), bits: last.bits - 1 };
          if (parent.addr === last.addr && contains(parent, n)) {
            kept[kept.length - 1] = parent;
            changed = true;
            continue;
          }
        }
        kept.push(n);
      }
      list = kept;
    }
    out.push(...list);
  }
  return out;
}

export const netBuiltins: BuiltinTable = {
  'net.cidr_contains': def('net.cidr_contains', 2, (a) =>
    contains(parseCIDR(str(a, 0)), parseNetOrIP(str(a, 1))),
  ),
  'net.cidr_intersects': def('net.cidr_intersects', 2, (a) => {
    const x = parseCIDR(str(a, 0));
    const y = parseCIDR(str(a, 1));
    return contains(x, y) || contains(y, x);
  }),
  'net.cidr_overlap': def('net.cidr_overlap', 2, (a) =>
    contains(parseCIDR(str(a, 0)), parseNetOrIP(str(a, 1))),
  ),
  'net.cidr_is_valid': def('net.cidr_is_valid', 1, (a) => {
    if (typeof a[0] !== 'string') return false;
    try {
      parseCIDR(a[0]);
      return true;
    } catch {
      return false;
    }
  }),
  'net.cidr_expand': def('net.cidr_expand', 1, (a) => {
    const n = parseCIDR(str(a, 0));
    const w = n.v6 ? 128 : 32;
    const count = 1n << BigInt(w - n.bits);
    if (count > 65536n) throw builtinError('CIDR too large to expand');
    const out = new RSet();
    for (let i = 0n; i < count; i++) out.add(fmtIP(n.v6, n.addr + i));
    return out;
  }),
  'net.cidr_merge': def('net.cidr_merge', 1, (a) => {
    const items = collection(a, 0, 'one of {array, set}');
    const nets = items.map((x) => {
      if (typeof x !== 'string') throw operandErr(0, 'array of strings', x);
      return x.includes('/') ? parseCIDR(x) : classfulNet(x);
    });
    return RSet.of(merge(nets).map(fmtNet));
  }),
  'net.cidr_contains_matches': def('net.cidr_contains_matches', 2, (a) => {
    const entries = (v: Value, i: number): [Value, string][] => {
      if (typeof v === 'string') return [[v, v]];
      const pick = (k: Value, x: Value): [Value, string] => {
        const s = Array.isArray(x) ? x[0] : x;
        if (typeof s !== 'string')
          throw builtinError(`operand ${i + 1}: element must be string or non-empty array`);
        return [k, s];
      };
      if (Array.isArray(v)) return v.map((x, j) => pick(j, x));
      if (v instanceof RSet) return v.values().map((x) => pick(x, x));
      if (v instanceof RObject) return v.entries().map(([k, x]) => pick(k, x));
      throw operandErr(i, 'one of {string, array, set, object}', v);
    };
    const cidrs = entries(a[0] as Value, 0);
    const addrs = entries(a[1] as Value, 1);
    const out = new RSet();
    for (const [ck, c] of cidrs) {
      const n = parseCIDR(c);
      for (const [ak, x] of addrs) if (contains(n, parseNetOrIP(x))) out.add([ck, ak]);
    }
    return out;
  }),
};
