import type { Command } from 'commander';
import { parseDuration } from '@custody/server';
import { run } from '../command-context.ts';
import { CliError, UsageError } from '../exit-codes.ts';
import { table } from '../output.ts';
import { allOption, fetchList, hintMore, limitOption, type PageFlags } from '../pagination.ts';
import { readPolicyDocument } from '../policy-files.ts';

interface Message {
  policy: string;
  version: number;
  message: string;
}

interface DecisionView {
  id: string;
  point: string;
  project: string;
  environment: string | null;
  subject: { type: string; id: string };
  policies: { name: string; project: string | null; version: number; hash: string }[];
  inputHash: string;
  result: string;
  deny: Message[];
  warn: Message[];
  errors: Message[];
  durationUs: number;
  decidedAt: string;
}

interface Outcome {
  result: string;
  deny: Message[];
  warn: Message[];
  errors: Message[];
}

const enc = encodeURIComponent;
const line = (m: Message) => `policy ${m.policy} v${m.version}: ${m.message}`;
const label = (p: { name: string; project: string | null; version: number }) =>
  `${p.project ? `${p.project}/` : ''}${p.name}@v${p.version}`;

function since(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms !== undefined) return new Date(Date.now() - ms).toISOString();
  if (!Number.isNaN(Date.parse(text))) return new Date(text).toISOString();
  throw new UsageError(`--since ${text}: give a duration such as 90d or an ISO time`);
}

const outcomeText = (o: Outcome) =>
  [
    o.result,
    ...o.deny.map((m) => `  deny  ${line(m)}`),
    ...o.errors.map((m) => `  error ${line(m)}`),
  ].join('\n');

// `custody policy decisions | replay | impact`: the decision log on the server.
export function registerDecisionCommands(policy: Command): void {
  policy
    .command('decisions')
    .description('List policy decisions, newest first (who or what was decided, by which versions)')
    .option('-p, --project <project>', 'only this project')
    .option('-e, --environment <environment>', 'only decisions about this environment')
    .option('--point <point>', 'only this decision point (pipeline, run, deploy, approval)')
    .option('--since <when>', 'only decisions since a duration ago (90d) or an ISO time')
    .option(...limitOption)
    .option(...allOption)
    .action(
      run(
        async (
          ctx,
          opts: PageFlags & {
            project?: string;
            environment?: string;
            point?: string;
            since?: string;
          },
        ) => {
          const listed = await fetchList<DecisionView>(ctx.client(), '/api/v1/policy-decisions', {
            query: {
              project: opts.project,
              environment: opts.environment,
              point: opts.point,
              since: since(opts.since),
            },
            flags: opts,
          });
          const { items } = listed;
          hintMore(ctx.out, listed, 'decisions');
          ctx.out.result(items, () =>
            table([
              ['ID', 'DECIDED', 'POINT', 'SCOPE', 'SUBJECT', 'RESULT', 'POLICIES'],
              ...items.map((d) => [
                d.id,
                d.decidedAt,
                d.point,
                `${d.project}${d.environment ? `/${d.environment}` : ''}`,
                `${d.subject.type}:${d.subject.id}`,
                d.result,
                d.policies.map(label).join(', '),
              ]),
            ]),
          );
        },
      ),
    );

  policy
    .command('replay')
    .description(
      'Re-evaluate a recorded decision with the policy versions in force then and its recorded input; exit 1 if the result differs',
    )
    .argument('<decision>', 'decision id (custody policy decisions)')
    .action(
      run(async (ctx, id: string) => {
        const r = await ctx.client().request<{
          decision: string;
          same: boolean;
          differences: string[];
          inputHash: string;
          policies: { name: string; project: string | null; version: number; hash: string }[];
          recorded: Outcome;
          replayed: Outcome;
        }>('POST', `/api/v1/policy-decisions/${enc(id)}/replay`, { json: {} });
        ctx.out.result(r, () =>
          [
            `decision ${r.decision}: ${r.same ? 'reproduced (same result)' : `DIFFERS (${r.differences.join(', ')})`}`,
            `input ${r.inputHash}`,
            `policies ${r.policies.map((p) => `${label(p)} ${p.hash}`).join(', ')}`,
            `recorded: ${outcomeText(r.recorded)}`,
            `replayed: ${outcomeText(r.replayed)}`,
          ].join('\n'),
        );
        if (!r.same)
          throw new CliError(
            `POLICY_REPLAY_DIFFERS: decision ${r.decision} did not reproduce (${r.differences.join(', ')})`,
            1,
            'POLICY_REPLAY_DIFFERS',
          );
      }),
    );

  policy
    .command('impact')
    .description(
      'Evaluate a candidate policy against the recorded inputs of past decisions and list every decision it would change, before applying it',
    )
    .requiredOption('-f, --file <file>', 'the candidate Policy (YAML; file: entries are read)')
    .option('--since <when>', 'decisions since a duration ago (90d) or an ISO time', '90d')
    .action(
      run(async (ctx, opts: { file: string; since: string }) => {
        const document = readPolicyDocument(opts.file);
        const r = await ctx.client().request<{
          candidate: { name: string; project: string | null; hash: string };
          since: string;
          examined: number;
          skipped: number;
          truncated: boolean;
          changed: {
            decision: string;
            decidedAt: string;
            project: string;
            environment: string | null;
            subject: { type: string; id: string };
            from: string;
            to: string;
            differences: string[];
            deny: Message[];
          }[];
        }>('POST', '/api/v1/policies/impact', { json: { document, since: since(opts.since) } });
        ctx.out.result(r, () =>
          [
            `${r.candidate.project ? `${r.candidate.project}/` : ''}${r.candidate.name} ${r.candidate.hash}: ${r.changed.length} of ${r.examined} decisions since ${r.since} would change${r.truncated ? ' (stopped at the limit)' : ''}`,
            ...(r.changed.length
              ? [
                  table([
                    ['DECISION', 'DECIDED', 'SCOPE', 'SUBJECT', 'FROM', 'TO', 'WHY'],
                    ...r.changed.map((c) => [
                      c.decision,
                      c.decidedAt,
                      `${c.project}${c.environment ? `/${c.environment}` : ''}`,
                      `${c.subject.type}:${c.subject.id}`,
                      c.from,
                      c.to,
                      c.deny.map((m) => m.message).join('; ') || c.differences.join(', '),
                    ]),
                  ]),
                ]
              : []),
          ].join('\n'),
        );
      }),
    );
}
