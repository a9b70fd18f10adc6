import { canonicalBytes, leafHash } from '@custody/ledger';
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

export function hashLeaf(entry: AuditEntry): Uint8Array {
  return leafHash(encodeLeaf(entry));
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
