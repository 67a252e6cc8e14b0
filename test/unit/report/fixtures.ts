/** A hand-built run for the report's tests (no test in this file). */
import type { ReportRun } from "../../../src/report/run-file.js";

const MiB = 2 ** 20;
const bi = (o0: number, o10: number) => [o0, 0, 0, 0, 0, 0, 0, 0, 0, 0, o10];

/** a tiered machine, three samples, a pageblock map of 4 blocks, one page_age report */
export function handRun(over: Partial<ReportRun> = {}): ReportRun {
  const v = (pgfault: number, stall: number, free: number, promo: number) => ({ pgfault, compact_stall: stall, nr_free_pages: free, pgmigrate_success: 0, pgpromote_success: promo });
  return {
    schema: 1,
    wsim_version: "test",
    trace: { path: "t.csv", format: "csv", events: 3, first_ms: 0, last_ms: 3000 },
    end_ms: 3000,
    machine: { name: "tiered", nodes: [{ id: 0, mem: 2048, tier: 0, cpus: true }, { id: 1, mem: 2048, tier: 1, cpus: false }], tunables: {} },
    tunables: {},
    vmstat: v(20, 1, 80, 5),
    nodes: [0, 1].map((id) => ({
      id, tier: id, cpus: id === 0,
      zones: [{ name: "Normal", start_pfn: id * 2048, managed: 2048, free: 80, watermarks: { min: 1, low: 2, high: 3, boost: 0 }, buddyinfo: bi(1, 2), pagetypeinfo: { Unmovable: [], Movable: [], Reclaimable: [] }, pageblocks: {}, reported: bi(0, 0) }],
    })),
    workingset: {
      "/a": {
        "0": {
          page_age: [{ le_ms: 1000, anon: 2 * MiB, file: 0 }, { le_ms: null, anon: MiB, file: MiB }],
          page_age_exact: [{ le_ms: 1000, anon: MiB, file: 0 }, { le_ms: null, anon: 2 * MiB, file: MiB }],
          reaccess: [],
          misplaced_share: 0.25,
        },
      },
    },
    reads: [],
    series: [
      { time_ms: 1000, vmstat: v(0, 0, 100, 0), buddyinfo: [bi(1, 2), bi(0, 2)], reported: [bi(0, 0), bi(0, 0)], page_age: {} },
      { time_ms: 2000, vmstat: v(10, 0, 90, 2), buddyinfo: [bi(1, 2), bi(0, 2)], reported: [bi(0, 0), bi(0, 0)], page_age: {} },
      { time_ms: 3000, vmstat: v(20, 1, 80, 5), buddyinfo: [bi(1, 2), bi(0, 1)], reported: [bi(0, 0), bi(0, 0)], page_age: {} },
    ],
    promotion: { window_ms: 5000, truly_hot: 40, promoted_hot: 3, promoted: 5, promoted_not_hot: 2, by: { kpromoted: { promoted: 5, promoted_hot: 3, latency: [{ le_ms: 100, count: 1 }, { le_ms: null, count: 2 }] } }, kpromoted_hash: { buckets: 1, records: 0, max_chain: 0, mean_chain: 0 } },
    pageblock_map: { time_ms: 3000, pages_per_block: 512, zones: [{ node: 0, zone: "Normal", start_pfn: 0, mt: [1, 0, 1, 2], free: [512, 0, 100, 300] }] },
    ...over,
  } as ReportRun;
}

