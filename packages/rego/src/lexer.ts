// Tokenizer for Rego source. Keywords are lexed as identifiers: Rego lets many of
// them appear as ref components (`foo.as`, `as.bar`), so the parser decides by context.
import { RegoError } from './errors.ts';

export type TokenKind = 'ident' | 'string' | 'number' | 'template' | 'punct' | 'eof';

export interface TemplatePart {
  text?: string;
  /** Source of an embedded expression and where it starts. */
  expr?: { src: string; row: number; col: number };
}

export interface Token {
  kind: TokenKind;
  text: string;
  /** Decoded value for strings; raw text for numbers. */
  value: string;
  parts?: TemplatePart[];
  row: number;
  col: number;
  /** True when a newline separates this token from the previous one. */
  nl: boolean;
}

const PUNCT3 = new Set<string>();
const PUNCT2 = new Set([':=', '==', '!=', '<=', '>=']);
const PUNCT1 = new Set('{}[]().,;:=<>+-*/%|&!'.split(''));

/** A `#` comment; METADATA annotation blocks are read from these. */
export interface Comment {
  row: number;
  col: number;
  /** Text after the `#`. */
  text: string;
}

export function tokenize(
  src: string,
  file: string,
  rowBase = 1,
  colBase = 1,
  comments?: Comment[],
): Token[] {
  const out: Token[] = [];
  let i = 0;
  let row = rowBase;
  let lineStart = -(colBase - 1);
  let nl = true;
  const n = src.length;
  const err = (msg: string, r = row, c = i - lineStart + 1): RegoError =>
    new RegoError('rego_parse_error', msg, { file, row: r, col: c });
  while (i < n) {
    const ch = src[i] as string;
    if (ch === '\n') {
      row++;
      i++;
      lineStart = i;
      nl = true;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '#') {
      const start = i;
      while (i < n && src[i] !== '\n') i++;
      comments?.push({
        row,
        col: start - lineStart + 1,
        text: src.slice(start + 1, i).replace(/\r$/, ''),
      });
      continue;
    }
    const startRow = row;
    const startCol = i - lineStart + 1;
    const push = (kind: TokenKind, text: string, value: string, parts?: TemplatePart[]): void => {
      const t: Token = { kind, text, value, row: startRow, col: startCol, nl };
      if (parts) t.parts = parts;
      out.push(t);
      nl = false;
    };
    if (/[A-Za-z_]/.test(ch)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(src[j] as string)) j++;
      const text = src.slice(i, j);
      push('ident', text, text);
      i = j;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i));
      const text = m ? m[0] : ch;
      push('number', text, text);
      i += text.length;
      if (i < n && /[A-Za-z_]/.test(src[i] as string))
        throw err('unexpected identifier after number');
      continue;
    }
    if (ch === '"') {
      const [value, end] = readString(src, i, err);
      push('string', src.slice(i, end), value);
      i = end;
      continue;
    }
    if (ch === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw err('non-terminated raw string');
      const value = src.slice(i + 1, end);
      push('string', src.slice(i, end + 1), value);
      for (const c of value) if (c === '\n') row++;
      if (value.includes('\n')) lineStart = i + 1 + value.lastIndexOf('\n') + 1;
      i = end + 1;
      continue;
    }
    if (ch === '$' && (src[i + 1] === '"' || src[i + 1] === '`')) {
      const [parts, end] = readTemplate(src, i + 1, err, row, lineStart);
      push('template', src.slice(i, end), '', parts);
      const chunk = src.slice(i, end);
      const lines = chunk.split('\n');
      if (lines.length > 1) {
        row += lines.length - 1;
        lineStart = i + chunk.lastIndexOf('\n') + 1;
      }
      i = end;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (PUNCT3.has(src.slice(i, i + 3))) {
      push('punct', src.slice(i, i + 3), src.slice(i, i + 3));
      i += 3;
      continue;
    }
    if (PUNCT2.has(two)) {
      push('punct', two, two);
      i += 2;
      continue;
    }
    if (PUNCT1.has(ch)) {
      push('punct', ch, ch);
      i++;
      continue;
    }
    throw err(`illegal token ${JSON.stringify(ch)}`);
  }
  out.push({ kind: 'eof', text: '', value: '', row, col: i - lineStart + 1, nl: true });
  return out;
}

type ErrFn = (msg: string) => RegoError;

function readEscape(src: string, i: number, err: ErrFn): [string, number] {
  const e = src[i + 1];
  switch (e) {
    case '"':
    case '\\':
    case '/':
      return [e, i + 2];
    case 'b':
      return ['\b', i + 2];
    case 'f':
      return ['\f', i + 2];
    case 'n':
      return ['\n', i + 2];
    case 'r':
      return ['\r', i + 2];
    case 't':
      return ['\t', i + 2];
    case 'u': {
      const hex = src.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw err('illegal unicode escape');
      return [String.fromCharCode(parseInt(hex, 16)), i + 6];
    }
    default:
      throw err('illegal escape sequence');
  }
}

function readString(src: string, start: number, err: ErrFn): [string, number] {
  let i = start + 1;
  let out = '';
  while (i < src.length) {
    const c = src[i] as string;
    if (c === '"') return [out, i + 1];
    if (c === '\n') break;
    if (c === '\\') {
      const [s, j] = readEscape(src, i, err);
      out += s;
      i = j;
      continue;
    }
    out += c;
    i++;
  }
  throw err('non-terminated string');
}

/** Reads `"..."` or a raw template after `$`; `{expr}` parts hold nested source, `\{` escapes a brace. */
function readTemplate(
  src: string,
  start: number,
  err: ErrFn,
  row0: number,
  lineStart0: number,
): [TemplatePart[], number] {
  const raw = src[start] === '`';
  const close = raw ? '`' : '"';
  let i = start + 1;
  let text = '';
  let row = row0;
  let lineStart = lineStart0;
  const parts: TemplatePart[] = [];
  while (i < src.length) {
    const c = src[i] as string;
    if (c === close) {
      if (text) parts.push({ text });
      return [parts, i + 1];
    }
    if (c === '\n') {
      if (!raw) break;
      row++;
      lineStart = i + 1;
    }
    if (c === '\\' && src[i + 1] === '{') {
      text += '{';
      i += 2;
      continue;
    }
    if (c === '\\' && !raw) {
      if (src[i + 1] === '{') {
        text += '{';
        i += 2;
        continue;
      }
      const [s, j] = readEscape(src, i, err);
      text += s;
      i = j;
      continue;
    }
    if (c === '{') {
      // Find the matching brace, skipping nested strings and templates.
      let depth = 1;
      let j = i + 1;
      while (j < src.length && depth > 0) {
        const d = src[j] as string;
        if (d === '"') {
          j = readString(src, j, err)[1];
          continue;
        }
        if (d === '`') {
          j = src.indexOf('`', j + 1) + 1;
          if (j === 0) throw err('non-terminated raw string');
          continue;
        }
        if (d === '{') depth++;
        else if (d === '}') depth--;
        j++;
      }
      if (depth !== 0) throw err('non-terminated template expression');
      if (text) parts.push({ text });
      text = '';
      parts.push({ expr: { src: src.slice(i + 1, j - 1), row, col: i + 1 - lineStart + 1 } });
      i = j;
      continue;
    }
    text += c;
    i++;
  }
  throw err('non-terminated template string');
}
