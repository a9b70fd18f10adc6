import { describe, expect, it } from 'vitest';
import { LogPrinter } from './log-printer.ts';
import { lineText, logText } from './terminal-text.ts';
import { RunStory, type Piece } from './run-story.ts';
import type { RunDetail, RunGate, StageView } from './run-views.ts';

// The story's rules without a server: order within a round, the gate's reasons told once per
// change, what is said when the gate cannot be read, and log headers.

const t0 = '2026-12-02T10:00:00.000Z';
const t1 = '2026-12-02T10:00:05.000Z';

function detail(stages: StageView[], state = 'running'): RunDetail {
  return {
    id: 'run_1',
    project: 'shop',
    pipeline: 'release',
    pipelineVersion: 1,
    branch: 'main',
    commit: null,
    state,
    reason: null,
    createdBy: 'user:alice',
    createdAt: t0,
    startedAt: t0,
    finishedAt: state === 'running' ? null : t1,
    stages,
    files: [],
  };
}

const build = (state: string, job: string, step: string): StageView => ({
  name: 'build',
  environment: null,
  state,
  startedAt: t0,
  finishedAt: state === 'succeeded' ? t1 : null,
  jobs: [
    {
      id: 'job_1',
      pool: 'default',
      state: job,
      runner: 'rnr_1',
      steps: [
        {
          index: 0,
          name: 'test',
          state: step,
          exitCode: step === 'succeeded' ? 0 : null,
          finishedAt: t1,
        },
      ],
    },
  ],
});

const deploy = (state: string, reason: string | null = null): StageView => ({
  name: 'deploy',
  environment: 'production',
  state,
  reason,
  jobs: [],
});

const gate = (state: string, reasons: [string, string, string | null, boolean][]): RunGate => ({
  run: 'run_1',
  state: 'running',
  stages: [
    {
      stage: 'deploy',
      environment: 'production',
      state,
      decision: {
        allowed: reasons.every((r) => !r[3]),
        status: state,
        decidedAt: t1,
        reasons: reasons.map(([code, message, unblock, blocking]) => ({
          check: 'approvals',
          code,
          message,
          unblock,
          blocking,
        })),
      },
      approval: null,
    },
  ],
});

const text = (pieces: Piece[]) =>
  pieces.map((p) => ('line' in p ? p.line.replace(/^\S+Z /, '') : `[logs of ${p.logsOf}]`));

describe('the story of a run', () => {
  it('tells a stage that began and ended between two polls in order, its logs in between', () => {
    const story = new RunStory();
    const queued = detail([build('running', 'queued', 'pending'), deploy('pending')]);
    expect(text(story.tell(queued))).toEqual([
      'build: running',
      'build: job queued for pool default',
      '[logs of build]',
      '[logs of deploy]',
    ]);
    // Taken, run and finished before the next poll: beginnings, the logs, then the endings.
    const done = detail([build('succeeded', 'succeeded', 'succeeded'), deploy('pending')]);
    expect(text(story.tell(done))).toEqual([
      '[logs of build]',
      'build / test: succeeded (exit 0)',
      'build: job succeeded',
      'build: succeeded',
      '[logs of deploy]',
    ]);
    // Nothing new: nothing told.
    expect(text(story.tell(done))).toEqual(['[logs of build]', '[logs of deploy]']);
  });

  it("tells the gate's reasons once, again only when they change, and why the stage passed", () => {
    const story = new RunStory();
    const waiting = detail([
      build('succeeded', 'succeeded', 'succeeded'),
      deploy('waiting_for_approval'),
    ]);
    expect(story.wantsGate(waiting)).toBe(true);
    const first = text(
      story.tell(
        waiting,
        gate('waiting_for_approval', [
          ['APPROVAL_REQUIRED', 'needs 1', 'custody approve dap_1', true],
        ]),
      ),
    );
    expect(first.slice(-4)).toEqual([
      'deploy → production: waiting_for_approval',
      '    APPROVAL_REQUIRED: needs 1',
      '      to unblock: custody approve dap_1',
      '[logs of deploy]',
    ]);
    // The same reasons on the next polls: nothing to tell.
    const same = gate('waiting_for_approval', [
      ['APPROVAL_REQUIRED', 'needs 1', 'custody approve dap_1', true],
    ]);
    expect(text(story.tell(waiting, same))).toEqual(['[logs of build]', '[logs of deploy]']);
    // Other reasons while the state stays: told, with what changed.
    const other = gate('waiting_for_approval', [
      ['APPROVAL_REQUIRED', 'needs 1', 'custody approve dap_2', true],
    ]);
    expect(text(story.tell(waiting, other))).toEqual([
      '[logs of build]',
      'deploy → production: still waiting_for_approval; the gate now says:',
      '    APPROVAL_REQUIRED: needs 1',
      '      to unblock: custody approve dap_2',
      '[logs of deploy]',
    ]);
    // It passes: the gate is read once more, to say why.
    const running = detail([build('succeeded', 'succeeded', 'succeeded'), deploy('running')]);
    expect(story.wantsGate(running)).toBe(true);
    expect(
      text(
        story.tell(
          running,
          gate('running', [['APPROVALS_MET', 'approved by user:bob', null, false]]),
        ),
      ),
    ).toEqual([
      '[logs of build]',
      'deploy → production: running',
      'deploy → production: the gate allowed it:',
      '    APPROVALS_MET: approved by user:bob',
      '[logs of deploy]',
    ]);
    expect(story.wantsGate(running)).toBe(false);
  });

  it("falls back to the stage's reason when the gate cannot be read, once", () => {
    const story = new RunStory();
    const d = detail([deploy('blocked_by_freeze', 'FREEZE_ACTIVE: weekend')]);
    const lines = text(story.tell(d, { error: 'AUTHZ_PERMISSION_DENIED: no' }));
    expect(lines).toEqual([
      'deploy → production: blocked_by_freeze',
      '    FREEZE_ACTIVE: weekend',
      "    (the gate's reasons cannot be read: AUTHZ_PERMISSION_DENIED: no)",
      '[logs of deploy]',
    ]);
    expect(text(story.tell(d, { error: 'AUTHZ_PERMISSION_DENIED: no' }))).toEqual([
      '[logs of deploy]',
    ]);
  });

  it('ends with the result and how long the run took', () => {
    expect(new RunStory().ending({ ...detail([], 'failed'), reason: 'EXIT_7' })).toBe(
      '2026-12-02T10:00:05Z run run_1 failed (EXIT_7) in 5s',
    );
  });
});

