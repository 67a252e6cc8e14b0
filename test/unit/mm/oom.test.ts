/**
 * Issue 14 item 3, the OOM killer (KERNEL-REFERENCE-2 §3.6, §4). Every figure is counted by hand:
 * a 1024-page machine with no watermarks (quietEngine), no page tables unless asked, no THP,
 * and vm.swappiness 0 with no file pages, so reclaim frees nothing and an allocation that finds
 * no free page goes to __alloc_pages_may_oom. Its default swap is twice its RAM: 2048 pages, so
 * oom_badness's totalpages is 1024 + 2048 = 3072 and an oom_score_adj unit is 3072/1000 = 3 pages.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { oomBadness, pgtablePages, selectBadProcess } from "../../../src/mm/oom-kill.js";
import type { Mm } from "../../../src/mm/process.js";
import { counters, dataErrorOf, engineFor, QUIET_TUNABLES, quietEngine, runCsv } from "../../helpers.js";

const PAGES = 1024;
const hex = (a: number) => `0x${a.toString(16)}`;
/** `n` accesses by pid to consecutive pages from `base`, at times t0, t0 + 1, ... */
function touches(pid: number, n: number, t0: number, base = 0x10000000): string[] {
  return Array.from({ length: n }, (_, k) => `${t0 + k},access,${pid},${hex(base + k * 4096)},`);
}

async function run(lines: string[], opts: { lenient?: boolean } = {}, extra: Record<string, string> = {}) {
  const e = quietEngine(PAGES, { "vm.swappiness": "0", ...extra }, { check: true, ...opts });
  await runCsv(e, ["time_ms,op,pid,addr,key,value", ...lines].join("\n") + "\n");
  return e;
}

const OOM = ["oom_kill", "nr_free_pages", "nr_anon_pages", "wsim_oom_victim_events", "wsim_oom_no_victim"];

