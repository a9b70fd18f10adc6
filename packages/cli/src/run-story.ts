import {
  gateStates,
  stageLabel,
  terminalJobStates,
  terminalStageStates,
  terminalStepStates,
  type RunDetail,
  type RunGate,
  type StageGate,
  type StageView,
} from './run-views.ts';

// The story of a run as `custody run --follow` and `custody watch` tell it: each stage, job and
// step transition with its time (the server's where it records one), and, while a deploy stage
// waits, why — the gate's blocking codes and messages and what would unblock it — told again
// only when that changes. Pure: it compares what it is shown with what it has told.

// ISO 8601 to the second: a stage may wait for days.
export const stamp = (at?: string | null): string =>
  (at ? new Date(at) : new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');

// What a round tells: lines, and where the logs read in that round go (after the stage's
// beginnings, before its endings, so that a stage that ran between two polls reads in order).
export type Piece = { readonly line: string } | { readonly logsOf: string };

interface StageNews {
  // A stage's transition that begins something (it starts or waits) and its jobs being
  // queued or taken; then its steps, jobs and finally the stage itself ending.
  readonly opening: string[];
  readonly closing: string[];
  // Whether the stage's own transition is among them, and at which end.
  moved?: 'opening' | 'closing';
}

export class RunStory {
  private readonly states = new Map<string, string>();
  // Per stage, what was last said about the gate.
  private readonly told = new Map<string, string>();

  opening(d: RunDetail): string {
    const what = d.commit
      ? `commit ${d.commit.slice(0, 12)}`
      : `the head of ${d.branch ?? 'its branch'}`;
    const change = typeof d.trigger?.change === 'string' ? `, change ${d.trigger.change}` : '';
    return `${stamp(d.createdAt)} run ${d.id}: ${d.project}/${d.pipeline} version ${d.pipelineVersion}, ${what}${change}, triggered by ${d.createdBy}`;
  }

  ending(d: RunDetail): string {
    const from = d.startedAt ?? d.createdAt;
    const took =
      from && d.finishedAt ? ` in ${duration(Date.parse(d.finishedAt) - Date.parse(from))}` : '';
    return `${stamp(d.finishedAt)} run ${d.id} ${d.state}${d.reason ? ` (${d.reason})` : ''}${took}`;
  }

  // Whether to read the gate before telling `d`: while a stage is held back (its reasons may
  // change — a vote, a freeze ending — while its state does not), and once when a stage
  // leaves that (to say why it passed) or is rejected.
  wantsGate(d: RunDetail): boolean {
    return d.stages.some((s) => gateStates.includes(s.state) || this.leavesGate(s.name, s.state));
  }

  // Everything that changed since the last call; `gate` is what `GET /runs/:id/gate` answered
  // in this round, or the error it failed with.
  tell(d: RunDetail, gate?: RunGate | { error: string }): Piece[] {
    const pieces: Piece[] = [];
    for (const s of d.stages) {
      const leaves = this.leavesGate(s.name, s.state);
      const news = this.observe(s);
      const g = gate && 'stages' in gate ? gate.stages.find((x) => x.stage === s.name) : undefined;
      let why: string[] = [];
      if (g) why = this.explain(g, stageLabel(s), news.moved !== undefined, leaves);
      else if (gate && 'error' in gate) why = this.explainWithout(s, gate.error);
      const held = gateStates.includes(s.state) || s.state === 'rejected';
      const whyAtEnd = held && news.moved === 'closing';
      const opening = [...news.opening];
      if (!whyAtEnd) opening.splice(news.moved === 'opening' ? 1 : opening.length, 0, ...why);
      const closing = whyAtEnd ? [...news.closing, ...why] : news.closing;
      pieces.push(...opening.map((line) => ({ line })), { logsOf: s.name });
      pieces.push(...closing.map((line) => ({ line })));
    }
    return pieces;
  }

  private leavesGate(stage: string, state: string): boolean {
    const before = this.states.get(`stage:${stage}`) ?? 'pending';
    if (before === state) return false;
    return state === 'rejected' || (gateStates.includes(before) && !gateStates.includes(state));
  }

  private observe(s: StageView): StageNews {
    const news: StageNews = { opening: [], closing: [] };
    const before = this.states.get(`stage:${s.name}`) ?? 'pending';
    const ended = terminalStageStates.includes(s.state);
    if (s.state !== before) {
      this.states.set(`stage:${s.name}`, s.state);
      const at = ended ? s.finishedAt : s.state === 'running' ? s.startedAt : null;
      if (!ended) news.opening.push(`${stamp(at)} ${stageText(s)}`);
      news.moved = ended ? 'closing' : 'opening';
    }
    this.observeJobs(s, news);
    if (s.state !== before && ended) news.closing.push(`${stamp(s.finishedAt)} ${stageText(s)}`);
    return news;
  }

  private observeJobs(s: StageView, news: StageNews): void {
    for (const j of s.jobs) {
      const ends: string[] = [];
      for (const st of j.steps) {
        const key = `step:${j.id}:${st.index}`;
        if (this.states.get(key) === st.state) continue;
        this.states.set(key, st.state);
        if (!terminalStepStates.includes(st.state)) continue;
        const exit = st.exitCode !== null ? ` (exit ${st.exitCode})` : '';
        const reason = st.reason && st.state !== 'succeeded' ? `: ${st.reason}` : '';
        ends.push(`${stamp(st.finishedAt)} ${s.name} / ${st.name}: ${st.state}${exit}${reason}`);
      }
      if (this.states.get(`job:${j.id}`) !== j.state) {
        this.states.set(`job:${j.id}`, j.state);
        const again = (j.attempt ?? 1) > 1 ? ` (attempt ${j.attempt})` : '';
        if (j.state === 'queued')
          news.opening.push(`${stamp()} ${s.name}: job queued for pool ${j.pool ?? '?'}${again}`);
        else if (j.state === 'leased')
          news.opening.push(`${stamp()} ${s.name}: job taken by runner ${j.runner ?? '?'}${again}`);
        else if (terminalJobStates.includes(j.state)) {
          // A job records no times of its own: it ended when its last step did.
          const last = j.steps
            .map((st) => st.finishedAt ?? '')
            .sort()
            .at(-1);
          ends.push(
            `${stamp(last || null)} ${s.name}: job ${j.state}${j.reason ? ` (${j.reason})` : ''}`,
          );
        }
      }
      news.closing.push(...ends);
    }
  }

  private explain(gs: StageGate, label: string, moved: boolean, leaves: boolean): string[] {
    const decision = gs.decision;
    if (gateStates.includes(gs.state) || gs.state === 'rejected') {
      const blocking = decision?.reasons.filter((r) => r.blocking) ?? [];
      const said = JSON.stringify([gs.state, blocking.map((r) => [r.code, r.message, r.unblock])]);
      if (this.told.get(gs.stage) === said) return [];
      this.told.set(gs.stage, said);
      const lines = reasonLines(gs);
      if (!moved)
        lines.unshift(
          `${stamp(decision?.decidedAt)} ${label}: still ${gs.state}; the gate now says:`,
        );
      return lines;
    }
    if (!leaves || !decision?.allowed) return [];
    const passed = decision.reasons.filter((r) => !r.blocking);
    if (passed.length === 0) return [];
    return [
      `${stamp(decision.decidedAt)} ${label}: the gate allowed it:`,
      ...passed.map((r) => `    ${r.code}: ${r.message}`),
    ];
  }

  // The gate could not be read: the stage's own reason, once per change.
  private explainWithout(s: StageView, error: string): string[] {
    if (!gateStates.includes(s.state) && s.state !== 'rejected') return [];
    const said = JSON.stringify([s.state, s.reason ?? null]);
    if (this.told.get(s.name) === said) return [];
    this.told.set(s.name, said);
    return [
      ...(s.reason ? [`    ${s.reason}`] : []),
      `    (the gate's reasons cannot be read: ${error})`,
    ];
  }
}

function stageText(s: StageView): string {
  const label = stageLabel(s);
  if (s.state === 'waiting')
    return `${label}: waiting for the environment (one deployment at a time; another run holds it)`;
  // Held back or refused by the gate: its reasons follow on their own lines.
  if (s.state === 'rejected') return `${label}: ${s.state}`;
  if (gateStates.includes(s.state))
    return `${label}: ${s.state}${s.waitExpiresAt ? ` (fails with GATE_WAIT_EXPIRED at ${stamp(s.waitExpiresAt)} unless unblocked)` : ''}`;
  return `${label}: ${s.state}${s.reason ? ` (${s.reason})` : ''}`;
}

// Each blocking reason of a stage's last gate decision, with what would unblock it.
export function reasonLines(gs: StageGate, indent = '    '): string[] {
  const blocking = gs.decision?.reasons.filter((r) => r.blocking) ?? [];
  return blocking.flatMap((r) => [
    `${indent}${r.code}: ${r.message}`,
    ...(r.unblock ? [`${indent}  to unblock: ${r.unblock}`] : []),
  ]);
}

function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0s';
  const s = Math.round(ms / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', `${s % 60}s`]
    .filter(Boolean)
    .join('');
}
