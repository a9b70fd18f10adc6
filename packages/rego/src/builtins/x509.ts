// crypto.x509.* and crypto.parse_private_keys. OPA returns Go's x509.Certificate /
// x509.CertificateRequest marshalled to JSON, so the fields are read with the DER
// reader (asn1-der.ts) and named as Go names them; signatures, chain checks and keys
// are node:crypto's.
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { builtinError } from '../errors.ts';
import { RObject, RSet, fromJS, type Value } from '../value.ts';
import {
  Asn1Error,
  TAG,
  bigInt,
  bitString,
  bool,
  children,
  expect,
  isContext,
  oid,
  parseDer,
  text,
  time,
  type Tlv,
} from './asn1-der.ts';
import { operandErr, str } from './helpers.ts';
import { def, type BuiltinTable } from './types.ts';

type J = unknown;
type Obj = Record<string, J>;

// ---- input decoding (Go's base64.StdEncoding and encoding/pem) ----

/** Strict standard base64; like Go, line breaks are skipped. */
function b64decode(s: string): Buffer {
  const t = s.replace(/[\r\n]/g, '');
  const bad = [...t].findIndex(
    (c, i) => !/[A-Za-z0-9+/]/.test(c) && !(c === '=' && i >= t.length - 2),
  );
  if (bad >= 0 || t.length % 4 !== 0 || /=[^=]/.test(t))
    throw builtinError(
      `illegal base64 data at input byte ${bad >= 0 ? bad : t.length - (t.length % 4)}`,
    );
  return Buffer.from(t, 'base64');
}

interface PemBlock {
  type: string;
  bytes: Buffer;
}

function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  const re = /-----BEGIN ([^\r\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/g;
  for (const m of text.matchAll(re)) {
    // Headers (Proc-Type and the like) end with a blank line.
    const body = (m[2] ?? '').replace(/^(?:[^\r\n]*:[^\r\n]*\r?\n)+\r?\n/, '');
    const clean = body.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) continue;
    out.push({ type: m[1] ?? '', bytes: Buffer.from(clean, 'base64') });
  }
  return out;
}

// ---- Go-shaped fields ----

const b64 = (b: Buffer | undefined): string | null => (b ? b.toString('base64') : null);
const goTime = (d: Date): string => d.toISOString().replace(/\.000Z$/, 'Z');
const oidText = (o: number[]): string => o.join('.');

// Go's x509.SignatureAlgorithm and PublicKeyAlgorithm enumerations.
const SIG_ALGS: Record<string, number> = {
  '1.2.840.113549.1.1.2': 1,
  '1.2.840.113549.1.1.4': 2,
  '1.2.840.113549.1.1.5': 3,
  '1.2.840.113549.1.1.11': 4,
  '1.2.840.113549.1.1.12': 5,
  '1.2.840.113549.1.1.13': 6,
  '1.2.840.10040.4.3': 7,
  '2.16.840.1.101.3.4.3.2': 8,
  '1.2.840.10045.4.1': 9,
  '1.2.840.10045.4.3.2': 10,
  '1.2.840.10045.4.3.3': 11,
  '1.2.840.10045.4.3.4': 12,
  '1.3.101.112': 16,
};
const PK_ALGS: Record<string, number> = {
  '1.2.840.113549.1.1.1': 1,
  '1.2.840.10040.4.1': 2,
  '1.2.840.10045.2.1': 3,
  '1.3.101.112': 4,
};
const EXT_KEY_USAGE: Record<string, number> = {
  '2.5.29.37.0': 0,
  '1.3.6.1.5.5.7.3.1': 1,
  '1.3.6.1.5.5.7.3.2': 2,
  '1.3.6.1.5.5.7.3.3': 3,
  '1.3.6.1.5.5.7.3.4': 4,
  '1.3.6.1.5.5.7.3.5': 5,
  '1.3.6.1.5.5.7.3.6': 6,
  '1.3.6.1.5.5.7.3.7': 7,
  '1.3.6.1.5.5.7.3.8': 8,
  '1.3.6.1.5.5.7.3.9': 9,
  '1.3.6.1.4.1.311.10.3.3': 10,
  '2.16.840.1.113730.4.1': 11,
  '1.3.6.1.4.1.311.2.1.22': 12,
  '1.3.6.1.4.1.311.61.1.1': 13,
};
const NAME_FIELDS: Record<string, string> = {
  '2.5.4.6': 'Country',
  '2.5.4.10': 'Organization',
  '2.5.4.11': 'OrganizationalUnit',
  '2.5.4.7': 'Locality',
  '2.5.4.8': 'Province',
  '2.5.4.9': 'StreetAddress',
  '2.5.4.17': 'PostalCode',
};

