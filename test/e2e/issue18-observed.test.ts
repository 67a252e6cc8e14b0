/**
 * Issue 18 item 1: a kernel trace's observations beside what the replay produced
 * (`wsim stat KMEM --replay RUN`), on the hand-made trace_pipe fixture.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
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
        // the order-4 request that failed (page=0 pfn=0x0) was not converted: the replay failed none
        { event: "mm_page_alloc (failed: page=0)", kernel: 1, counter: "wsim_alloc_fail", replay: 0 },
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

  it("replays a converted trace leniently: on a machine too small for it, frees of refused allocations are counted, not an error", () => {
    // twelve order-10 blocks (48 MiB) on a 32 MiB machine, then their frees
    const lines: string[] = [];
    for (let i = 0; i < 12; i++)
      lines.push(`           bash-1  [000] .....    10.${String(i).padStart(6, "0")}: mm_page_alloc: page=0000000000000001 pfn=0x${(0x10000 + i * 1024).toString(16)} order=10 migratetype=0 gfp_flags=GFP_KERNEL`);
    for (let i = 0; i < 12; i++)
      lines.push(`           bash-1  [000] .....    11.${String(i).padStart(6, "0")}: mm_page_free: page=0000000000000001 pfn=0x${(0x10000 + i * 1024).toString(16)} order=10`);
    const big = join(tmp, "big.txt");
    writeFileSync(big, lines.join("\n") + "\n");
    const csv2 = join(tmp, "big.csv");
    writeFileSync(join(tmp, "tiny.machine.json"), '{"nodes": [{"id": 0, "mem": "32M"}]}');
    expect(wsim(["convert", big, csv2, "-q"]).code).toBe(0);
    const r = wsim(["stat", big, "--replay", csv2, "-m", join(tmp, "tiny.machine.json"), "-f", "json"]);
    expect(r.code, r.err).toBe(0);
    const rows = JSON.parse(r.out).replay.rows;
    const failed = rows.find((x: { counter: string }) => x.counter === "wsim_alloc_fail");
    // 32 MiB holds at most 7 order-10 blocks after its watermarks: some were refused
    expect(failed.kernel).toBe(0);
    expect(failed.replay).toBeGreaterThan(0);
    const alloc = rows.find((x: { counter: string }) => x.counter === "pgalloc_*");
    expect(alloc).toMatchObject({ kernel: 12 * 1024, replay: (12 - failed.replay) * 1024 });
  });

  it("a trace without mm_page_free lines shows the kernel's frees as - (not recorded), not as 0", () => {
    const only = join(tmp, "alloc-only.txt");
    writeFileSync(only, "           bash-1  [000] .....    10.000001: mm_page_alloc: page=0000000000000001 pfn=0x1000 order=0 migratetype=0 gfp_flags=GFP_KERNEL\n");
    const r = wsim(["stat", only, "--replay", run]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\nmm_page_free \(pages, paired\) +- +pgfree +10 +-\n/);
  });

  it("--machine and --set without --replay are usage errors (stat does not replay)", () => {
    const a = wsim(["stat", TP, "-m", "small"]);
    expect(a.code).toBe(2);
    expect(a.err).toBe("wsim: --machine is for --replay TRACE (the machine it is replayed on); stat reads a trace without replaying it\n");
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
