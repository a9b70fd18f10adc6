import type { Job } from './protocol.ts';
import type { Workspace } from './workspace.ts';

// A step's environment is built from this allowlist, never copied from the runner's own: the
// runner's environment may hold its token, a database URL or keys of the host.
const inherited = ['PATH', 'LANG', 'TZ'] as const;
const defaultPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function stepEnvironment(input: {
  job: Job;
  commit: string;
  ws: Workspace;
  // CUSTODY_ARTIFACT_* → host path of the file
  artifacts: Record<string, string>;
  base?: NodeJS.ProcessEnv;
}): Record<string, string> {
  const { job, ws } = input;
  const base = input.base ?? process.env;
  const env: Record<string, string> = {};
  for (const name of inherited) {
    const value = base[name];
    if (value) env[name] = value;
  }
  env.PATH ??= defaultPath;
  Object.assign(env, {
    HOME: ws.view(ws.home),
    CUSTODY_RUN_ID: job.runId,
    CUSTODY_JOB_ID: job.jobId,
    CUSTODY_PROJECT: job.project,
    CUSTODY_PIPELINE: job.pipeline,
    CUSTODY_STAGE: job.stage,
    CUSTODY_ENVIRONMENT: job.environment ?? '',
    CUSTODY_COMMIT: input.commit,
    CUSTODY_WORKSPACE: ws.view(ws.src),
  });
  for (const [k, v] of Object.entries(job.inputs))
    env[`CUSTODY_INPUT_${k.toUpperCase().replace(/-/g, '_')}`] = v;
  for (const [k, file] of Object.entries(input.artifacts)) env[k] = ws.view(file);
  return env;
}
