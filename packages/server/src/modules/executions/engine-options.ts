export interface EngineOptions {
  leaseTtlMs: number;
  // Leases of one job: 2 = one retry on another runner after a runner is lost.
  maxAttempts: number;
  // A requeued job nobody leases within this time fails with RUNNER_LOST.
  requeueTimeoutMs: number;
  defaultConcurrency: number;
  // A stage held back by the deployment gate (or waiting for its environment) fails after this.
  gateWaitTimeoutMs: number;
}

export const defaultEngineOptions: EngineOptions = {
  leaseTtlMs: 30_000,
  maxAttempts: 2,
  requeueTimeoutMs: 120_000,
  defaultConcurrency: 10,
  gateWaitTimeoutMs: 7 * 86_400_000,
};
