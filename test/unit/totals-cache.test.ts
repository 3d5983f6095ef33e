import { describe, expect, it } from 'vitest';
import { createTotalsCache } from '../../api/totals-cache';

/** api/totals-cache.ts: list totals held a few seconds per key, refreshed in the background, dropped on a write. */
describe('totals cache', () => {
  const setup = (maxAgeMs = 5_000) => {
    let clock = 0;
    let computed = 0;
    const cache = createTotalsCache({ maxAgeMs, refreshAfterMs: 3_000, now: () => clock });
    const compute = () => Promise.resolve(++computed);
    return { cache, compute, advance: (ms: number) => (clock += ms), computed: () => computed };
  };

  it('holds a total per key until it is old enough to refresh', async () => {
    const { cache, compute, advance, computed } = setup();
    expect(await cache.get('a', compute)).toBe(1);
    advance(2_999);
    expect(await cache.get('a', compute)).toBe(1);
    expect(await cache.get('b', compute)).toBe(2); // another filter: its own total
    expect(computed()).toBe(2);
  });

  it('serves the held total while one refresh runs in the background, then the refreshed one', async () => {
    const { cache, compute, advance } = setup();
    await cache.get('a', compute);
    advance(3_500);
    let calls = 0;
    let release!: (n: number) => void;
    const slow = () => {
      calls++;
      return new Promise<number>((resolve) => (release = resolve));
    };
    expect(await cache.get('a', slow)).toBe(1); // not older than 5 s: served at once, refresh started
    expect(await cache.get('a', slow)).toBe(1);
    expect(calls).toBe(1); // one refresh for both
    release(2);
    await Promise.resolve();
    expect(await cache.get('a', slow)).toBe(2);
  });

  it('never serves a total older than the maximum age: the request waits for a fresh one', async () => {
    const { cache, compute, advance } = setup();
    await cache.get('a', compute);
    advance(5_000);
    expect(await cache.get('a', compute)).toBe(2);
  });

  it('shares one computation between requests that arrive while it runs', async () => {
    const { cache } = setup();
    let calls = 0;
    let release!: (n: number) => void;
    const slow = () => {
      calls++;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const both = Promise.all([cache.get('a', slow), cache.get('a', slow)]);
    release(7);
    expect(await both).toEqual([7, 7]);
    expect(calls).toBe(1);
  });

  it('drops every total on invalidate(), and does not keep one computed before it', async () => {
    const { cache, compute } = setup();
    expect(await cache.get('a', compute)).toBe(1);
    cache.invalidate();
    expect(await cache.get('a', compute)).toBe(2);

    let release!: (n: number) => void;
    const started = cache.get('b', () => new Promise<number>((resolve) => (release = resolve)));
    cache.invalidate(); // a write landed while the count ran: that count may not include it
    release(100);
    expect(await started).toBe(100); // its own caller gets it…
    expect(await cache.get('b', compute)).toBe(3); // …nobody after the write does
  });

  it('does not hold a failed computation', async () => {
    const { cache, compute } = setup();
    await expect(cache.get('a', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await cache.get('a', compute)).toBe(1);
  });

  it('counts on every request when the maximum age is 0', async () => {
    const { cache, compute } = setup(0);
    expect(await cache.get('a', compute)).toBe(1);
    expect(await cache.get('a', compute)).toBe(2);
  });
});
