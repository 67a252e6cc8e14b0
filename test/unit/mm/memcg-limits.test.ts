/**
 * Issue 14 item 5, cgroup v2 memcg limits (KERNEL-REFERENCE-2 §5). Every figure is counted by
 * hand on a 1024-page machine with no watermarks (quietEngine: no page tables, no slab, no pcp,
 * no THP), one CPU, so every fault charges on CPU 0 and its per-cpu stock
 * (memcg_stock_pcp): a charge takes MEMCG_CHARGE_BATCH = 64 pages from the counter when that
 * fits under every ancestor's memory.max (else just the page), the 63 left serve the memcg's next
 * faults, and a fault of another memcg on the CPU drains them (drain_stock in refill_stock).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { calculateHighDelay, calculateOverage, effectiveProtection, parseLimit } from "../../../src/mm/memcg-limits.js";
import { MEMORY_STAT_FIELDS } from "../../../src/procfs/memcg-files.js";
import { counters, dataErrorOf, quietEngine, runCsv } from "../../helpers.js";

const hex = (a: number) => `0x${a.toString(16)}`;
/** `n` accesses by pid (in memcg cg) to consecutive pages from `base`, at times t0, t0 + 1, ... */
function touches(pid: number, n: number, t0: number, cg: string, base: number): string[] {
  return Array.from({ length: n }, (_, k) => `${t0 + k},access,${pid},${hex(base + k * 4096)},${cg},,`);
}
const HDR = "time_ms,op,pid,addr,cg,key,value";

async function run(lines: string[], extra: Record<string, string> = {}) {
  const e = quietEngine(1024, extra, { check: true });
  await runCsv(e, [HDR, ...lines].join("\n") + "\n");
  return e;
}
const readOf = (e: Awaited<ReturnType<typeof run>>, key: string, cg: string) => e.reads.filter((r) => r.key === key && r.cg === cg).map((r) => r.value);

