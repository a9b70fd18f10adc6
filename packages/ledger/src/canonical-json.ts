// RFC 8785 JSON Canonicalization Scheme (JCS). Audit entries are hashed as Merkle leaves in
// this encoding, so the same entry must always produce the same bytes, in Node and in the
// browser. Only the JSON data model is accepted: anything JSON.stringify would silently
// drop, coerce or call toJSON on is rejected instead of guessed at.
import { isWellFormedString, utf8Encode } from './bytes.ts';
import { LedgerError } from './errors.ts';

/** A value that canonicalJson accepts. */
export type JsonValue =
  null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

function fail(path: string, problem: string): never {
  throw new LedgerError('LEDGER_CANONICAL_JSON_INVALID', `canonical JSON: ${problem} at ${path}`);
}

function serializeString(s: string, path: string): string {
  // I-JSON (RFC 7493, required by RFC 8785) forbids lone surrogates; JSON.stringify would
  // escape them and produce text that is not valid Unicode.
  if (!isWellFormedString(s)) fail(path, 'string contains a lone surrogate');
  // JSON.stringify's string escaping is exactly RFC 8785's (section 3.2.2.2).
  return JSON.stringify(s);
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function serialize(v: unknown, path: string, active: Set<object>): string {
  switch (typeof v) {
    case 'string':
      return serializeString(v, path);
    case 'number':
      if (!Number.isFinite(v)) fail(path, `non-finite number ${String(v)}`);
      // ECMAScript Number.prototype.toString is the RFC 8785 number format; -0 becomes "0".
      return String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (active.has(v)) fail(path, 'cyclic reference');
      if (Array.isArray(v)) {
        active.add(v);
        let out = '[';
        for (let i = 0; i < v.length; i++) {
          if (i > 0) out += ',';
          // Holes in sparse arrays read as undefined and are rejected below.
          out += serialize(v[i], `${path}[${i}]`, active);
        }
        active.delete(v);
        return out + ']';
      }
      if (!isPlainObject(v))
        fail(path, `unsupported object type ${v.constructor?.name ?? 'unknown'}`);
      active.add(v);
      const record = v as Record<string, unknown>;
      // Default sort compares UTF-16 code units, which is what RFC 8785 section 3.2.3 asks for.
      const keys = Object.keys(record).sort();
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        if (i > 0) out += ',';
        out += serializeString(key, path) + ':' + serialize(record[key], `${path}.${key}`, active);
      }
      active.delete(v);
      return out + '}';
    }
    case 'undefined':
      return fail(path, 'undefined is not JSON');
    default:
      return fail(path, `${typeof v} is not JSON`);
  }
}

// The write path hashes every audit entry, so ordinary input takes a lean route: a validated
// copy with keys inserted in sorted order, printed by one JSON.stringify (its string escaping
// and number format are RFC 8785's; a plain object prints keys in insertion order). Integer-
// like keys break that (engines print them first, in numeric order), so they, and anything
// else unusual, fall back to the careful serializer above, which also names any problem.
const notFast = new Error('not on the fast path');
const maxFastDepth = 64;

function sortedCopy(v: unknown, depth: number): unknown {
  switch (typeof v) {
    case 'string':
      if (!isWellFormedString(v)) throw notFast;
      return v;
    case 'number':
      if (!Number.isFinite(v)) throw notFast;
      return v;
    case 'boolean':
      return v;
    case 'object': {
      if (v === null) return v;
      if (depth > maxFastDepth) throw notFast;
      if (Array.isArray(v)) {
        const out: unknown[] = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) out[i] = sortedCopy(v[i], depth + 1);
        return out;
      }
      if (!isPlainObject(v)) throw notFast;
      const record = v as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const c = key.charCodeAt(0);
        // Digits first: integer-like keys; __proto__ would set the copy's prototype instead.
        if ((c >= 48 && c <= 57) || key === '__proto__' || !isWellFormedString(key)) throw notFast;
        out[key] = sortedCopy(record[key], depth + 1);
      }
      return out;
    }
    default:
      throw notFast;
  }
}

/** RFC 8785 canonical JSON text of a value. Throws LEDGER_CANONICAL_JSON_INVALID on non-JSON input. */
export function canonicalJson(value: unknown): string {
  let copy: unknown;
  try {
    copy = sortedCopy(value, 0);
  } catch (err) {
    if (err !== notFast) throw err;
    return serialize(value, '$', new Set());
  }
  return JSON.stringify(copy);
}

/** UTF-8 bytes of canonicalJson(value): the bytes that become a Merkle leaf. */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8Encode(canonicalJson(value));
}

/** True when text is exactly the canonical form of the JSON it contains. */
export function isCanonicalJson(text: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  try {
    return canonicalJson(parsed) === text;
  } catch {
    return false;
  }
}
