export { runAgent, type AgentOptions } from './agent.ts';
export {
  RunnerClient,
  LeaseLostError,
  HttpError,
  artifactEnvName,
  type Job,
  type JobStep,
  type StepResult,
} from './protocol.ts';