describe("memory.max: memcg reclaim, then memcg OOM", () => {
  it("with nothing to reclaim: 18 passes (max 18), then one kill of the largest task inside the memcg", async () => {
    // /a: max 100 pages (400K), no swap (swap.max 0), so its anon pages cannot go anywhere.
    // pid 3 in /a: 60 pages (one 64-page charge: 60 used, 4 left in the stock);
    // pid 2 in /b: 300 pages (its first charge drains /a's 4: /a back to 60), the largest task
    // of the machine but outside /a; pid 1 in /a: each fault charges 1 page (60 + 64 > 100),
    // its 41st finds /a at 100: try_charge_memcg's passes: 1 (then drain_all_stock), 1 more,
    // then 16 retries (nr_retries 16 -> 0): memory.events max 18, each with a memcg reclaim
    // that frees nothing; then mem_cgroup_oom: oom 1, the victim by badness among /a's tasks:
    // pid 3 (60) over pid 1 (40); pid 2 (300) is not a candidate. The charge then fits and pid 1
    // goes on to 100 pages.
    const e = await run([
      "0,set,,,/a,memory.max,400K",
      "0,set,,,/a,memory.swap.max,0",
      ...touches(3, 60, 1, "/a", 0x10000000),
      ...touches(2, 300, 100, "/b", 0x30000000),
      ...touches(1, 100, 1000, "/a", 0x20000000),
      "2000,read,,,/a,memory.events,",
      "2000,read,,,/a,memory.current,",
      "2000,read,,,/b,memory.events,",
    ]);
    expect(counters(e, ["oom_kill", "pswpout", "pgscan_direct", "allocstall_movable"])).toEqual({ oom_kill: 1, pswpout: 0, pgscan_direct: 0, allocstall_movable: 0 });
    expect([...e.mem.procs.oomKilled]).toEqual([[3, 1040]]);
    expect(e.mem.procs.get(1)?.rssAnon).toBe(100);
    expect(e.mem.procs.get(2)?.rssAnon).toBe(300);
    expect(readOf(e, "memory.events", "/a")).toEqual(["low 0\nhigh 0\nmax 18\noom 1\noom_kill 1\noom_group_kill 0\n"]);
    expect(readOf(e, "memory.current", "/a")).toEqual([`${100 * 4096}\n`]);
    expect(readOf(e, "memory.events", "/b")).toEqual(["low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n"]);
    expect(e.mem.limits.memcgReclaims[e.mem.memcgs.get("/a")!.id]).toBe(18);
  });

  it("a parent's limit covers its descendants: /k's memory.max makes /k/a and /k/b share it, the victim is in /k's subtree", async () => {
    // /k: max 100 pages, swap.max 0 on /k (covers both children). pid 1 in /k/a: 70 pages
    // (64 charged, then 6 more from a second 64-batch? 64 + 64 > 100: the second charge is of 1
    // page: 70 pages, stock 0 after the first 64 are used). pid 2 in /k/b: its faults charge 1 page
    // each (70 + 64 > 100); its 31st finds /k at 100: 18 passes on /k (max 18 on /k and, as
    // memcg_memory_event walks to the root, not on /k/a or /k/b), oom 1 on /k, victim pid 1 (70 > 30),
    // whose oom_kill counts in /k/a and /k. pid 3 in /other (200 pages) is outside /k.
    const e = await run([
      "0,set,,,/k,memory.max,400K",
      "0,set,,,/k,memory.swap.max,0",
      ...touches(3, 200, 1, "/other", 0x50000000),
      ...touches(1, 70, 300, "/k/a", 0x10000000),
      ...touches(2, 60, 1000, "/k/b", 0x20000000),
      "2000,read,,,/k,memory.events,",
      "2000,read,,,/k/a,memory.events,",
      "2000,read,,,/k/a,memory.events.local,",
      "2000,read,,,/k/b,memory.events,",
      "2000,read,,,/k,memory.current,",
    ]);
    expect([...e.mem.procs.oomKilled]).toEqual([[1, 1030]]);
    expect(readOf(e, "memory.events", "/k")).toEqual(["low 0\nhigh 0\nmax 18\noom 1\noom_kill 1\noom_group_kill 0\n"]);
    expect(readOf(e, "memory.events", "/k/a")).toEqual(["low 0\nhigh 0\nmax 0\noom 0\noom_kill 1\noom_group_kill 0\n"]);
    expect(readOf(e, "memory.events.local", "/k/a")).toEqual(["low 0\nhigh 0\nmax 0\noom 0\noom_kill 1\noom_group_kill 0\n"]);
    expect(readOf(e, "memory.events", "/k/b")).toEqual(["low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n"]);
    // after the kill pid 2's 31st page is charged alone (batch already 1); its 32nd finds room for
    // a batch (31 + 64 <= 100): 63 go to the stock, faults 33..60 use 28 of them: 60 + 35 = 95
    expect(readOf(e, "memory.current", "/k")).toEqual([`${95 * 4096}\n`]);
    expect(e.mem.procs.get(3)?.rssAnon).toBe(200);
  });

  it("with swap, memory.max reclaims the memcg's own pages (memcg counters, not the global ones) and nothing is killed", async () => {
    // /a: max 100 pages; pid 1 touches 150: at least 50 must go to swap, all of them /a's;
    // /b's 300 pages (touched first, so older) are untouched: memcg reclaim stays in its subtree.
    const e = await run([
      "0,set,,,/a,memory.max,400K",
      ...touches(2, 300, 1, "/b", 0x30000000),
      ...touches(1, 150, 1000, "/a", 0x10000000),
      "2000,read,,,/a,memory.stat,",
      "2000,read,,,/a,memory.events,",
    ]);
    const c = counters(e, ["oom_kill", "pswpout", "pgscan_direct", "pgsteal_direct", "allocstall_movable"]);
    expect(c.oom_kill).toBe(0);
    expect(c.pswpout).toBeGreaterThanOrEqual(50);
    // cgroup_reclaim: neither pgscan_direct/pgsteal_direct nor allocstall move
    expect([c.pgscan_direct, c.pgsteal_direct, c.allocstall_movable]).toEqual([0, 0, 0]);
    const p1 = e.mem.procs.get(1)!;
    const p2 = e.mem.procs.get(2)!;
    expect(p1.rssAnon + p1.swapEnts).toBe(150);
    expect(p1.swapEnts).toBe(c.pswpout);
    expect([p2.rssAnon, p2.swapEnts]).toEqual([300, 0]);
    const stat = Object.fromEntries(readOf(e, "memory.stat", "/a")[0]!.trim().split("\n").map((l) => l.split(" ")));
    expect(Number(stat.pgsteal_direct)).toBe(c.pswpout);
    expect(Number(stat.pgsteal)).toBe(c.pswpout);
    expect(Number(stat.pgscan_direct)).toBeGreaterThanOrEqual(c.pswpout);
    expect(Number(stat.anon)).toBe(p1.rssAnon * 4096);
    expect(p1.rssAnon).toBeLessThanOrEqual(100);
    expect(readOf(e, "memory.events", "/a")[0]).toMatch(/^low 0\nhigh 0\nmax [1-9]\d*\noom 0\noom_kill 0\n/);
  });
});

