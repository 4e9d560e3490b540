/**
 * A latency histogram in microseconds with under 1% error at every magnitude (HDR-style: exact below
 * 256 µs, then 128 sub-buckets per power of two), a fixed array of counts that costs a few integer
 * operations per record and merges across processes by adding counts.
 */

const SUB = 128;
/** Enough buckets for values up to 2^31 µs (35 minutes). */
const BUCKETS = 25 * SUB;

function indexOf(us: number): number {
  const v = us < 0 ? 0 : us >= 2 ** 31 ? 2 ** 31 - 1 : Math.floor(us);
  if (v < 2 * SUB) return v;
  const shift = 31 - Math.clz32(v) - 7;
  return (shift + 1) * SUB + (v >>> shift) - SUB;
}

/** The smallest value of bucket i, and its width. */
function bucketRange(i: number): { low: number; width: number } {
  if (i < 2 * SUB) return { low: i, width: 1 };
  const shift = Math.floor(i / SUB) - 1;
  return { low: (i - shift * SUB) * 2 ** shift, width: 2 ** shift };
}

export class Histogram {
  readonly counts = new Float64Array(BUCKETS);
  count = 0;
  max = 0;

  record(us: number): void {
    const i = indexOf(us);
    this.counts[i] = (this.counts[i] as number) + 1;
    this.count++;
    if (us > this.max) this.max = us;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
  }

  /** The counts as [bucket, count] pairs, for sending between processes. */
  toSparse(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] !== 0) out.push([i, this.counts[i] as number]);
    return out;
  }

  addSparse(pairs: ReadonlyArray<readonly [number, number]>, max: number): void {
    for (const [i, n] of pairs) {
      this.counts[i] = (this.counts[i] as number) + n;
      this.count += n;
    }
    if (max > this.max) this.max = max;
  }

  /** The value at quantile q (0..1), in µs: the middle of its bucket; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] as number;
      if (seen >= rank) {
        const { low, width } = bucketRange(i);
        return Math.min(low + width / 2, this.max);
      }
    }
    return this.max;
  }
}
