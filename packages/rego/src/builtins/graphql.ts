// graphql.*: parsing and validation by graphql-js; results and errors are reshaped to
// what OPA (built on vektah/gqlparser) returns, see graphql-ast.ts for the AST shape.
import {
  GraphQLError,
  Kind,
  Lexer,
  Source,
  TokenKind,
  buildASTSchema,
  parse,
  validate,
  validateSchema,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLSchema,
  type Token,
} from 'graphql';
import { validateSDL } from 'graphql/validation/validate.js';
import { builtinError } from '../errors.ts';
import { RObject, fromJS, toJS, toJSONText, type Value } from '../value.ts';
import {
  AstShapeError,
  queryDocumentIn,
  queryDocumentOut,
  schemaDocumentIn,
  schemaDocumentOut,
} from './graphql-ast.ts';
import { operandErr } from './helpers.ts';
import { def, type BuiltinTable } from './types.ts';

/** A failure carrying gqlparser's message and location, rendered the way OPA does. */
class GqlError extends Error {
  constructor(
    readonly detail: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(
      line === undefined
        ? detail
        : `${detail} in GraphQL string at location ${line}:${column ?? 0}`,
    );
  }
}

const PUNCT = new Set<string>([
  TokenKind.BANG,
  TokenKind.DOLLAR,
  TokenKind.AMP,
  TokenKind.PAREN_L,
  TokenKind.PAREN_R,
  TokenKind.SPREAD,
  TokenKind.COLON,
  TokenKind.EQUALS,
  TokenKind.AT,
  TokenKind.BRACKET_L,
  TokenKind.BRACKET_R,
  TokenKind.BRACE_L,
  TokenKind.PIPE,
  TokenKind.BRACE_R,
]);

/** gqlparser's token rendering: punctuation bare, valued tokens as `Kind "value"`. */
function describeToken(t: Token | undefined): string {
  if (t === undefined) return '<Invalid>';
  if (t.kind === TokenKind.EOF) return '<EOF>';
  if (PUNCT.has(t.kind)) return t.kind;
  const kind =
    t.kind === TokenKind.BLOCK_STRING
      ? 'BlockString'
      : t.kind === TokenKind.STRING
        ? 'String'
        : t.kind === TokenKind.INT
          ? 'Int'
          : t.kind === TokenKind.FLOAT
            ? 'Float'
            : 'Name';
  return `${kind} ${JSON.stringify(t.value)}`;
}

/** gqlparser positions string tokens after their opening quotes. */
function tokenColumn(t: Token): number {
  if (t.kind === TokenKind.STRING) return t.column + 1;
  if (t.kind === TokenKind.BLOCK_STRING) return t.column + 3;
  return t.column;
}

/** The token starting at (or first after) offset, and the one before it; undefined
 * token when lexing fails there (gqlparser's Invalid token). */
function tokenAt(text: string, offset: number): { tok?: Token; prev?: Token } {
  const lexer = new Lexer(new Source(text));
  let prev: Token | undefined;
  try {
    for (;;) {
      const t = lexer.advance();
      if (t.kind === TokenKind.EOF || t.end > offset) return { tok: t, prev };
      prev = t;
    }
  } catch {
    return { prev };
  }
}

const CLOSER: Record<string, string> = { [TokenKind.BRACE_L]: '}', [TokenKind.PAREN_L]: ')' };

/** Rewrites a graphql-js syntax error into the message gqlparser's parser gives. */
function syntaxError(e: GraphQLError, text: string): GqlError {
  const offset = e.positions?.[0] ?? 0;
  const loc = e.locations?.[0];
  const { tok, prev } = tokenAt(text, offset);
  const line = tok?.line ?? loc?.line;
  const col = tok ? tokenColumn(tok) : loc?.column;
  const found = describeToken(tok);
  const m = /^Syntax Error: Expected (.*), found /.exec(e.message);
  if (m && tok) {
    // gqlparser reports empty braced lists with its own message.
    if (prev && CLOSER[prev.kind] === tok.kind && m[1] === 'Name')
      return new GqlError(`expected at least one definition, found ${found}`, line, col);
    // Punctuators print bare in gqlparser, keywords stay quoted (`Expected "on"`).
    const want = (m[1] ?? '').replace(/^"([^A-Za-z_]+)"$/, '$1');
    return new GqlError(`Expected ${want}, found ${found}`, line, col);
  }
  return new GqlError(`Unexpected ${found}`, line, col);
}

function isBlank(text: string): boolean {
  try {
    return new Lexer(new Source(text)).advance().kind === TokenKind.EOF;
  } catch {
    return false;
  }
}

function isExecutable(d: DefinitionNode): boolean {
  return d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION;
}