describe("memory.swap.max", () => {
  it("0 stops swap-out for that memcg: the same pressure as above kills instead of swapping", async () => {
    // /a: max 100, swap.max 0 (mem_cgroup_get_nr_swap_pages 0 < MIN_LRU_BATCH: get_swappiness 0);
    // pid 1 alone in /a: its 101st page finds /a full (100 pages charged: 64, then 36 one by one
    // since 64 + 64 > 100); 18 passes, then the OOM killer's only candidate is pid 1 itself.
    const e = await run([
      "0,set,,,/a,memory.max,400K",
      "0,set,,,/a,memory.swap.max,0",
      ...touches(2, 300, 1, "/b", 0x30000000),
      ...touches(1, 101, 1000, "/a", 0x10000000),
      "2000,read,,,/a,memory.swap.current,",
      "2000,read,,,/a,memory.swap.max,",
    ]);
    expect(counters(e, ["oom_kill", "pswpout"])).toEqual({ oom_kill: 1, pswpout: 0 });
    expect([...e.mem.procs.oomKilled]).toEqual([[1, 1100]]);
    expect(readOf(e, "memory.swap.current", "/a")).toEqual(["0\n"]);
    expect(readOf(e, "memory.swap.max", "/a")).toEqual(["0\n"]);
  });

  it("a swap.max of 256 pages: 250 pages fit (at most 100 resident, the rest in /a's swap)", async () => {
    const e = await run([
      "0,set,,,/a,memory.max,400K",
      "0,set,,,/a,memory.swap.max,1M",
      ...touches(1, 250, 1, "/a", 0x10000000),
      "2000,read,,,/a,memory.swap.current,",
    ]);
    const a = e.mem.memcgs.get("/a")!;
    expect(counters(e, ["oom_kill"]).oom_kill).toBe(0);
    expect(a.swapUsage()).toBeGreaterThanOrEqual(150);
    expect(a.swapUsage()).toBeLessThanOrEqual(256);
    expect(a.swapUsage()).toBe(counters(e, ["pswpout"]).pswpout);
    expect(readOf(e, "memory.swap.current", "/a")).toEqual([`${a.swapUsage() * 4096}\n`]);
  });

  it("a swap.max of 256 pages: 300 pages do not fit; anon reclaim stops once fewer than 64 slots are left (get_swappiness), then memcg OOM", async () => {
    // the OOM comes only when reclaim fails, i.e. when 256 - swap usage < MIN_LRU_BATCH (64):
    // at least 193 pages were swapped out; the kill frees them (swap.current 0 after)
    const e = await run([
      "0,set,,,/a,memory.max,400K",
      "0,set,,,/a,memory.swap.max,1M",
      ...touches(1, 300, 1, "/a", 0x10000000).slice(0, 294),
      "2000,read,,,/a,memory.swap.current,",
      "2000,read,,,/a,memory.events,",
    ]);
    const c = counters(e, ["oom_kill", "pswpout"]);
    expect(c.oom_kill).toBe(1);
    expect(e.mem.procs.oomKilled.has(1)).toBe(true);
    expect(c.pswpout).toBeGreaterThanOrEqual(193);
    expect(c.pswpout).toBeLessThanOrEqual(256);
    expect(readOf(e, "memory.swap.current", "/a")).toEqual(["0\n"]);
    expect(readOf(e, "memory.events", "/a")[0]).toMatch(/\noom 1\noom_kill 1\n/);
  });
});

