// Typed errors with stable codes, mirroring OPA's error codes so callers (and the
// conformance suite) can match on them.

export type RegoErrorCode =
  | 'rego_parse_error'
  | 'rego_compile_error'
  | 'rego_unsafe_var_error'
  | 'rego_recursion_error'
  | 'rego_type_error'
  | 'eval_conflict_error'
  | 'eval_builtin_error'
  | 'eval_type_error'
  | 'eval_limit_exceeded'
  | 'eval_internal_error';

export interface Location {
  file: string;
  row: number;
  col: number;
}

export class RegoError extends Error {
  readonly code: RegoErrorCode;
  readonly location: Location | undefined;
  readonly detail: string;
  constructor(code: RegoErrorCode, detail: string, location?: Location) {
    super(formatMessage(code, detail, location));
    this.name = 'RegoError';
    this.code = code;
    this.detail = detail;
    this.location = location;
  }
}

function formatMessage(code: string, detail: string, loc?: Location): string {
  if (!loc) return `${code}: ${detail}`;
  // Compile-time errors point at the column too; evaluation errors keep OPA's
  // `file:row: code: message` form, which callers match on.
  if (code.startsWith('rego_')) return `${loc.file}:${loc.row}:${loc.col}: ${code}: ${detail}`;
  return `${loc.file}:${loc.row}: ${code}: ${detail}`;
}

/** Several compile errors reported together, each with its own location. */
export class RegoCompileErrors extends RegoError {
  readonly errors: RegoError[];
  constructor(errors: RegoError[]) {
    const first = errors[0];
    super(
      first?.code ?? 'rego_compile_error',
      errors.length === 1
        ? (first?.detail ?? '')
        : `${errors.length} errors occurred:\n${errors.map((e) => e.message).join('\n')}`,
      errors.length === 1 ? first?.location : undefined,
    );
    this.errors = errors;
  }
}

/** Raised by builtins; the evaluator decides (strict mode) whether it surfaces. */
export class BuiltinError extends Error {
  readonly code: 'eval_builtin_error' | 'eval_type_error';
  constructor(code: 'eval_builtin_error' | 'eval_type_error', message: string) {
    super(message);
    this.code = code;
  }
}

export function typeError(msg: string): BuiltinError {
  return new BuiltinError('eval_type_error', msg);
}

export function builtinError(msg: string): BuiltinError {
  return new BuiltinError('eval_builtin_error', msg);
}
