import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML, { isMap, isSeq, type Document } from 'yaml';
import { UsageError } from './exit-codes.ts';

// `file:` entries of Policy documents name Rego files next to the YAML; the server never
// reads files, so `custody apply` and `custody policy impact` put their contents under
// `source:` before sending. Documents of other kinds pass through untouched.
export function resolvePolicyFiles(text: string, yamlFile: string): string {
  if (!/\bkind:\s*Policy\b/.test(text) || !/\bfile:/.test(text)) return text;
  const base = yamlFile === '-' ? process.cwd() : path.dirname(path.resolve(yamlFile));
  const docs = YAML.parseAllDocuments(text);
  let changed = false;
  for (const doc of docs) {
    if (doc.errors.length > 0 || doc.get('kind') !== 'Policy') continue;
    for (const list of ['modules', 'tests'])
      changed = resolveList(doc, list, base, yamlFile) || changed;
  }
  return changed ? docs.map((d) => d.toString()).join('---\n') : text;
}

function resolveList(doc: Document, list: string, base: string, yamlFile: string): boolean {
  const seq = doc.getIn(['spec', list]);
  if (!isSeq(seq)) return false;
  let changed = false;
  for (const item of seq.items) {
    if (!isMap(item)) continue;
    const file = item.get('file');
    if (typeof file !== 'string' || item.has('source')) continue;
    const full = path.resolve(base, file);
    if (!existsSync(full))
      throw new UsageError(
        `${yamlFile}: spec.${list} names ${file}, which does not exist (${full})`,
      );
    item.set('source', readFileSync(full, 'utf8'));
    item.delete('file');
    changed = true;
  }
  return changed;
}

// One Policy document from a file, files resolved, as the API takes it (JSON).
export function readPolicyDocument(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const docs = YAML.parseAllDocuments(resolvePolicyFiles(text, file))
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((d) => d?.kind === 'Policy');
  if (docs.length !== 1)
    throw new UsageError(
      `${file} must hold exactly one kind: Policy document (found ${docs.length})`,
    );
  return docs[0]!;
}