describe("memory.high: reclaim on return to user space and the throttling penalty", () => {
  it("calculate_high_delay by hand: high 120 pages, usage 128, a 64-page batch -> 284 ms", () => {
    // overage = ((128 - 120) << 20) / 120 = 8388608 / 120 = 69905
    expect(calculateOverage(128, 120)).toBe(69905n);
    // 69905^2 * 1000 = 4886709025000; >> 20 >> 14 = floor(4886709025000 / 2^34) = 284; * 64 / 64
    expect(calculateHighDelay(64, 69905n)).toBe(284);
    // the reference's example: high 100 MiB (25600 pages), usage 110 MiB: overage 104857,
    // 104857^2 * 1000 >> 34 = 639 ms per 64-page batch
    expect(calculateHighDelay(64, calculateOverage(28160, 25600))).toBe(639);
    expect(calculateOverage(100, 100)).toBe(0n);
    expect(calculateHighDelay(1, 0n)).toBe(0);
  });

  it("the 65th fault's charge goes over high: 17 reclaim_high passes (high 17), then a 284 ms sleep as a memory stall", async () => {
    // /a: high 120 pages (480K), swap.max 0 so reclaim frees nothing. Faults 1..64 are served by
    // one 64-page charge; the 65th charges 64 more: the counter reads 65 + 63 = 128 > 120, so
    // memcg_nr_pages_over_high = 64 and, at the end of the event, mem_cgroup_handle_over_high:
    // reclaim_high (high 1) frees nothing, the penalty is 284 ms (> HZ/100), nr_retries 16 -> 0
    // retries (high 17 in all), then schedule_timeout_killable(284) inside a memstall.
    const e = await run([
      "0,set,,,/a,memory.high,480K",
      "0,set,,,/a,memory.swap.max,0",
      ...touches(1, 65, 1, "/a", 0x10000000),
      "5000,read,,,/a,memory.events,",
      "5000,read,,,/a,memory.current,",
    ]);
    expect(readOf(e, "memory.events", "/a")).toEqual(["low 0\nhigh 17\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n"]);
    expect(readOf(e, "memory.current", "/a")).toEqual([`${128 * 4096}\n`]);
    expect(e.stall.memcgNs).toBe(284e6);
    expect(e.mem.limits.throttleMs[e.mem.memcgs.get("/a")!.id]).toBe(284);
    // PSI: pid 1's only memory stall is the 284 ms sleep; /a's memory.pressure totals are in us
    const p = e.pressureResult();
    expect(p["/a"]!.some.total).toBe(284000);
    expect(p["/a"]!.full.total).toBe(284000);
    expect(counters(e, ["oom_kill"]).oom_kill).toBe(0);
  });

  it("64 faults under high: no penalty", async () => {
    const e = await run(["0,set,,,/a,memory.high,480K", ...touches(1, 64, 1, "/a", 0x10000000), "5000,read,,,/a,memory.events,"]);
    expect(readOf(e, "memory.events", "/a")).toEqual(["low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n"]);
    expect(e.stall.memcgNs).toBe(0);
  });
});

