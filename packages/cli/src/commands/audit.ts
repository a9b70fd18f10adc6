import type { Command } from 'commander';
import { run } from '../command-context.ts';
import { table } from '../output.ts';

export interface AuditEntryView {
  seq: number;
  time: string;
  actor: { type: string; name: string; authMethod: string; ip: string | null };
  action: string;
  resource: { type: string; id: string };
  outcome: string;
  requestId: string | null;
  details: Record<string, unknown>;
}

export function registerAuditCommands(program: Command): Command {
  const audit = program.command('audit').description('Read and verify the audit trail');
  audit
    .command('log')
    .description('List audit entries, oldest first')
    .option('--actor <name>', 'actor name')
    .option('--action <action>', 'action, or a prefix ending in *')
    .option('--resource-type <type>', 'resource type')
    .option('--resource <id>', 'resource id')
    .option('--outcome <outcome>', 'succeeded, denied or failed')
    .option('--since <time>', 'ISO 8601 time (inclusive)')
    .option('--until <time>', 'ISO 8601 time (exclusive)')
    .option('--after <seq>', 'entries after this sequence number')
    .option('--limit <n>', 'at most this many entries', '100')
    .action(
      run(async (ctx, opts: Record<string, string | undefined>) => {
        const { entries } = await ctx
          .client()
          .request<{ entries: AuditEntryView[] }>('GET', '/api/v1/audit/entries', {
            query: {
              actor: opts.actor,
              action: opts.action,
              resourceType: opts.resourceType,
              resourceId: opts.resource,
              outcome: opts.outcome,
              since: opts.since,
              until: opts.until,
              after: opts.after,
              limit: opts.limit,
            },
          });
        ctx.out.result(entries, () =>
          table([
            ['SEQ', 'TIME', 'ACTOR', 'ACTION', 'RESOURCE', 'OUTCOME'],
            ...entries.map((e) => [
              String(e.seq),
              e.time,
              `${e.actor.type}:${e.actor.name}`,
              e.action,
              `${e.resource.type}/${e.resource.id}`,
              e.outcome,
            ]),
          ]),
        );
      }),
    );
  return audit;
}
