/** The stages of an invoice's dunning (domain/invoice-state.ts derives them from its state). */

/** Open stages first (a derived view of the state: paused over disputed over promised over active), then terminal ones. */
export const DUNNING_STAGES = ['active', 'promised', 'awaiting_approval', 'disputed', 'paused', 'needs_attention', 'paid', 'cancelled', 'written_off', 'handed_off'] as const;
export type DunningStage = (typeof DUNNING_STAGES)[number];
export const TERMINAL_STAGES: readonly DunningStage[] = ['paid', 'cancelled', 'written_off', 'handed_off'];