describe("memory.low / memory.min: effective protection", () => {
  it("effective_protection by hand", () => {
    // siblings claim 300 + 300 of a parent's 400: each gets protected * 400 / 600
    expect(effectiveProtection(350, 1000, 300, 400, 600)).toBe(200);
    // room enough: min(usage, setting)
    expect(effectiveProtection(250, 1000, 300, 600, 550)).toBe(250);
    expect(effectiveProtection(350, 1000, 300, 600, 550)).toBe(300);
  });

  // pid 1 in /a: 600 pages, then pid 2 in /b faults 800 pages into the 1024-page machine:
  // global direct reclaim must swap out at least 600 + 800 - 1024 = 376 pages (no other memory
  // is used). It reclaims a batch at a time: evict_folios isolates MIN_LRU_BATCH (64) pages and
  // each page swapped out is isolated twice (written, then freed after writeback), so one
  // try_to_free_pages frees 32, which is SWAP_CLUSTER_MAX: 12 reclaims, 384 pages, 8 left free;
  // kswapd's naps then end with the node above its high mark (0 here), no further run.
  const pressure = (sets: string[], reads: string[] = ["/a"]) => [
    ...sets,
    ...touches(1, 600, 1, "/a", 0x10000000),
    ...touches(2, 800, 1000, "/b", 0x30000000),
    ...reads.map((cg) => `3000,read,,,${cg},memory.events,`),
  ];
  const lowOf = (e: Awaited<ReturnType<typeof run>>, cg: string) => Number(/^low (\d+)/.exec(readOf(e, "memory.events", cg)[0]!)![1]);

  it("without protection, global reclaim takes some of /a's older pages", async () => {
    const e = await run(pressure([]));
    expect(counters(e, ["pswpout", "pgscan_direct", "allocstall_movable", "oom_kill", "kswapd_high_wmark_hit_quickly"])).toEqual({
      pswpout: 384, pgscan_direct: 12 * 64, allocstall_movable: 12, oom_kill: 0, kswapd_high_wmark_hit_quickly: 0,
    });
    expect(e.mem.procs.get(1)!.swapEnts).toBeGreaterThan(0);
  });

  it("memory.low 600 pages: /a (usage 600 once /b's first charge drained its stock) is never reclaimed; all 384 come from /b", async () => {
    const e = await run(pressure(["0,set,,,/a,memory.low,2400K"]));
    expect(counters(e, ["pswpout", "oom_kill"])).toEqual({ pswpout: 384, oom_kill: 0 });
    expect([e.mem.procs.get(1)!.rssAnon, e.mem.procs.get(1)!.swapEnts]).toEqual([600, 0]);
    expect([e.mem.procs.get(2)!.rssAnon, e.mem.procs.get(2)!.swapEnts]).toEqual([416, 384]);
    expect(lowOf(e, "/a")).toBe(0);
  });

  it("memory.low holds until nothing else is reclaimable; then it is breached (memory.events low)", async () => {
    // both memcgs protected: do_try_to_free_pages' first pass skips both and reclaims nothing,
    // the second (memcg_low_reclaim) reclaims and counts low for each memcg it reclaims
    const e = await run(pressure(["0,set,,,/a,memory.low,2400K", "0,set,,,/b,memory.low,1G"], ["/a", "/b"]));
    expect(counters(e, ["pswpout", "oom_kill"])).toEqual({ pswpout: 384, oom_kill: 0 });
    expect(lowOf(e, "/a") + lowOf(e, "/b")).toBeGreaterThan(0);
  });

  it("memory.min is never breached: /a keeps its 600 pages, /b's low is breached instead", async () => {
    const e = await run(pressure(["0,set,,,/a,memory.min,2400K", "0,set,,,/b,memory.low,1G"], ["/a", "/b"]));
    expect(counters(e, ["pswpout", "oom_kill"])).toEqual({ pswpout: 384, oom_kill: 0 });
    expect([e.mem.procs.get(1)!.rssAnon, e.mem.procs.get(1)!.swapEnts]).toEqual([600, 0]);
    expect(lowOf(e, "/a")).toBe(0);
    expect(lowOf(e, "/b")).toBeGreaterThan(0);
  });
});

