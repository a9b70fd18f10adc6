// Converts between graphql-js's AST and the JSON shape OPA exposes, which is how
// vektah/gqlparser's Go AST structs marshal (Go field names, ValueKind numbers,
// list types as Elem). OPA drops positions, nulls and empty lists/objects from that
// JSON, so `prune` does the same; the reverse direction accepts such pruned objects.
import {
  Kind,
  type ArgumentNode,
  type ConstDirectiveNode,
  type DefinitionNode,
  type DirectiveNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type InputValueDefinitionNode,
  type NamedTypeNode,
  type OperationTypeNode,
  type SelectionNode,
  type TypeNode,
  type ValueNode,
  type VariableDefinitionNode,
} from 'graphql';

type J = unknown;
type Obj = Record<string, J>;

// gqlparser's ValueKind enumeration.
const VALUE_KIND = {
  Variable: 0,
  Int: 1,
  Float: 2,
  String: 3,
  Block: 4,
  Boolean: 5,
  Null: 6,
  Enum: 7,
  List: 8,
  Object: 9,
} as const;

/** Removes what OPA removes: Position, nulls, and lists/objects left empty. */
export function prune(x: J): J {
  if (Array.isArray(x)) {
    const out: J[] = [];
    for (const e of x) {
      if (e === null || e === undefined) continue;
      const p = prune(e);
      if (isEmptyContainer(p)) continue;
      out.push(p);
    }
    return out;
  }
  if (x !== null && typeof x === 'object') {
    const out: Obj = {};
    for (const [k, v] of Object.entries(x as Obj)) {
      if (k === 'Position' || v === null || v === undefined) continue;
      const p = prune(v);
      if (isEmptyContainer(p)) continue;
      out[k] = p;
    }
    return out;
  }
  return x;
}

function isEmptyContainer(x: J): boolean {
  if (Array.isArray(x)) return x.length === 0;
  return x !== null && typeof x === 'object' && Object.keys(x).length === 0;
}

// ---- graphql-js -> gqlparser shape ----

function typeOut(t: TypeNode): Obj {
  switch (t.kind) {
    case Kind.NON_NULL_TYPE:
      return { ...typeOut(t.type), NonNull: true };
    case Kind.LIST_TYPE:
      return { NamedType: '', Elem: typeOut(t.type), NonNull: false };
    default:
      return { NamedType: t.name.value, NonNull: false };
  }
}

function valueOut(v: ValueNode): Obj {
  const base = { ExpectedTypeHasDefault: false };
  switch (v.kind) {
    case Kind.VARIABLE:
      return { ...base, Kind: VALUE_KIND.Variable, Raw: v.name.value };
    case Kind.INT:
      return { ...base, Kind: VALUE_KIND.Int, Raw: v.value };
    case Kind.FLOAT:
      return { ...base, Kind: VALUE_KIND.Float, Raw: v.value };
    case Kind.STRING:
      return { ...base, Kind: v.block ? VALUE_KIND.Block : VALUE_KIND.String, Raw: v.value };
    case Kind.BOOLEAN:
      return { ...base, Kind: VALUE_KIND.Boolean, Raw: String(v.value) };
    case Kind.NULL:
      return { ...base, Kind: VALUE_KIND.Null, Raw: 'null' };
    case Kind.ENUM:
      return { ...base, Kind: VALUE_KIND.Enum, Raw: v.value };
    case Kind.LIST:
      return {
        ...base,
        Kind: VALUE_KIND.List,
        Raw: '',
        Children: v.values.map((c) => ({ Name: '', Value: valueOut(c) })),
      };
    case Kind.OBJECT:
      return {
        ...base,
        Kind: VALUE_KIND.Object,
        Raw: '',
        Children: v.fields.map((f) => ({ Name: f.name.value, Value: valueOut(f.value) })),
      };
  }
}

