import { z } from 'zod';

/**
 * A cadence is data: ordered steps with stable ids, each dated from an anchor plus an offset.
 * Days are the AR unit; hours, minutes and seconds exist so that demos and end-to-end tests can run
 * a whole cadence in a minute with the same code path.
 */
export const stepIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case id: letters, digits, - and _');

export const offsetSchema = z.object({
  amount: z.number().int().min(-365).max(3650),
  unit: z.enum(['days', 'hours', 'minutes', 'seconds']),
});

export const stepActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('email'), template: z.string().min(1) }),
  z.object({ type: z.literal('call_task'), note: z.string().min(1).max(500) }),
]);

export const cadenceStepSchema = z.object({
  id: stepIdSchema,
  anchor: z.enum(['due_date', 'previous_step']).default('due_date'),
  offset: offsetSchema,
  action: stepActionSchema,
});

export const cadenceSchema = z
  .object({
    id: stepIdSchema,
    version: z.number().int().positive(),
    name: z.string().min(1).max(120),
    /** Local time of day, in the customer's time zone, at which day-based steps fall due. */
    sendAt: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:mm'),
    steps: z.array(cadenceStepSchema).min(1).max(50),
  })
  .superRefine((cadence, ctx) => {
    const seen = new Set<string>();
    const UNIT_SECONDS = { days: 86_400, hours: 3_600, minutes: 60, seconds: 1 } as const;
    let lastDueOffset = -Infinity;
    cadence.steps.forEach((step, i) => {
      if (step.anchor === 'due_date') {
        const offset = step.offset.amount * UNIT_SECONDS[step.offset.unit];
        if (offset < lastDueOffset)
          ctx.addIssue({ code: 'custom', path: ['steps', i, 'offset'], message: 'steps anchored to the due date must come in date order' });
        lastDueOffset = Math.max(lastDueOffset, offset);
      }
      if (seen.has(step.id)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `duplicate step id "${step.id}"` });
      seen.add(step.id);
      if (i === 0 && step.anchor === 'previous_step')
        ctx.addIssue({ code: 'custom', path: ['steps', 0, 'anchor'], message: 'the first step has no previous step' });
      if (step.anchor === 'previous_step' && step.offset.amount < 0)
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'offset', 'amount'], message: 'a step cannot come before the previous one' });
    });
  });

export type Cadence = z.infer<typeof cadenceSchema>;
export type CadenceStep = z.infer<typeof cadenceStepSchema>;
export type StepAction = z.infer<typeof stepActionSchema>;