describe('log headers', () => {
  const chunk = (stage: string, step: string, content: string, attempt = 1) => ({
    cursor: 0,
    stage,
    step,
    attempt,
    content,
  });

  it('heads each step, and each attempt, starting on a line of its own', () => {
    const p = new LogPrinter({ firstHeader: true });
    expect(
      p.render(
        [
          chunk('build', 'compile', 'no newline'),
          chunk('build', 'test', 'ok\n'),
          chunk('build', 'test', 'again\n', 2),
        ],
        true,
      ),
    ).toBe(
      '==> build / compile\nno newline\n==> build / test\nok\n==> build / test (attempt 2)\nagain\n',
    );
    // A later call continues the same step without a new header.
    expect(p.render([chunk('build', 'test', 'more\n', 2)], true)).toBe('more\n');
  });

  it("leaves one step's output as written, heading only a second attempt", () => {
    const p = new LogPrinter({ firstHeader: false });
    expect(
      p.render([chunk('build', 'test', 'ok\n'), chunk('build', 'test', 'again\n', 2)], true),
    ).toBe('ok\n==> build / test (attempt 2)\nagain\n');
  });
});

describe('text from a run on a terminal', () => {
  it('keeps colours and line breaks of log output, drops sequences that move or erase', () => {
    const forged =
      'ok \u001b[32mgreen\u001b[0m\n\u001b[2A\u001b[2K    to unblock: custody approve dap_evil\n';
    expect(logText(forged)).toBe(
      'ok \u001b[32mgreen\u001b[0m\n    to unblock: custody approve dap_evil\n',
    );
    expect(logText('title\u001b]0;owned\u0007 bell\u0007 nul\u0000 tab\t cr\r')).toBe(
      'title bell nul tab\t cr\r',
    );
    expect(logText('8-bit CSI \u009b2J')).toBe('8-bit CSI 2J');
  });

  it('keeps what the CLI itself prints on one line, without escapes', () => {
    expect(lineText('APPROVAL_REQUIRED: a\nfake line \u001b[1Aup \u001b[31mred')).toBe(
      'APPROVAL_REQUIRED: a fake line up red',
    );
  });

  it('a step cannot move the cursor back over what was printed', () => {
    const p = new LogPrinter({ firstHeader: true });
    expect(
      p.render(
        [{ cursor: 1, stage: 'build', step: 'test', content: 'x\u001b[1A\u001b[2K==> forged\n' }],
        true,
      ),
    ).toBe('==> build / test\nx==> forged\n');
  });
});
