import { setHandler } from '@temporalio/workflow';
import { stageResult, type PaymentClaim } from '../../domain/invoice-state';
import { claimConfirmed, endPauses, pause, resume, retryAttention } from '../../domain/invoice-transitions';
import { pauseUpdate, resumeUpdate } from '../messages';
import type { InvoiceRun } from './run';

/** Pause and resume, for the invoice or its whole customer; a pause with an end resumes by itself (see `holdForPause`). */
export function registerPauseHandlers(run: InvoiceRun): void {
  setHandler(
    pauseUpdate,
    async (req) => {
      run.commit(pause(run.state, req, run.planContext()));
      run.wake++;
      await run.audit('paused', { reason: req.reason, until: req.until, by: req.actor, scope: req.scope });
      return stageResult(run.state, true);
    },
    { validator: (req) => run.validate({ kind: 'pause', pause: req }) },
  );

  setHandler(
    resumeUpdate,
    async (req) => {
      const { state, ended } = resume(run.state, req.scope, run.planContext());
      if (!ended && run.state.attention && req.scope === 'invoice') {
        // Someone fixed what parked the invoice: the step is tried again at once.
        const attention = run.state.attention;
        run.commit(retryAttention(run.state, run.planContext()));
        run.wake++;
        await run.audit('attention_retry', { code: attention.code, stepId: attention.stepId, attempts: attention.attempts, by: req.actor, note: req.note });
        return stageResult(run.state, true);
      }
      if (!ended) return stageResult(run.state, false);
      run.commit(state);
      run.wake++;
      await run.audit('resumed', { by: req.actor, note: req.note, scope: req.scope, pausedBy: ended.by, pausedSince: ended.since });
      return stageResult(run.state, true);
    },
    { validator: (_req) => run.validate({ kind: 'resume' }) },
  );
}

/** A claimed payment's time is up: the ERP says whether it came; if not, a person checks and dunning goes on. */
async function checkClaim(run: InvoiceRun, claim: PaymentClaim): Promise<void> {
  await run.rereadBalance();
  if (claimConfirmed(run.state, claim)) return; // closed or lowered by the ERP: the loop goes on from there
  const task = await run.createTask('follow_up', `${run.workflowId}:claim:${claim.paymentId}`, new Date().toISOString(), 1,
    `Payment ${claim.paymentId} of ${claim.amountMinor} ${claim.currency} was reported but the ERP does not show it: check with the customer and cash application.`);
  await run.audit('payment_claim_unconfirmed', { paymentId: claim.paymentId, amountMinor: claim.amountMinor, openAmountMinor: run.state.openAmountMinor, followUpTask: task });
}

/** While paused, no cadence step runs: wait for the first pause to end (or a change of course), and lift it. */
export async function holdForPause(run: InvoiceRun): Promise<void> {
  const since = run.wake;
  const ends = [run.state.pause, run.state.customerPause].map((p) => (p?.until ? Date.parse(p.until) : Infinity));
  const until = Math.min(...ends);
  await run.waitUntil(until);
  if (run.wake !== since || run.isClosed() || Date.now() < until) return;
  const { state, ended } = endPauses(run.state, run.planContext());
  if (ended.length === 0) return;
  run.commit(state);
  run.wake++;
  for (const paused of ended) {
    await run.audit('resumed', { by: 'schedule', note: `pause until ${paused.until} ended`, scope: paused.scope, pausedBy: paused.by, pausedSince: paused.since });
    if (paused.claim) await checkClaim(run, paused.claim);
  }
}
