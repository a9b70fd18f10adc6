// METADATA annotations: YAML in `# METADATA` comment blocks, attached to the package
// or rule that follows. OPA resolves rego.metadata.rule() and rego.metadata.chain()
// at compile time into constants, and so does this module, per parsed module.
import YAML from 'yaml';
import type { Module, Rule, Term } from './ast.ts';
import { RegoError } from './errors.ts';
import type { Comment } from './lexer.ts';
import { RObject, fromJS, type Value } from './value.ts';

export type Scope = 'rule' | 'document' | 'package' | 'subpackages';

export interface Annotation {
  scope: Scope;
  value: RObject;
  /** Where the annotated statement starts. */
  row: number;
}

interface Block {
  startRow: number;
  endRow: number;
  col: number;
  yaml: string;
}

/** Groups comments on consecutive lines and keeps the ones opened by `# METADATA`. */
export function metadataBlocks(comments: Comment[]): Block[] {
  const blocks: Block[] = [];
  let run: Comment[] = [];
  const flush = (): void => {
    const [first, ...rest] = run;
    if (first && first.text.trim() === 'METADATA')
      blocks.push({
        startRow: first.row,
        endRow: (run[run.length - 1] as Comment).row,
        col: first.col,
        // One space after `#` is the comment marker's, the rest is YAML indentation.
        yaml: rest.map((c) => c.text.replace(/^ /, '')).join('\n'),
      });
    run = [];
  };
  for (const c of comments) {
    // OPA only reads annotation comments that start in column 1.
    if (c.col !== 1) {
      flush();
      continue;
    }
    const last = run[run.length - 1];
    if (last && (c.row !== last.row + 1 || c.col !== last.col)) flush();
    run.push(c);
  }
  flush();
  return blocks;
}

const SCOPES = new Set<string>(['rule', 'document', 'package', 'subpackages']);

function author(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  // "Jane Doe <jane@example.com>" splits into name and email.
  const m = /^(.*?)\s*<([^<>]*)>$/.exec(v.trim());
  if (!m) return { name: v.trim() };
  const out: Record<string, string> = { email: m[2] as string };
  if (m[1]) out['name'] = m[1];
  return out;
}

function annotationValue(raw: Record<string, unknown>, scope: Scope): RObject {
  const out: Record<string, unknown> = { ...raw, scope };
  if (Array.isArray(raw['authors'])) out['authors'] = raw['authors'].map(author);
  else if (typeof raw['authors'] === 'string') out['authors'] = [author(raw['authors'])];
  if (Array.isArray(raw['related_resources']))
    out['related_resources'] = raw['related_resources'].map((r: unknown) =>
      typeof r === 'string' ? { ref: r } : r,
    );
  return fromJS(out) as RObject;
}

