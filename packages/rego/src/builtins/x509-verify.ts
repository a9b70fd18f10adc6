// Chain verification for crypto.x509.parse_and_verify_certificates: the checks of Go's
// Certificate.Verify that apply here, signatures by node:crypto.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { builtinError } from '../errors.ts';
import { RObject, RSet, fromJS, type Value } from '../value.ts';
import { operandErr } from './helpers.ts';
import { type Cert, certsFromString, certsValue, type Obj } from './x509-certificate.ts';

// ---- chain verification (the checks of Go's Certificate.Verify that apply here) ----

export interface VerifyOptions {
  dnsName?: string;
  now: Date;
  keyUsages: number[];
}

/** Go requires CA basic constraints of intermediates only (roots are trusted as given)
 * and, like it, ignores the key usage bits. */
export function canIssue(c: Cert, isRoot: boolean): boolean {
  return isRoot || (c.json['BasicConstraintsValid'] === true && c.json['IsCA'] === true);
}

export function signedBy(child: Cert, parent: Cert): boolean {
  if (!child.issuer.equals(parent.subject)) return false;
  try {
    return new X509Certificate(child.der).verify(new X509Certificate(parent.der).publicKey);
  } catch {
    return false;
  }
}

export function timeValid(c: Cert, now: Date): boolean {
  return now >= c.notBefore && now <= c.notAfter;
}

export function dnsMatches(c: Cert, host: string): boolean {
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

export function expandIPv6(ip: string): string {
  const [head = '', tail] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => g.replace(/^0+(?=.)/, '')).join(':');
}

export function ekuAllows(chain: Cert[], wanted: number[]): boolean {
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
export function verifyChain(certs: Cert[], opts: VerifyOptions): Cert[] | undefined {
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

export const KEY_USAGE_NAMES: Record<string, number> = {
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

export function verifyOptions(v: Value): VerifyOptions {
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

export function parseAndVerify(
  input: string,
  opts: () => VerifyOptions,
  withURIStrings: boolean,
): Value {
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

export function withoutURIStrings(c: Cert): Obj {
  const { URIStrings: _, ...rest } = c.json;
  return rest;
}
