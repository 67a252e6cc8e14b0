/** Downsampling for charts: bucket bounds, min/max lines and heatmap columns, computed by hand. */
import { describe, expect, it } from "vitest";
import { bucketBounds, columnIndices, minMaxLine } from "../../../src/report/downsample.js";

describe("bucketBounds", () => {
  it("10 samples in at most 4 buckets: buckets of ceil(10/4) = 3, the last one short", () => {
    expect(bucketBounds(10, 4)).toEqual([[0, 3], [3, 6], [6, 9], [9, 10]]);
  });
  it("fewer samples than buckets: one sample a bucket; none: no buckets", () => {
    expect(bucketBounds(2, 5)).toEqual([[0, 1], [1, 2]]);
    expect(bucketBounds(0, 5)).toEqual([]);
  });
});

describe("minMaxLine", () => {
  it("keeps a short line as it is", () => {
    expect(minMaxLine([1, 2, 3], [5, 6, 7], 3)).toEqual([[1, 5], [2, 6], [3, 7]]);
  });
  it("keeps each bucket's lowest and highest point in time order, so a one-sample spike survives", () => {
    // 9 samples, 3 buckets of 3: [0,1,2] [3,4,5] [6,7,8]
    const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const ys = [1, 1, 1, 2, 100, 2, 3, 3, 0];
    // bucket 1: min and max are both the first sample (ties keep the first): one point
    // bucket 2: min 2 at x=3, max 100 at x=4; bucket 3: max 3 at x=6, min 0 at x=8
    expect(minMaxLine(xs, ys, 3)).toEqual([[0, 1], [3, 2], [4, 100], [6, 3], [8, 0]]);
  });
  it("72,000 samples become at most 2 points a bucket and end at the last sample", () => {
    const xs = Array.from({ length: 72000 }, (_, i) => (i + 1) * 100);
    const ys = xs.map((x) => x % 7);
    const out = minMaxLine(xs, ys, 1000);
    expect(out.length).toBeLessThanOrEqual(2000 + 2);
    expect(out[0]).toEqual([100, 100 % 7]);
    expect(out[out.length - 1]).toEqual([7_200_000, 7_200_000 % 7]);
    // x only grows
    expect(out.every((p, i) => i === 0 || p[0] > out[i - 1]![0])).toBe(true);
  });
});

describe("columnIndices", () => {
  it("all samples when they fit, else the last sample of each bucket", () => {
    expect(columnIndices(3, 5)).toEqual([0, 1, 2]);
    // 10 samples in 4 columns: buckets [0,3) [3,6) [6,9) [9,10) -> 2, 5, 8, 9
    expect(columnIndices(10, 4)).toEqual([2, 5, 8, 9]);
  });
});
