import { createHash } from 'node:crypto';
import { LeaseLostError, type JobStep } from './protocol.ts';
import { readWorkspaceFile, type Workspace } from './workspace.ts';

export type Post = <T>(what: string, body?: Record<string, unknown>) => Promise<T>;

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

// Sends one file a step declared; the server parses evidence and refuses a malformed report.
export async function uploadFile(
  post: Post,
  ws: Workspace,
  step: number,
  file: { kind: 'artifact' | 'evidence'; name: string; type: string; path: string },
): Promise<void> {
  const label = file.kind === 'artifact' ? 'ARTIFACT' : 'EVIDENCE';
  const bytes = await readWorkspaceFile(ws, file.path);
  if (bytes === 'missing') throw new Error(`${label}_MISSING: ${file.path}`);
  if (bytes === 'outside') throw new Error(`${label}_OUTSIDE_WORKSPACE: ${file.path}`);
  await post('files', {
    step,
    ...file,
    sha256: sha256(bytes),
    contentBase64: bytes.toString('base64'),
  });
}

// Collects a step's reports whether it passed or failed (a failing test run is when they matter
// most). Returns why the step fails because of them: a declared report that is missing or
// malformed, unless the entry says `optional: true` (then it is only noted in the step's log).
export async function collectEvidence(
  post: Post,
  ws: Workspace,
  step: { index: number; spec: JobStep },
  note: (line: string) => void,
): Promise<string | undefined> {
  let failure: string | undefined;
  for (const e of step.spec.evidence) {
    try {
      await uploadFile(post, ws, step.index, {
        kind: 'evidence',
        name: e.type,
        type: e.type,
        path: e.path,
      });
    } catch (err) {
      if (err instanceof LeaseLostError) throw err;
      const message = (err as Error).message;
      if (e.optional)
        note(`custody: optional ${e.type} report ${e.path} not recorded: ${message}\n`);
      else {
        note(`custody: ${e.type} report ${e.path} not recorded: ${message}\n`);
        failure ??= message.slice(0, 200);
      }
    }
  }
  return failure;
}
