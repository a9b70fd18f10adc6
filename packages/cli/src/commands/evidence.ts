import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { EvidenceFormat, ParsedReport } from '@custody/evidence';
import { Option, type Command } from 'commander';
import { run } from '../command-context.ts';
import { CliError, UsageError } from '../exit-codes.ts';
import { table } from '../output.ts';
import { allOption, fetchList, hintMore, limitOption, type PageFlags } from '../pagination.ts';

interface ReportView {
  id: string;
  run: string;
  stage: string;
  step: number;
  file: string;
  type: string;
  format: string;
  path: string;
  digest: string;
  figures: Record<string, unknown>;
}

interface TestsView {
  run: string;
  reports: ReportView[];
  totals: {
    tests: number;
    passed: number;
    failures: number;
    errors: number;
    skipped: number;
    flaky: number;
  };
  failed: {
    name: string;
    className: string | null;
    file: string | null;
    outcome: string;
    message: string | null;
  }[];
}

interface FindingView {
  fingerprint: string;
  tools: string[];
  ruleId: string;
  message: string;
  location: { path: string | null; startLine: number | null };
  severity: string;
  status: string;
  waiver: string | null;
}

interface FindingsView {
  run: string | null;
  baseline: string | null;
  counts: {
    total: number;
    waived: number;
    fixed: number;
    suppressed: number;
    new: Record<string, number>;
    existing: Record<string, number>;
  };
  items: FindingView[];
}

interface WaiverView {
  id: string;
  project: string;
  environment: string | null;
  fingerprint: string | null;
  rule: string | null;
  reason: string;
  state: string;
  requestedBy: string;
  expiresAt: string;
  decidedBy: string | null;
}

const enc = encodeURIComponent;

