// Byte helpers that work the same in Node and in browsers (no Buffer in core code).

const encoder = new TextEncoder();
// fatal: invalid UTF-8 is an error, never silently replaced; ignoreBOM: keep a leading
// U+FEFF as text instead of stripping it, so decode(encode(x)) is the identity.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, throwing on malformed input. */
export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// String.prototype.isWellFormed (ES2024) where the runtime has it: several times faster.
const nativeWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

/** False if the string has a lone surrogate (it would not survive UTF-8 encoding). */
export const isWellFormedString: (s: string) => boolean = nativeWellFormed
  ? (s) => nativeWellFormed.call(s)
  : (s) => !loneSurrogate.test(s);

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const hexDigits = '0123456789abcdef';

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += hexDigits[b >> 4]! + hexDigits[b & 15]!;
  return s;
}

/** Decodes lowercase or uppercase hex; throws on odd length or a non-hex digit. */
const hexValues = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  hexValues['0123456789abcdef'.charCodeAt(i)] = i;
  hexValues['0123456789ABCDEF'.charCodeAt(i)] = i;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new Error('invalid hex string');
  const out = new Uint8Array(hex.length / 2);
  // A table lookup per digit: proofs in dossiers decode thousands of hashes.
  for (let i = 0; i < out.length; i++) {
    const hi = hexValues[hex.charCodeAt(2 * i)] ?? -1;
    const lo = hexValues[hex.charCodeAt(2 * i + 1)] ?? -1;
    if (hi < 0 || lo < 0) throw new Error('invalid hex string');
    out[i] = (hi << 4) | lo;
  }
  return out;
}

const b64Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const b64Values = new Int16Array(128).fill(-1);
for (let i = 0; i < b64Alphabet.length; i++) b64Values[b64Alphabet.charCodeAt(i)] = i;

/** Standard base64 (RFC 4648 section 4) with padding. */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    s +=
      b64Alphabet[n >> 18]! +
      b64Alphabet[(n >> 12) & 63]! +
      b64Alphabet[(n >> 6) & 63]! +
      b64Alphabet[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    s += b64Alphabet[n >> 18]! + b64Alphabet[(n >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    s += b64Alphabet[n >> 18]! + b64Alphabet[(n >> 12) & 63]! + b64Alphabet[(n >> 6) & 63]! + '=';
  }
  return s;
}

/**
 * Strict standard base64 decoding: padding required, no whitespace, no URL alphabet, and
 * unused trailing bits must be zero, so every byte string has exactly one accepted text.
 */
export function fromBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new Error('invalid base64: length is not a multiple of 4');
  let pad = 0;
  if (text.endsWith('==')) pad = 2;
  else if (text.endsWith('=')) pad = 1;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j);
      let v: number;
      if (last && c === 61 /* = */ && j >= 4 - pad) v = 0;
      else {
        v = c < 128 ? b64Values[c]! : -1;
        if (v < 0) throw new Error('invalid base64 character');
      }
      n = (n << 6) | v;
    }
    const b0 = (n >> 16) & 255;
    const b1 = (n >> 8) & 255;
    const b2 = n & 255;
    out[o++] = b0;
    if (last && pad === 2) {
      if (b1 !== 0 || b2 !== 0) throw new Error('invalid base64: non-zero padding bits');
      break;
    }
    out[o++] = b1;
    if (last && pad === 1) {
      if (b2 !== 0) throw new Error('invalid base64: non-zero padding bits');
      break;
    }
    out[o++] = b2;
  }
  return out;
}