describe("the OOM killer: victim selection", () => {
  it("kills the process of the largest badness, once, frees it, and the fault that triggered it succeeds", async () => {
    // pid 1 holds 300 pages, pid 2 400; pid 3 gets the 324 left, its 325th fault finds none:
    // badness 300 / 400 / 324 -> pid 2 goes, and pid 3 goes on to 500 pages
    const e = await run([...touches(1, 300, 0), ...touches(2, 400, 1000), ...touches(3, 500, 2000)]);
    expect(counters(e, OOM)).toEqual({ oom_kill: 1, nr_free_pages: 1024 - 800, nr_anon_pages: 800, wsim_oom_victim_events: 0, wsim_oom_no_victim: 0 });
    const p = e.mem.procs;
    expect([p.get(1)?.rssAnon, p.get(2), p.get(3)?.rssAnon]).toEqual([300, undefined, 500]);
    expect(p.oomKilled.get(2)).toBe(2000 + 324); // during pid 3's 325th access
    expect(counters(e, ["pgfault"]).pgfault).toBe(1200);
  });

  it("a tie goes to the later process in task-list (creation) order", async () => {
    // 400 and 400, then pid 3 with the 224 left: pids 1 and 2 tie at 400, pid 2 is later
    const e = await run([...touches(1, 400, 0), ...touches(2, 400, 1000), ...touches(3, 300, 2000)]);
    expect(counters(e, ["oom_kill", "nr_free_pages"])).toEqual({ oom_kill: 1, nr_free_pages: 1024 - 700 });
    expect([e.mem.procs.get(1)?.rssAnon, e.mem.procs.get(2), e.mem.procs.get(3)?.rssAnon]).toEqual([400, undefined, 300]);
  });

  it("the tie rule holds with pids created in descending order: creation order, not pid order", async () => {
    const e = await run([...touches(9, 400, 0), ...touches(5, 400, 1000), ...touches(7, 300, 2000)]);
    expect(e.mem.procs.oomKilled.has(5)).toBe(true);
    expect(e.mem.procs.get(9)?.rssAnon).toBe(400);
  });

  it("oom_score_adj counts in units of totalpages / 1000: +500 makes the smallest process the victim", async () => {
    // pid 1: 300 + 500 * floor(3072 / 1000) = 1800 > pid 2's 400 > pid 3's 324
    const e = await run(["0,set,1,,oom_score_adj,500", ...touches(1, 300, 0), ...touches(2, 400, 1000), ...touches(3, 500, 2000)]);
    expect(e.mem.procs.oomKilled.has(1)).toBe(true);
    expect(counters(e, ["oom_kill", "nr_free_pages"])).toEqual({ oom_kill: 1, nr_free_pages: 1024 - 900 });
  });

  it("oom_score_adj -1000 is never chosen; a negative one lowers the badness", async () => {
    // pid 2 at -1000 is skipped: pid 3 (324) beats pid 1 (300) and, being the allocating
    // process, dies with its fault; its later events are skipped under --lenient
    const a = await run(["0,set,2,,oom_score_adj,-1000", ...touches(1, 300, 0), ...touches(2, 400, 1000), ...touches(3, 500, 2000)], { lenient: true });
    expect(a.mem.procs.oomKilled.has(3)).toBe(true);
    expect(counters(a, OOM)).toEqual({ oom_kill: 1, nr_free_pages: 1024 - 700, nr_anon_pages: 700, wsim_oom_victim_events: 500 - 325, wsim_oom_no_victim: 0 });
    // pid 2 at -50: 400 - 150 = 250 < pid 1's 300 < pid 3's 324: pid 3 again
    const b = await run(["0,set,2,,oom_score_adj,-50", ...touches(1, 300, 0), ...touches(2, 400, 1000), ...touches(3, 500, 2000)], { lenient: true });
    expect(b.mem.procs.oomKilled.has(3)).toBe(true);
    // pid 2 at -20: 400 - 60 = 340 > 324: pid 2
    const c = await run(["0,set,2,,oom_score_adj,-20", ...touches(1, 300, 0), ...touches(2, 400, 1000), ...touches(3, 500, 2000)]);
    expect(c.mem.procs.oomKilled.has(2)).toBe(true);
  });

  it("with every process at -1000 nothing is killed: the fault fails, wsim_oom_no_victim (6.1 would panic)", async () => {
    const e = await run(["0,set,1,,oom_score_adj,-1000", ...touches(1, 1030, 0)]);
    expect(counters(e, OOM)).toEqual({ oom_kill: 0, nr_free_pages: 0, nr_anon_pages: 1024, wsim_oom_victim_events: 0, wsim_oom_no_victim: 6 });
  });
});

describe("the OOM killer: swappiness 0 and anon larger than RAM", () => {
  it("one kill, not one per fault: the process is killed at its 1025th fault and all its memory freed", async () => {
    const e = await run(touches(1, 1100, 0), { lenient: true });
    // faults 1..1025 (the 1025th fails and kills); 75 later accesses skipped
    expect(counters(e, [...OOM, "pgfault"])).toEqual({
      oom_kill: 1, nr_free_pages: 1024, nr_anon_pages: 0, wsim_oom_victim_events: 75, wsim_oom_no_victim: 0, pgfault: 1025,
    });
  });

  it("without --lenient the killed process's next event is a data error at its line", async () => {
    // header line 1, event k (from 0) on line k + 2: the kill at event 1024 (1024 ms), the error at event 1025
    const msg = await dataErrorOf(run([...touches(1, 1100, 0)]));
    expect(msg).toBe(
      "t.csv:1027: pid 1 was killed by the OOM killer at 1024 ms, so this access cannot be replayed (use --lenient to count and skip the events of killed processes)",
    );
  });

  it("a killed pid's mmap, munmap, exit and oom_score_adj are refused the same way", async () => {
    for (const ev of ["2000,mmap,1,0x1000,,", "2000,munmap,1,0x1000,,", "2000,exit,1,,,", "2000,set,1,,oom_score_adj,5"]) {
      // the kill at event 1024 (line 1026), this event 1025 on line 1027
      const msg = await dataErrorOf(run([...touches(1, 1025, 0), ev]));
      expect(msg).toMatch(/^t\.csv:1027: pid 1 was killed by the OOM killer at 1024 ms, so this (mmap|munmap|exit|set) cannot be replayed/);
      const e = await run([...touches(1, 1025, 0), ev], { lenient: true });
      expect(counters(e, ["wsim_oom_victim_events"]).wsim_oom_victim_events).toBe(1);
    }
  });
});

