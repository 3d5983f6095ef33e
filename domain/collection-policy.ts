import { collectionPolicySchema, type Cadence } from './cadence';
import type { PromiseRules } from './promises';

export { collectionPolicySchema };
export type CollectionPolicy = NonNullable<Cadence['collection']>;

/** The policy of a cadence that has none: every default of collectionPolicySchema (domain/cadence.ts). */
export const DEFAULT_COLLECTION_POLICY: CollectionPolicy = collectionPolicySchema.parse({});

export function collectionPolicyOf(cadence: Pick<Cadence, 'collection'>): CollectionPolicy {
  return cadence.collection ?? DEFAULT_COLLECTION_POLICY;
}

/** The rules a promise is held to under the policy (the invoice workflow's, and the API's check before it asks the workflow). */
export function promiseRulesOf(p: CollectionPolicy): PromiseRules {
  return {
    toleranceBusinessDays: p.promise.toleranceBusinessDays,
    maxDaysAhead: p.promise.maxDaysAhead,
    maxMissed: p.paymentPlan.maxMissedInstallments,
    ...(p.promise.courtesyReminder ? { courtesyBusinessDaysBefore: p.promise.courtesyReminder.businessDaysBefore } : {}),
  };
}
