// What a report may cost to parse. The server passes its `fileMaxBytes`; the CLI uses these.
export interface EvidenceLimits {
  maxBytes: number;
  // Element nesting for XML, array/object nesting for JSON.
  maxDepth: number;
}

export const defaultEvidenceLimits: EvidenceLimits = {
  maxBytes: 32 * 1024 * 1024,
  maxDepth: 64,
};

export function resolveLimits(limits?: Partial<EvidenceLimits>): EvidenceLimits {
  return { ...defaultEvidenceLimits, ...limits };
}