describe("the files: values, formats, errors", () => {
  it("limits parse as page_counter_memparse does and read back in bytes (pages * 4096) or max", async () => {
    expect(parseLimit("max")).toBe(Infinity);
    expect(parseLimit("100000")).toBe(24); // 100000 / 4096 = 24.4
    expect(parseLimit("1G")).toBe(262144);
    expect(parseLimit("64k")).toBe(16);
    for (const bad of ["-1", "1.5G", "12X", "", "maxx", "0x10"]) expect(parseLimit(bad)).toBeNull();
    const e = await run([
      "0,read,,,/a,memory.max,",
      "0,set,,,/a,memory.max,100000",
      "1,read,,,/a,memory.max,",
      "1,read,,,/a,memory.low,",
      "1,read,,,/a,memory.high,",
      "1,read,,,/a,memory.swap.max,",
      "1,read,,,/a,memory.min,",
      "1,read,,,/a,memory.current,",
    ]);
    expect(e.reads.map((r) => r.value)).toEqual(["max\n", "98304\n", "0\n", "max\n", "max\n", "0\n", "0\n"]);
  });

  it("memory.stat prints 6.1's fields in 6.1's order, one `name value` a line", async () => {
    expect(MEMORY_STAT_FIELDS.slice(0, 5)).toEqual(["anon", "file", "kernel", "kernel_stack", "pagetables"]);
    const e = await run([...touches(1, 10, 1, "/a", 0x10000000), "100,read,,,/a,memory.stat,"]);
    const lines = e.reads[0]!.value.split("\n").slice(0, -1);
    expect(lines.map((l) => l.split(" ")[0])).toEqual([...MEMORY_STAT_FIELDS]);
    expect(lines.length).toBe(51);
    expect(lines[0]).toBe(`anon ${10 * 4096}`);
    expect(lines.indexOf("slab 0")).toBe(lines.findIndex((l) => l.startsWith("slab_unreclaimable")) + 1);
    expect(lines.slice(34, 40).map((l) => l.split(" ")[0])).toEqual(["pgscan", "pgsteal", "pgscan_kswapd", "pgscan_direct", "pgsteal_kswapd", "pgsteal_direct"]);
  });

  it("memory.swap.events: high, max, fail", async () => {
    const e = await run([...touches(1, 1, 1, "/a", 0x10000000), "100,read,,,/a,memory.swap.events,"]);
    expect(e.reads[0]!.value).toBe("high 0\nmax 0\nfail 0\n");
  });

  it("a bad limit value is a data error at its line", async () => {
    const e = quietEngine(1024);
    const msg = await dataErrorOf(runCsv(e, [HDR, "0,set,,,/a,memory.max,12X"].join("\n") + "\n"));
    expect(msg).toMatch(/^t\.csv:2: memory\.max: expected bytes \(an integer, optionally with a K, M, G, T, P or E suffix\) or max, got "12X"$/);
  });

  it("the root memcg has no limit files: a set or read without a non-root cg is a data error", async () => {
    expect(await dataErrorOf(runCsv(quietEngine(1024), [HDR, "0,set,,,,memory.max,1G"].join("\n") + "\n"))).toMatch(/^t\.csv:2: memory\.max: the root memcg has no memory\.max file/);
    expect(await dataErrorOf(runCsv(quietEngine(1024), [HDR, "0,read,,,,memory.current,"].join("\n") + "\n"))).toMatch(/^t\.csv:2: read: memory\.current is a file of a non-root memcg/);
    expect(await dataErrorOf(runCsv(quietEngine(1024), [HDR, "0,read,,,/,memory.events,"].join("\n") + "\n"))).toMatch(/^t\.csv:2: read: memory\.events is a file of a non-root memcg/);
  });
});

