import {
  LineCounter,
  isAlias,
  isCollection,
  isPair,
  isScalar,
  parseAllDocuments,
  type Document,
} from 'yaml';
import { z } from 'zod';
import { DomainError } from '../../platform/errors.ts';
import { resourceErrors } from './errors.ts';
import type { AnyKindHandler, ResourceDocument } from './kind-handler.ts';

export interface ManifestError {
  document: number;
  path: string;
  line: number;
  column: number;
  message: string;
}

export const namePattern = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const nameSchema = z
  .string()
  .regex(namePattern, 'must be a lowercase DNS label (a-z, 0-9, -; at most 63 characters)');

const envelope = z
  .object({
    apiVersion: z.literal('custody/v1', { message: 'must be custody/v1' }),
    kind: z.string().min(1),
    metadata: z
      .object({
        name: nameSchema,
        project: nameSchema.optional(),
        labels: z.record(z.string(), z.string()).optional(),
      })
      .strict(),
    spec: z.unknown().optional(),
  })
  .strict();

export interface ParsedManifest {
  documents: ResourceDocument[];
}

// Parses a multi-document YAML manifest and validates every document against its kind's
// schema. All errors are collected (with YAML path, line and column) before anything is
// written; one bad document refuses the whole manifest.
export function parseManifest(
  text: string,
  handlers: ReadonlyMap<string, AnyKindHandler>,
): ParsedManifest {
  const lineCounter = new LineCounter();
  // stringKeys: a mapping key that is itself a collection is an error, not a stringified key.
  const docs = parseAllDocuments(text, {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: false,
    stringKeys: true,
  });
  const list = Array.isArray(docs) ? docs : [docs];
  const syntax: ManifestError[] = [];
  list.forEach((doc, i) => {
    for (const err of doc.errors) {
      const pos = lineCounter.linePos(err.pos[0]);
      syntax.push({
        document: i,
        path: '',
        line: pos.line,
        column: pos.col,
        message: err.message.split('\n')[0] ?? err.message,
      });
    }
  });
  if (syntax.length > 0)
    throw new DomainError(resourceErrors.RESOURCES_YAML_INVALID, describe(syntax), {
      errors: syntax,
    });

  const nonEmpty = list.filter((d) => d.contents !== null);
  if (nonEmpty.length === 0) throw new DomainError(resourceErrors.RESOURCES_EMPTY_MANIFEST);

  const errors: ManifestError[] = [];
  const documents: ResourceDocument[] = [];
  nonEmpty.forEach((doc, i) => {
    const value = toPlain(doc, lineCounter, i);
    const env = envelope.safeParse(value);
    if (!env.success) {
      for (const issue of env.error.issues)
        errors.push(locate(doc, lineCounter, i, issue.path, issue.message));
      return;
    }
    const handler = handlers.get(env.data.kind);
    if (!handler) {
      const known = [...handlers.keys()].sort();
      throw new DomainError(
        resourceErrors.RESOURCES_KIND_UNKNOWN,
        `unknown kind ${env.data.kind} in document ${i + 1}; known kinds: ${known.join(', ')}`,
        {
          ...locate(doc, lineCounter, i, ['kind'], 'unknown kind'),
          known,
        },
      );
    }
    if (handler.scope === 'project' && !env.data.metadata.project) {
      errors.push(
        locate(doc, lineCounter, i, ['metadata'], `${handler.kind} needs metadata.project`),
      );
      return;
    }
    if (handler.scope === 'organization' && env.data.metadata.project) {
      errors.push(
        locate(
          doc,
          lineCounter,
          i,
          ['metadata', 'project'],
          `${handler.kind} is organization-wide and takes no metadata.project`,
        ),
      );
      return;
    }
    const spec = handler.spec.safeParse(env.data.spec ?? {});
    if (!spec.success) {
      for (const issue of spec.error.issues)
        errors.push(locate(doc, lineCounter, i, ['spec', ...issue.path], issue.message));
      return;
    }
    documents.push({
      apiVersion: 'custody/v1',
      kind: env.data.kind,
      metadata: {
        name: env.data.metadata.name,
        ...(env.data.metadata.project ? { project: env.data.metadata.project } : {}),
        ...(env.data.metadata.labels ? { labels: env.data.metadata.labels } : {}),
      },
      spec: spec.data,
    });
  });
  if (errors.length > 0)
    throw new DomainError(resourceErrors.RESOURCES_VALIDATION_FAILED, describe(errors), { errors });
  return { documents };
}

