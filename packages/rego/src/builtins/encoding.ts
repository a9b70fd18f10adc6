// Encoding builtins: json.*, yaml.*, base64*, hex.*, urlquery.*.
import YAML from 'yaml';
import { builtinError, typeError } from '../errors.ts';
import { RObject, RSet, fromJS, stringifyJSON, toJS, toJSONText, type Value } from '../value.ts';
import { obj, operandErr, str } from './helpers.ts';
import { parseJSON } from './json-parse.ts';
import { def, type BuiltinTable } from './types.ts';

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const B64URL = /^[A-Za-z0-9\-_]*={0,2}$/;

function decodeB64(s: string, url: boolean): string {
  const re = url ? B64URL : B64;
  const padded =
    url && s.length % 4 !== 0 && !s.includes('=') ? s + '='.repeat((4 - (s.length % 4)) % 4) : s;
  if (!re.test(padded) || padded.length % 4 !== 0) {
    const bad = [...s].findIndex((c) => !/[A-Za-z0-9+/=\-_]/.test(c));
    throw builtinError(`illegal base64 data at input byte ${bad >= 0 ? bad : s.length}`);
  }
  return Buffer.from(padded, url ? 'base64url' : 'base64').toString('utf8');
}

function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+');
}

function queryUnescape(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw builtinError(`invalid URL escape`);
  }
}

export function yamlToValue(text: string): Value {
  const docs = YAML.parseAllDocuments(text);
  if (docs.length === 0) return null;
  const d = docs[0] as YAML.Document.Parsed;
  if (d.errors.length) throw builtinError(d.errors[0]?.message ?? 'yaml: invalid document');
  return fromJS(d.toJS({ maxAliasCount: 1000 }));
}

export const encodingBuiltins: BuiltinTable = {
  'json.marshal': def('json.marshal', 1, (a) => toJSONText(a[0] as Value)),
  'json.marshal_with_options': def('json.marshal_with_options', 2, (a) => {
    const o = obj(a, 1);
    const pretty = o.get('pretty');
    const indent = o.get('indent');
    const prefix = o.get('prefix');
    for (const [k] of o.entries())
      if (k !== 'pretty' && k !== 'indent' && k !== 'prefix')
        throw typeError(`object contained unknown key ${JSON.stringify(k)}`);
    const usePretty =
      pretty === true || (pretty === undefined && (indent !== undefined || prefix !== undefined));
    if (!usePretty) return toJSONText(a[0] as Value);
    const ind = typeof indent === 'string' ? indent : '\t';
    const pre = typeof prefix === 'string' ? prefix : '';
    return pre + stringifyJSON(toJS(a[0] as Value), ind, pre);
  }),
  'json.unmarshal': def('json.unmarshal', 1, (a) => parseJSON(str(a, 0))),
  'json.is_valid': def('json.is_valid', 1, (a) => {
    if (typeof a[0] !== 'string') return false;
    try {
      parseJSON(a[0]);
      return true;
    } catch {
      return false;
    }
  }),
  'yaml.marshal': def('yaml.marshal', 1, (a) => YAML.stringify(toJS(a[0] as Value))),
  'yaml.unmarshal': def('yaml.unmarshal', 1, (a) => yamlToValue(str(a, 0))),
  'yaml.is_valid': def('yaml.is_valid', 1, (a) => {
    if (typeof a[0] !== 'string') return false;
    try {
      yamlToValue(a[0]);
      return true;
    } catch {
      return false;
    }
  }),
  'base64.encode': def('base64.encode', 1, (a) =>
    Buffer.from(str(a, 0), 'utf8').toString('base64'),
  ),
  'base64.decode': def('base64.decode', 1, (a) => decodeB64(str(a, 0), false)),
  'base64.is_valid': def('base64.is_valid', 1, (a) => {
    const s = str(a, 0);
    return B64.test(s) && s.length % 4 === 0;
  }),
  'base64url.encode': def('base64url.encode', 1, (a) => {
    const b = Buffer.from(str(a, 0), 'utf8').toString('base64url');
    return b + '='.repeat((4 - (b.length % 4)) % 4);
  }),
  'base64url.encode_no_pad': def('base64url.encode_no_pad', 1, (a) =>
    Buffer.from(str(a, 0), 'utf8').toString('base64url'),
  ),
  'base64url.decode': def('base64url.decode', 1, (a) => decodeB64(str(a, 0), true)),
  'hex.encode': def('hex.encode', 1, (a) => Buffer.from(str(a, 0), 'utf8').toString('hex')),
  'hex.decode': def('hex.decode', 1, (a) => {
    const s = str(a, 0);
    if (!/^([0-9a-fA-F]{2})*$/.test(s)) {
      const bad = [...s].findIndex((c) => !/[0-9a-fA-F]/.test(c));
      if (bad >= 0)
        throw builtinError(
          `encoding/hex: invalid byte: U+${s.charCodeAt(bad).toString(16).toUpperCase().padStart(4, '0')} ${JSON.stringify(s[bad]).replace(/"/g, "'")}`,
        );
      throw builtinError('encoding/hex: odd length hex string');
    }
    return Buffer.from(s, 'hex').toString('utf8');
  }),
  'urlquery.encode': def('urlquery.encode', 1, (a) => queryEscape(str(a, 0))),
  'urlquery.decode': def('urlquery.decode', 1, (a) => queryUnescape(str(a, 0))),
  'urlquery.encode_object': def('urlquery.encode_object', 1, (a) => {
    const o = obj(a, 0);
    const parts: string[] = [];
    for (const [k, v] of o.entries()) {
      if (typeof k !== 'string') throw operandErr(0, 'object with string keys', k);
      const vals =
        typeof v === 'string'
          ? [v]
          : Array.isArray(v)
            ? v
            : v instanceof RSet
              ? v.values()
              : undefined;
      if (!vals) throw operandErr(0, 'object of strings or arrays/sets of strings', v);
      for (const x of vals) {
        if (typeof x !== 'string')
          throw operandErr(0, 'object of strings or arrays/sets of strings', x);
        parts.push(queryEscape(k) + '=' + queryEscape(x));
      }
    }
    return parts.join('&');
  }),
  'urlquery.decode_object': def('urlquery.decode_object', 1, (a) => {
    const out = new RObject();
    for (const part of str(a, 0).split(/[&;]/)) {
      if (!part) continue;
      const i = part.indexOf('=');
      const k = queryUnescape(i < 0 ? part : part.slice(0, i));
      const v = i < 0 ? '' : queryUnescape(part.slice(i + 1));
      const prev = out.get(k);
      out.set(k, [...(Array.isArray(prev) ? prev : []), v]);
    }
    return out;
  }),
};
