/**
 * Issue 18 item 1: a kernel trace's observations beside what the replay produced
 * (`wsim stat KMEM --replay RUN`), on the hand-made trace_pipe fixture.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const tmp = mkdtempSync(join(tmpdir(), "wsim-i18-observed-"));
const TP = "test/fixtures/ktrace/trace_pipe.txt";

function wsim(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", input, env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("wsim stat KMEM --replay RUN", () => {
  const csv = join(tmp, "tp.csv");
  const run = join(tmp, "run.json");
  it("puts the kernel's events beside the replay of their conversion (hand-counted)", () => {
    expect(wsim(["convert", TP, csv, "-q"]).code).toBe(0);
    expect(wsim(["replay", csv, "-o", run]).code).toBe(0);
    const r = wsim(["stat", TP, "--replay", run, "-f", "json"]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    // served: orders 0, 3, 9, 0, 1 = 1 + 8 + 512 + 1 + 2 pages; paired frees: the order-0 page
    // twice (a free, then implicitly by the order-1 alloc of its pfn) and the order-3 block
    // the default machine boots with movable pageblocks: the order-3 unmovable and the order-0
    // reclaimable requests fall back (2); the order-1 unmovable one finds the block the first
    // claimed. The trace's one extfrag line was a THP's; its direct reclaim wsim does not need.
    expect(j.replay).toEqual({
      path: run,
      rows: [
        { event: "mm_page_alloc (pages served)", kernel: 524, counter: "pgalloc_*", replay: 524 },
        { event: "mm_page_free (pages, paired)", kernel: 10, counter: "pgfree", replay: 10 },
        { event: "mm_page_alloc_extfrag", kernel: 1, counter: "wsim_extfrag_fallbacks", replay: 2 },
        { event: "mm_vmscan_direct_reclaim_begin", kernel: 1, counter: "allocstall_*", replay: 0 },
      ],
      kernel_only: { mm_page_alloc_zone_locked: 1, mm_vmscan_direct_reclaim_end: 1, mm_compaction_end: 1, mm_page_pcpu_drain: 1 },
    });
    expect(j.alloc_served).toBe(5);
  });

  it("takes a trace as the replay (replayed with --machine) and prints the table under the summary", () => {
    const r = wsim(["stat", TP, "--replay", csv, "-m", "traces/small128.machine.json"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("\n\nevent (kernel trace)            kernel  counter (" + csv + ")");
    expect(r.out).toMatch(/\nmm_page_alloc_extfrag +1  wsim_extfrag_fallbacks +2 +\+1\n/);
  });

  it("refuses --replay for a wsim trace (exit 2), and names an unreadable run (exit 3)", () => {
    const a = wsim(["stat", "traces/faults.csv", "--replay", run]);
    expect(a.code).toBe(2);
    expect(a.err).toBe("wsim: --replay sets a replay's counters beside a kernel trace's events (ftrace, trace-cmd report or perf script text); traces/faults.csv is a wsim trace\n");
    const b = wsim(["stat", TP, "--replay", join(tmp, "missing.json")]);
    expect(b.code).toBe(3);
    expect(b.err).toMatch(/missing\.json: cannot read: no such file or directory/);
    const c = wsim(["stat", "-", "--replay", "-"], "");
    expect(c.code).toBe(2);
    expect(c.err).toBe("wsim: --replay -: standard input is the kernel trace already\n");
  });
});
