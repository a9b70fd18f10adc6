// uri.parse: splits a URL the way Go's net/url.Parse does (OPA is built on it), so
// edge cases such as opaque URIs, IPv6 literals and escaped paths match OPA's result.
import { builtinError } from '../errors.ts';
import { RObject } from '../value.ts';
import { str } from './helpers.ts';
import { def, type BuiltinTable } from './types.ts';

export interface ParsedURL {
  scheme: string;
  opaque: string;
  host: string;
  port: string;
  path: string;
  rawPath: string;
  rawQuery: string;
  fragment: string;
}

class URLError extends Error {}

function splitScheme(raw: string): [string, string] {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) return ['', raw];
      continue;
    }
    if (c === ':') {
      if (i === 0) throw new URLError('missing protocol scheme');
      return [raw.slice(0, i), raw.slice(i + 1)];
    }
    return ['', raw];
  }
  return ['', raw];
}

/** Percent-decoding that rejects malformed escapes, as Go's url.PathUnescape does. */
function unescape(s: string): string {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length;) {
    if (s[i] === '%') {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h))
        throw new URLError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
      bytes.push(parseInt(h, 16));
      i += 3;
    } else {
      const cp = s.codePointAt(i) as number;
      const ch = String.fromCodePoint(cp);
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

const PATH_SAFE = /[A-Za-z0-9\-_.~$&+,/:;=@]/;

function escapePath(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && PATH_SAFE.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** The escaped path Go reports: the original text when it is a valid encoding. */
function escapedPath(raw: string, decoded: string): string {
  const valid = [...raw].every(
    (c) => c === '%' || "!$&'()*+,;=:@[]".includes(c) || PATH_SAFE.test(c),
  );
  return valid ? raw : escapePath(decoded);
}

function parseAuthority(auth: string): { host: string; port: string } {
  const at = auth.lastIndexOf('@');
  const hostport = at < 0 ? auth : auth.slice(at + 1);
  let host = hostport;
  let port = '';
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end < 0) throw new URLError("missing ']' in host");
    const after = hostport.slice(end + 1);
    if (after !== '' && !/^:\d*$/.test(after))
      throw new URLError(`invalid port ${JSON.stringify(after)} after host`);
    host = hostport.slice(1, end);
    port = after.slice(1);
  } else {
    const i = hostport.lastIndexOf(':');
    if (i >= 0) {
      const p = hostport.slice(i);
      if (!/^:\d*$/.test(p)) throw new URLError(`invalid port ${JSON.stringify(p)} after host`);
      host = hostport.slice(0, i);
      port = p.slice(1);
    }
  }
  return { host: unescape(host), port };
}

export function parseURL(raw: string): ParsedURL {
  const u: ParsedURL = {
    scheme: '',
    opaque: '',
    host: '',
    port: '',
    path: '',
    rawPath: '',
    rawQuery: '',
    fragment: '',
  };
  try {
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(raw))
      throw new URLError('net/url: invalid control character in URL');
    const hash = raw.indexOf('#');
    let rest = raw;
    if (hash >= 0) {
      u.fragment = unescape(raw.slice(hash + 1));
      rest = raw.slice(0, hash);
    }
    if (rest === '*') {
      u.path = u.rawPath = '*';
      return u;
    }
    const [scheme, afterScheme] = splitScheme(rest);
    u.scheme = scheme.toLowerCase();
    rest = afterScheme;
    const q = rest.indexOf('?');
    if (q >= 0) {
      u.rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
    if (!rest.startsWith('/')) {
      if (u.scheme !== '') {
        u.opaque = rest;
        return u;
      }
      if ((rest.split('/')[0] as string).includes(':'))
        throw new URLError('first path segment in URL cannot contain colon');
    }
    if ((u.scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
      let auth = rest.slice(2);
      rest = '';
      const slash = auth.indexOf('/');
      if (slash >= 0) {
        rest = auth.slice(slash);
        auth = auth.slice(0, slash);
      }
      const { host, port } = parseAuthority(auth);
      u.host = host;
      u.port = port;
    }
    u.path = unescape(rest);
    u.rawPath = escapedPath(rest, u.path);
    return u;
  } catch (e) {
    if (e instanceof URLError) throw builtinError(`parse ${JSON.stringify(raw)}: ${e.message}`);
    throw e;
  }
}

export const uriBuiltins: BuiltinTable = {
  'uri.parse': def('uri.parse', 1, (a) => {
    const u = parseURL(str(a, 0));
    // OPA leaves out the parts a URL does not have.
    const o = new RObject();
    const put = (k: string, v: string): void => {
      if (v !== '') o.set(k, v);
    };
    put('scheme', u.scheme);
    put('hostname', u.host);
    put('port', u.port);
    put('path', u.path);
    put('raw_path', u.rawPath);
    put('raw_query', u.rawQuery);
    put('fragment', u.fragment);
    return o;
  }),
};