function argsOut(args: readonly ArgumentNode[] | undefined): Obj[] {
  return (args ?? []).map((a) => ({ Name: a.name.value, Value: valueOut(a.value) }));
}

function directivesOut(ds: readonly DirectiveNode[] | undefined): Obj[] {
  // Location is filled in by gqlparser's validator, never by its parser.
  return (ds ?? []).map((d) => ({
    Name: d.name.value,
    Arguments: argsOut(d.arguments),
    Location: '',
  }));
}

function selectionsOut(sel: { selections: readonly SelectionNode[] } | undefined): Obj[] {
  return (sel?.selections ?? []).map((s) => {
    switch (s.kind) {
      case Kind.FIELD:
        return {
          Alias: (s.alias ?? s.name).value,
          Name: s.name.value,
          Arguments: argsOut(s.arguments),
          Directives: directivesOut(s.directives),
          SelectionSet: selectionsOut(s.selectionSet),
        };
      case Kind.FRAGMENT_SPREAD:
        return { Name: s.name.value, Directives: directivesOut(s.directives) };
      case Kind.INLINE_FRAGMENT:
        return {
          TypeCondition: s.typeCondition?.name.value ?? '',
          Directives: directivesOut(s.directives),
          SelectionSet: selectionsOut(s.selectionSet),
        };
    }
  });
}

function varDefsOut(vs: readonly VariableDefinitionNode[] | undefined): Obj[] {
  return (vs ?? []).map((v) => ({
    Variable: v.variable.name.value,
    Type: typeOut(v.type),
    DefaultValue: v.defaultValue ? valueOut(v.defaultValue) : undefined,
    Directives: directivesOut(v.directives),
    // Set by gqlparser's validator only; OPA returns the parser's view.
    Used: false,
  }));
}

/** A query document in gqlparser's shape (Operations, Fragments), pruned. */
export function queryDocumentOut(doc: DocumentNode): J {
  const ops: Obj[] = [];
  const frags: Obj[] = [];
  for (const d of doc.definitions) {
    if (d.kind === Kind.OPERATION_DEFINITION) {
      ops.push({
        Operation: d.operation,
        Name: d.name?.value ?? '',
        VariableDefinitions: varDefsOut(d.variableDefinitions),
        Directives: directivesOut(d.directives),
        SelectionSet: selectionsOut(d.selectionSet),
      });
    } else if (d.kind === Kind.FRAGMENT_DEFINITION) {
      frags.push({
        Name: d.name.value,
        VariableDefinition: varDefsOut(d.variableDefinitions),
        TypeCondition: d.typeCondition.name.value,
        Directives: directivesOut(d.directives),
        SelectionSet: selectionsOut(d.selectionSet),
      });
    }
  }
  return prune({ Operations: ops, Fragments: frags });
}

function inputValueOut(a: InputValueDefinitionNode): Obj {
  return {
    Description: a.description?.value ?? '',
    Name: a.name.value,
    DefaultValue: a.defaultValue ? valueOut(a.defaultValue) : undefined,
    Type: typeOut(a.type),
    Directives: directivesOut(a.directives),
  };
}

function fieldOut(f: FieldDefinitionNode): Obj {
  return {
    Description: f.description?.value ?? '',
    Name: f.name.value,
    Arguments: (f.arguments ?? []).map(inputValueOut),
    Type: typeOut(f.type),
    Directives: directivesOut(f.directives),
  };
}