describe("writing a limit below the usage (memory_max_write, memory_high_write)", () => {
  it("memory.max written under the usage with no swap: 16 reclaims that free nothing, then memcg OOM kills the largest task", async () => {
    // /a holds pid 1's 50 pages and pid 2's 30 (+ stock); swap.max 0: nothing can be reclaimed.
    // Writing memory.max 40 pages: drain the stock, 16 failed reclaims, then oom 1 and a kill
    // (pid 1, 50 pages): /a = 30 <= 40, the loop ends.
    const e = await run([
      "0,set,,,/a,memory.swap.max,0",
      ...touches(1, 50, 1, "/a", 0x10000000),
      ...touches(2, 30, 100, "/a", 0x20000000),
      "200,set,,,/a,memory.max,160K",
      "300,read,,,/a,memory.events,",
      "300,read,,,/a,memory.current,",
    ]);
    expect([...e.mem.procs.oomKilled]).toEqual([[1, 200]]);
    expect(readOf(e, "memory.events", "/a")).toEqual(["low 0\nhigh 0\nmax 0\noom 1\noom_kill 1\noom_group_kill 0\n"]);
    expect(readOf(e, "memory.current", "/a")).toEqual([`${30 * 4096}\n`]);
    expect(e.mem.limits.memcgReclaims[e.mem.memcgs.get("/a")!.id]).toBe(16);
  });

  it("memory.high written under the usage reclaims down to it (swap allowed) and never kills", async () => {
    const e = await run([...touches(1, 200, 1, "/a", 0x10000000), "300,set,,,/a,memory.high,400K", "301,read,,,/a,memory.current,"]);
    expect(counters(e, ["oom_kill"]).oom_kill).toBe(0);
    const cur = Number(readOf(e, "memory.current", "/a")[0]);
    expect(cur).toBeLessThanOrEqual(100 * 4096);
    const p1 = e.mem.procs.get(1)!;
    expect(p1.rssAnon + p1.swapEnts).toBe(200);
    expect(cur).toBe(p1.rssAnon * 4096); // the stock was drained before reclaiming
  });
});

describe("output: JSON memcgs and the text table", () => {
  it("a run that set a limit has every non-root memcg in JSON (bytes, null for max) and a text table; one that did not has neither", async () => {
    const { buildResult } = await import("../../../src/engine/result.js");
    const { renderText } = await import("../../../src/report/text.js");
    const trace = { path: "t.csv", format: "csv", events: 1, firstMs: 0, lastMs: 0 };
    const e = await run([
      "0,set,,,/a,memory.max,400K",
      "0,set,,,/a,memory.swap.max,0",
      ...touches(3, 60, 1, "/a", 0x10000000),
      ...touches(1, 41, 1000, "/a", 0x20000000),
    ]);
    const r = buildResult(e, trace);
    expect(Object.keys(r.memcgs!)).toEqual(["/a"]);
    expect(r.memcgs!["/a"]).toEqual({
      current: 41 * 4096, peak: 100 * 4096, swap: 0, max: 100 * 4096, high: null, low: 0, min: 0, swap_max: 0,
      events: { low: 0, high: 0, max: 18, oom: 1, oom_kill: 1, oom_group_kill: 0 },
      swap_events: { high: 0, max: 0, fail: 0 },
      wsim_throttle_ms: 0, wsim_memcg_reclaims: 18,
    });
    const text = renderText(r, { color: false });
    expect(text).toMatch(/^memcgs \(/m);
    expect(text).toMatch(/│ \/a +│ +164 KiB │ +400 KiB │ +0 KiB │ +400 KiB │ +max │ +0 KiB │ +0 KiB │ +0 │ +0 │ +18 │ +1 │ +1 │ +0 ms │/);
    const plain = await run([...touches(1, 5, 1, "/a", 0x10000000)]);
    const r2 = buildResult(plain, trace);
    expect(r2.memcgs).toBeUndefined();
    expect(renderText(r2, { color: false })).not.toMatch(/^memcgs/m);
  });
});

describe("the command line", () => {
  const ROOT = new URL("../../../", import.meta.url).pathname;
  const wsim = (trace: string, ...args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, "bin/wsim"), "replay", trace, "--machine", "default", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  const dir = mkdtempSync(join(tmpdir(), "wsim-memcg-"));

  it("a bad limit in a trace: one line file:line: ..., exit 3", () => {
    const trace = join(dir, "bad.csv");
    writeFileSync(trace, [HDR, "0,set,,,/a,memory.high,lots"].join("\n") + "\n");
    const r = wsim(trace);
    expect(r.status).toBe(3);
    expect(r.stderr).toBe(`${trace}:2: memory.high: expected bytes (an integer, optionally with a K, M, G, T, P or E suffix) or max, got "lots"\n`);
  });

  it("--set of a limit names the root memcg, which has none: a usage error, exit 2", () => {
    const trace = join(dir, "ok.csv");
    writeFileSync(trace, [HDR, "0,access,1,0x1000,/a,,"].join("\n") + "\n");
    const r = wsim(trace, "--set", "memory.max=1G");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/memory\.max: the root memcg has no memory\.max file \(cgroup v2\): give the memcg \(cg\)/);
    expect(r.stderr.trim().split("\n").length).toBeLessThanOrEqual(2);
  });
});

