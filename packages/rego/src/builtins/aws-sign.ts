// providers.aws.sign_req: AWS Signature Version 4, header-based, single chunk, as
// described in AWS's SigV4 documentation, built on node:crypto. Returns the request
// with `Authorization` and the signed `x-amz-*` / `host` headers added.
import { createHash, createHmac } from 'node:crypto';
import { builtinError, typeError } from '../errors.ts';
import { RObject, toJSONText, type Value } from '../value.ts';
import { num, obj } from './helpers.ts';
import { def, type BuiltinTable } from './types.ts';
import { parseURL } from './uri.ts';

/** Headers that proxies commonly rewrite; signing them would break the signature. */
const UNSIGNED = new Set(['authorization', 'user-agent', 'x-amzn-trace-id']);

const sha256Hex = (data: string | Buffer): string =>
  createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer =>
  createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding of everything but unreserved characters, as SigV4 requires. */
function awsEncode(s: string, keepSlash: boolean): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** Query parameters sorted by encoded name, then value. */
function canonicalQuery(raw: string): string {
  if (!raw) return '';
  const pairs = raw
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const i = p.indexOf('=');
      const k = i < 0 ? p : p.slice(0, i);
      const v = i < 0 ? '' : p.slice(i + 1);
      return [awsEncode(decodeComponent(k), false), awsEncode(decodeComponent(v), false)] as const;
    });
  pairs.sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0,
  );
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

export interface SignInput {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  accessKey: string;
  secretKey: string;
  sessionToken: string;
  service: string;
  region: string;
  time: Date;
  unsignedPayload: boolean;
}

/** The headers to add to the request: Authorization and the signed AWS ones. */
export function signV4(req: SignInput): Record<string, string> {
  const u = parseURL(req.url);
  const iso = req.time
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const date = iso.slice(0, 8);
  const payloadHash = req.unsignedPayload ? 'UNSIGNED-PAYLOAD' : sha256Hex(req.body ?? '');
  const aws: Record<string, string> = {
    host: u.port ? `${u.host.includes(':') ? `[${u.host}]` : u.host}:${u.port}` : u.host,
    'x-amz-date': iso,
  };
  // S3 and Glacier require the payload hash as a header.
  if (req.service === 's3' || req.service === 'glacier') aws['x-amz-content-sha256'] = payloadHash;
  if (req.sessionToken) aws['x-amz-security-token'] = req.sessionToken;
  const signed = new Map<string, string[]>();
  for (const [k, v] of Object.entries(aws)) signed.set(k, [v]);
  for (const [k, v] of Object.entries(req.headers)) {
    const name = k.toLowerCase();
    if (name in aws || UNSIGNED.has(name)) continue;
    signed.set(name, [...(signed.get(name) ?? []), v.trim().replace(/\s+/g, ' ')]);
  }
  const names = [...signed.keys()].sort();
  const signedHeaders = names.join(';');
  // S3 signs the path as sent; other services encode each segment once more.
  const path = u.path || '/';
  const canonicalPath =
    req.service === 's3' ? awsEncode(path, true) : awsEncode(awsEncode(path, true), true);
  const canonical = [
    req.method.toUpperCase(),
    canonicalPath,
    canonicalQuery(u.rawQuery),
    ...names.map((n) => `${n}:${(signed.get(n) as string[]).join(',')}`),
    '',
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${req.region}/${req.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', iso, scope, sha256Hex(canonical)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${req.secretKey}`, date), req.region), req.service),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return {
    ...aws,
    Authorization: `AWS4-HMAC-SHA256 Credential=${req.accessKey}/${scope},SignedHeaders=${signedHeaders},Signature=${signature}`,
  };
}

function need(cfg: RObject, key: string): string {
  const v = cfg.get(key);
  if (v === undefined) throw builtinError(`aws_config: missing required key "${key}"`);
  if (typeof v !== 'string') throw typeError(`aws_config: "${key}" must be a string`);
  return v;
}

export const awsBuiltins: BuiltinTable = {
  'providers.aws.sign_req': def('providers.aws.sign_req', 3, (a) => {
    const req = obj(a, 0);
    const cfg = obj(a, 1);
    const ns = num(a, 2);
    const method = req.get('method');
    const url = req.get('url');
    if (typeof method !== 'string') throw builtinError('request: missing or invalid "method"');
    if (typeof url !== 'string') throw builtinError('request: missing or invalid "url"');
    const headersV = req.get('headers');
    const headers: Record<string, string> = {};
    if (headersV !== undefined) {
      if (!(headersV instanceof RObject)) throw typeError('request: "headers" must be an object');
      for (const [k, v] of headersV.entries())
        headers[String(k)] = typeof v === 'string' ? v : toJSONText(v);
    }
    // raw_body is sent as is; otherwise body is sent as JSON.
    const raw = req.get('raw_body');
    const body = req.get('body');
    const payload =
      typeof raw === 'string'
        ? Buffer.from(raw)
        : body !== undefined && body !== null
          ? Buffer.from(toJSONText(body))
          : undefined;
    const disable = cfg.get('disable_payload_signing');
    const out = signV4({
      method,
      url,
      headers,
      body: payload,
      accessKey: need(cfg, 'aws_access_key'),
      secretKey: need(cfg, 'aws_secret_access_key'),
      sessionToken: (cfg.get('aws_session_token') as string | undefined) ?? '',
      service: need(cfg, 'aws_service'),
      region: need(cfg, 'aws_region'),
      time: new Date(typeof ns === 'bigint' ? Number(ns / 1000000n) : Math.floor(ns / 1e6)),
      unsignedPayload: disable === true,
    });
    const signedReq = req.copy();
    const hdrs = headersV instanceof RObject ? headersV.copy() : new RObject();
    for (const [k, v] of Object.entries(out)) hdrs.set(k, v as Value);
    signedReq.set('headers', hdrs);
    return signedReq;
  }),
};
