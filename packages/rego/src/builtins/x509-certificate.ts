// Certificates as OPA returns them: Go's x509.Certificate marshalled to JSON, read with the
// DER reader (asn1-der.ts) and named as Go names them; PEM and base64 input as Go decodes it.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { builtinError } from '../errors.ts';
import { fromJS, type Value } from '../value.ts';
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

export type J = unknown;
export type Obj = Record<string, J>;

// ---- input decoding (Go's base64.StdEncoding and encoding/pem) ----

/** Strict standard base64; like Go, line breaks are skipped. */
export function b64decode(s: string): Buffer {
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

export interface PemBlock {
  type: string;
  bytes: Buffer;
}

export function pemBlocks(text: string): PemBlock[] {
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

export const b64 = (b: Buffer | undefined): string | null => (b ? b.toString('base64') : null);
export const goTime = (d: Date): string => d.toISOString().replace(/\.000Z$/, 'Z');
export const oidText = (o: number[]): string => o.join('.');

// Go's x509.SignatureAlgorithm and PublicKeyAlgorithm enumerations.
export const SIG_ALGS: Record<string, number> = {
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
export const PK_ALGS: Record<string, number> = {
  '1.2.840.113549.1.1.1': 1,
  '1.2.840.10040.4.1': 2,
  '1.2.840.10045.2.1': 3,
  '1.3.101.112': 4,
};
export const EXT_KEY_USAGE: Record<string, number> = {
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
export const NAME_FIELDS: Record<string, string> = {
  '2.5.4.6': 'Country',
  '2.5.4.10': 'Organization',
  '2.5.4.11': 'OrganizationalUnit',
  '2.5.4.7': 'Locality',
  '2.5.4.8': 'Province',
  '2.5.4.9': 'StreetAddress',
  '2.5.4.17': 'PostalCode',
};

export function algorithm(t: Tlv | undefined): string {
  return oidText(oid(expect(children(expect(t, TAG.SEQUENCE))[0], TAG.OID)));
}

export const STRING_TAGS: Set<number> = new Set([
  TAG.UTF8_STRING,
  TAG.PRINTABLE_STRING,
  TAG.T61_STRING,
  TAG.IA5_STRING,
  TAG.BMP_STRING,
  18, // NumericString
]);

/** pkix.Name, filled from an RDNSequence as Go's FillFromRDNSequence does. */
export function pkixName(t: Tlv): Obj {
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

export function bigOf(s: string | undefined): bigint | null {
  return s === undefined
    ? null
    : BigInt('0x' + (Buffer.from(s, 'base64url').toString('hex') || '0'));
}

/** The PublicKey field: Go marshals rsa.PublicKey as {N, E}, ecdsa as {Curve, X, Y}. */
export function publicKeyValue(spki: Buffer): J {
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
export function goURL(s: string): Obj {
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

export function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function ipText(b: Buffer): string {
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

export interface AltNames {
  DNSNames: string[] | null;
  EmailAddresses: string[] | null;
  IPAddresses: string[] | null;
  URIs: string[] | null;
}

export function push(list: string[] | null, v: string): string[] {
  return [...(list ?? []), v];
}

export function generalNames(t: Tlv, into: AltNames): void {
  for (const g of children(t)) {
    if (g.cls !== 2) continue;
    if (g.tag === 1) into.EmailAddresses = push(into.EmailAddresses, g.body.toString('latin1'));
    else if (g.tag === 2) into.DNSNames = push(into.DNSNames, g.body.toString('latin1'));
    else if (g.tag === 6) into.URIs = push(into.URIs, g.body.toString('latin1'));
    else if (g.tag === 7 && (g.body.length === 4 || g.body.length === 16))
      into.IPAddresses = push(into.IPAddresses, ipText(g.body));
  }
}

export interface Extension {
  id: number[];
  critical: boolean;
  value: Buffer;
}

export function extensionsOf(seq: Tlv): Extension[] {
  return children(expect(seq, TAG.SEQUENCE)).map((e) => {
    const parts = children(expect(e, TAG.SEQUENCE));
    const id = oid(expect(parts[0], TAG.OID));
    const critical = parts[1]?.tag === TAG.BOOLEAN && parts[1].cls === 0 ? bool(parts[1]) : false;
    const value = expect(parts[parts.length - 1], TAG.OCTET_STRING).body;
    return { id, critical, value };
  });
}

/** What Go's processExtensions derives from the extensions it knows. */
export function applyExtensions(exts: Extension[], out: Obj): void {
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

export function extensionsValue(exts: Extension[]): J {
  return exts.length
    ? exts.map((e) => ({ Id: e.id, Critical: e.critical, Value: b64(e.value) }))
    : null;
}

/** A parsed certificate: Go's JSON shape plus what chain verification needs. */
export interface Cert {
  der: Buffer;
  json: Obj;
  subject: Buffer;
  issuer: Buffer;
  notBefore: Date;
  notAfter: Date;
}

export function parseCertificate(der: Buffer): Cert {
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
export function parseCertificates(der: Buffer): Cert[] {
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
export function certsFromString(s: string): Cert[] {
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

export function certsValue(certs: Cert[]): Value {
  return fromJS(certs.map((c) => c.json));
}
