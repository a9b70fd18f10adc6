import { z } from 'zod';
import { parseDuration } from '../../platform/duration.ts';

const label = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a lowercase DNS label');
const envRef = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\/[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    'must be project/environment',
  );

export const targetScopeSchema = z
  .object({
    environmentTypes: z.array(z.enum(['production', 'pre-production'])).optional(),
    projects: z.array(label).optional(),
    environments: z.array(envRef).optional(),
  })
  .strict();
export type TargetScope = z.infer<typeof targetScopeSchema>;

export function scopeCovers(
  scope: TargetScope | undefined,
  target: { project: string; environment: string; type: string },
): boolean {
  if (!scope) return true;
  const given =
    (scope.environmentTypes?.length ?? 0) +
    (scope.projects?.length ?? 0) +
    (scope.environments?.length ?? 0);
  if (given === 0) return true;
  return (
    (scope.environments?.includes(`${target.project}/${target.environment}`) ?? false) ||
    (scope.projects?.includes(target.project) ?? false) ||
    (scope.environmentTypes?.includes(target.type as 'production') ?? false)
  );
}

const duration = (max: number, text: string) =>
  z.string().refine((s) => (parseDuration(s) ?? Infinity) <= max, {
    message: `must be a duration such as 24h, at most ${text}`,
  });

// A standard change: pre-approved work (a certificate rotation, a config toggle) whose
// template names where it may run and for how long a change made from it stays valid.
export const changeTemplateSpecSchema = z
  .object({
    description: z.string().max(500).default(''),
    scope: targetScopeSchema.refine(
      (s) =>
        (s.environmentTypes?.length ?? 0) +
          (s.projects?.length ?? 0) +
          (s.environments?.length ?? 0) >
        0,
      { message: 'name at least one of environmentTypes, projects or environments' },
    ),
    validFor: duration(30 * 86_400_000, '30d').default('24h'),
  })
  .strict();
export type ChangeTemplateSpec = z.infer<typeof changeTemplateSpecSchema>;

// A ServiceNow or Jira instance. Credentials are never part of the document: they are set
// write-only through the API and kept in their own table.
export const changeConnectorSpecSchema = z
  .object({
    type: z.enum(['servicenow', 'jira']),
    baseUrl: z
      .url({ protocol: /^https?$/ })
      .refine((u) => !new URL(u).username && !new URL(u).password, {
        message: 'must not carry credentials; set them through the credentials API',
      }),
    description: z.string().max(500).optional(),
    scope: targetScopeSchema.optional(),
    timeout: duration(60_000, '60s').default('5s'),
    // Jira: status names that count as approved. ServiceNow: state names (new, assess,
    // authorize, scheduled, implement, review) accepted once `approval` is `approved`.
    approvedStates: z.array(z.string().min(1).max(100)).min(1).optional(),
    // Jira transition names, or ServiceNow state names, applied after a deployment.
    transitions: z
      .object({
        succeeded: z.string().min(1).max(100).optional(),
        failed: z.string().min(1).max(100).optional(),
        rolled_back: z.string().min(1).max(100).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type ChangeConnectorSpec = z.infer<typeof changeConnectorSpecSchema>;
