import { z } from 'zod';
import { parseDuration } from '../../platform/duration.ts';

// The Pipeline resource's spec (docs: shared design resources.md). Strict everywhere, so a
// typo is a validation error with its YAML path, line and column, never a silently ignored key.

const label = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a lowercase DNS label');
const duration = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, 'must be a duration such as 30s, 10m or 1h');
const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

// A secret a step names: a job secret's name (platform secrets and CUSTODY_* are never job
// secrets; docs/reference/secrets.md).
const secretName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'must be a secret name: A-Z, 0-9 and _')
  .refine((n) => !n.startsWith('CUSTODY_'), 'CUSTODY_* names are set by the runner');

// `sbom` is CycloneDX or SPDX, told apart by content; `file` is stored and never parsed.
export const evidenceTypes = [
  'junit',
  'lcov',
  'cobertura',
  'sarif',
  'sbom',
  'cyclonedx',
  'spdx',
  'file',
] as const;

export const stepSchema = z
  .object({
    name: label,
    run: z.string().min(1, 'must be a bash script'),
    env: z.record(envName, z.string()).optional(),
    // The secrets this step receives; a step that names none gets none.
    secrets: z
      .array(secretName)
      .max(50)
      .refine((a) => new Set(a).size === a.length, 'names a secret twice')
      .optional(),
    timeout: duration.optional(),
    retries: z.number().int().min(0).max(10).optional(),
    evidence: z
      .array(
        z
          .object({
            type: z.enum(evidenceTypes),
            path: z.string().min(1),
            // Not produced, or malformed: noted in the log instead of failing the step.
            optional: z.boolean().optional(),
          })
          .strict(),
      )
      .optional(),
    artifacts: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'must be letters, digits, - or _'),
            path: z.string().min(1),
          })
          .strict(),
      )
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    for (const [i, name] of (s.secrets ?? []).entries())
      if (s.env && name in s.env)
        ctx.addIssue({
          code: 'custom',
          path: ['secrets', i],
          message: `${name} is both in env and in secrets`,
        });
  });

export const stageSchema = z
  .object({
    name: label,
    type: z.enum(['ci', 'deploy']),
    environment: label.optional(),
    runnerPool: label.optional(),
    needs: z.array(label).optional(),
    failureStrategy: z.enum(['abort', 'retry', 'ignore', 'rollback']).optional(),
    retries: z.number().int().min(1).max(5).optional(),
    steps: z.array(stepSchema).min(1),
    rollback: z.array(stepSchema).min(1).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.type === 'deploy' && !s.environment)
      ctx.addIssue({
        code: 'custom',
        path: ['environment'],
        message: 'a deploy stage names an environment',
      });
    if (s.type === 'ci' && s.environment)
      ctx.addIssue({
        code: 'custom',
        path: ['environment'],
        message: 'only deploy stages name an environment',
      });
    if (s.type === 'ci' && s.rollback)
      ctx.addIssue({
        code: 'custom',
        path: ['rollback'],
        message: 'only deploy stages have rollback steps',
      });
    if (s.failureStrategy === 'rollback' && !s.rollback)
      ctx.addIssue({
        code: 'custom',
        path: ['failureStrategy'],
        message: 'rollback needs rollback steps',
      });
    const seen = new Set<string>();
    s.steps.forEach((step, i) => {
      if (seen.has(step.name))
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'name'],
          message: `step ${step.name} appears twice`,
        });
      seen.add(step.name);
    });
  });

export const pipelineSpecSchema = z
  .object({
    description: z.string().max(500).optional(),
    source: z
      .object({ repository: z.string().min(1), branch: z.string().min(1).default('main') })
      .strict(),
    inputs: z
      .array(
        z
          .object({
            name: z
              .string()
              .regex(/^[a-z][a-z0-9_-]*$/, 'must be lowercase letters, digits, - or _'),
            description: z.string().max(500).optional(),
            default: z.string().optional(),
            required: z.boolean().optional(),
          })
          .strict(),
      )
      .optional(),
    triggers: z
      .array(
        z.union([
          z.object({ manual: z.object({}).strict() }).strict(),
          z.object({ push: z.object({ branch: z.string().min(1) }).strict() }).strict(),
        ]),
      )
      .optional(),
    concurrency: z.number().int().min(1).max(100).optional(),
    stages: z.array(stageSchema).min(1),
  })
  .strict()
  .superRefine((p, ctx) => {
    const names = new Set<string>();
    p.stages.forEach((s, i) => {
      if (names.has(s.name))
        ctx.addIssue({
          code: 'custom',
          path: ['stages', i, 'name'],
          message: `stage ${s.name} appears twice`,
        });
      (s.needs ?? []).forEach((n, j) => {
        if (!names.has(n))
          ctx.addIssue({
            code: 'custom',
            path: ['stages', i, 'needs', j],
            message: `needs ${n}, which is not a stage defined before this one`,
          });
      });
      names.add(s.name);
    });
    const inputs = new Set<string>();
    (p.inputs ?? []).forEach((input, i) => {
      if (inputs.has(input.name))
        ctx.addIssue({
          code: 'custom',
          path: ['inputs', i, 'name'],
          message: `input ${input.name} appears twice`,
        });
      inputs.add(input.name);
    });
  });

export type PipelineSpec = z.infer<typeof pipelineSpecSchema>;
export type StageSpec = z.infer<typeof stageSchema>;
export type StepSpec = z.infer<typeof stepSchema>;

// Stages without `needs` follow the one before them; the first has no predecessor.
export function stageNeeds(spec: PipelineSpec, index: number): string[] {
  const stage = spec.stages[index];
  if (!stage) return [];
  if (stage.needs) return stage.needs;
  const prev = spec.stages[index - 1];
  return prev ? [prev.name] : [];
}

// `payments-api` → CUSTODY_ARTIFACT_PAYMENTS_API
export function artifactEnvName(name: string, previous = false): string {
  return `CUSTODY_${previous ? 'PREVIOUS_' : ''}ARTIFACT_${name.toUpperCase().replace(/-/g, '_')}`;
}

export function pipelineJsonSchema(): unknown {
  const envelope = z
    .object({
      apiVersion: z.literal('custody/v1'),
      kind: z.literal('Pipeline'),
      metadata: z
        .object({
          name: label,
          project: label,
          labels: z.record(z.string(), z.string()).optional(),
        })
        .strict(),
      spec: pipelineSpecSchema,
    })
    .strict();
  return z.toJSONSchema(envelope, { io: 'input', unrepresentable: 'any' });
}
