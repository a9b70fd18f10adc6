// json.verify_schema / json.match_schema: validation by ajv; errors are reworded into
// the types, fields and descriptions OPA reports (it uses xeipuuv/gojsonschema).
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2019Module from 'ajv/dist/2019.js';
import Ajv2020Module from 'ajv/dist/2020.js';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json' with { type: 'json' };
import AjvDraft04Module from 'ajv-draft-04';
import { builtinError } from '../errors.ts';
import { RObject, toJS, type JSONValue, type Value } from '../value.ts';
import { mkObject } from './helpers.ts';
import { def, type BuiltinTable } from './types.ts';

// CommonJS modules: the classes are the `default` of what ESM imports.
const Ajv = AjvModule.default;
const Ajv2019 = Ajv2019Module.default;
const Ajv2020 = Ajv2020Module.default;
const AjvDraft04 = AjvDraft04Module.default;

// gojsonschema ignores keywords it does not know and does not need formats declared.
const OPTIONS = { strict: false, allErrors: true, logger: false, validateFormats: false } as const;

type AjvLike = InstanceType<typeof Ajv>;

const engines = new Map<string, AjvLike>();

/** One ajv instance per draft, picked by `$schema` as gojsonschema does. */
function engineFor(schema: unknown): AjvLike {
  const id =
    schema !== null && typeof schema === 'object' && !Array.isArray(schema)
      ? (schema as Record<string, unknown>)['$schema']
      : undefined;
  const draft =
    typeof id !== 'string'
      ? '7'
      : id.includes('draft-04')
        ? '4'
        : id.includes('2019-09')
          ? '2019'
          : id.includes('2020-12')
            ? '2020'
            : '7';
  let e = engines.get(draft);
  if (e === undefined) {
    if (draft === '4') e = new AjvDraft04(OPTIONS) as unknown as AjvLike;
    else if (draft === '2019') e = new Ajv2019(OPTIONS) as unknown as AjvLike;
    else if (draft === '2020') e = new Ajv2020(OPTIONS) as unknown as AjvLike;
    else {
      e = new Ajv(OPTIONS);
      e.addMetaSchema(draft06);
    }
    engines.set(draft, e);
  }
  return e;
}

const PRIMITIVES = ['array', 'boolean', 'integer', 'number', 'null', 'object', 'string'];