const DEF_KIND: Record<string, string> = {
  [Kind.SCALAR_TYPE_DEFINITION]: 'SCALAR',
  [Kind.SCALAR_TYPE_EXTENSION]: 'SCALAR',
  [Kind.OBJECT_TYPE_DEFINITION]: 'OBJECT',
  [Kind.OBJECT_TYPE_EXTENSION]: 'OBJECT',
  [Kind.INTERFACE_TYPE_DEFINITION]: 'INTERFACE',
  [Kind.INTERFACE_TYPE_EXTENSION]: 'INTERFACE',
  [Kind.UNION_TYPE_DEFINITION]: 'UNION',
  [Kind.UNION_TYPE_EXTENSION]: 'UNION',
  [Kind.ENUM_TYPE_DEFINITION]: 'ENUM',
  [Kind.ENUM_TYPE_EXTENSION]: 'ENUM',
  [Kind.INPUT_OBJECT_TYPE_DEFINITION]: 'INPUT_OBJECT',
  [Kind.INPUT_OBJECT_TYPE_EXTENSION]: 'INPUT_OBJECT',
};

function typeDefOut(d: DefinitionNode): Obj | undefined {
  const kind = DEF_KIND[d.kind];
  if (kind === undefined || !('name' in d) || d.name === undefined) return undefined;
  const n = d as DefinitionNode & {
    name: { value: string };
    description?: { value: string };
    directives?: readonly ConstDirectiveNode[];
    interfaces?: readonly NamedTypeNode[];
    fields?: readonly (FieldDefinitionNode | InputValueDefinitionNode)[];
    types?: readonly NamedTypeNode[];
    values?: readonly {
      name: { value: string };
      description?: { value: string };
      directives?: readonly ConstDirectiveNode[];
    }[];
  };
  return {
    Kind: kind,
    Description: n.description?.value ?? '',
    Name: n.name.value,
    Directives: directivesOut(n.directives),
    Interfaces: (n.interfaces ?? []).map((i) => i.name.value),
    Fields: (n.fields ?? []).map((f) =>
      f.kind === Kind.INPUT_VALUE_DEFINITION ? inputValueOut(f) : fieldOut(f),
    ),
    Types: (n.types ?? []).map((t) => t.name.value),
    EnumValues: (n.values ?? []).map((e) => ({
      Description: e.description?.value ?? '',
      Name: e.name.value,
      Directives: directivesOut(e.directives),
    })),
    BuiltIn: false,
  };
}

/** A schema document in gqlparser's shape (Schema, Definitions, ...), pruned. */
export function schemaDocumentOut(doc: DocumentNode): J {
  const out: Record<string, Obj[]> = {
    Schema: [],
    SchemaExtension: [],
    Directives: [],
    Definitions: [],
    Extensions: [],
  };
  for (const d of doc.definitions) {
    switch (d.kind) {
      case Kind.SCHEMA_DEFINITION:
      case Kind.SCHEMA_EXTENSION:
        (d.kind === Kind.SCHEMA_DEFINITION ? out.Schema : out.SchemaExtension)?.push({
          Description: d.kind === Kind.SCHEMA_DEFINITION ? (d.description?.value ?? '') : '',
          Directives: directivesOut(d.directives),
          OperationTypes: (d.operationTypes ?? []).map((o) => ({
            Operation: o.operation,
            Type: o.type.name.value,
          })),
        });
        break;
      case Kind.DIRECTIVE_DEFINITION:
        out.Directives?.push({
          Description: d.description?.value ?? '',
          Name: d.name.value,
          Arguments: (d.arguments ?? []).map(inputValueOut),
          Locations: d.locations.map((l) => l.value),
          IsRepeatable: d.repeatable,
        });
        break;
      default: {
        const t = typeDefOut(d);
        if (t === undefined) break;
        (d.kind.endsWith('Extension') ? out.Extensions : out.Definitions)?.push(t);
      }
    }
  }
  return prune(out);
}

// ---- gqlparser shape -> graphql-js ----

/** Raised for objects that do not have gqlparser's AST shape. */
export class AstShapeError extends Error {}

function asObj(x: J, what: string): Obj {
  if (x === null || typeof x !== 'object' || Array.isArray(x))
    throw new AstShapeError(`${what} must be an object`);
  return x as Obj;
}

function list(x: J, what: string): J[] {
  if (x === undefined || x === null) return [];
  if (!Array.isArray(x)) throw new AstShapeError(`${what} must be an array`);
  return x;
}

