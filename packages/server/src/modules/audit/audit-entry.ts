import {
  canonicalBytes,
  canonicalJson,
  isWellFormedString,
  leafHash,
  leafHashHexOfText,
  toHex,
} from '@custody/ledger';
import type { ActorType, AuditOutcome, AuthMethod } from '../../platform/context.ts';

// The audit entry as a ledger leaf. Its canonical encoding (RFC 8785 JSON) is what the
// Merkle tree commits to, so every field here is part of the tamper-evident record.
export interface AuditEntry {
  readonly seq: number;
  readonly time: string;
  readonly actor: {
    readonly type: ActorType;
    readonly id: string | null;
    readonly name: string;
    readonly authMethod: AuthMethod;
    readonly ip: string | null;
  };
  readonly action: string;
  readonly resource: { readonly type: string; readonly id: string };
  readonly outcome: AuditOutcome;
  readonly requestId: string | null;
  readonly details: Record<string, unknown>;
}

export const leafFormatVersion = 1;

export function encodeLeaf(entry: AuditEntry): Uint8Array {
  return canonicalBytes({ v: leafFormatVersion, ...entry });
}

// The hex of leafHash(encodeLeaf(entry)). Every audited change hashes its entries on the
// write path, so the fixed fields are spelled out in RFC 8785 key order and only `details`
// goes through the generic canonicalizer (the caller may pass its canonical JSON, which it
// also stores); an entry of any other shape takes the generic route. Verification always
// uses encodeLeaf, so the two cannot drift unnoticed.
export function leafHashHex(entry: AuditEntry, detailsJson?: string): string {
  const text = leafText(entry, detailsJson);
  return text === undefined ? toHex(leafHash(encodeLeaf(entry))) : leafHashHexOfText(text);
}

/** The canonical JSON of the entry; `detailsJson` must be canonicalJson(entry.details). */
export function leafText(e: AuditEntry, detailsJson?: string): string | undefined {
  const { actor, resource } = e;
  if (
    Object.keys(e).length !== 8 ||
    typeof actor !== 'object' ||
    actor === null ||
    Object.keys(actor).length !== 5 ||
    typeof resource !== 'object' ||
    resource === null ||
    Object.keys(resource).length !== 2 ||
    !Number.isSafeInteger(e.seq) ||
    typeof e.details !== 'object' ||
    e.details === null ||
    Array.isArray(e.details)
  )
    return undefined;
  const parts = [
    str(e.action),
    str(actor.authMethod),
    strOrNull(actor.id),
    strOrNull(actor.ip),
    str(actor.name),
    str(actor.type),
    str(e.outcome),
    strOrNull(e.requestId),
    str(resource.id),
    str(resource.type),
    str(e.time),
  ];
  if (parts.includes(undefined)) return undefined;
  const [action, authMethod, id, ip, name, type, outcome, requestId, rid, rtype, time] = parts;
  return (
    `{"action":${action},"actor":{"authMethod":${authMethod},"id":${id},"ip":${ip},"name":${name},"type":${type}},` +
    `"details":${detailsJson ?? canonicalJson(e.details)},"outcome":${outcome},"requestId":${requestId},` +
    `"resource":{"id":${rid},"type":${rtype}},"seq":${e.seq},"time":${time},"v":${leafFormatVersion}}`
  );
}

/** What every entry of one unit of work shares (actor, time, request id), serialized once. */
export interface SharedLeafFields {
  readonly actor: AuditEntry['actor'];
  readonly time: string;
  readonly requestId: string | null;
  /** `,"actor":{…},"details":` */
  readonly afterAction: string;
  /** `,"requestId":…,"resource":{"id":` */
  readonly afterOutcome: string;
  /** `,"time":…,"v":1}` */
  readonly tail: string;
}

/** The shared fields' JSON, or undefined if they must take the generic route. */
export function sharedLeafFields(
  actor: AuditEntry['actor'],
  time: string,
  requestId: string | null,
): SharedLeafFields | undefined {
  if (typeof actor !== 'object' || actor === null || Object.keys(actor).length !== 5)
    return undefined;
  const parts = [
    str(actor.authMethod),
    strOrNull(actor.id),
    strOrNull(actor.ip),
    str(actor.name),
    str(actor.type),
    strOrNull(requestId),
    str(time),
  ];
  if (parts.includes(undefined)) return undefined;
  const [authMethod, id, ip, name, type, rid, t] = parts;
  return {
    actor,
    time,
    requestId,
    afterAction: `,"actor":{"authMethod":${authMethod},"id":${id},"ip":${ip},"name":${name},"type":${type}},"details":`,
    afterOutcome: `,"requestId":${rid},"resource":{"id":`,
    tail: `,"time":${t},"v":${leafFormatVersion}}`,
  };
}

/**
 * leafHashHex of `{...entry, seq}` for the entries of one unit of work: with their shared
 * fields serialized once, only action, outcome, resource and details are per entry (the
 * write path's largest cost after the insert itself). Anything that does not match `shared`
 * exactly takes leafHashHex.
 */
export function leafHashHexWith(
  shared: SharedLeafFields | undefined,
  entry: Omit<AuditEntry, 'seq'>,
  seq: number,
  detailsJson: string,
): string {
  const { resource } = entry;
  if (
    shared !== undefined &&
    entry.actor === shared.actor &&
    entry.time === shared.time &&
    entry.requestId === shared.requestId &&
    Number.isSafeInteger(seq) &&
    typeof resource === 'object' &&
    resource !== null &&
    Object.keys(resource).length === 2 &&
    Object.keys(entry).length === 7
  ) {
    const action = str(entry.action);
    const outcome = str(entry.outcome);
    const id = str(resource.id);
    const type = str(resource.type);
    if (action !== undefined && outcome !== undefined && id !== undefined && type !== undefined)
      return leafHashHexOfText(
        `{"action":${action}${shared.afterAction}${detailsJson},"outcome":${outcome}${shared.afterOutcome}${id},"type":${type}},"seq":${seq}${shared.tail}`,
      );
  }
  return leafHashHex({ ...entry, seq }, detailsJson);
}

// Printable ASCII other than `"` and `\`: JSON (and so RFC 8785) writes it unescaped.
const plainAscii = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function str(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  if (plainAscii.test(v)) return `"${v}"`;
  return isWellFormedString(v) ? JSON.stringify(v) : undefined;
}

function strOrNull(v: unknown): string | undefined {
  return v === null ? 'null' : str(v);
}

const secretKeys = /^(password|passwd|token|secret|secretvalue|privatekey|apikey|authorization)$/i;

// Defence in depth: callers never put secrets in details, and any key that names one is masked.
export function scrubDetails(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrubDetails);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out[k] = secretKeys.test(k) ? '[redacted]' : scrubDetails(v);
    }
    return out;
  }
  return value;
}
