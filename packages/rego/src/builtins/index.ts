// The builtin registry: every family contributes a table.
import { coreBuiltins } from './core.ts';
import type { BuiltinTable } from './types.ts';

export const builtins: BuiltinTable = {
  ...coreBuiltins,
};