function algorithm(t: Tlv | undefined): string {
  return oidText(oid(expect(children(expect(t, TAG.SEQUENCE))[0], TAG.OID)));
}

const STRING_TAGS: Set<number> = new Set([
  TAG.UTF8_STRING,
  TAG.PRINTABLE_STRING,
  TAG.T61_STRING,
  TAG.IA5_STRING,
  TAG.BMP_STRING,
  18, // NumericString
]);

/** pkix.Name, filled from an RDNSequence as Go's FillFromRDNSequence does. */
function pkixName(t: Tlv): Obj {
  const name: Obj = {
    Country: null,
    Organization: null,
    OrganizationalUnit: null,
    Locality: null,
    Province: null,
    StreetAddress: null,
    PostalCode: null,
    SerialNumber: '',
    CommonName: '',
    Names: [] as J[],
    ExtraNames: null,
  };
  for (const rdn of children(expect(t, TAG.SEQUENCE))) {
    for (const atv of children(expect(rdn, TAG.SET))) {
      const [typ, val] = children(expect(atv, TAG.SEQUENCE));
      const o = oid(expect(typ, TAG.OID));
      if (val === undefined) continue;
      const value = val.cls === 0 && STRING_TAGS.has(val.tag) ? text(val) : null;
      (name['Names'] as J[]).push({ Type: o, Value: value });
      if (typeof value !== 'string') continue;
      const key = oidText(o);
      if (key === '2.5.4.3') name['CommonName'] = value;
      else if (key === '2.5.4.5') name['SerialNumber'] = value;
      else {
        const f = NAME_FIELDS[key];
        if (f) name[f] = [...((name[f] as string[] | null) ?? []), value];
      }
    }
  }
  return name;
}

function bigOf(s: string | undefined): bigint | null {
  return s === undefined
    ? null
    : BigInt('0x' + (Buffer.from(s, 'base64url').toString('hex') || '0'));
}

/** The PublicKey field: Go marshals rsa.PublicKey as {N, E}, ecdsa as {Curve, X, Y}. */
function publicKeyValue(spki: Buffer): J {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    return null;
  }
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'RSA') return { N: bigOf(jwk.n), E: Number(bigOf(jwk.e)) };
  if (jwk.kty === 'EC') return { Curve: {}, X: bigOf(jwk.x), Y: bigOf(jwk.y) };
  if (jwk.kty === 'OKP') return jwk.x ? Buffer.from(jwk.x, 'base64url').toString('base64') : null;
  return null;
}

