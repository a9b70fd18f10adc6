import { LineCounter, parseAllDocuments, type Document } from 'yaml';
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
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
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
    const value: unknown = doc.toJS({ maxAliasCount: 50 });
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
