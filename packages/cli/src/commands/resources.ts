import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { readStdin, run } from '../command-context.ts';
import { UsageError } from '../exit-codes.ts';
import { resolvePolicyFiles } from '../policy-files.ts';
import { table } from '../output.ts';
import { allOption, fetchList, hintMore, limitOption, type PageFlags } from '../pagination.ts';

interface ApplyResult {
  kind: string;
  project: string | null;
  name: string;
  version: number;
  contentHash: string;
  change: string;
  state?: 'in-force' | 'pending';
  approval?: string;
}

interface ApprovalRef {
  id: string;
  state: 'pending' | 'approved' | 'rejected' | 'withdrawn';
  decidedBy: string | null;
  decidedAt: string | null;
  reason: string | null;
  governedBecause: string;
}

interface VersionView {
  kind: string;
  project: string | null;
  name: string;
  version: number;
  contentHash: string;
  appliedBy: string;
  appliedAt: string;
  state: 'in-force' | 'pending' | 'rejected' | 'withdrawn' | 'superseded';
  approval: ApprovalRef | null;
  document: unknown;
}

// The version in force, and apart from it the newest version when that one is not in force.
interface ResourceView {
  kind: string;
  project: string | null;
  name: string;
  inForce: VersionView | null;
  proposed: VersionView | null;
}

const applied = (v: VersionView) =>
  `version ${v.version} ${v.contentHash} applied by ${v.appliedBy} at ${v.appliedAt}`;

// The newest version when it is not in force: waiting for a second person, or refused.
function proposal(v: VersionView): string {
  const a = v.approval;
  if (!a) return `# ${v.state}: ${applied(v)}`;
  if (v.state === 'pending')
    return `# pending, not in force: ${applied(v)}\n#   ${a.governedBecause}\n#   in force once someone else runs \`custody approve ${a.id}\``;
  return `# ${v.state}, never in force: ${applied(v)}\n#   approval ${a.id} ${a.state} by ${a.decidedBy ?? '?'} at ${a.decidedAt ?? '?'}${a.reason ? `: ${a.reason}` : ''}`;
}

function showResource(view: ResourceView): string {
  const parts: string[] = [];
  if (view.inForce)
    parts.push(`# in force: ${applied(view.inForce)}\n${stringify(view.inForce.document)}`);
  else parts.push('# nothing in force');
  if (view.proposed) parts.push(`${proposal(view.proposed)}\n${stringify(view.proposed.document)}`);
  return parts.join('\n');
}