/** url.URL's exported fields, from a URI as Go's url.Parse splits it. */
function goURL(s: string): Obj {
  const u: Obj = {
    Scheme: '',
    Opaque: '',
    User: null,
    Host: '',
    Path: '',
    RawPath: '',
    OmitHost: false,
    ForceQuery: false,
    RawQuery: '',
    Fragment: '',
    RawFragment: '',
  };
  let rest = s;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    u['Fragment'] = decodeURIComponentSafe(rest.slice(hash + 1));
    rest = rest.slice(0, hash);
  }
  const q = rest.indexOf('?');
  if (q >= 0) {
    u['RawQuery'] = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/.exec(rest);
  if (m) {
    u['Scheme'] = (m[1] ?? '').toLowerCase();
    rest = m[2] ?? '';
    if (!rest.startsWith('/')) {
      u['Opaque'] = rest;
      return u;
    }
  }
  if (rest.startsWith('//')) {
    const end = rest.indexOf('/', 2);
    const authority = end < 0 ? rest.slice(2) : rest.slice(2, end);
    rest = end < 0 ? '' : rest.slice(end);
    const at = authority.lastIndexOf('@');
    u['Host'] = at >= 0 ? authority.slice(at + 1) : authority;
    if (at >= 0) u['User'] = {};
  }
  u['Path'] = decodeURIComponentSafe(rest);
  return u;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function ipText(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  const groups: string[] = [];
  for (let i = 0; i + 1 < b.length; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // Longest run of zero groups collapses to "::", as Go prints IPv6.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length;) {
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(':');
  return groups.slice(0, best).join(':') + '::' + groups.slice(best + bestLen).join(':');
}

interface AltNames {
  DNSNames: string[] | null;
  EmailAddresses: string[] | null;
  IPAddresses: string[] | null;
  URIs: string[] | null;
}

function push(list: string[] | null, v: string): string[] {
  return [...(list ?? []), v];
}

function generalNames(t: Tlv, into: AltNames): void {
  for (const g of children(t)) {
    if (g.cls !== 2) continue;
    if (g.tag === 1) into.EmailAddresses = push(into.EmailAddresses, g.body.toString('latin1'));
    else if (g.tag === 2) into.DNSNames = push(into.DNSNames, g.body.toString('latin1'));
    else if (g.tag === 6) into.URIs = push(into.URIs, g.body.toString('latin1'));
    else if (g.tag === 7 && (g.body.length === 4 || g.body.length === 16))
      into.IPAddresses = push(into.IPAddresses, ipText(g.body));
  }
}

interface Extension {
  id: number[];
  critical: boolean;
  value: Buffer;
}

function extensionsOf(seq: Tlv): Extension[] {
  return children(expect(seq, TAG.SEQUENCE)).map((e) => {
    const parts = children(expect(e, TAG.SEQUENCE));
    const id = oid(expect(parts[0], TAG.OID));
    const critical = parts[1]?.tag === TAG.BOOLEAN && parts[1].cls === 0 ? bool(parts[1]) : false;
    const value = expect(parts[parts.length - 1], TAG.OCTET_STRING).body;
    return { id, critical, value };
  });
}

/** What Go's processExtensions derives from the extensions it knows. */
function applyExtensions(exts: Extension[], out: Obj): void {
  const alt: AltNames = { DNSNames: null, EmailAddresses: null, IPAddresses: null, URIs: null };
  const unhandled: number[][] = [];
  for (const e of exts) {
    const body = parseDer(e.value);
    switch (oidText(e.id)) {
      case '2.5.29.15': {
        const { bytes } = bitString(body);
        let usage = 0;
        for (let i = 0; i < 9; i++)
          if (((bytes[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0) usage |= 1 << i;
        out['KeyUsage'] = usage;
        break;
      }
      case '2.5.29.19': {
        const parts = children(expect(body, TAG.SEQUENCE));
        let i = 0;
        out['BasicConstraintsValid'] = true;
        if (parts[0]?.tag === TAG.BOOLEAN) out['IsCA'] = bool(parts[i++] as Tlv);
        const pathLen = parts[i];
        out['MaxPathLen'] = pathLen?.tag === TAG.INTEGER ? Number(bigInt(pathLen)) : -1;
        out['MaxPathLenZero'] = out['MaxPathLen'] === 0;
        break;
      }
      case '2.5.29.17':
        generalNames(expect(body, TAG.SEQUENCE), alt);
        break;
      case '2.5.29.14':
        out['SubjectKeyId'] = b64(expect(body, TAG.OCTET_STRING).body);
        break;
      case '2.5.29.35': {
        const kid = children(expect(body, TAG.SEQUENCE)).find((c) => isContext(c, 0));
        if (kid) out['AuthorityKeyId'] = b64(kid.body);
        break;
      }
      case '2.5.29.37': {
        const known: number[] = [];
        const unknown: number[][] = [];
        for (const u of children(expect(body, TAG.SEQUENCE))) {
          const o = oid(expect(u, TAG.OID));
          const k = EXT_KEY_USAGE[oidText(o)];
          if (k === undefined) unknown.push(o);
          else known.push(k);
        }
        out['ExtKeyUsage'] = known.length ? known : null;
        out['UnknownExtKeyUsage'] = unknown.length ? unknown : null;
        break;
      }
      case '2.5.29.31': {
        const urls: string[] = [];
        for (const dp of children(expect(body, TAG.SEQUENCE))) {
          const dpName = children(dp).find((c) => isContext(c, 0));
          const full = dpName ? children(dpName).find((c) => isContext(c, 0)) : undefined;
          if (!full) continue;
          for (const g of children(full)) if (isContext(g, 6)) urls.push(g.body.toString('latin1'));
        }
        out['CRLDistributionPoints'] = urls.length ? urls : null;
        break;
      }
      case '2.5.29.32': {
        const ids = children(expect(body, TAG.SEQUENCE)).map((p) =>
          oid(expect(children(expect(p, TAG.SEQUENCE))[0], TAG.OID)),
        );
        out['PolicyIdentifiers'] = ids.length ? ids : null;
        out['Policies'] = ids.length ? ids.map(oidText) : null;
        break;
      }
      case '1.3.6.1.5.5.7.1.1': {
        const ocsp: string[] = [];
        const issuers: string[] = [];
        for (const ad of children(expect(body, TAG.SEQUENCE))) {
          const [method, loc] = children(expect(ad, TAG.SEQUENCE));
          if (!method || !isContext(loc, 6)) continue;
          const m = oidText(oid(method));
          const url = (loc as Tlv).body.toString('latin1');
          if (m === '1.3.6.1.5.5.7.48.1') ocsp.push(url);
          else if (m === '1.3.6.1.5.5.7.48.2') issuers.push(url);
        }
        out['OCSPServer'] = ocsp.length ? ocsp : null;
        out['IssuingCertificateURL'] = issuers.length ? issuers : null;
        break;
      }
      default:
        if (e.critical && oidText(e.id) !== '2.5.29.30') unhandled.push(e.id);
    }
  }
  Object.assign(out, alt, {
    URIs: alt.URIs ? alt.URIs.map(goURL) : null,
    // OPA adds the URIs as plain strings; url.URL does not marshal usefully.
    URIStrings: alt.URIs,
  });
  out['UnhandledCriticalExtensions'] = unhandled.length ? unhandled : null;
}

function extensionsValue(exts: Extension[]): J {
  return exts.length
    ? exts.map((e) => ({ Id: e.id, Critical: e.critical, Value: b64(e.value) }))
    : null;
}

/** A parsed certificate: Go's JSON shape plus what chain verification needs. */
interface Cert {
  der: Buffer;
  json: Obj;
  subject: Buffer;
  issuer: Buffer;
  notBefore: Date;
  notAfter: Date;
}

function parseCertificate(der: Buffer): Cert {
  const top = children(expect(parseDer(der, TAG.SEQUENCE), TAG.SEQUENCE));
  const tbs = expect(top[0], TAG.SEQUENCE);
  const sig = expect(top[2], TAG.BIT_STRING);
  const f = children(tbs);
  let i = 0;
  let version = 0;
  if (isContext(f[0], 0)) version = Number(bigInt(expect(children(f[i++] as Tlv)[0], TAG.INTEGER)));
  const serial = bigInt(expect(f[i++], TAG.INTEGER));
  i++; // the inner signature algorithm repeats the outer one
  const issuer = expect(f[i++], TAG.SEQUENCE);
  const validity = children(expect(f[i++], TAG.SEQUENCE));
  const subject = expect(f[i++], TAG.SEQUENCE);
  const spki = expect(f[i++], TAG.SEQUENCE);
  const extField = f.slice(i).find((t) => isContext(t, 3));
  const exts = extField ? extensionsOf(children(extField)[0] as Tlv) : [];
  const notBefore = time(validity[0] as Tlv);
  const notAfter = time(validity[1] as Tlv);
  const json: Obj = {
    Raw: b64(der),
    RawTBSCertificate: b64(tbs.raw),
    RawSubjectPublicKeyInfo: b64(spki.raw),
    RawSubject: b64(subject.raw),
    RawIssuer: b64(issuer.raw),
    Signature: b64(bitString(sig).bytes),
    SignatureAlgorithm: SIG_ALGS[algorithm(top[1])] ?? 0,
    PublicKeyAlgorithm: PK_ALGS[algorithm(children(spki)[0])] ?? 0,
    PublicKey: publicKeyValue(spki.raw),
    Version: version + 1,
    SerialNumber: serial,
    Issuer: pkixName(issuer),
    Subject: pkixName(subject),
    NotBefore: goTime(notBefore),
    NotAfter: goTime(notAfter),
    KeyUsage: 0,
    Extensions: extensionsValue(exts),
    ExtraExtensions: null,
    UnhandledCriticalExtensions: null,
    ExtKeyUsage: null,
    UnknownExtKeyUsage: null,
    BasicConstraintsValid: false,
    IsCA: false,
    MaxPathLen: 0,
    MaxPathLenZero: false,
    SubjectKeyId: null,
    AuthorityKeyId: null,
    OCSPServer: null,
    IssuingCertificateURL: null,
    PermittedDNSDomainsCritical: false,
    PermittedDNSDomains: null,
    ExcludedDNSDomains: null,
    PermittedIPRanges: null,
    ExcludedIPRanges: null,
    PermittedEmailAddresses: null,
    ExcludedEmailAddresses: null,
    PermittedURIDomains: null,
    ExcludedURIDomains: null,
    CRLDistributionPoints: null,
    PolicyIdentifiers: null,
    Policies: null,
  };
  applyExtensions(exts, json);
  return { der, json, subject: subject.raw, issuer: issuer.raw, notBefore, notAfter };
}

/** x509.ParseCertificates: concatenated DER certificates. */
function parseCertificates(der: Buffer): Cert[] {
  const out: Cert[] = [];
  let pos = 0;
  try {
    while (pos < der.length) {
      const t = children({
        cls: 0,
        constructed: true,
        tag: 0,
        raw: der,
        body: der.subarray(pos),
      })[0];
      if (!t) break;
      out.push(parseCertificate(Buffer.from(t.raw)));
      pos += t.raw.length;
    }
  } catch (e) {
    if (e instanceof Asn1Error) throw builtinError(`x509: malformed certificate`);
    throw e;
  }
  return out;
}

/** OPA's reading of the operand: PEM, or base64 of DER or of PEM. */
function certsFromString(s: string): Cert[] {
  const fromPem = (text: string): Cert[] => {
    const blocks = pemBlocks(text);
    const bad = blocks.find((b) => b.type !== 'CERTIFICATE');
    if (bad) throw builtinError(`PEM block type is '${bad.type}', expected CERTIFICATE`);
    return parseCertificates(Buffer.concat(blocks.map((b) => b.bytes)));
  };
  if (s.startsWith('-----BEGIN')) return fromPem(s);
  const bytes = b64decode(s);
  if (bytes.subarray(0, 10).toString('latin1') === '-----BEGIN')
    return fromPem(bytes.toString('latin1'));
  return parseCertificates(bytes);
}

function certsValue(certs: Cert[]): Value {
  return fromJS(certs.map((c) => c.json));
}

// ---- chain verification (the checks of Go's Certificate.Verify that apply here) ----

interface VerifyOptions {
  dnsName?: string;
  now: Date;
  keyUsages: number[];
}

/** Go requires CA basic constraints of intermediates only (roots are trusted as given)
 * and, like it, ignores the key usage bits. */
function canIssue(c: Cert, isRoot: boolean): boolean {
  return isRoot || (c.json['BasicConstraintsValid'] === true && c.json['IsCA'] === true);
}

function signedBy(child: Cert, parent: Cert): boolean {
  if (!child.issuer.equals(parent.subject)) return false;
  try {
    return new X509Certificate(child.der).verify(new X509Certificate(parent.der).publicKey);
  } catch {
    return false;
  }
}

function timeValid(c: Cert, now: Date): boolean {
  return now >= c.notBefore && now <= c.notAfter;
}

function dnsMatches(c: Cert, host: string): boolean {
  // An IP address is checked against the IP alternative names, as Go's VerifyHostname does.
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare)) {
    const ips = (c.json['IPAddresses'] as string[] | null) ?? [];
    return ips.some((ip) => ip === bare || (isIP(ip) === 6 && expandIPv6(ip) === expandIPv6(bare)));
  }
  const names = (c.json['DNSNames'] as string[] | null) ?? [];
  const h = host.toLowerCase().replace(/\.$/, '');
  return names.some((n) => {
    const p = n.toLowerCase();
    if (p.startsWith('*.')) {
      const dot = h.indexOf('.');
      return dot > 0 && h.slice(dot + 1) === p.slice(2);
    }
    return p === h;
  });
}

function expandIPv6(ip: string): string {
  const [head = '', tail] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => g.replace(/^0+(?=.)/, '')).join(':');
}

function ekuAllows(chain: Cert[], wanted: number[]): boolean {
  if (wanted.includes(0)) return true;
  let allowed = [...wanted];
  for (const c of chain) {
    const eku = (c.json['ExtKeyUsage'] as number[] | null) ?? [];
    const unknown = (c.json['UnknownExtKeyUsage'] as unknown[] | null) ?? [];
    if (eku.length === 0 && unknown.length === 0) continue;
    if (eku.includes(0)) continue;
    // Server-gated-crypto usages stand in for serverAuth, as in Go.
    const sgc = eku.includes(10) || eku.includes(11);
    allowed = allowed.filter((u) => eku.includes(u) || (u === 1 && sgc));
    if (allowed.length === 0) return false;
  }
  return true;
}

/** First cert is the root, the last the leaf, the rest intermediates; returns the chain
 * from the leaf up, as OPA does, or undefined when it does not verify. */
function verifyChain(certs: Cert[], opts: VerifyOptions): Cert[] | undefined {
  if (certs.length < 2) return undefined;
  const root = certs[0] as Cert;
  const intermediates = certs.slice(1, -1);
  const leaf = certs[certs.length - 1] as Cert;
  if (!timeValid(leaf, opts.now)) return undefined;
  if (opts.dnsName !== undefined && opts.dnsName !== '' && !dnsMatches(leaf, opts.dnsName))
    return undefined;
  const build = (chain: Cert[]): Cert[] | undefined => {
    const cur = chain[chain.length - 1] as Cert;
    const below = chain.length - 1; // intermediates under a candidate issuer
    const candidates = [root, ...intermediates].filter((c) => !chain.includes(c));
    for (const parent of candidates) {
      if (!signedBy(cur, parent) || !canIssue(parent, parent === root)) continue;
      if (!timeValid(parent, opts.now)) continue;
      const j = parent.json;
      const maxPath = j['MaxPathLen'] as number;
      if (j['BasicConstraintsValid'] === true && maxPath >= 0 && below > maxPath) continue;
      const next = [...chain, parent];
      if (parent === root) return ekuAllows(next, opts.keyUsages) ? next : undefined;
      const found = build(next);
      if (found) return found;
    }
    return undefined;
  };
  return build([leaf]);
}

const KEY_USAGE_NAMES: Record<string, number> = {
  KeyUsageAny: 0,
  KeyUsageServerAuth: 1,
  KeyUsageClientAuth: 2,
  KeyUsageCodeSigning: 3,
  KeyUsageEmailProtection: 4,
  KeyUsageIPSECEndSystem: 5,
  KeyUsageIPSECTunnel: 6,
  KeyUsageIPSECUser: 7,
  KeyUsageTimeStamping: 8,
  KeyUsageOCSPSigning: 9,
  KeyUsageMicrosoftServerGatedCrypto: 10,
  KeyUsageNetscapeServerGatedCrypto: 11,
  KeyUsageMicrosoftCommercialCodeSigning: 12,
  KeyUsageMicrosoftKernelCodeSigning: 13,
};

function verifyOptions(v: Value): VerifyOptions {
  if (!(v instanceof RObject)) throw operandErr(1, 'object', v);
  const opts: VerifyOptions = { now: new Date(), keyUsages: [] };
  for (const [k, x] of v.entries()) {
    if (typeof k !== 'string') continue;
    switch (k) {
      case 'DNSName':
        if (typeof x !== 'string') throw builtinError("'DNSName' should be a string");
        opts.dnsName = x;
        break;
      case 'CurrentTime':
        if (typeof x !== 'number' && typeof x !== 'bigint')
          throw builtinError("'CurrentTime' should be a number");
        if (typeof x === 'number' && !Number.isInteger(x))
          throw builtinError("'CurrentTime' should be a valid int64 number");
        opts.now = new Date(Number(BigInt(x) / 1_000_000n));
        break;
      case 'MaxConstraintComparisons':
        if (typeof x !== 'number' && typeof x !== 'bigint')
          throw builtinError("'MaxConstraintComparisons' should be a number");
        break;
      case 'KeyUsages': {
        const list = Array.isArray(x) ? x : x instanceof RSet ? x.values() : undefined;
        if (!list) throw builtinError("'KeyUsages' should be an Array or Set");
        const bad: string[] = [];
        for (const u of list) {
          if (typeof u !== 'string') continue;
          const n = KEY_USAGE_NAMES[u];
          if (n === undefined) bad.push(u);
          else opts.keyUsages.push(n);
        }
        if (bad.length)
          throw builtinError(`invalid entries for 'KeyUsages' found: [${bad.join(' ')}]`);
        break;
      }
      default:
        throw builtinError('invalid key option');
    }
  }
  // Go's default when no usage is asked for.
  if (opts.keyUsages.length === 0) opts.keyUsages = [1];
  return opts;
}

function parseAndVerify(input: string, opts: () => VerifyOptions, withURIStrings: boolean): Value {
  const invalid: Value = [false, []];
  let certs: Cert[];
  try {
    certs = certsFromString(input);
  } catch {
    return invalid;
  }
  // Options are read only once the certificates parse, as OPA does.
  const chain = verifyChain(certs, opts());
  if (!chain) return invalid;
  return [true, withURIStrings ? certsValue(chain) : fromJS(chain.map(withoutURIStrings))];
}

function withoutURIStrings(c: Cert): Obj {
  const { URIStrings: _, ...rest } = c.json;
  return rest;
}

// ---- certificate requests ----

function parseCertificateRequest(der: Buffer): Obj {
  const top = children(expect(parseDer(der, TAG.SEQUENCE), TAG.SEQUENCE));
  const info = expect(top[0], TAG.SEQUENCE);
  const sig = expect(top[2], TAG.BIT_STRING);
  const [version, subject, spki, attrs] = children(info);
  const spkiT = expect(spki, TAG.SEQUENCE);
  const subjectT = expect(subject, TAG.SEQUENCE);
  let exts: Extension[] = [];
  if (attrs && isContext(attrs, 0)) {
    for (const a of children(attrs)) {
      const [typ, values] = children(expect(a, TAG.SEQUENCE));
      if (oidText(oid(expect(typ, TAG.OID))) !== '1.2.840.113549.1.9.14' || !values) continue;
      const first = children(expect(values, TAG.SET))[0];
      if (first) exts = exts.concat(extensionsOf(first));
    }
  }
  const json: Obj = {
    Raw: b64(der),
    RawTBSCertificateRequest: b64(info.raw),
    RawSubjectPublicKeyInfo: b64(spkiT.raw),
    RawSubject: b64(subjectT.raw),
    Version: Number(bigInt(expect(version, TAG.INTEGER))),
    Signature: b64(bitString(sig).bytes),
    SignatureAlgorithm: SIG_ALGS[algorithm(top[1])] ?? 0,
    PublicKeyAlgorithm: PK_ALGS[algorithm(children(spkiT)[0])] ?? 0,
    PublicKey: publicKeyValue(spkiT.raw),
    Subject: pkixName(subjectT),
    Attributes: null,
    Extensions: extensionsValue(exts),
    ExtraExtensions: null,
  };
  const derived: Obj = {};
  applyExtensions(exts, derived);
  for (const k of ['DNSNames', 'EmailAddresses', 'IPAddresses', 'URIs'])
    json[k] = derived[k] ?? null;
  return json;
}

// ---- private keys ----

/** Go's rsa.PrivateKey / ecdsa.PrivateKey / ed25519 key as encoding/json writes them. */
function privateKeyValue(key: KeyObject): J {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'RSA')
    return {
      N: bigOf(jwk.n),
      E: Number(bigOf(jwk.e)),
      D: bigOf(jwk.d),
      Primes: [bigOf(jwk.p), bigOf(jwk.q)],
      Precomputed: { Dp: bigOf(jwk.dp), Dq: bigOf(jwk.dq), Qinv: bigOf(jwk.qi), CRTValues: [] },
    };
  if (jwk.kty === 'EC') return { Curve: {}, X: bigOf(jwk.x), Y: bigOf(jwk.y), D: bigOf(jwk.d) };
  if (jwk.kty === 'OKP' && jwk.d && jwk.x)
    return Buffer.concat([
      Buffer.from(jwk.d, 'base64url'),
      Buffer.from(jwk.x, 'base64url'),
    ]).toString('base64');
  return null;
}

const KEY_TYPES: Record<string, 'pkcs1' | 'pkcs8' | 'sec1'> = {
  'RSA PRIVATE KEY': 'pkcs1',
  'PRIVATE KEY': 'pkcs8',
  'EC PRIVATE KEY': 'sec1',
};

function privateKeys(pemText: string): KeyObject[] {
  const out: KeyObject[] = [];
  for (const b of pemBlocks(pemText)) {
    const type = KEY_TYPES[b.type];
    if (!type) continue;
    try {
      out.push(createPrivateKey({ key: b.bytes, format: 'der', type }));
    } catch (e) {
      throw builtinError(`x509: failed to parse private key: ${(e as Error).message}`);
    }
  }
  return out;
}

/** tls.X509KeyPair's reading: PEM, base64 of PEM, or base64 of DER. */
function keyPairBlocks(input: string, derType: string): PemBlock[] {
  const bytes = input.startsWith('-----BEGIN') ? Buffer.from(input, 'latin1') : b64decode(input);
  if (bytes.subarray(0, 10).toString('latin1') !== '-----BEGIN') return [{ type: derType, bytes }];
  return pemBlocks(bytes.toString('latin1'));
}

function keyPair(certInput: string, keyInput: string): Obj {
  const certs = keyPairBlocks(certInput, 'CERTIFICATE').filter((b) => b.type === 'CERTIFICATE');
  if (certs.length === 0)
    throw builtinError('tls: failed to find any PEM data in certificate input');
  const keyBlock = keyPairBlocks(keyInput, 'PRIVATE KEY').find(
    (b) => b.type === 'PRIVATE KEY' || b.type.endsWith(' PRIVATE KEY'),
  );
  if (!keyBlock) throw builtinError('tls: failed to find any PEM data in key input');
  let key: KeyObject | undefined;
  for (const type of ['pkcs1', 'pkcs8', 'sec1'] as const) {
    try {
      key = createPrivateKey({ key: keyBlock.bytes, format: 'der', type });
      break;
    } catch {
      // Go tries the same three encodings in turn.
    }
  }
  if (!key) throw builtinError('tls: failed to parse private key');
  const leaf = parseCertificates((certs[0] as PemBlock).bytes)[0];
  if (!leaf) throw builtinError('tls: failed to find any PEM data in certificate input');
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  if (b64(spki) !== leaf.json['RawSubjectPublicKeyInfo'])
    throw builtinError('tls: private key does not match public key');
  return {
    Certificate: certs.map((c) => b64(c.bytes)),
    PrivateKey: privateKeyValue(key),
    SupportedSignatureAlgorithms: null,
    OCSPStaple: null,
    SignedCertificateTimestamps: null,
    Leaf: withoutURIStrings(leaf),
  };
}

function wrapAsn1<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof Asn1Error) throw builtinError(e.message);
    throw e;
  }
}