function strField(o: Obj, k: string): string {
  const v = o[k];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new AstShapeError(`${k} must be a string`);
  return v;
}

function name(value: string): { kind: Kind.NAME; value: string } {
  return { kind: Kind.NAME, value };
}

function namedType(value: string): NamedTypeNode {
  return { kind: Kind.NAMED_TYPE, name: name(value) };
}

function typeIn(x: J): TypeNode {
  const o = asObj(x, 'Type');
  const elem = o['Elem'];
  const inner =
    elem !== undefined && elem !== null
      ? { kind: Kind.LIST_TYPE as const, type: typeIn(elem) }
      : namedType(strField(o, 'NamedType'));
  if (o['NonNull'] === true) return { kind: Kind.NON_NULL_TYPE, type: inner };
  return inner;
}

function valueIn(x: J): ValueNode {
  const o = asObj(x, 'Value');
  const raw = strField(o, 'Raw');
  const children = list(o['Children'], 'Children').map((c) => asObj(c, 'Children'));
  switch (o['Kind'] ?? 0) {
    case VALUE_KIND.Variable:
      return { kind: Kind.VARIABLE, name: name(raw) };
    case VALUE_KIND.Int:
      return { kind: Kind.INT, value: raw };
    case VALUE_KIND.Float:
      return { kind: Kind.FLOAT, value: raw };
    case VALUE_KIND.String:
      return { kind: Kind.STRING, value: raw };
    case VALUE_KIND.Block:
      return { kind: Kind.STRING, value: raw, block: true };
    case VALUE_KIND.Boolean:
      return { kind: Kind.BOOLEAN, value: raw === 'true' };
    case VALUE_KIND.Null:
      return { kind: Kind.NULL };
    case VALUE_KIND.Enum:
      return { kind: Kind.ENUM, value: raw };
    case VALUE_KIND.List:
      return { kind: Kind.LIST, values: children.map((c) => valueIn(c['Value'])) };
    case VALUE_KIND.Object:
      return {
        kind: Kind.OBJECT,
        fields: children.map((c) => ({
          kind: Kind.OBJECT_FIELD,
          name: name(strField(c, 'Name')),
          value: valueIn(c['Value']),
        })),
      };
    default:
      throw new AstShapeError('unknown value kind');
  }
}

function argsIn(x: J): ArgumentNode[] {
  return list(x, 'Arguments').map((a) => {
    const o = asObj(a, 'Argument');
    return { kind: Kind.ARGUMENT, name: name(strField(o, 'Name')), value: valueIn(o['Value']) };
  });
}

function directivesIn(x: J): ConstDirectiveNode[] {
  return list(x, 'Directives').map((d) => {
    const o = asObj(d, 'Directive');
    return {
      kind: Kind.DIRECTIVE,
      name: name(strField(o, 'Name')),
      arguments: argsIn(o['Arguments']),
    } as ConstDirectiveNode;
  });
}

function selectionSetIn(x: J): { kind: Kind.SELECTION_SET; selections: SelectionNode[] } {
  const selections = list(x, 'SelectionSet').map((s): SelectionNode => {
    const o = asObj(s, 'Selection');
    // gqlparser's Selection is an interface; the fields present tell the kinds apart.
    if ('Alias' in o || 'Arguments' in o) {
      const n = strField(o, 'Name');
      const alias = strField(o, 'Alias');
      const sub = list(o['SelectionSet'], 'SelectionSet');
      return {
        kind: Kind.FIELD,
        alias: alias !== '' && alias !== n ? name(alias) : undefined,
        name: name(n),
        arguments: argsIn(o['Arguments']),
        directives: directivesIn(o['Directives']),
        selectionSet: sub.length > 0 ? selectionSetIn(sub) : undefined,
      };
    }
    if ('SelectionSet' in o || 'TypeCondition' in o) {
      const tc = strField(o, 'TypeCondition');
      return {
        kind: Kind.INLINE_FRAGMENT,
        typeCondition: tc === '' ? undefined : namedType(tc),
        directives: directivesIn(o['Directives']),
        selectionSet: selectionSetIn(o['SelectionSet']),
      };
    }
    return {
      kind: Kind.FRAGMENT_SPREAD,
      name: name(strField(o, 'Name')),
      directives: directivesIn(o['Directives']),
    };
  });
  return { kind: Kind.SELECTION_SET, selections };
}