function pendingCell(view: ResourceView): string {
  const p = view.proposed;
  if (!p) return '-';
  return `${p.version} ${p.state}${p.approval ? ` (${p.approval.id})` : ''}`;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
type Flags = { project?: string } & PageFlags;

export function registerResourceCommands(program: Command): void {
  program
    .command('apply')
    .description(
      'Apply resources from YAML files (several documents per file, separated by ---); all or nothing',
    )
    .requiredOption(
      '-f, --file <file>',
      'a YAML file, or - for standard input (repeatable)',
      collect,
    )
    .action(
      run(async (ctx, opts: { file: string[] }) => {
        const parts: string[] = [];
        for (const f of opts.file) {
          let text: string;
          try {
            text = f === '-' ? await readStdin() : readFileSync(f, 'utf8');
          } catch (err) {
            throw new UsageError(`cannot read ${f}: ${(err as Error).message}`);
          }
          parts.push(resolvePolicyFiles(text, f));
        }
        const { results } = await ctx
          .client()
          .request<{ results: ApplyResult[] }>('POST', '/api/v1/apply', {
            yaml: parts.join('\n---\n'),
          });
        ctx.out.result(results, () =>
          results
            .map(
              (r) =>
                `${r.kind.toLowerCase()}/${r.project ? `${r.project}/` : ''}${r.name} ${r.change} (version ${r.version}${
                  r.approval
                    ? `, in force once someone else runs \`custody approve ${r.approval}\``
                    : ''
                })`,
            )
            .join('\n'),
        );
      }),
    );

  program
    .command('get <kind> [name]')
    .description(
      'Show resources of a kind (Project, Environment, Pipeline, Group, Role, RoleBinding, ...): the version in force and, apart from it, a newer version waiting for approval or rejected',
    )
    .option('-p, --project <project>', 'project of project-scoped kinds')
    .option(...limitOption)
    .option(...allOption)
    .action(
      run(async (ctx, kind: string, name: string | undefined, opts: Flags) => {
        const client = ctx.client();
        if (name) {
          const view = await client.request<ResourceView>(
            'GET',
            `/api/v1/resources/${encodeURIComponent(kind)}/${encodeURIComponent(name)}`,
            { query: { project: opts.project } },
          );
          ctx.out.result(view, () => showResource(view));
          return;
        }
        const listed = await fetchList<ResourceView>(
          client,
          `/api/v1/resources/${encodeURIComponent(kind)}`,
          { query: { project: opts.project }, flags: opts },
        );
        const { items } = listed;
        hintMore(ctx.out, listed, kind);
        ctx.out.result(items, () =>
          table([
            ['NAME', 'PROJECT', 'IN FORCE', 'APPLIED BY', 'APPLIED AT', 'NEWER'],
            ...items.map((v) => [
              v.name,
              v.project ?? '-',
              v.inForce ? String(v.inForce.version) : '-',
              v.inForce?.appliedBy ?? '-',
              v.inForce?.appliedAt ?? '-',
              pendingCell(v),
            ]),
          ]),
        );
      }),
    );

  program
    .command('history <kind> <name>')
    .description(
      'List every version of a resource, oldest first, with its state (in-force, pending, rejected, withdrawn, superseded) and approval',
    )
    .option('-p, --project <project>', 'project of project-scoped kinds')
    .option(...limitOption)
    .option(...allOption)
    .action(
      run(async (ctx, kind: string, name: string, opts: Flags) => {
        const listed = await fetchList<VersionView>(
          ctx.client(),
          `/api/v1/resources/${encodeURIComponent(kind)}/${encodeURIComponent(name)}/versions`,
          { query: { project: opts.project }, flags: opts },
        );
        const { items } = listed;
        hintMore(ctx.out, listed, 'versions');
        ctx.out.result(items, () =>
          table([
            ['VERSION', 'STATE', 'HASH', 'APPLIED BY', 'APPLIED AT', 'APPROVAL'],
            ...items.map((v) => [
              String(v.version),
              v.state,
              v.contentHash.slice(0, 19),
              v.appliedBy,
              v.appliedAt,
              v.approval
                ? `${v.approval.id} ${v.approval.state}${v.approval.decidedBy ? ` by ${v.approval.decidedBy}` : ''}`
                : '-',
            ]),
          ]),
        );
      }),
    );

  program
    .command('diff <kind> <name> <from> <to>')
    .description('Show what changed between two versions of a resource')
    .option('-p, --project <project>', 'project of project-scoped kinds')
    .action(
      run(
        async (
          ctx,
          kind: string,
          name: string,
          from: string,
          to: string,
          opts: { project?: string },
        ) => {
          if (!/^\d+$/.test(from) || !/^\d+$/.test(to))
            throw new UsageError('versions are numbers (see `custody history`)');
          const d = await ctx
            .client()
            .request<{ from: number; to: number; lines: { op: string; text: string }[] }>(
              'GET',
              `/api/v1/resources/${encodeURIComponent(kind)}/${encodeURIComponent(name)}/diff`,
              { query: { project: opts.project, from, to } },
            );
          ctx.out.result(
            d,
            () =>
              `--- version ${d.from}\n+++ version ${d.to}\n` +
              d.lines.map((l) => `${l.op}${l.text}`).join('\n'),
          );
        },
      ),
    );
}
