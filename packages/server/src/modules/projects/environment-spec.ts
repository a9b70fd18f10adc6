import { z } from 'zod';
import { parseDuration } from '../../platform/duration.ts';

const label = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a lowercase DNS label');

// Protection rules live on the environment, never in pipeline YAML, so a pipeline author
// cannot remove a gate by editing the pipeline.
export const approvalRuleSchema = z
  .object({
    name: label,
    group: label.optional(),
    users: z.array(z.string().min(1)).optional(),
    required: z.number().int().min(1).max(20).default(1),
  })
  .strict()
  .refine((r) => (r.group ? 1 : 0) + (r.users?.length ? 1 : 0) === 1, {
    message: 'give exactly one of group or users',
  });

const count = z.number().int().min(0);
const severityLimits = z
  .object({
    critical: count.optional(),
    high: count.optional(),
    medium: count.optional(),
    low: count.optional(),
    info: count.optional(),
  })
  .strict();

// Quality gates: what the evidence of the artifacts being deployed must show (evaluated by the
// deployment gate; docs/reference/evidence.md).
export const qualityGatesSchema = z
  .object({
    tests: z
      .object({
        required: z.boolean().default(true),
        maxFailures: count.default(0),
        minTests: count.default(1),
      })
      .strict()
      .optional(),
    coverage: z
      .object({
        // Percent of lines (and branches) hit; the drop is against the release in this environment.
        minLines: z.number().min(0).max(100).optional(),
        minBranches: z.number().min(0).max(100).optional(),
        maxDrop: z.number().min(0).max(100).optional(),
      })
      .strict()
      .optional(),
    findings: z
      .object({
        // Unwaived, unsuppressed findings that are not in the release now in the environment.
        maxNew: severityLimits.optional(),
        // Every unwaived finding, new or existing.
        maxTotal: severityLimits.optional(),
      })
      .strict()
      .optional(),
    sbom: z
      .object({
        required: z.boolean().default(true),
        deniedLicenses: z.array(z.string().min(1).max(200)).max(200).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type QualityGates = z.infer<typeof qualityGatesSchema>;

export const environmentSpecSchema = z
  .object({
    type: z.enum(['production', 'pre-production']),
    description: z.string().max(500).optional(),
    runnerPool: label.optional(),
    deployers: z
      .object({
        pipelines: z.array(label).optional(),
        branches: z.array(z.string().min(1)).optional(),
      })
      .strict()
      .optional(),
    promotion: z
      .object({ requires: z.array(label).min(1) })
      .strict()
      .optional(),
    approvals: z
      .object({
        rules: z.array(approvalRuleSchema).default([]),
        expiresAfter: z
          .string()
          .refine((s) => parseDuration(s) !== undefined, {
            message: 'must be a duration such as 24h',
          })
          .default('24h'),
      })
      .strict()
      .optional(),
    changeRecord: z.enum(['none', 'native', 'servicenow', 'jira']).default('none'),
    // Segregation of duties beyond the defaults that always hold.
    sod: z
      .object({
        // block: every author, committer and pull request author must be linked to a user.
        unlinkedAuthors: z.enum(['allow', 'block']).default('allow'),
      })
      .strict()
      .optional(),
    policies: z.array(label).optional(),
    qualityGates: qualityGatesSchema.optional(),
  })
  .strict();

export type EnvironmentSpec = z.infer<typeof environmentSpecSchema>;

export const projectSpecSchema = z
  .object({
    description: z.string().max(500).default(''),
    // Policies (by name) evaluated for every environment of the project.
    policies: z.array(label).max(50).optional(),
    // How long the project's records are kept (default 7 years; never below the organization
    // minimum, checked by the retention module at apply).
    retention: z
      .object({ years: z.number().int().min(1).max(100) })
      .strict()
      .optional(),
  })
  .strict();
export type ProjectSpec = z.infer<typeof projectSpecSchema>;
