import { z } from 'zod';

export const decisionPoints = ['pipeline', 'run', 'deploy', 'approval'] as const;
export type DecisionPoint = (typeof decisionPoints)[number];

// A Rego file: inline `source`, or `file` next to the YAML, which `custody apply` replaces by
// its contents (the server never reads files).
const regoFile = z
  .object({
    name: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9_.\-/]+$/, 'must be a file name such as ticket.rego'),
    source: z
      .string()
      .max(256 * 1024)
      .optional(),
    file: z.string().max(500).optional(),
  })
  .strict()
  .refine((m) => m.source !== undefined || m.file !== undefined, {
    message: 'needs source (inline Rego) or file',
  });

export const policySpecSchema = z
  .object({
    description: z.string().max(500).default(''),
    decisionPoint: z.enum(decisionPoints),
    modules: z.array(regoFile).min(1).max(20),
    tests: z.array(regoFile).max(20).default([]),
    // Evaluation time limit per decision; past it the decision fails closed.
    timeoutMs: z.number().int().min(1).max(5000).default(100),
    // Rego v0 syntax (OPA's --v0-compatible), for policies written before OPA 1.0.
    regoVersion: z.enum(['v0', 'v1']).default('v1'),
  })
  .strict();

export type PolicySpec = z.infer<typeof policySpecSchema>;

export const packageOf = (point: DecisionPoint) => `custody.${point}`;
