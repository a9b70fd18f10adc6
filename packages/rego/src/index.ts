// @custody/rego: a Rego (Open Policy Agent) engine in TypeScript.
export { compile, PreparedPolicy, PreparedQuery, DEFAULT_LIMITS } from './policy.ts';
export type { CompileOptions, EvalOptions, EvalResult, QueryResult } from './policy.ts';
export { RegoError, RegoCompileErrors, BuiltinError } from './errors.ts';
export type { RegoErrorCode, Location } from './errors.ts';
export {
  RObject,
  RSet,
  fromJS,
  toJS,
  formatValue,
  toJSONText,
  type Value,
  type JSONValue,
} from './value.ts';
export { stringifyJSON as stringifyJSONValue } from './value.ts';
export type { BuiltinDef, BuiltinTable, BuiltinCtx } from './builtins/types.ts';
export { builtins } from './builtins/index.ts';
export { runConformance, type ConformanceSummary, type CaseResult } from './conformance/runner.ts';
export { runPolicyTests, runModuleTests, findRegoFiles, type TestOutcome } from './testing.ts';