/** Parses text, keeping only the definitions gqlparser's query (or schema) parser accepts. */
function parseText(text: string, executable: boolean): DocumentNode {
  // gqlparser accepts empty documents, graphql-js does not.
  if (isBlank(text)) return { kind: Kind.DOCUMENT, definitions: [] };
  let doc: DocumentNode;
  try {
    // gqlparser accepts variables on fragment definitions (its VariableDefinition).
    doc = parse(text, { allowLegacyFragmentVariables: true });
  } catch (e) {
    if (e instanceof GraphQLError) throw syntaxError(e, text);
    throw e;
  }
  const wrong = doc.definitions.find((d) => isExecutable(d) !== executable);
  if (wrong?.loc) {
    const t = wrong.loc.startToken;
    throw new GqlError(`Unexpected ${describeToken(t)}`, t.line, tokenColumn(t));
  }
  return doc;
}

function fromAst(v: RObject, build: (x: unknown) => DocumentNode): DocumentNode {
  try {
    return build(toJS(v));
  } catch (e) {
    if (e instanceof AstShapeError) throw new GqlError(e.message);
    throw e;
  }
}

function queryDoc(v: Value): DocumentNode {
  return v instanceof RObject ? fromAst(v, queryDocumentIn) : parseText(v as string, true);
}

// Policies tend to check many queries against one schema; like OPA, keep a few parsed
// and built schemas (failures included) instead of redoing the work per call.
const CACHE_SIZE = 16;
const schemaDocs = new Map<string, DocumentNode | GqlError>();
const builtSchemas = new WeakMap<DocumentNode, GraphQLSchema | GqlError>();

function remember<K, V>(cache: Map<K, V>, key: K, value: V): V {
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as K);
  cache.set(key, value);
  return value;
}

function schemaDoc(v: Value): DocumentNode {
  const key = typeof v === 'string' ? 's' + v : 'o' + toJSONText(v);
  let hit = schemaDocs.get(key);
  if (hit === undefined) {
    try {
      hit = v instanceof RObject ? fromAst(v, schemaDocumentIn) : parseText(v as string, false);
    } catch (e) {
      if (!(e instanceof GqlError)) throw e;
      hit = e;
    }
    remember(schemaDocs, key, hit);
  }
  if (hit instanceof GqlError) throw hit;
  return hit;
}

function firstError(errors: readonly GraphQLError[]): GqlError {
  const e = errors[0] as GraphQLError;
  const loc = e.locations?.[0];
  return new GqlError(e.message.replace(/\.$/, ''), loc?.line, loc?.column);
}

/** OPA wraps schema errors, and prints gqlparser's error as `input:line:col: message`. */
function conversionError(errors: readonly GraphQLError[]): GqlError {
  const e = errors[0] as GraphQLError;
  const loc = e.locations?.[0];
  const where = loc ? `input:${loc.line}:${loc.column}` : 'input';
  return new GqlError(
    `Error in gqlparser SchemaDocument to Schema conversion: ${where}: ${e.message}`,
  );
}

const EXTENSION_TO_DEFINITION: Partial<Record<Kind, Kind>> = {
  [Kind.SCALAR_TYPE_EXTENSION]: Kind.SCALAR_TYPE_DEFINITION,
  [Kind.OBJECT_TYPE_EXTENSION]: Kind.OBJECT_TYPE_DEFINITION,
  [Kind.INTERFACE_TYPE_EXTENSION]: Kind.INTERFACE_TYPE_DEFINITION,
  [Kind.UNION_TYPE_EXTENSION]: Kind.UNION_TYPE_DEFINITION,
  [Kind.ENUM_TYPE_EXTENSION]: Kind.ENUM_TYPE_DEFINITION,
  [Kind.INPUT_OBJECT_TYPE_EXTENSION]: Kind.INPUT_OBJECT_TYPE_DEFINITION,
};

/** gqlparser lets a schema extend a type it never defines (federation relies on it):
 * the first such extension acts as the definition. */
function defineExtendedTypes(doc: DocumentNode): DocumentNode {
  const defined = new Set<string>();
  for (const d of doc.definitions)
    if ('name' in d && d.name && !(d.kind in EXTENSION_TO_DEFINITION)) defined.add(d.name.value);
  const definitions = doc.definitions.map((d) => {
    const kind = EXTENSION_TO_DEFINITION[d.kind];
    if (kind === undefined || !('name' in d) || !d.name || defined.has(d.name.value)) return d;
    defined.add(d.name.value);
    return { ...d, kind } as DefinitionNode;
  });
  return { ...doc, definitions };
}

// gqlparser, unlike graphql-js, accepts schemas without a query root.
const IGNORED_SCHEMA_ERRORS = [/^Query root type must be provided/];