function varDefsIn(x: J): VariableDefinitionNode[] {
  return list(x, 'VariableDefinitions').map((v) => {
    const o = asObj(v, 'VariableDefinition');
    const dv = o['DefaultValue'];
    return {
      kind: Kind.VARIABLE_DEFINITION,
      variable: { kind: Kind.VARIABLE, name: name(strField(o, 'Variable')) },
      type: typeIn(o['Type']),
      defaultValue: dv === undefined || dv === null ? undefined : valueIn(dv),
      directives: directivesIn(o['Directives']),
    } as VariableDefinitionNode;
  });
}

/** Builds a graphql-js document from a query AST object. */
export function queryDocumentIn(x: J): DocumentNode {
  const o = asObj(x, 'query AST');
  const definitions: DefinitionNode[] = [];
  for (const op of list(o['Operations'], 'Operations')) {
    const d = asObj(op, 'Operation');
    const n = strField(d, 'Name');
    definitions.push({
      kind: Kind.OPERATION_DEFINITION,
      operation: (strField(d, 'Operation') || 'query') as OperationTypeNode,
      name: n === '' ? undefined : name(n),
      variableDefinitions: varDefsIn(d['VariableDefinitions']),
      directives: directivesIn(d['Directives']),
      selectionSet: selectionSetIn(d['SelectionSet']),
    });
  }
  for (const fr of list(o['Fragments'], 'Fragments')) {
    const d = asObj(fr, 'Fragment');
    definitions.push({
      kind: Kind.FRAGMENT_DEFINITION,
      name: name(strField(d, 'Name')),
      typeCondition: namedType(strField(d, 'TypeCondition')),
      directives: directivesIn(d['Directives']),
      selectionSet: selectionSetIn(d['SelectionSet']),
    });
  }
  return { kind: Kind.DOCUMENT, definitions };
}

function description(o: Obj): { kind: Kind.STRING; value: string } | undefined {
  const d = strField(o, 'Description');
  return d === '' ? undefined : { kind: Kind.STRING, value: d };
}

function inputValueIn(x: J): InputValueDefinitionNode {
  const o = asObj(x, 'ArgumentDefinition');
  const dv = o['DefaultValue'];
  return {
    kind: Kind.INPUT_VALUE_DEFINITION,
    description: description(o),
    name: name(strField(o, 'Name')),
    type: typeIn(o['Type']),
    defaultValue: dv === undefined || dv === null ? undefined : valueIn(dv),
    directives: directivesIn(o['Directives']),
  } as InputValueDefinitionNode;
}

const KIND_IN: Record<string, [Kind, Kind]> = {
  SCALAR: [Kind.SCALAR_TYPE_DEFINITION, Kind.SCALAR_TYPE_EXTENSION],
  OBJECT: [Kind.OBJECT_TYPE_DEFINITION, Kind.OBJECT_TYPE_EXTENSION],
  INTERFACE: [Kind.INTERFACE_TYPE_DEFINITION, Kind.INTERFACE_TYPE_EXTENSION],
  UNION: [Kind.UNION_TYPE_DEFINITION, Kind.UNION_TYPE_EXTENSION],
  ENUM: [Kind.ENUM_TYPE_DEFINITION, Kind.ENUM_TYPE_EXTENSION],
  INPUT_OBJECT: [Kind.INPUT_OBJECT_TYPE_DEFINITION, Kind.INPUT_OBJECT_TYPE_EXTENSION],
};

