import { BuiltinError, type BuiltinTable } from '@custody/rego';
import { DomainError } from '../../platform/errors.ts';
import { policyErrors as E } from './errors.ts';

// Builtins a Custody policy may not call: they reach the network or the host, block the
// server, or answer differently each time (a decision must replay to the same result).
export const forbiddenBuiltins = [
  'http.send',
  'net.lookup_ip_addr',
  'test.sleep',
  'rand.intn',
  'uuid.rfc4122',
  'opa.runtime',
] as const;

const arity: Record<(typeof forbiddenBuiltins)[number], number> = {
  'http.send': 1,
  'net.lookup_ip_addr': 1,
  'test.sleep': 1,
  'rand.intn': 2,
  'uuid.rfc4122': 1,
  'opa.runtime': 0,
};

// The same names, each failing when called (in case one is reached some other way).
export const restricted: BuiltinTable = Object.fromEntries(
  forbiddenBuiltins.map((name) => [
    name,
    {
      name,
      arity: arity[name],
      fn: () => {
        throw new BuiltinError('eval_builtin_error', `${name} is not allowed in Custody policies`);
      },
    },
  ]),
);

export function refuseForbidden(files: readonly { name: string; source: string }[]): void {
  for (const f of files)
    for (const [i, text] of f.source.split('\n').entries()) {
      const code = text.replace(/#.*$/, '');
      for (const name of forbiddenBuiltins) {
        const at = code.search(new RegExp(`\\b${name.replace('.', '\\s*\\.\\s*')}\\s*\\(`));
        if (at >= 0)
          throw new DomainError(
            E.POLICIES_BUILTIN_FORBIDDEN,
            `${f.name}:${i + 1}:${at + 1}: ${name} is not allowed in Custody policies`,
            { file: f.name, line: i + 1, column: at + 1, builtin: name },
          );
      }
    }
}
