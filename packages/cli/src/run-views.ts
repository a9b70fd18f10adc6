// What the server answers about runs (`/api/v1/runs…`), as far as the CLI reads it.

export interface RunView {
  id: string;
  project: string;
  pipeline: string;
  pipelineVersion: number;
  branch?: string;
  commit: string | null;
  trigger?: Record<string, unknown>;
  state: string;
  reason: string | null;
  createdBy: string;
  createdAt: string;
  startedAt?: string | null;
  finishedAt: string | null;
}

export interface StepView {
  index: number;
  name: string;
  state: string;
  exitCode: number | null;
  reason?: string | null;
  startedAt?: string | null;
  finishedAt?: string | null;
}

export interface JobView {
  id: string;
  generation?: number;
  pool?: string;
  state: string;
  attempt?: number;
  runner?: string | null;
  reason?: string | null;
  steps: StepView[];
}

export interface StageView {
  name: string;
  environment?: string | null;
  state: string;
  reason?: string | null;
  waitingSince?: string | null;
  waitExpiresAt?: string | null;
  startedAt?: string | null;
  finishedAt?: string | null;
  jobs: JobView[];
}

export interface RunDetail extends RunView {
  stages: StageView[];
  files: { kind: string; name: string; digest: string; stage: string; step: string }[];
}

export interface LogChunk {
  cursor: number;
  stage: string;
  step: string;
  attempt?: number;
  content: string;
}

export interface LogPage {
  cursor: number;
  chunks: LogChunk[];
}

export interface GateReason {
  check: string;
  code: string;
  message: string;
  unblock: string | null;
  blocking: boolean;
}

export interface StageGate {
  stage: string;
  environment: string;
  state: string;
  decision: {
    allowed: boolean;
    status: string;
    reasons: GateReason[];
    decidedAt: string;
  } | null;
  approval: { id: string; state: string; intentHash: string } | null;
}

export interface RunGate {
  run: string;
  state: string;
  stages: StageGate[];
}

export const runStates = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'rejected',
] as const;
export const terminalRunStates: readonly string[] = [
  'succeeded',
  'failed',
  'cancelled',
  'rejected',
];
export const terminalStageStates: readonly string[] = [
  'succeeded',
  'ignored',
  'rolled_back',
  'failed',
  'skipped',
  'cancelled',
  'rejected',
];
export const terminalJobStates: readonly string[] = ['succeeded', 'failed', 'cancelled'];
export const terminalStepStates: readonly string[] = [
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
];
// Deploy stages the deployment gate holds back: the gate says why (`GET /runs/:id/gate`).
export const gateStates: readonly string[] = [
  'blocked_by_freeze',
  'waiting_for_approval',
  'blocked',
];

export const stageLabel = (s: { name: string; environment?: string | null }): string =>
  s.environment ? `${s.name} → ${s.environment}` : s.name;