describe("should_reclaim_retry before the OOM killer", () => {
  const STALLS = ["allocstall_movable", "oom_kill"];
  it("a fault whose reclaim makes no progress retries 16 times while the zone has reclaimable pages, then kills", async () => {
    // pid 1's 1025th fault finds no free page; swappiness 0 and no file pages: every
    // try_to_free_pages frees nothing. zone_reclaimable_pages still counts the 1024 anon LRU pages
    // (swap has room: can_reclaim_anon_pages ignores swappiness), so 0 free + 1024 passes the
    // min mark (0 here): retried until no_progress_loops 17 > MAX_RECLAIM_RETRIES, 17 stalls in all
    const e = await run(touches(1, 1025, 0));
    expect(counters(e, STALLS)).toEqual({ allocstall_movable: 17, oom_kill: 1 });
  });

  it("with no swap the anon pages are not reclaimable: one stall, then the OOM killer", async () => {
    const e = engineFor({ name: "t", nodes: [{ id: 0, mem: PAGES, tier: 0, cpus: true }], tunables: {}, swap: 0 }, { check: true }, { ...QUIET_TUNABLES, "vm.swappiness": "0" });
    await runCsv(e, ["time_ms,op,pid,addr,key,value", ...touches(1, 1025, 0)].join("\n") + "\n");
    expect(counters(e, STALLS)).toEqual({ allocstall_movable: 1, oom_kill: 1 });
  });
});

describe("which allocations may invoke the OOM killer (__alloc_pages_may_oom)", () => {
  const lines = (order: number, gfp = "") => [
    "time_ms,op,pid,addr,id,order,gfp",
    ...touches(1, 1024, 0).map((l) => `${l},,`),
    `2000,alloc,,,a,${order},${gfp}`,
  ];
  async function kalloc(order: number, gfp = "") {
    const e = quietEngine(PAGES, { "vm.swappiness": "0" }, { check: true });
    await runCsv(e, lines(order, gfp).join("\n") + "\n");
    return counters(e, ["oom_kill", "wsim_alloc_fail"]);
  }

  it("a GFP_KERNEL allocation of order <= 3 kills and then succeeds", async () => {
    expect(await kalloc(0)).toEqual({ oom_kill: 1, wsim_alloc_fail: 0 });
    expect(await kalloc(3)).toEqual({ oom_kill: 1, wsim_alloc_fail: 0 });
  });

  it("a costly order (> PAGE_ALLOC_COSTLY_ORDER) or an atomic allocation fails without a kill", async () => {
    expect(await kalloc(4)).toEqual({ oom_kill: 0, wsim_alloc_fail: 1 });
    expect(await kalloc(0, "atomic")).toEqual({ oom_kill: 0, wsim_alloc_fail: 1 });
  });
});

