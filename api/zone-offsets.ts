import { IANAZone } from 'luxon';

/**
 * Luxon asks Intl for a time zone's UTC offset at every conversion of a local time (formatToParts, the
 * largest cost of a cadence preview: ~170 lookups for a four-step cadence, most of them the same instants
 * again, since each planning round works out the remaining steps anew). The offset of a zone at an instant
 * never changes within a process (its time zone database is fixed at start), so this process keeps the
 * answers: per zone, by instant, exact (no rounding), at most LIMIT instants per zone (then it starts over).
 * Only this process's luxon (the API's); the workflows' sandbox has its own. Idempotent.
 */
const LIMIT = 20_000;
let installed = false;

export function memoizeZoneOffsets(): void {
  if (installed) return;
  installed = true;
  const lookUp = IANAZone.prototype.offset;
  const offsets = new WeakMap<IANAZone, Map<number, number>>();
  IANAZone.prototype.offset = function offset(this: IANAZone, ts: number): number {
    let known = offsets.get(this);
    if (!known) {
      known = new Map();
      offsets.set(this, known);
    }
    let minutes = known.get(ts);
    if (minutes === undefined) {
      minutes = lookUp.call(this, ts);
      if (known.size >= LIMIT) known.clear();
      known.set(ts, minutes);
    }
    return minutes;
  };
}
