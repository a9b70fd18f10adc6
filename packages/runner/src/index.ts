export { runAgent, unsandboxedNotice, type AgentOptions } from './agent.ts';
export { commitRanges, maxRangeCommits, signatureState } from './commit-range.ts';
export { RunnerError, runnerErrorCodes, type RunnerErrorCode } from './errors.ts';
export { createMasker } from '@custody/masking';
export {
  RunnerClient,
  LeaseLostError,
  HttpError,
  artifactEnvName,
  type CommitRange,
  type Job,
  type JobHistory,
  type JobStep,
  type RangeCommit,
  type SignatureState,
  type StepResult,
} from './protocol.ts';
export {
  createSandbox,
  sandboxJobRoot,
  stepUser,
  type Sandbox,
  type SandboxOptions,
  type StepUser,
} from './sandbox.ts';
export { stepEnvironment } from './step-env.ts';
export { runnerTokenEnv, takeRunnerToken } from './token-source.ts';
