import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { readStdin, run } from '../command-context.ts';
import { UsageError } from '../exit-codes.ts';
import { table } from '../output.ts';
import { allOption, fetchList, hintMore, limitOption, type PageFlags } from '../pagination.ts';

interface ApplyResult {
  kind: string;
  project: string | null;
  name: string;
  version: number;
  contentHash: string;
  change: string;
  approval?: string;
}

interface ResourceView {
  kind: string;
  project: string | null;
  name: string;
  version: number;
  contentHash: string;
  appliedBy: string;
  appliedAt: string;
  document: unknown;
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
          try {
            parts.push(f === '-' ? await readStdin() : readFileSync(f, 'utf8'));
          } catch (err) {
            throw new UsageError(`cannot read ${f}: ${(err as Error).message}`);
          }
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
      'Show resources of a kind (Project, Environment, Pipeline, Group, Role, RoleBinding, ...)',
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
          ctx.out.result(
            view,
            () =>
              `# version ${view.version} ${view.contentHash} applied by ${view.appliedBy} at ${view.appliedAt}\n${stringify(view.document)}`,
          );
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
            ['NAME', 'PROJECT', 'VERSION', 'APPLIED BY', 'APPLIED AT'],
            ...items.map((v) => [
              v.name,
              v.project ?? '-',
              String(v.version),
              v.appliedBy,
              v.appliedAt,
            ]),
          ]),
        );
      }),
    );

  program
    .command('history <kind> <name>')
    .description('List every version of a resource, oldest first')
    .option('-p, --project <project>', 'project of project-scoped kinds')
    .option(...limitOption)
    .option(...allOption)
    .action(
      run(async (ctx, kind: string, name: string, opts: Flags) => {
        const listed = await fetchList<ResourceView>(
          ctx.client(),
          `/api/v1/resources/${encodeURIComponent(kind)}/${encodeURIComponent(name)}/versions`,
          { query: { project: opts.project }, flags: opts },
        );
        const { items } = listed;
        hintMore(ctx.out, listed, 'versions');
        ctx.out.result(items, () =>
          table([
            ['VERSION', 'HASH', 'APPLIED BY', 'APPLIED AT'],
            ...items.map((v) => [
              String(v.version),
              v.contentHash.slice(0, 19),
              v.appliedBy,
              v.appliedAt,
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