// The figures of a report on one line: `tests=8 failures=1 …`.
function figuresLine(f: Record<string, unknown>): string {
  return Object.entries(f)
    .filter(([, v]) => typeof v !== 'object' || v === null)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

function target(value: string): { project: string; environment: string } {
  const m = /^([a-z0-9-]+)\/([a-z0-9-]+)$/.exec(value);
  if (!m) throw new UsageError(`expected PROJECT/ENVIRONMENT, such as shop/prod, not "${value}".`);
  return { project: m[1]!, environment: m[2]! };
}

const where = (f: FindingView) =>
  `${f.location.path ?? '-'}${f.location.startLine ? `:${f.location.startLine}` : ''}`;

const reportTypes: (EvidenceFormat | 'sbom')[] = [
  'junit',
  'lcov',
  'cobertura',
  'sarif',
  'cyclonedx',
  'spdx',
  'sbom',
];

// What `evidence parse` prints: the format and its figures at the top level, and with
// --details the cases, coverage files, findings or components.
function parsedView(r: ParsedReport, details: boolean): Record<string, unknown> {
  const view: Record<string, unknown> = { format: r.format, file: r.file, ...r.figures };
  if (!details) return view;
  switch (r.format) {
    case 'junit':
      return { ...view, cases: r.cases };
    case 'lcov':
    case 'cobertura':
      return { ...view, files: r.files };
    case 'sarif':
      return { ...view, findings: r.findings };
    default:
      return { ...view, components: r.components, findings: r.findings };
  }
}

function parsedText(r: ParsedReport): string {
  const f = r.figures as unknown as Record<string, unknown>;
  const nested = Object.entries(f)
    .filter(([, v]) => typeof v === 'object' && v !== null && !Array.isArray(v))
    .map(
      ([k, v]) =>
        `${k}: ${Object.entries(v as Record<string, unknown>)
          .map(([a, b]) => `${a}=${String(b)}`)
          .join(' ')}`,
    );
  return [`${r.file}: ${r.format}`, `  ${figuresLine(f)}`, ...nested.map((l) => `  ${l}`)].join(
    '\n',
  );
}

export function registerEvidenceCommands(program: Command): void {
  const evidence =
    program.commands.find((c) => c.name() === 'evidence') ??
    program.command('evidence').description('Parsed reports: tests, coverage, scans, SBOMs');
  evidence
    .command('parse <file>')
    .description(
      "Parse a report locally with the server's parser and print its figures, or why it is refused",
    )
    .addOption(
      new Option('--type <format>', 'the format (default: detected from the content)').choices(
        reportTypes,
      ),
    )
    .option('--details', 'also print every test case, coverage file, finding or component')
    .action(
      run(
        async (ctx, file: string, opts: { type?: EvidenceFormat | 'sbom'; details?: boolean }) => {
          if (!existsSync(file)) throw new UsageError(`report ${file} does not exist`);
          // Loaded here, so that every other command starts without the parsers.
          const { EvidenceError, parseReport } = await import('@custody/evidence');
          let report: ParsedReport;
          try {
            report = parseReport({
              bytes: readFileSync(file),
              fileName: file,
              ...(opts.type ? { format: opts.type } : {}),
            });
          } catch (err) {
            if (!(err instanceof EvidenceError)) throw err;
            const { code: _code, message: _message, ...where } = err.toJSON();
            throw new CliError(`${err.code}: ${err.message}`, 1, err.code, where);
          }
          ctx.out.result(parsedView(report, opts.details ?? false), () => parsedText(report));
        },
      ),
    );
  evidence
    .command('list <run>')
    .description('The reports a run recorded, with their figures')
    .action(
      run(async (ctx, runId: string) => {
        const { items } = await ctx
          .client()
          .request<{ items: ReportView[] }>('GET', `/api/v1/runs/${enc(runId)}/evidence`);
        ctx.out.result(items, () =>
          table([
            ['FILE', 'STAGE', 'FORMAT', 'PATH', 'FIGURES'],
            ...items.map((r) => [r.file, r.stage, r.format, r.path, figuresLine(r.figures)]),
          ]),
        );
      }),
    );
  evidence
    .command('get <run> <file>')
    .description('Download a report or artifact a run recorded (by its file id)')
    .requiredOption('-o, --out <path>', 'where to write it')
    .action(
      run(async (ctx, runId: string, file: string, opts: { out: string }) => {
        const f = await ctx
          .client()
          .request<{ path: string; digest: string; size: number; contentBase64: string }>(
            'GET',
            `/api/v1/runs/${enc(runId)}/files/${enc(file)}`,
          );
        await writeFile(opts.out, Buffer.from(f.contentBase64, 'base64'));
        ctx.out.result(
          { path: f.path, digest: f.digest, size: f.size, out: opts.out },
          () => `Wrote ${f.path} (${f.size} bytes, ${f.digest}) to ${opts.out}`,
        );
      }),
    );
  evidence
    .command('summary <run>')
    .description(
      "The evidence summary document of a run's artifacts, as an environment's gates read it",
    )
    .option('--environment <name>', 'compare with the release in this environment')
    .action(
      run(async (ctx, runId: string, opts: { environment?: string }) => {
        const s = await ctx
          .client()
          .request<Record<string, unknown>>('GET', `/api/v1/runs/${enc(runId)}/evidence/summary`, {
            query: { environment: opts.environment },
          });
        ctx.out.result(s, () => JSON.stringify(s, null, 2));
      }),
    );

  program
    .command('tests <run>')
    .description("A run's test results: totals and the failed cases")
    .action(
      run(async (ctx, runId: string) => {
        const t = await ctx.client().request<TestsView>('GET', `/api/v1/runs/${enc(runId)}/tests`);
        ctx.out.result(t, () => {
          const x = t.totals;
          const head = `${x.tests} tests: ${x.passed} passed, ${x.failures} failed, ${x.errors} errors, ${x.skipped} skipped${x.flaky ? `, ${x.flaky} flaky` : ''} (${t.reports.length} report(s))`;
          if (t.reports.length === 0) return `No test reports in run ${t.run}`;
          return [
            head,
            ...t.failed.map(
              (c) =>
                `  ${c.outcome === 'error' ? 'ERROR' : 'FAIL '} ${c.className ? `${c.className}.` : ''}${c.name}${c.message ? `: ${c.message.split('\n')[0]}` : ''}`,
            ),
          ].join('\n');
        });
      }),
    );

  program
    .command('findings')
    .description(
      'Findings of what goes to an environment next, new or existing against the release in it',
    )
    .requiredOption('--project <name>', 'the project')
    .requiredOption('--environment <name>', 'the target environment')
    .option(
      '--run <id>',
      'the run whose artifacts are compared (default: the newest run deploying there)',
    )
    .addOption(
      new Option('--status <status>', 'only new or existing ones').choices(['new', 'existing']),
    )
    .action(
      run(
        async (
          ctx,
          opts: { project: string; environment: string; run?: string; status?: string },
        ) => {
          const f = await ctx
            .client()
            .request<FindingsView>(
              'GET',
              `/api/v1/projects/${enc(opts.project)}/environments/${enc(opts.environment)}/findings`,
              { query: { run: opts.run, status: opts.status } },
            );
          ctx.out.result(f, () => {
            if (!f.run) return `No run deploys to ${opts.project}/${opts.environment} yet`;
            const c = f.counts;
            const sev = (x: Record<string, number>) =>
              Object.entries(x)
                .filter(([, n]) => n > 0)
                .map(([s, n]) => `${n} ${s}`)
                .join(', ') || 'none';
            return [
              `run ${f.run} against ${f.baseline ? `the release of run ${f.baseline}` : 'no release yet'}: new ${sev(c.new)}; existing ${sev(c.existing)}; ${c.fixed} fixed, ${c.waived} waived, ${c.suppressed} suppressed`,
              table([
                ['STATUS', 'SEVERITY', 'RULE', 'TOOL', 'LOCATION', 'WAIVER', 'FINGERPRINT'],
                ...f.items.map((x) => [
                  x.status,
                  x.severity,
                  x.ruleId,
                  x.tools.join('+'),
                  where(x),
                  x.waiver ?? '-',
                  x.fingerprint,
                ]),
              ]),
            ].join('\n');
          });
        },
      ),
    );

  const waiver = program
    .command('waiver')
    .description('Waivers of findings: requested by one person, approved by another');
  waiver
    .command('request <target>')
    .description('Ask to waive one finding or a rule in PROJECT (or PROJECT/ENVIRONMENT)')
    .option('--fingerprint <fp>', 'the finding (see `custody findings`)')
    .option('--rule <id>', 'every finding of this rule')
    .requiredOption('--reason <text>', 'why it may go through')
    .requiredOption(
      '--expires-in <duration>',
      'how long it lasts, e.g. 30d (at most 90d by default)',
    )
    .action(
      run(
        async (
          ctx,
          t: string,
          opts: { fingerprint?: string; rule?: string; reason: string; expiresIn: string },
        ) => {
          const scope = t.includes('/') ? target(t) : { project: t };
          const w = await ctx.client().request<WaiverView>('POST', '/api/v1/waivers', {
            json: {
              ...scope,
              fingerprint: opts.fingerprint,
              rule: opts.rule,
              reason: opts.reason,
              expiresIn: opts.expiresIn,
            },
          });
          ctx.out.result(
            w,
            () =>
              `Requested waiver ${w.id} until ${w.expiresAt}; someone else must run \`custody waiver approve ${w.id}\``,
          );
        },
      ),
    );
  for (const verb of ['approve', 'reject'] as const)
    waiver
      .command(`${verb} <id>`)
      .description(`${verb === 'approve' ? 'Approve' : 'Reject'} a waiver someone else requested`)
      .option('--comment <text>', 'why')
      .action(
        run(async (ctx, id: string, opts: { comment?: string }) => {
          const w = await ctx
            .client()
            .request<WaiverView>('POST', `/api/v1/waivers/${enc(id)}/${verb}`, {
              json: opts.comment ? { comment: opts.comment } : {},
            });
          ctx.out.result(
            w,
            () =>
              `Waiver ${w.id} is ${w.state}${w.state === 'approved' ? ` until ${w.expiresAt}` : ''}`,
          );
        }),
      );
  waiver
    .command('list')
    .description('Waivers, newest first')
    .option('--project <name>', 'only this project')
    .addOption(
      new Option('--state <state>', 'only in this state').choices([
        'pending',
        'approved',
        'rejected',
        'expired',
      ]),
    )
    .option(...limitOption)
    .option(...allOption)
    .action(
      run(async (ctx, opts: { project?: string; state?: string } & PageFlags) => {
        const listed = await fetchList<WaiverView>(ctx.client(), '/api/v1/waivers', {
          query: { project: opts.project, state: opts.state },
          flags: opts,
        });
        hintMore(ctx.out, listed, 'waivers');
        ctx.out.result(listed.items, () =>
          table([
            ['ID', 'STATE', 'SCOPE', 'WAIVES', 'REQUESTED BY', 'DECIDED BY', 'EXPIRES'],
            ...listed.items.map((w) => [
              w.id,
              w.state,
              w.environment ? `${w.project}/${w.environment}` : w.project,
              w.fingerprint ? `finding ${w.fingerprint.slice(0, 16)}` : `rule ${w.rule}`,
              w.requestedBy,
              w.decidedBy ?? '-',
              w.expiresAt,
            ]),
          ]),
        );
      }),
    );
}