describe("a huge page's charge", () => {
  const thpRun = (defrag: string, madvised: boolean) => {
    // /a: max 1M (256 pages) < a huge page's 512, no swap; one access in a 2 MiB-aligned region
    const e = quietEngine(1024, { "transparent_hugepage.enabled": "always", "transparent_hugepage.defrag": defrag }, { check: true });
    const csv = [
      "time_ms,op,pid,addr,len,thp,cg,key,value",
      "0,set,,,,,/a,memory.max,1M",
      "0,set,,,,,/a,memory.swap.max,0",
      `0,mmap,1,0x40000000,2097152,${madvised ? 1 : 0},/a,,`,
      "1,access,1,0x40000000,,,,,",
      "2,read,,,,,/a,memory.events,",
    ];
    return runCsv(e, csv.join("\n") + "\n").then(() => e);
  };

  it("that cannot fit falls back to a small page (thp_fault_fallback_charge): with direct reclaim, 18 max passes and no OOM (order 9 > PAGE_ALLOC_COSTLY_ORDER)", async () => {
    const e = await thpRun("always", true);
    expect(counters(e, ["thp_fault_alloc", "thp_fault_fallback", "thp_fault_fallback_charge", "oom_kill", "pgfault"])).toEqual({
      thp_fault_alloc: 0, thp_fault_fallback: 1, thp_fault_fallback_charge: 1, oom_kill: 0, pgfault: 1,
    });
    expect(e.mem.procs.get(1)!.rssAnon).toBe(1);
    expect(e.reads[0]!.value).toBe("low 0\nhigh 0\nmax 18\noom 0\noom_kill 0\noom_group_kill 0\n");
  });

  it("with __GFP_NORETRY (defrag always, region not madvised): two max passes (the drain's retry), then the fallback", async () => {
    const e = await thpRun("always", false);
    expect(counters(e, ["thp_fault_fallback_charge"]).thp_fault_fallback_charge).toBe(1);
    expect(e.reads[0]!.value).toBe("low 0\nhigh 0\nmax 2\noom 0\noom_kill 0\noom_group_kill 0\n");
  });

  it("without __GFP_DIRECT_RECLAIM (defrag defer): no reclaim, no max event, at once the fallback", async () => {
    const e = await thpRun("defer", true);
    expect(counters(e, ["thp_fault_fallback_charge"]).thp_fault_fallback_charge).toBe(1);
    expect(e.reads[0]!.value).toBe("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
    expect(e.mem.limits.memcgReclaims[e.mem.memcgs.get("/a")!.id]).toBeUndefined();
  });
});
