// Hashes, HMACs and UUIDs via node:crypto.
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { builtinError, typeError } from '../errors.ts';
import { RObject, RSet, formatValue, type Value } from '../value.ts';
import { obj, str } from './helpers.ts';
import { def, type BuiltinTable } from './types.ts';

const hash = (alg: string) => (a: Value[]) =>
  createHash(alg).update(str(a, 0), 'utf8').digest('hex');
const hmac = (alg: string) => (a: Value[]) =>
  createHmac(alg, Buffer.from(str(a, 1), 'utf8'))
    .update(str(a, 0), 'utf8')
    .digest('hex');

function parseUUID(s: string): Value | undefined {
  const m =
    /^(?:urn:uuid:)?\{?([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})\}?$/.exec(
      s,
    );
  if (!m) return undefined;
  const hex = m.slice(1).join('').toLowerCase();
  const version = parseInt(hex[12] as string, 16);
  const v8 = parseInt(hex[16] as string, 16);
  const variant =
    (v8 & 0x8) === 0
      ? 'Reserved, NCS backward compatibility.'
      : (v8 & 0xc) === 0x8
        ? 'RFC4122'
        : (v8 & 0xe) === 0xc
          ? 'Reserved, Microsoft Corporation backward compatibility.'
          : 'Reserved, future definition.';
  const o = new RObject();
  o.set('version', version);
  o.set('variant', variant);
  if (version === 1 || version === 2) {
    const timeLow = BigInt('0x' + hex.slice(0, 8));
    const timeMid = BigInt('0x' + hex.slice(8, 12));
    const timeHi = BigInt('0x' + hex.slice(13, 16));
    const t100ns = (timeHi << 48n) | (timeMid << 32n) | timeLow;
    const unixNs = (t100ns - 122192928000000000n) * 100n;
    o.set('time', Number(unixNs));
    o.set('clocksequence', parseInt(hex.slice(16, 20), 16) & 0x3fff);
    const node = hex.slice(20).match(/../g) as string[];
    o.set('nodeid', node.join('-'));
    o.set(
      'macvariables',
      // The U/L bit is 0x02 of the first octet, the I/G (multicast) bit is 0x01.
      (parseInt(node[0] as string, 16) & 2 ? 'local' : 'global') +
        ':' +
        (parseInt(node[0] as string, 16) & 1 ? 'multicast' : 'unicast'),
    );
    if (version === 2) {
      o.set('id', parseInt(hex.slice(0, 8), 16));
      o.set('domain', ['Person', 'Group', 'Org'][parseInt(hex.slice(18, 20), 16)] ?? 'Unknown');
    }
  }
  return o;
}

export const cryptoBuiltins: BuiltinTable = {
  'crypto.md5': def('crypto.md5', 1, hash('md5')),
  'crypto.sha1': def('crypto.sha1', 1, hash('sha1')),
  'crypto.sha256': def('crypto.sha256', 1, hash('sha256')),
  'crypto.sha512': def('crypto.sha512', 1, hash('sha512')),
  'crypto.hmac.md5': def('crypto.hmac.md5', 2, hmac('md5')),
  'crypto.hmac.sha1': def('crypto.hmac.sha1', 2, hmac('sha1')),
  'crypto.hmac.sha256': def('crypto.hmac.sha256', 2, hmac('sha256')),
  'crypto.hmac.sha512': def('crypto.hmac.sha512', 2, hmac('sha512')),
  'crypto.hmac.equal': def('crypto.hmac.equal', 2, (a) => {
    const x = Buffer.from(str(a, 0));
    const y = Buffer.from(str(a, 1));
    return x.length === y.length && timingSafeEqual(x, y);
  }),
  'uuid.rfc4122': def('uuid.rfc4122', 1, (a, ctx) => {
    const key = 'uuid:' + str(a, 0);
    let v = ctx.cache.get(key) as string | undefined;
    if (!v) {
      v = randomUUID();
      ctx.cache.set(key, v);
    }
    return v;
  }),
  'uuid.parse': def('uuid.parse', 1, (a) => parseUUID(str(a, 0))),
};

export function unsupported(name: string): never {
  throw builtinError(`${name} is not supported`);
}

const HTTP_KEYS = new Set([
  'method',
  'url',
  'body',
  'raw_body',
  'headers',
  'enable_redirect',
  'force_json_decode',
  'force_yaml_decode',
  'tls_use_system_certs',
  'tls_ca_cert',
  'tls_ca_cert_file',
  'tls_ca_cert_env_variable',
  'tls_client_cert',
  'tls_client_cert_file',
  'tls_client_cert_env_variable',
  'tls_client_key',
  'tls_client_key_file',
  'tls_client_key_env_variable',
  'tls_insecure_skip_verify',
  'tls_server_name',
  'timeout',
  'cache',
  'force_cache',
  'force_cache_duration_seconds',
  'raise_error',
  'caching_mode',
  'max_retry_attempts',
  'cache_ignored_headers',
]);

/** http.send's request object is checked before anything is sent; bad keys are type errors. */
export function checkHttpRequest(req: RObject): void {
  const bad = req.keys().filter((k) => typeof k !== 'string' || !HTTP_KEYS.has(k));
  if (bad.length) throw typeError(`invalid request parameters(s): ${formatValue(RSet.of(bad))}`);
  const missing = ['method', 'url'].filter((k) => !req.has(k));
  if (missing.length)
    throw typeError(`missing required request parameters(s): ${formatValue(RSet.of(missing))}`);
}

/** Builtins that need the network or the OPA runtime; present so policies compile and
 * tests can mock them with `with`, but they fail when actually called. */
export const hostBuiltins: BuiltinTable = {
  'http.send': def('http.send', 1, (a) => {
    checkHttpRequest(obj(a, 0));
    return unsupported('http.send');
  }),
  'opa.runtime': def('opa.runtime', 0, () => new RObject()),
};
