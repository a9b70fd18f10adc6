import type { StoredAuditEntry } from '../audit/index.ts';
import { isNotCollected } from './dossier-sources.ts';

// index.html: a summary a person reads in any browser, without scripts. Every value is
// escaped; the JSON files next to it are the record, this page only points into them.
export function escapeHtml(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const css = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;color:#1d1d1f;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.25rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f5f7}code{font:12px ui-monospace,monospace;word-break:break-all}.missing{color:#8a5a00;background:#fff7e0;padding:.25rem .5rem}
.ok{color:#116b2f}.bad{color:#a1131a}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}`;

const h = escapeHtml;
type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

function table(headers: string[], rows: unknown[][]): string {
  if (rows.length === 0) return '<p>None.</p>';
  return `<table><tr>${headers.map((x) => `<th>${h(x)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${h(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
}

function dl(pairs: [string, unknown][]): string {
  return `<dl>${pairs.map(([k, v]) => `<dt>${h(k)}</dt><dd>${h(v)}</dd>`).join('')}</dl>`;
}

function section(title: string, file: string, value: unknown, body: (v: Obj) => string): string {
  const head = `<h2>${h(title)} <small>(<code>${h(file)}</code>)</small></h2>`;
  if (isNotCollected(value))
    return `${head}<p class="missing">Not collected: ${h(value.reason)}</p>`;
  return head + body(obj(value));
}

export interface HtmlInput {
  readonly meta: Obj;
  readonly sections: Readonly<Record<string, unknown>>;
  readonly ledger: { checkpoint: string; size: number; entries: readonly StoredAuditEntry[] };
}

export function renderIndexHtml(input: HtmlInput): string {
  const s = input.sections;
  const m = input.meta;
  const parts: string[] = [];
  parts.push(
    `<h1>Change dossier: ${h(m.deployment)}</h1>`,
    dl([
      ['Project / environment', `${String(m.project)}/${String(m.environment)}`],
      ['Deployment state', m.state],
      ['Final', m.final ? 'yes' : 'no (the deployment is still running, or its review is pending)'],
      ['Built at', m.builtAt],
      ['Built by', m.builtBy],
    ]),
    '<p>This page summarises the JSON files of the dossier. Verify the whole archive with <code>custody dossier verify FILE --key KEY</code>.</p>',
  );
  parts.push(
    section('Change record', 'change.json', s['change.json'], (c) => {
      const req = obj(c.request);
      const em = c.emergency;
      return (
        dl([
          ['Class', c.class],
          ['Basis', c.classBasis],
          ['Change record required', c.changeRecordRequired],
          [
            'Change request',
            isNotCollected(c.request)
              ? `not collected: ${c.request.reason}`
              : `${String(req.id)}: ${String(req.title)} (${String(req.state)})`,
          ],
          ['Reason', isNotCollected(c.request) ? '' : req.reason],
          [
            'Ticket',
            isNotCollected(c.ticket)
              ? `not collected: ${c.ticket.reason}`
              : `${String(obj(c.ticket).id)} (${String(obj(c.ticket).system)})`,
          ],
          [
            'Ticket state at deploy',
            isNotCollected(c.ticket)
              ? ''
              : arr(obj(c.ticket).stateAtDeploy)
                  .map((r) => `${String(r.code)}: ${String(r.message)}`)
                  .join('; '),
          ],
        ]) +
        (isNotCollected(em)
          ? ''
          : `<h3>Emergency</h3>${dl([
              ['Reason', obj(em).reason],
              ['Activated by', obj(em).activatedBy],
              [
                'Review',
                `${String(obj(obj(em).review).status)} (due ${String(obj(obj(em).review).dueAt)}, by ${String(obj(obj(em).review).reviewedBy ?? '—')})`,
              ],
              ['Review notes', obj(obj(em).review).notes],
            ])}`)
      );
    }),
    section(
      'Commits since the previous release',
      'commits.json',
      s['commits.json'],
      (c) =>
        dl([['Range', `${String(c.since ?? '(first release)')} .. ${String(c.head)}`]]) +
        table(
          ['Commit', 'Author', 'Committer', 'Signature'],
          arr(c.commits).map((x) => [
            x.sha,
            `${String(x.authorName)} <${String(x.authorEmail)}>`,
            `${String(x.committerName)} <${String(x.committerEmail)}>`,
            x.signature,
          ]),
        ) +
        (isNotCollected(c.changes)
          ? `<p class="missing">Pull/merge requests not collected: ${h(c.changes.reason)}</p>`
          : table(
              ['Request', 'Title', 'Author', 'Reviews'],
              arr(c.changes).map((x) => [
                `${String(x.repository)}#${String(x.number)}`,
                x.title,
                x.author,
                arr(x.reviews)
                  .map((r) => `${String(r.reviewer)}: ${String(r.verdict)}`)
                  .join(', '),
              ]),
            )),
    ),
    section('Pipeline version', 'pipeline.json', s['pipeline.json'], (p) =>
      dl([
        ['Pipeline', `${String(p.project)}/${String(p.name)} v${String(p.version)}`],
        ['Content hash', p.contentHash],
        ['Matches the run', p.matchesRun ? 'yes' : 'NO'],
        ['Applied by', `${String(p.appliedBy)} at ${String(p.appliedAt)}`],
        ['Approved by', obj(p.approval).decidedBy ?? '—'],
      ]),
    ),
    section(
      'Environment protection rules in force',
      'environment.json',
      s['environment.json'],
      (e) =>
        dl([
          [
            'Environment',
            `${String(e.project)}/${String(e.name)} v${String(e.version)} (${String(e.type)})`,
          ],
          ['Content hash', e.contentHash],
          ['In force at', e.inForceAt],
          ['Rules', obj(obj(e.document).spec)],
        ]),
    ),
    section('Gate decisions', 'gate-decisions.json', s['gate-decisions.json'], (g) =>
      table(
        ['Decided at', 'Point', 'Status', 'Checks'],
        arr(g.decisions).map((x) => [
          x.decidedAt,
          x.point,
          x.status,
          arr(x.reasons)
            .map((r) => `${String(r.check)} ${String(r.code)}${r.blocking ? ' (blocking)' : ''}`)
            .join('; '),
        ]),
      ),
    ),
    section('Approvals', 'approvals.json', s['approvals.json'], (a) =>
      arr(a.requests)
        .map(
          (r) =>
            dl([
              ['Request', `${String(r.id)} (${String(r.state)})`],
              ['Intent hash', r.intentHash],
            ]) +
            table(
              ['Who', 'Decision', 'When', 'Comment'],
              arr(r.votes).map((v) => [v.principal, v.decision, v.decidedAt, v.comment]),
            ),
        )
        .join(''),
    ),
    section('Policy decisions', 'policy-decisions.json', s['policy-decisions.json'], (p) =>
      table(
        ['Decided at', 'Point', 'Result', 'Deny'],
        arr(p.decisions).map((x) => [
          x.decidedAt,
          x.point,
          x.result,
          arr(x.deny)
            .map((d) => d.message ?? d)
            .join('; '),
        ]),
      ),
    ),
    section('Evidence of the deployed digests', 'evidence.json', s['evidence.json'], (e) => {
      const t = obj(obj(e.summary).tests);
      return dl([
        [
          'Artifacts',
          arr(obj(e.summary).artifacts)
            .map((x) => `${String(x.name)} ${String(x.digest)}`)
            .join(', '),
        ],
        ['Reports', arr(obj(e.summary).reports).length],
        [
          'Tests',
          `${String(t.tests ?? 0)} (passed ${String(t.passed ?? 0)}, failures ${String(t.failures ?? 0)}, errors ${String(t.errors ?? 0)})`,
        ],
      ]);
    }),
    section('Attestations', 'attestations/index.json', s['attestations/index.json'], (a) =>
      table(
        ['Attestation', 'Predicate', 'Digest', 'File'],
        arr(a.attestations).map((x) => [x.id, x.predicateType, x.digest, x.file]),
      ),
    ),
    section('Run and steps', 'run.json', s['run.json'], (r) => {
      const dep = obj(r.deployment);
      return (
        dl([
          ['Run', obj(r.run).id],
          ['Triggered by', obj(r.run).triggeredBy],
          ['Stage', `${String(dep.stage)}: ${String(dep.state)}`],
        ]) +
        table(
          ['Job', 'Step', 'State', 'Exit code', 'Finished'],
          arr(dep.jobs).flatMap((j) =>
            arr(j.steps).map((st) => [j.id, st.name, st.state, st.exitCode, st.finishedAt]),
          ),
        )
      );
    }),
  );
  parts.push(
    `<h2>Ledger entries <small>(<code>ledger/</code>)</small></h2>`,
    dl([
      ['Checkpoint', input.ledger.checkpoint.split('\n').slice(0, 3).join(' · ')],
      ['Entries', input.ledger.entries.length],
    ]),
    table(
      ['Seq', 'Time', 'Actor', 'Action', 'Resource', 'Outcome'],
      input.ledger.entries.map((e) => [
        e.seq,
        e.time,
        e.actor.name,
        e.action,
        `${e.resource.type} ${e.resource.id}`,
        e.outcome,
      ]),
    ),
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><title>Change dossier ${h(m.deployment)}</title><style>${css}</style></head><body>${parts.join('\n')}</body></html>\n`;
}
