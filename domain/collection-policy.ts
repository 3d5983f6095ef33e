import { collectionPolicySchema, type Cadence } from './cadence';

export { collectionPolicySchema };
export type CollectionPolicy = NonNullable<Cadence['collection']>;

/** The policy of a cadence that has none: every default of collectionPolicySchema (domain/cadence.ts). */
export const DEFAULT_COLLECTION_POLICY: CollectionPolicy = collectionPolicySchema.parse({});

export function collectionPolicyOf(cadence: Pick<Cadence, 'collection'>): CollectionPolicy {
  return cadence.collection ?? DEFAULT_COLLECTION_POLICY;
}
