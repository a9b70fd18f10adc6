import type { AnyDb, AnyTx } from '../db/database.ts';

// A module's sealed values, as the start-up check and `custody secrets reseal` see them. Each
// module that keeps sealed values (secrets, SCM webhook secrets, connector credentials, stream
// secrets) implements one over its own store; none reads another module's tables.
export interface SealedValue {
  /** The row, as the module names it (never the value). */
  readonly id: string;
  /** The associated data the value is bound to. */
  readonly context: string;
  readonly sealed: string;
}

export interface SealedValueSet {
  readonly name: string;
  list(db: AnyDb | AnyTx): Promise<SealedValue[]>;
  /** Replaces one value only while it is still `from` (a concurrent write wins). */
  replace(tx: AnyTx, id: string, from: string, to: string): Promise<boolean>;
}