/** Builds and validates a schema per the GraphQL spec, as gqlparser's LoadSchema does. */
function loadSchema(doc: DocumentNode): GraphQLSchema {
  let hit = builtSchemas.get(doc);
  if (hit === undefined) {
    try {
      hit = buildSchema(doc);
    } catch (e) {
      if (!(e instanceof GqlError)) throw e;
      hit = e;
    }
    builtSchemas.set(doc, hit);
  }
  if (hit instanceof GqlError) throw hit;
  return hit;
}

function buildSchema(doc: DocumentNode): GraphQLSchema {
  const sdl = defineExtendedTypes(doc);
  const sdlErrors = validateSDL(sdl);
  if (sdlErrors.length > 0) throw conversionError(sdlErrors);
  const checked = buildASTSchema(sdl, { assumeValidSDL: true });
  const errors = validateSchema(checked).filter(
    (e) => !IGNORED_SCHEMA_ERRORS.some((r) => r.test(e.message)),
  );
  if (errors.length > 0) throw conversionError(errors);
  // A fresh copy marked valid, so validate() accepts a schema without a query root.
  return buildASTSchema(sdl, { assumeValid: true });
}

function validateQuery(schema: GraphQLSchema, doc: DocumentNode): void {
  const errors = validate(schema, doc);
  if (errors.length > 0) throw firstError(errors);
  // gqlparser's KnownRootType rule; graphql-js 16 has no such rule.
  for (const d of doc.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION || schema.getRootType(d.operation)) continue;
    const loc = d.loc?.startToken;
    throw new GqlError(
      `Schema does not support operation type "${d.operation}"`,
      loc?.line,
      loc?.column,
    );
  }
}

function gqlCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof GqlError) throw builtinError(e.message);
    if (e instanceof GraphQLError) throw builtinError(e.message);
    throw e;
  }
}

function stringOrObject(args: Value[], i: number): Value {
  const v = args[i] as Value;
  if (typeof v !== 'string' && !(v instanceof RObject))
    throw operandErr(i, 'one of {string, object}', v);
  return v;
}

function stringOnly(args: Value[], i: number): string {
  const v = args[i] as Value;
  if (typeof v !== 'string') throw operandErr(i, 'string', v);
  return v;
}

/** True when fn completes; is_valid-style builtins answer false on any failure. */
function succeeds(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (e instanceof GqlError || e instanceof GraphQLError || e instanceof AstShapeError)
      return false;
    throw e;
  }
}

const queryOut = (d: DocumentNode): Value => fromJS(queryDocumentOut(d));
const schemaOut = (d: DocumentNode): Value => fromJS(schemaDocumentOut(d));

function isStrOrObj(v: Value | undefined): boolean {
  return typeof v === 'string' || v instanceof RObject;
}

export const graphqlBuiltins: BuiltinTable = {
  'graphql.parse_query': def('graphql.parse_query', 1, (a) =>
    gqlCall(() => queryOut(parseText(stringOnly(a, 0), true))),
  ),
  'graphql.parse_schema': def('graphql.parse_schema', 1, (a) =>
    gqlCall(() => schemaOut(parseText(stringOnly(a, 0), false))),
  ),
  'graphql.parse': def('graphql.parse', 2, (a) => {
    const q = stringOrObject(a, 0);
    const s = stringOrObject(a, 1);
    return gqlCall(() => {
      const qd = queryDoc(q);
      const sd = schemaDoc(s);
      validateQuery(loadSchema(sd), qd);
      return [queryOut(qd), schemaOut(sd)];
    });
  }),
  'graphql.parse_and_verify': def('graphql.parse_and_verify', 2, (a) => {
    const unverified: Value = [false, new RObject(), new RObject()];
    const q = a[0] as Value;
    const s = a[1] as Value;
    if (!isStrOrObj(q) || !isStrOrObj(s)) return unverified;
    let out: Value = unverified;
    const ok = succeeds(() => {
      const qd = queryDoc(q);
      const sd = schemaDoc(s);
      validateQuery(loadSchema(sd), qd);
      out = [true, queryOut(qd), schemaOut(sd)];
    });
    return ok ? out : unverified;
  }),
  'graphql.is_valid': def('graphql.is_valid', 2, (a) => {
    const q = a[0] as Value;
    const s = a[1] as Value;
    if (!isStrOrObj(q) || !isStrOrObj(s)) return false;
    return succeeds(() => validateQuery(loadSchema(schemaDoc(s)), queryDoc(q)));
  }),
  'graphql.schema_is_valid': def('graphql.schema_is_valid', 1, (a) => {
    const s = a[0] as Value;
    if (!isStrOrObj(s)) return false;
    return succeeds(() => loadSchema(schemaDoc(s)));
  }),
};