export const x509Builtins: BuiltinTable = {
  'crypto.x509.parse_certificates': def('crypto.x509.parse_certificates', 1, (a) =>
    certsValue(certsFromString(str(a, 0))),
  ),
  'crypto.x509.parse_and_verify_certificates': def(
    'crypto.x509.parse_and_verify_certificates',
    1,
    (a) => parseAndVerify(str(a, 0), () => ({ now: new Date(), keyUsages: [1] }), true),
  ),
  'crypto.x509.parse_and_verify_certificates_with_options': def(
    'crypto.x509.parse_and_verify_certificates_with_options',
    2,
    (a) => {
      const input = str(a, 0);
      const options = a[1] as Value;
      if (!(options instanceof RObject)) throw operandErr(1, 'object', options);
      // OPA returns this chain without the URIStrings it adds elsewhere.
      return parseAndVerify(input, () => verifyOptions(options), false);
    },
  ),
  'crypto.x509.parse_certificate_request': def('crypto.x509.parse_certificate_request', 1, (a) => {
    const s = str(a, 0);
    let bytes = s.startsWith('-----BEGIN CERTIFICATE REQUEST-----')
      ? Buffer.from(s, 'latin1')
      : b64decode(s);
    const block = pemBlocks(bytes.toString('latin1'))[0];
    if (block) {
      if (block.type !== 'CERTIFICATE REQUEST' && block.type !== 'NEW CERTIFICATE REQUEST')
        throw builtinError('invalid PEM-encoded certificate signing request');
      bytes = block.bytes;
    }
    return fromJS(wrapAsn1(() => parseCertificateRequest(bytes)));
  }),
  'crypto.x509.parse_rsa_private_key': def('crypto.x509.parse_rsa_private_key', 1, (a) => {
    let s = str(a, 0);
    if (s === '') throw builtinError('input PEM data was empty');
    if (!s.startsWith('-----BEGIN')) s = b64decode(s).toString('latin1');
    const key = privateKeys(s)[0];
    if (key === undefined) return null;
    // A JWK of the first key, as OPA builds it with jwk.New.
    return fromJS(key.export({ format: 'jwk' }));
  }),
  'crypto.x509.parse_keypair': def('crypto.x509.parse_keypair', 2, (a) =>
    fromJS(keyPair(str(a, 0), str(a, 1))),
  ),
  'crypto.parse_private_keys': def('crypto.parse_private_keys', 1, (a) => {
    let s = str(a, 0);
    if (s === '') return null;
    if (!s.startsWith('-----BEGIN')) {
      try {
        s = b64decode(s).toString('latin1');
      } catch {
        // Not base64: read as PEM text, which finds nothing.
      }
    }
    return fromJS(privateKeys(s).map(privateKeyValue));
  }),
};