describe("oom_badness", () => {
  it("is rss + swap entries + PTE, PMD and PUD table pages (not the PGD), plus the adjustment", async () => {
    // one page at 1 GiB with page tables: a PTE table, a PMD table, a PUD table (and the PGD)
    const e = quietEngine(PAGES, { "wsim.page_tables": "1" });
    await runCsv(e, `time_ms,op,pid,addr\n0,access,1,${hex(1 << 30)}\n1,access,1,${hex((1 << 30) + 4096)}\n`);
    const mm = e.mem.procs.get(1)!;
    expect(pgtablePages(mm)).toBe(3);
    expect(oomBadness(mm, 3072)).toBe(2 + 3);
    mm.swapEnts = 7;
    mm.oomScoreAdj = -1;
    expect(oomBadness(mm, 3072)).toBe(2 + 3 + 7 - 3);
    mm.oomScoreAdj = -1000;
    expect(oomBadness(mm, 3072)).toBe(-Infinity);
  });

  it("counts swap entries: a process swapped out keeps its badness", async () => {
    const e = quietEngine(PAGES, { "vm.swappiness": "60" }, { check: true });
    await runCsv(e, ["time_ms,op,pid,addr", ...touches(1, 100, 0).map((l) => l.slice(0, -1))].join("\n") + "\n");
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    e.mem.reclaim.shrinkLruvec(lv, 40, true);
    const mm = e.mem.procs.get(1)!;
    expect([mm.rssAnon, mm.swapEnts, oomBadness(mm, 3072)]).toEqual([60, 40, 100]);
  });

  it("select_bad_process skips -1000 and lower scores, and lets a tie replace the choice", () => {
    const mk = (pid: number, rss: number, adj = 0) => ({ pid, rssAnon: rss, rssFile: 0, swapEnts: 0, oomScoreAdj: adj, pt: new Map(), pmdTables: new Map(), pudTables: new Map() }) as unknown as Mm;
    const a = mk(1, 10);
    const b = mk(2, 10);
    const c = mk(3, 50, -1000);
    expect(selectBadProcess([a, b, c], 1000)?.pid).toBe(2);
    expect(selectBadProcess([c], 1000)).toBeNull();
    expect(selectBadProcess([b, a], 1000)?.pid).toBe(1);
  });
});

describe("the set of oom_score_adj: errors", () => {
  for (const [line, want] of [
    ["0,set,1,,oom_score_adj,1001", "t.csv:2: set: oom_score_adj must be an integer -1000..1000, got \"1001\""],
    ["0,set,1,,oom_score_adj,1.5", "t.csv:2: set: oom_score_adj must be an integer -1000..1000, got \"1.5\""],
    ["0,set,,,oom_score_adj,5", "t.csv:2: set: oom_score_adj is per process: give the pid"],
    ["0,set,1,,vm.swappiness,5", "t.csv:2: set: vm.swappiness is not a per-process file (the only one is oom_score_adj): drop pid"],
  ] as const)
    it(`${line} -> ${want}`, async () => {
      expect(await dataErrorOf(run([line]))).toBe(want);
    });
});

describe("the CLI", () => {
  const ROOT = new URL("../../../", import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), "wsim-oom-"));
  const trace = join(dir, "oom.csv");
  const machine = join(dir, "m.json");
  writeFileSync(trace, ["time_ms,op,pid,addr", ...touches(1, 1100, 0).map((l) => l.slice(0, -1))].join("\n") + "\n");
  writeFileSync(machine, JSON.stringify({ name: "tiny", nodes: [{ id: 0, mem: PAGES }] }));
  const wsim = (...args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, "bin/wsim"), "replay", trace, "--machine", machine, "--set", "vm.swappiness=0", "--set", "transparent_hugepage.enabled=never", ...args], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });

  it("a killed process's later event: one line file:line, exit 3; --lenient counts and goes on", () => {
    const bad = wsim("--format", "vmstat");
    expect(bad.status).toBe(3);
    expect(bad.stderr).toMatch(new RegExp(`^${trace.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+: pid 1 was killed by the OOM killer at \\d+ ms, so this access cannot be replayed \\(use --lenient to count and skip the events of killed processes\\)\\n$`));
    const ok = wsim("--format", "vmstat", "--lenient");
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^oom_kill 1$/m);
    expect(ok.stdout).toMatch(/^wsim_oom_victim_events [1-9]\d*$/m);
  });
});
