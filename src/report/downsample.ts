/**
 * Downsampling for charts, where the eye cannot tell: a chart is at most ~1000 pixels wide,
 * so a line keeps at most MAX_LINE_BUCKETS buckets of samples, each drawn by its lowest and
 * highest value (in time order), so spikes survive; a heatmap keeps at most MAX_HEATMAP_COLUMNS
 * columns, each the last sample of its bucket (the state at the bucket's end). Below those
 * sizes nothing is dropped. Pure and deterministic.
 */

/** Lines: buckets kept (two points each at most). */
export const MAX_LINE_BUCKETS = 1000;
/** Heatmaps: time columns kept. */
export const MAX_HEATMAP_COLUMNS = 600;

/**
 * Sample indices of `n` samples split into at most `buckets` consecutive buckets of equal
 * size: [start, end) pairs. `bucketBounds(10, 4)` = [[0,3],[3,6],[6,9],[9,10]].
 */
export function bucketBounds(n: number, buckets: number): [number, number][] {
  if (n <= 0) return [];
  const size = Math.max(1, Math.ceil(n / buckets));
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
  return out;
}

/**
 * A line of `[x, y]` points thinned to at most 2·buckets points: each bucket gives its lowest
 * and highest point in x order (one point when they are the same sample); with no more than
 * `buckets` points the line is returned as it is. First and last points are always kept.
 */
export function minMaxLine(xs: readonly number[], ys: readonly number[], buckets = MAX_LINE_BUCKETS): [number, number][] {
  const n = Math.min(xs.length, ys.length);
  if (n <= buckets) return Array.from({ length: n }, (_, i) => [xs[i]!, ys[i]!]);
  const out: [number, number][] = [];
  for (const [s, e] of bucketBounds(n, buckets)) {
    let lo = s;
    let hi = s;
    for (let i = s + 1; i < e; i++) {
      if (ys[i]! < ys[lo]!) lo = i;
      if (ys[i]! > ys[hi]!) hi = i;
    }
    const pick = [...new Set([lo, hi])].sort((a, b) => a - b);
    for (const i of pick) out.push([xs[i]!, ys[i]!]);
  }
  if (out[0]![0] !== xs[0]) out.unshift([xs[0]!, ys[0]!]);
  if (out[out.length - 1]![0] !== xs[n - 1]) out.push([xs[n - 1]!, ys[n - 1]!]);
  return out;
}

/** Indices of the samples a heatmap shows: all of them, or the last of each of `columns` buckets. */
export function columnIndices(n: number, columns = MAX_HEATMAP_COLUMNS): number[] {
  if (n <= columns) return Array.from({ length: n }, (_, i) => i);
  return bucketBounds(n, columns).map(([, e]) => e - 1);
}
