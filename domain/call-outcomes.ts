import type { DisputeReason } from './disputes';
import type { DunningStage, DunningState } from './invoice-state';

/** What a collector records when completing a call task. */
export type CallOutcome =
  | { code: 'promise_to_pay'; promiseId: string; amountMinor: number; promisedDate: string; madeBy: string }
  | { code: 'will_pay' }
  | { code: 'dispute'; reasonCode: DisputeReason }
  | { code: 'refused' }
  | { code: 'request_copy' }
  | { code: 'no_answer' }
  | { code: 'voicemail' }
  | { code: 'wrong_contact'; contactId?: string }
  | { code: 'callback_requested'; callbackAt: string };
export type CallOutcomeCode = CallOutcome['code'];
export const REACHED_OUTCOMES: readonly CallOutcomeCode[] = ['promise_to_pay', 'will_pay', 'dispute', 'refused', 'request_copy'];
export const NOT_REACHED_OUTCOMES: readonly CallOutcomeCode[] = ['no_answer', 'voicemail', 'wrong_contact', 'callback_requested'];

export interface CallOutcomeInput {
  taskId: number;
  /** Which attempt of the call this task was (1 = first). */
  attempt: number;
  outcome: CallOutcome;
  note: string;
  actor: string;
}

export interface FollowUpTask {
  taskId: number;
  kind: 'follow_up' | 'callback' | 'broken_promise';
  dueAt: string;
  attempt: number;
}

export interface CallOutcomeResult {
  stage: DunningStage;
  openAmountMinor: number;
  nextStep: DunningState['nextStep'];
  followUpTask: FollowUpTask | null;
  /** What else happened: a copy sent, the team lead told, a promise recorded. */
  effects: string[];
}