function at(root: unknown, pointer: string): unknown {
  let cur = root;
  for (const seg of pointer.split('/').slice(1)) {
    const k = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Words a meta-schema failure the way gojsonschema does for the common case (a bad
 * `type`), otherwise as ajv does. */
function schemaErrorText(schema: unknown, errors: ErrorObject[]): string {
  for (const e of errors) {
    if (!e.instancePath.endsWith('/type')) continue;
    const v = at(schema, e.instancePath);
    const names = Array.isArray(v) ? v : [v];
    const bad = names.find((n) => typeof n !== 'string' || !PRIMITIVES.includes(n));
    if (typeof bad === 'string')
      return `has a primitive type that is NOT VALID -- given: /${bad}/ Expected valid values are:[${PRIMITIVES.join(' ')}]`;
  }
  const e = errors[0];
  if (e === undefined) return 'invalid schema';
  const key = e.instancePath.split('/').pop() ?? '';
  const p = e.params as Record<string, unknown>;
  // gojsonschema's wording for a keyword of the wrong kind or range.
  if (e.keyword === 'type' && key !== '') {
    const want = String(p['type']).split(',')[0] ?? '';
    return `${key} must be of ${/^[aeiou]/.test(want) ? 'an' : 'a'} ${want}`;
  }
  if (e.keyword === 'minimum' && p['limit'] === 0 && key !== '')
    return `${key} must be greater than or equal to 0`;
  if (e.keyword === 'exclusiveMinimum' && p['limit'] === 0 && key !== '')
    return `${key} must be strictly greater than 0`;
  return `${fieldOf(e.instancePath)}: ${e.message ?? 'is invalid'}`;
}

class SchemaError extends Error {}

const compiled = new Map<string, ValidateFunction>();

function compile(schema: unknown): ValidateFunction {
  const key = JSON.stringify(schema);
  const hit = compiled.get(key);
  if (hit) return hit;
  const ajv = engineFor(schema);
  if (typeof schema !== 'boolean' && (schema === null || typeof schema !== 'object'))
    throw new SchemaError('schema must be a JSON object or boolean');
  if (!ajv.validateSchema(schema as object))
    throw new SchemaError(schemaErrorText(schema, ajv.errors ?? []));
  let fn: ValidateFunction;
  try {
    fn = ajv.compile(schema as object);
  } catch (e) {
    const msg = (e as Error).message;
    // ajv finds bad `pattern` regexes only when compiling; gojsonschema names the keyword.
    throw new SchemaError(
      msg.startsWith('Invalid regular expression') ? 'pattern must be a valid regex' : msg,
    );
  }
  if (compiled.size > 256) compiled.clear();
  compiled.set(key, fn);
  return fn;
}

/** OPA takes JSON text or an object, for documents and schemas alike. */
function jsonOperand(v: Value): unknown {
  if (v instanceof RObject) return plain(toJS(v));
  if (typeof v !== 'string') throw new SchemaError('wrong type, expected string or object');
  try {
    return JSON.parse(v) as unknown;
  } catch {
    throw new SchemaError('invalid JSON string');
  }
}

// ajv works on JS numbers.
function plain(j: JSONValue): unknown {
  if (typeof j === 'bigint') return Number(j);
  if (Array.isArray(j)) return j.map(plain);
  if (j !== null && typeof j === 'object')
    return Object.fromEntries(Object.entries(j).map(([k, v]) => [k, plain(v)]));
  return j;
}

/** gojsonschema's field: "(root)" or the dotted path from it. */
function fieldOf(pointer: string): string {
  if (pointer === '') return '(root)';
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function typeOfJSON(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function listText(vs: unknown[]): string {
  return vs.map((v) => JSON.stringify(v)).join(', ');
}

interface Reported {
  type: string;
  field: string;
  desc: string;
}

/** Rewords one ajv error as gojsonschema's (type, field, description). */
function reword(e: ErrorObject, doc: unknown): Reported {
  const p = e.params as Record<string, unknown>;
  const field = fieldOf(e.instancePath);
  const r = (type: string, desc: string, f = field): Reported => ({ type, field: f, desc });
  switch (e.keyword) {
    case 'type': {
      const t = p['type'];
      const expected = Array.isArray(t) ? `[${t.join(',')}]` : String(t);
      const given = typeOfJSON(at(doc, e.instancePath));
      return r('invalid_type', `Invalid type. Expected: ${expected}, given: ${given}`);
    }
    case 'required':
      return r('required', `${String(p['missingProperty'])} is required`);
    case 'additionalProperties':
      return r(
        'additional_property_not_allowed',
        `Additional property ${String(p['additionalProperty'])} is not allowed`,
      );
    case 'enum':
      return r(
        'enum',
        `${field} must be one of the following: ${listText((p['allowedValues'] as unknown[]) ?? [])}`,
      );
    case 'const':
      return r('const', `${field} does not match: ${JSON.stringify(p['allowedValue'])}`);
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
    case 'exclusiveMaximum': {
      const c = String(p['limit']);
      const cmp = String(p['comparison']);
      if (cmp === '>=') return r('number_gte', `Must be greater than or equal to ${c}`);
      if (cmp === '>') return r('number_gt', `Must be greater than ${c}`);
      if (cmp === '<=') return r('number_lte', `Must be less than or equal to ${c}`);
      return r('number_lt', `Must be less than ${c}`);
    }
    case 'multipleOf':
      return r('multiple_of', `Must be a multiple of ${String(p['multipleOf'])}`);
    case 'minLength':
      return r(
        'string_gte',
        `String length must be greater than or equal to ${String(p['limit'])}`,
      );
    case 'maxLength':
      return r('string_lte', `String length must be less than or equal to ${String(p['limit'])}`);
    case 'pattern':
      return r('pattern', `Does not match pattern '${String(p['pattern'])}'`);
    case 'format':
      return r('format', `Does not match format '${String(p['format'])}'`);
    case 'minItems':
      return r('array_min_items', `Array must have at least ${String(p['limit'])} items`);
    case 'maxItems':
      return r('array_max_items', `Array must have at most ${String(p['limit'])} items`);
    case 'uniqueItems': {
      const [i, j] = [Number(p['i']), Number(p['j'])].sort((a, b) => a - b);
      return r('unique', `array items[${i},${j}] must be unique`);
    }
    case 'contains':
      return r('contains', 'At least one of the items must match');
    case 'additionalItems':
    case 'items':
      return r('array_no_additional_items', 'No additional items allowed on array');
    case 'minProperties':
      return r('array_min_properties', `Must have at least ${String(p['limit'])} properties`);
    case 'maxProperties':
      return r('array_max_properties', `Must have at most ${String(p['limit'])} properties`);
    case 'dependencies':
    case 'dependentRequired':
      return r('missing_dependency', `Has a dependency on ${String(p['missingProperty'])}`);
    case 'propertyNames':
      return r(
        'invalid_property_name',
        `Property name of "${String(p['propertyName'])}" does not match`,
      );
    case 'anyOf':
      return r('number_any_of', 'Must validate at least one schema (anyOf)');
    case 'oneOf':
      return r('number_one_of', 'Must validate one and only one schema (oneOf)');
    case 'not':
      return r('number_not', 'Must not validate the schema (not)');
    case 'if':
      return p['failingKeyword'] === 'else'
        ? r('condition_else', 'Must validate "else" as "if" was not valid')
        : r('condition_then', 'Must validate "then" as "if" was valid');
    case 'false schema':
      return r('false', 'False always fails validation');
    default:
      return r(e.keyword, e.message ?? 'is invalid');
  }
}

function errorsValue(errors: ErrorObject[], doc: unknown): Value[] {
  const out: Value[] = [];
  for (const e of errors) {
    const r = reword(e, doc);
    out.push(
      mkObject([
        ['error', `${r.field}: ${r.desc}`],
        ['type', r.type],
        ['field', r.field],
        ['desc', r.desc],
      ]),
    );
  }
  return out;
}

export const jsonSchemaBuiltins: BuiltinTable = {
  'json.verify_schema': def('json.verify_schema', 1, (a) => {
    try {
      compile(jsonOperand(a[0] as Value));
      return [true, null];
    } catch (e) {
      if (e instanceof SchemaError) return [false, `jsonschema: ${e.message}`];
      throw e;
    }
  }),
  'json.match_schema': def('json.match_schema', 2, (a) => {
    try {
      const doc = jsonOperand(a[0] as Value);
      const validate = compile(jsonOperand(a[1] as Value));
      if (validate(doc)) return [true, []];
      return [false, errorsValue(validate.errors ?? [], doc)];
    } catch (e) {
      if (e instanceof SchemaError) throw builtinError(e.message);
      throw e;
    }
  }),
};