const maxAliasCount = 50;
const maxExpandedSize = 4 * 1024 * 1024;

// The document as plain data, refusing what yaml would expand without bound (anchor bombs,
// long anchored values aliased many times) or throw on (unresolved and circular aliases).
function toPlain(doc: Document, lc: LineCounter, index: number): unknown {
  const syntax = (message: string, offset = 0) =>
    new DomainError(resourceErrors.RESOURCES_YAML_INVALID, message, {
      errors: [at(lc, index, offset, message)],
    });
  let size: number;
  try {
    size = expandedSize(doc.contents, doc, new Map(), new Set());
  } catch (err) {
    if (err instanceof AliasError) throw syntax(err.message, err.offset);
    if (err instanceof RangeError) throw syntax('the document is nested too deeply');
    throw err;
  }
  if (size > maxExpandedSize)
    throw new DomainError(
      resourceErrors.RESOURCES_YAML_ALIAS_LIMIT,
      `document ${index + 1} expands to more than ${maxExpandedSize} bytes through aliases`,
      { document: index, limit: maxExpandedSize },
    );
  try {
    return doc.toJS({ maxAliasCount });
  } catch (err) {
    if (err instanceof ReferenceError && /alias count/i.test(err.message))
      throw new DomainError(
        resourceErrors.RESOURCES_YAML_ALIAS_LIMIT,
        `document ${index + 1} expands more than ${maxAliasCount} aliases`,
        { document: index, limit: maxAliasCount },
      );
    if (err instanceof RangeError) throw syntax('the document is nested too deeply');
    throw syntax(err instanceof Error ? err.message : String(err));
  }
}

class AliasError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

// Approximate size of a node once its aliases are expanded; an anchored node is measured once.
function expandedSize(
  node: unknown,
  doc: Document,
  memo: Map<unknown, number>,
  resolving: Set<unknown>,
): number {
  if (isAlias(node)) {
    const offset = node.range?.[0] ?? 0;
    const target = node.resolve(doc);
    if (!target) throw new AliasError(`alias *${node.source} has no anchor before it`, offset);
    if (resolving.has(target))
      throw new AliasError(`alias *${node.source} refers to a node that contains it`, offset);
    const known = memo.get(target);
    if (known !== undefined) return known;
    resolving.add(target);
    const n = expandedSize(target, doc, memo, resolving);
    resolving.delete(target);
    memo.set(target, n);
    return n;
  }
  if (isScalar(node)) return String(node.value ?? '').length + 1;
  if (isPair(node))
    return (
      expandedSize(node.key, doc, memo, resolving) + expandedSize(node.value, doc, memo, resolving)
    );
  if (isCollection(node)) {
    let n = 2;
    for (const item of node.items) n += expandedSize(item, doc, memo, resolving);
    return n;
  }
  return 0;
}

function at(lc: LineCounter, index: number, offset: number, message: string): ManifestError {
  const pos = lc.linePos(offset);
  return { document: index, path: '', line: pos.line, column: pos.col, message };
}

function locate(
  doc: Document,
  lc: LineCounter,
  index: number,
  path: readonly PropertyKey[],
  message: string,
): ManifestError {
  const keys = path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as (string | number)[];
  // Walk up to the deepest node that exists (a missing field is reported at its parent).
  for (let n = keys.length; n >= 0; n--) {
    const node = doc.getIn(keys.slice(0, n), true) as
      { range?: [number, number, number] } | undefined;
    const range = node && typeof node === 'object' && 'range' in node ? node.range : undefined;
    if (range) {
      const pos = lc.linePos(range[0]);
      return { document: index, path: formatPath(keys), line: pos.line, column: pos.col, message };
    }
  }
  return { document: index, path: formatPath(keys), line: 1, column: 1, message };
}

export function formatPath(keys: readonly (string | number)[]): string {
  return keys.reduce<string>(
    (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${k}` : k),
    '',
  );
}

function describe(errors: ManifestError[]): string {
  return errors
    .slice(0, 5)
    .map(
      (e) =>
        `document ${e.document + 1}, ${e.path || '(document)'} (line ${e.line}, column ${e.column}): ${e.message}`,
    )
    .join('; ');
}
