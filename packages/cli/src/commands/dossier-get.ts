// `custody dossier get DEPLOYMENT -o FILE`: downloads a deployment's signed change dossier,
// byte for byte (verify it offline with `custody dossier verify FILE --key KEY`).
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ApiError, type ApiErrorBody } from '../client.ts';
import { run } from '../command-context.ts';
import { UsageError } from '../exit-codes.ts';

const enc = encodeURIComponent;

export interface DossierDownloadReport {
  deployment: string;
  file: string;
  size: number;
  sha256: string;
  final: boolean;
  manifestSha256: string | null;
}

/** Adds `get` to the `dossier` command group. */
export function addDossierGet(dossier: Command): Command {
  dossier
    .command('get')
    .description(
      "Download a deployment's signed change dossier (a zip); a running deployment's is marked not final",
    )
    .argument('<deployment>', 'the deployment: <run id>/<stage name>')
    .requiredOption('-o, --out <file>', 'where to write the zip')
    .action(
      run(async (ctx, deployment: string, opts: { out: string }) => {
        const slash = deployment.indexOf('/');
        if (slash <= 0 || slash === deployment.length - 1)
          throw new UsageError(`DEPLOYMENT must be <run id>/<stage name>, not ${deployment}`);
        const runId = deployment.slice(0, slash);
        const stage = deployment.slice(slash + 1);
        const res = await ctx
          .client()
          .raw('GET', `/api/v1/deployments/${enc(runId)}/${enc(stage)}/dossier`);
        const bytes = Buffer.from(await res.arrayBuffer());
        if (!res.ok) {
          let body: ApiErrorBody = {};
          try {
            body = JSON.parse(bytes.toString('utf8')) as ApiErrorBody;
          } catch {
            // Not an error document: the status alone says it.
          }
          throw new ApiError(res.status, body);
        }
        await writeFile(opts.out, bytes);
        const report: DossierDownloadReport = {
          deployment,
          file: opts.out,
          size: bytes.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          final: res.headers.get('x-dossier-final') === 'true',
          manifestSha256: res.headers.get('x-dossier-manifest-sha256'),
        };
        ctx.out.result(
          report,
          () =>
            `wrote the dossier of ${deployment} to ${opts.out} (${report.size} bytes, sha256:${report.sha256})${report.final ? '' : '; not final: the deployment is still running or its review is pending'}`,
        );
      }),
    );
  return dossier;
}