function typeDefIn(x: J, extension: boolean): DefinitionNode {
  const o = asObj(x, 'Definition');
  const kinds = KIND_IN[strField(o, 'Kind')];
  if (kinds === undefined) throw new AstShapeError('unknown definition kind');
  const kind = extension ? kinds[1] : kinds[0];
  const fields = list(o['Fields'], 'Fields');
  const isInput = strField(o, 'Kind') === 'INPUT_OBJECT';
  const node: Record<string, unknown> = {
    kind,
    name: name(strField(o, 'Name')),
    description: extension ? undefined : description(o),
    directives: directivesIn(o['Directives']),
  };
  switch (strField(o, 'Kind')) {
    case 'OBJECT':
    case 'INTERFACE':
      node['interfaces'] = list(o['Interfaces'], 'Interfaces').map((i) => namedType(String(i)));
      node['fields'] = fields.map((f): FieldDefinitionNode => {
        const fo = asObj(f, 'FieldDefinition');
        return {
          kind: Kind.FIELD_DEFINITION,
          description: description(fo),
          name: name(strField(fo, 'Name')),
          arguments: list(fo['Arguments'], 'Arguments').map(inputValueIn),
          type: typeIn(fo['Type']),
          directives: directivesIn(fo['Directives']),
        };
      });
      break;
    case 'UNION':
      node['types'] = list(o['Types'], 'Types').map((t) => namedType(String(t)));
      break;
    case 'ENUM':
      node['values'] = list(o['EnumValues'], 'EnumValues').map((e) => {
        const eo = asObj(e, 'EnumValue');
        return {
          kind: Kind.ENUM_VALUE_DEFINITION,
          description: description(eo),
          name: name(strField(eo, 'Name')),
          directives: directivesIn(eo['Directives']),
        };
      });
      break;
    default:
      if (isInput) node['fields'] = fields.map(inputValueIn);
  }
  return node as unknown as DefinitionNode;
}

/** Builds a graphql-js document from a schema AST object. */
export function schemaDocumentIn(x: J): DocumentNode {
  const o = asObj(x, 'schema AST');
  const definitions: DefinitionNode[] = [];
  const schemaDefs = (key: string, extension: boolean): void => {
    for (const s of list(o[key], key)) {
      const so = asObj(s, key);
      const operationTypes = list(so['OperationTypes'], 'OperationTypes').map((t) => {
        const to = asObj(t, 'OperationType');
        return {
          kind: Kind.OPERATION_TYPE_DEFINITION,
          operation: strField(to, 'Operation') as OperationTypeNode,
          type: namedType(strField(to, 'Type')),
        };
      });
      definitions.push({
        kind: extension ? Kind.SCHEMA_EXTENSION : Kind.SCHEMA_DEFINITION,
        description: extension ? undefined : description(so),
        directives: directivesIn(so['Directives']),
        operationTypes,
      } as DefinitionNode);
    }
  };
  schemaDefs('Schema', false);
  schemaDefs('SchemaExtension', true);
  for (const d of list(o['Directives'], 'Directives')) {
    const dd = asObj(d, 'DirectiveDefinition');
    definitions.push({
      kind: Kind.DIRECTIVE_DEFINITION,
      description: description(dd),
      name: name(strField(dd, 'Name')),
      arguments: list(dd['Arguments'], 'Arguments').map(inputValueIn),
      repeatable: dd['IsRepeatable'] === true,
      locations: list(dd['Locations'], 'Locations').map((l) => name(String(l))),
    });
  }
  for (const d of list(o['Definitions'], 'Definitions')) definitions.push(typeDefIn(d, false));
  for (const d of list(o['Extensions'], 'Extensions')) definitions.push(typeDefIn(d, true));
  return { kind: Kind.DOCUMENT, definitions };
}
