/**
 * List totals (how many rows a filter selects, and their money) kept for a few seconds in this process,
 * per key (tenant, scope and filters), so that a list's pages do not aggregate the whole portfolio on
 * every request (a team lead's worklist total groups 100k open tasks: ~80 ms of PostgreSQL).
 *
 * A total served is as of at most `maxAgeMs` ago. Past `refreshAfterMs` the next request still gets the
 * held value and starts one computation in the background, so that under steady traffic nobody waits
 * for the aggregate; past `maxAgeMs` a request waits for a fresh one (several at once share it).
 * `invalidate()` drops everything: the API calls it on each write it makes itself (app.ts), so a caller
 * sees their own change in the next list; another process's writes (the worker, a second API process)
 * show within `maxAgeMs`. A computation started before an invalidation is not kept.
 */
export interface TotalsCache {
  get<T>(key: string, compute: () => Promise<T>): Promise<T>;
  invalidate(): void;
}

interface Entry {
  value?: unknown;
  at: number;
  pending?: Promise<unknown>;
}

export function createTotalsCache(opts: { maxAgeMs: number; refreshAfterMs?: number; limit?: number; now?: () => number }): TotalsCache {
  const now = opts.now ?? (() => performance.now());
  const refreshAfter = opts.refreshAfterMs ?? opts.maxAgeMs * 0.6;
  const limit = opts.limit ?? 1_000;
  let entries = new Map<string, Entry>();

  function compute<T>(key: string, fn: () => Promise<T>, entry: Entry | undefined): Promise<T> {
    if (entry?.pending) return entry.pending as Promise<T>;
    const owner = entries;
    const started = now();
    const slot: Entry = entry ?? { at: -Infinity };
    const pending = fn().then(
      (value) => {
        slot.pending = undefined;
        // Kept only if no write happened meanwhile (invalidate() replaced the map).
        if (owner === entries) {
          slot.value = value;
          slot.at = started;
          entries.delete(key); // most recently computed last
          entries.set(key, slot);
          if (entries.size > limit) entries.delete(entries.keys().next().value!);
        }
        return value;
      },
      (err: unknown) => {
        slot.pending = undefined;
        throw err;
      },
    );
    slot.pending = pending;
    if (!entry) entries.set(key, slot);
    return pending;
  }

  return {
    async get<T>(key: string, fn: () => Promise<T>): Promise<T> {
      if (opts.maxAgeMs <= 0) return fn();
      const entry = entries.get(key);
      if (entry && 'value' in entry) {
        const age = now() - entry.at;
        if (age < refreshAfter) return entry.value as T;
        if (age < opts.maxAgeMs) {
          compute(key, fn, entry).catch(() => undefined); // in the background: the next request gets it
          return entry.value as T;
        }
      }
      return compute(key, fn, entry);
    },
    invalidate() {
      entries = new Map();
    },
  };
}
