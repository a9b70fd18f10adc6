// Nothing secret goes into a dossier. Custody keeps secret values out of the records it copies
// (job secrets are released to steps, never stored with runs; webhook secrets and connector
// credentials are sealed and never read here), but run inputs, triggers and resource documents
// are free-form: a string under a key that names a secret value is redacted, and the dossier
// lists where. Arrays of names under `secrets` (a step's secret names) are names, not values.
const secretKey =
  /(^|[-_.])(password|passwd|passphrase|secret|token|api[-_]?key|private[-_]?key|credentials?|authorization|cookie|webhook[-_]?secret|client[-_]?secret|access[-_]?key)$/i;
const camelSecret = /(Password|Secret|Token|ApiKey|PrivateKey|Credentials?|AccessKey)$/;

export const redactedValue = '[redacted]';

export function isSecretKey(key: string): boolean {
  return secretKey.test(key) || camelSecret.test(key);
}

/** A deep copy with secret-named string values redacted, and the JSON paths it redacted. */
export function scrub(value: unknown): { value: unknown; redacted: string[] } {
  const redacted: string[] = [];
  const walk = (v: unknown, path: string): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const p = `${path}.${k}`;
      if (x !== null && x !== undefined && typeof x !== 'object' && isSecretKey(k)) {
        out[k] = redactedValue;
        redacted.push(p);
      } else if (k === 'secrets' && Array.isArray(x) && x.every((n) => typeof n === 'string')) {
        out[k] = x;
      } else {
        out[k] = walk(x, p);
      }
    }
    return out;
  };
  return { value: walk(value, '$'), redacted };
}
