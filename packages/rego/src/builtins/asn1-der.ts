// A minimal DER reader: enough to walk X.509 certificates and PKCS#10 requests, which
// node:crypto does not expose field by field (and not at all, for requests). Errors use
// Go's encoding/asn1 wording, which OPA passes through.

export class Asn1Error extends Error {}

export interface Tlv {
  /** Tag class (0 universal, 1 application, 2 context, 3 private). */
  cls: number;
  constructed: boolean;
  tag: number;
  /** The whole element, header included. */
  raw: Buffer;
  /** The contents octets. */
  body: Buffer;
}

export const TAG = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OID: 6,
  UTF8_STRING: 12,
  SEQUENCE: 16,
  SET: 17,
  PRINTABLE_STRING: 19,
  T61_STRING: 20,
  IA5_STRING: 22,
  UTC_TIME: 23,
  GENERALIZED_TIME: 24,
  BMP_STRING: 30,
} as const;

/** Reads one element at offset; returns it and the offset after it. */
export function readTlv(buf: Buffer, offset = 0): { tlv: Tlv; next: number } {
  if (offset + 2 > buf.length) throw new Asn1Error('asn1: syntax error: data truncated');
  const b0 = buf[offset] as number;
  let pos = offset + 1;
  let tag = b0 & 0x1f;
  if (tag === 0x1f) {
    tag = 0;
    for (;;) {
      if (pos >= buf.length) throw new Asn1Error('asn1: syntax error: data truncated');
      const b = buf[pos++] as number;
      tag = tag * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (pos >= buf.length) throw new Asn1Error('asn1: syntax error: data truncated');
  let len = buf[pos++] as number;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4)
      throw new Asn1Error('asn1: structure error: indefinite or too long length');
    len = 0;
    for (let i = 0; i < n; i++) {
      if (pos >= buf.length) throw new Asn1Error('asn1: syntax error: data truncated');
      len = len * 256 + (buf[pos++] as number);
    }
  }
  const end = pos + len;
  if (end > buf.length) throw new Asn1Error('asn1: syntax error: data truncated');
  return {
    tlv: {
      cls: b0 >> 6,
      constructed: (b0 & 0x20) !== 0,
      tag,
      raw: buf.subarray(offset, end),
      body: buf.subarray(pos, end),
    },
    next: end,
  };
}

/** Parses exactly one element spanning the whole buffer. With `tag`, a mismatching
 * first tag is reported before any length problem, as Go's decoder does. */
export function parseDer(buf: Buffer, tag?: number): Tlv {
  const b0 = buf[0];
  if (tag !== undefined && b0 !== undefined && ((b0 & 0x1f) !== tag || b0 >> 6 !== 0))
    throw new Asn1Error(
      `asn1: structure error: tags don't match (${tag} vs {class:${b0 >> 6} tag:${b0 & 0x1f} isCompound:${(b0 & 0x20) !== 0}})`,
    );
  const { tlv, next } = readTlv(buf, 0);
  if (next !== buf.length) throw new Asn1Error('asn1: syntax error: trailing data');
  return tlv;
}

/** The children of a constructed element. */
export function children(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let pos = 0;
  while (pos < t.body.length) {
    const { tlv, next } = readTlv(t.body, pos);
    out.push(tlv);
    pos = next;
  }
  return out;
}

/** Asserts a universal tag, in Go's words when it does not match. */
export function expect(t: Tlv | undefined, tag: number): Tlv {
  if (t === undefined) throw new Asn1Error('asn1: syntax error: sequence truncated');
  if (t.cls !== 0 || t.tag !== tag)
    throw new Asn1Error(
      `asn1: structure error: tags don't match (${tag} vs {class:${t.cls} tag:${t.tag} length:${t.body.length} isCompound:${t.constructed}})`,
    );
  return t;
}

export function isContext(t: Tlv | undefined, tag: number): boolean {
  return t !== undefined && t.cls === 2 && t.tag === tag;
}

export function oid(t: Tlv): number[] {
  const b = t.body;
  const out: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    const byte = b[i] as number;
    v = v * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (out.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        out.push(first, v - first * 40);
      } else out.push(v);
      v = 0;
    }
  }
  return out;
}

/** Two's-complement big-endian integer. */
export function bigInt(t: Tlv): bigint {
  const b = t.body;
  if (b.length === 0) return 0n;
  let v = BigInt('0x' + b.toString('hex'));
  if (((b[0] as number) & 0x80) !== 0) v -= 1n << BigInt(b.length * 8);
  return v;
}

export function bool(t: Tlv): boolean {
  return (t.body[0] ?? 0) !== 0;
}

/** Bit string contents without the unused-bits octet. */
export function bitString(t: Tlv): { bytes: Buffer; unused: number } {
  return { bytes: t.body.subarray(1), unused: t.body[0] ?? 0 };
}

export function text(t: Tlv): string {
  if (t.tag === TAG.BMP_STRING) {
    let s = '';
    for (let i = 0; i + 1 < t.body.length; i += 2)
      s += String.fromCharCode(((t.body[i] as number) << 8) | (t.body[i + 1] as number));
    return s;
  }
  if (t.tag === TAG.T61_STRING) return t.body.toString('latin1');
  return t.body.toString('utf8');
}

/** UTCTime or GeneralizedTime as a Date. */
export function time(t: Tlv): Date {
  const s = t.body.toString('latin1');
  const m =
    t.tag === TAG.UTC_TIME
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(s)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/.exec(s);
  if (!m) throw new Asn1Error('asn1: time did not serialize back to the original value');
  let year = Number(m[1]);
  if (t.tag === TAG.UTC_TIME) year += year < 50 ? 2000 : 1900;
  const frac = t.tag === TAG.GENERALIZED_TIME && m[7] ? Number(m[7]) * 1000 : 0;
  return new Date(
    Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)) +
      frac,
  );
}
