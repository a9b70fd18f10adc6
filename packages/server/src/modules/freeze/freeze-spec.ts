import { z } from 'zod';
import { parseDuration } from '../../platform/duration.ts';
import { isTimeZone, parseLocal } from './local-time.ts';
import { parseRrule } from './rrule.ts';

const label = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a lowercase DNS label');
// Years are bounded so evaluating a COUNT rule from its start stays cheap at every gate check.
const localTime = z.string().refine(
  (s) => {
    const t = parseLocal(s);
    return t !== undefined && t.year >= 1970 && t.year <= 2200;
  },
  {
    message:
      'must be a local date-time between 1970 and 2200 such as 2026-12-24T00:00 (no offset; see timeZone)',
  },
);
const duration = z.string().refine((s) => parseDuration(s) !== undefined, {
  message: 'must be a duration such as 24h or 3d',
});

// Lanes a deployment can travel in; a window lists the lanes it lets through.
export const freezeLanes = ['normal', 'rollback', 'emergency'] as const;
export type FreezeLane = (typeof freezeLanes)[number];

const range = z
  .object({ start: localTime, end: localTime })
  .strict()
  .refine((r) => r.start < r.end, { message: 'end must come after start', path: ['end'] });

export const freezeWindowSpecSchema = z
  .object({
    description: z.string().max(500).optional(),
    // Windows cannot be deleted (their history is evidence); a retired window is disabled.
    enabled: z.boolean().default(true),
    scope: z
      .object({
        environmentTypes: z.array(z.enum(['production', 'pre-production'])).optional(),
        projects: z.array(label).optional(),
        environments: z
          .array(
            z
              .string()
              .regex(
                /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\/[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
                'must be project/environment',
              ),
          )
          .optional(),
      })
      .strict()
      .refine(
        (s) =>
          (s.environmentTypes?.length ?? 0) +
            (s.projects?.length ?? 0) +
            (s.environments?.length ?? 0) >
          0,
        { message: 'name at least one of environmentTypes, projects or environments' },
      ),
    timeZone: z
      .string()
      .refine(isTimeZone, { message: 'must be an IANA time zone such as Europe/Berlin' }),
    schedule: z
      .object({
        start: localTime.optional(),
        end: localTime.optional(),
        recurring: z
          .object({
            rrule: z.string().superRefine((s, c) => {
              const r = parseRrule(s);
              if (!r.ok) c.addIssue({ code: 'custom', message: r.error });
            }),
            duration,
            // DTSTART: the first occurrence's local start (and its time of day); default midnight, 2000-01-01.
            start: localTime.optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .superRefine((s, c) => {
        const oneOff = s.start !== undefined || s.end !== undefined;
        if (oneOff && s.recurring)
          c.addIssue({
            code: 'custom',
            message: 'give either start/end (one-off) or recurring, not both',
          });
        else if (!oneOff && !s.recurring)
          c.addIssue({ code: 'custom', message: 'give start and end (one-off) or recurring' });
        else if (oneOff && (s.start === undefined || s.end === undefined))
          c.addIssue({ code: 'custom', message: 'a one-off schedule needs both start and end' });
        else if (oneOff && s.start! >= s.end!)
          c.addIssue({ code: 'custom', message: 'end must come after start', path: ['end'] });
        if (s.recurring && /COUNT=/i.test(s.recurring.rrule) && !s.recurring.start)
          c.addIssue({
            code: 'custom',
            message: 'COUNT needs recurring.start',
            path: ['recurring', 'start'],
          });
      }),
    // Lanes let through while the window is in force (rollback, emergency).
    exceptions: z.array(z.enum(freezeLanes)).default([]),
    // Local periods during which the window is not in force (a planned release day).
    exclusions: z.array(range).default([]),
  })
  .strict();

export type FreezeWindowSpec = z.infer<typeof freezeWindowSpecSchema>;
