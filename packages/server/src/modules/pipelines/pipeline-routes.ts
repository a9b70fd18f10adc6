import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import { pipelinePermissions as P } from './permissions.ts';
import { pipelineJsonSchema } from './pipeline-spec.ts';

export function pipelineRoutes(): AnyRoute[] {
  const schema = pipelineJsonSchema();
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/schemas/pipeline.json',
      summary: 'JSON Schema of the Pipeline resource (for editor completion)',
      tags: ['pipelines'],
      auth: { permission: P['pipelines.pipeline.read'], scope: () => ({ any: true }) },
      response: z.record(z.string(), z.unknown()),
      async handler() {
        return schema as Record<string, unknown>;
      },
    }),
  ];
}