export function parseAnnotation(
  block: Block,
  file: string,
  defaultScope: Scope,
  row: number,
): Annotation {
  let raw: unknown;
  try {
    raw = YAML.parse(block.yaml) ?? {};
  } catch (e) {
    throw new RegoError(
      'rego_parse_error',
      `yaml: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
      { file, row: block.startRow, col: block.col },
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new RegoError('rego_parse_error', 'METADATA block must be a YAML mapping', {
      file,
      row: block.startRow,
      col: block.col,
    });
  const r = raw as Record<string, unknown>;
  const scope = r['scope'] ?? defaultScope;
  if (typeof scope !== 'string' || !SCOPES.has(scope))
    throw new RegoError('rego_parse_error', `invalid annotation scope '${String(scope)}'`, {
      file,
      row: block.startRow,
      col: block.col,
    });
  return { scope: scope as Scope, value: annotationValue(r, scope as Scope), row };
}

/** A rule's data path as far as its head ref is made of names. */
function rulePath(mod: Module, rule: Rule): string[] {
  // Chain paths leave out the `data` root, as OPA prints them.
  const path = [...mod.pkg];
  rule.head.ref.forEach((t, i) => {
    if (i === 0 && t.type === 'var') path.push(t.name);
    else if (t.type === 'scalar' && typeof t.value === 'string') path.push(t.value);
  });
  return path;
}

export interface ModuleAnnotations {
  pkg: Annotation[];
  rules: Map<Rule, Annotation[]>;
}

function isMetadataCall(t: Term, name: string): boolean {
  if (t.type !== 'call' || t.args.length !== 0) return false;
  const f = t.fn;
  return (
    f.type === 'ref' &&
    f.head.type === 'var' &&
    f.head.name === 'rego' &&
    f.path.length === 2 &&
    f.path[0]?.type === 'scalar' &&
    f.path[0].value === 'metadata' &&
    f.path[1]?.type === 'scalar' &&
    f.path[1].value === name
  );
}

/** Replaces, in place, every rego.metadata.* call under `node` with its value. */
function rewrite(node: unknown, values: { rule: Value; chain: Value }): void {
  if (Array.isArray(node)) {
    for (const x of node) rewrite(x, values);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const t = node as Term;
  if (t.type === 'call' && (isMetadataCall(t, 'rule') || isMetadataCall(t, 'chain'))) {
    const value = isMetadataCall(t, 'rule') ? values.rule : values.chain;
    const loc = t.loc;
    for (const k of Object.keys(t)) delete (t as unknown as Record<string, unknown>)[k];
    Object.assign(t, { type: 'scalar', value, loc });
    return;
  }
  for (const [k, v] of Object.entries(node)) if (k !== 'loc' && k !== 'module') rewrite(v, values);
}

export function resolveMetadataCalls(mod: Module, ann: ModuleAnnotations): void {
  const docScope = new Map<string, Annotation[]>();
  for (const rule of mod.rules)
    for (const a of ann.rules.get(rule) ?? [])
      if (a.scope === 'document') {
        const k = rulePath(mod, rule).join('\u0000');
        docScope.set(k, [...(docScope.get(k) ?? []), a]);
      }
  const entry = (path: string[], a?: Annotation): RObject => {
    const o = new RObject();
    o.set('path', path);
    if (a) o.set('annotations', a.value);
    return o;
  };
  const pkgPath = [...mod.pkg];
  for (const rule of mod.rules) {
    const path = rulePath(mod, rule);
    const own = (ann.rules.get(rule) ?? []).filter((a) => a.scope === 'rule');
    const chain: Value[] = own.length ? own.map((a) => entry(path, a)) : [entry(path)];
    for (const a of docScope.get(path.join('\u0000')) ?? []) chain.push(entry(path, a));
    for (const a of ann.pkg.filter((x) => x.scope === 'package')) chain.push(entry(pkgPath, a));
    for (const a of ann.pkg.filter((x) => x.scope === 'subpackages')) chain.push(entry(pkgPath, a));
    rewrite(rule, { rule: own[0]?.value ?? new RObject(), chain });
  }
}

/** Each METADATA block annotates the package or rule that follows it. */
export function attachAnnotations(
  mod: Module,
  comments: Comment[],
  pkgRow: number,
  mentionsMetadata: () => boolean,
): void {
  const blocks = metadataBlocks(comments);
  // Nothing to attach or resolve: skip walking the rules.
  if (!blocks.length && !mentionsMetadata()) return;
  const pkg: Annotation[] = [];
  const rules = new Map<Rule, Annotation[]>();
  for (const b of blocks) {
    if (b.endRow < pkgRow) {
      pkg.push(parseAnnotation(b, mod.file, 'package', pkgRow));
      continue;
    }
    const rule = mod.rules.find((r) => r.loc.row > b.endRow);
    if (!rule) continue;
    rules.set(rule, [
      ...(rules.get(rule) ?? []),
      parseAnnotation(b, mod.file, 'rule', rule.loc.row),
    ]);
  }
  resolveMetadataCalls(mod, { pkg, rules });
}
