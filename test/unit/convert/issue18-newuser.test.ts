/**
 * Issue 18, a new user's findings on the ftrace and perf-mem importers: lost-events marks,
 * an input without frees, perf-mem with no readable sample, out-of-order events, stat's JSON
 * of the lines not read, the latency-format layout, stat's duration. Expectations by hand.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const dir = mkdtempSync(join(tmpdir(), "wsim-i18-newuser-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wsim = (args: string[], input?: string) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", input });
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const line = (us: number, ev: string, fields: string, cpu = 0) => `  a-1 [00${cpu}] ..... 1.${String(us).padStart(6, "0")}: ${ev}: page=0 ${fields}\n`;

describe("finding 1: the ring buffer's lost-events marks", () => {
  const lost = () =>
    file(
      "lost.txt",
      "cpus=2\n" +
        line(0, "mm_page_alloc", "pfn=0x100 order=0 migratetype=0 gfp_flags=GFP_KERNEL") +
        "CPU:1 [LOST 1234 EVENTS]\n" +
        line(10, "mm_page_free", "pfn=0x200 order=0", 1) +
        "CPU:0 [LOST 6 EVENTS]\n" +
        "CPU:1 [LOST EVENTS]\n" +
        "CPU:0 [10 EVENTS DROPPED]\n",
    );
  it("are summed and named on convert's stderr, not skipped as header lines", () => {
    const r = wsim(["convert", lost(), join(dir, "lost.csv")]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("skipped: 1 trace-cmd header line, "); // cpus=2 only
    // 1234 + 6 + 10; one mark without a count
    expect(r.stderr).toContain(`1250+ events (1 mark without a count) lost by the ring buffer (CPU:1 [LOST 1234 EVENTS] at ${dir}/lost.txt:3, the first of 4 marks): pairing after it is incomplete`);
  });
  it("are in stat's text and JSON (lost_events)", () => {
    const j = JSON.parse(wsim(["stat", "-f", "json", lost()]).stdout);
    expect([j.lost_events, j.lost_marks, j.lost_first]).toEqual([1250, 4, `${dir}/lost.txt:3`]);
    expect(wsim(["stat", lost()]).stdout).toMatch(/\n1250\+ events \(1 mark without a count\) lost by the ring buffer \(CPU:1 \[LOST 1234 EVENTS\] at .*lost\.txt:3, the first of 4 marks\)/);
    const one = file("lost1.txt", line(0, "mm_page_alloc", "pfn=0x100 order=0 migratetype=0 gfp_flags=GFP_KERNEL") + "CPU:1 [LOST 1234 EVENTS]\n");
    expect(wsim(["convert", one, "-"]).stderr).toContain(`1234 events lost by the ring buffer (CPU:1 [LOST 1234 EVENTS] at ${one}:2): pairing after it is incomplete`);
    expect(JSON.parse(wsim(["stat", "-f", "json", one]).stdout).lost_events).toBe(1234);
  });
});

describe("finding 3: a trace with no mm_page_free at all", () => {
  const nofree = () =>
    file("nofree.txt", line(0, "mm_page_alloc", "pfn=0x100 order=0 migratetype=0 gfp_flags=GFP_KERNEL") + line(5, "mm_compaction_begin", "zone_start=0x0 migrate_pfn=0x0 free_pfn=0x0 zone_end=0x0, mode=async"));
  const NOTE = "no mm_page_free event in the trace: frees were not recorded? (recorded without kmem:mm_page_free, or the ring buffer dropped them): the replay frees nothing";
  it("convert says the replay will free nothing", () => {
    const r = wsim(["convert", nofree(), "-"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("\n" + NOTE + "\n");
  });
  it("stat says it too (free_requests 0)", () => {
    const r = wsim(["stat", nofree()]);
    expect(r.stdout).toContain("\n" + NOTE + "\n");
    expect(JSON.parse(wsim(["stat", "-f", "json", nofree()]).stdout).free_requests).toBe(0);
  });
  it("a trace with frees has no such note", () => {
    const p = file("somefree.txt", line(0, "mm_page_alloc", "pfn=0x100 order=0 migratetype=0 gfp_flags=GFP_KERNEL") + line(1, "mm_page_free_batched", "pfn=0x100 order=0"));
    expect(wsim(["convert", p, "-"]).stderr).not.toContain("no mm_page_free");
  });
});

describe("finding 4: perf-mem input with no readable sample", () => {
  it("is exit 3 naming its first line and why, as ftrace and lackey are; OUT is not written", () => {
    const p = file("pm-bad.txt", "bash 1234 [001] 12.345678: 1000\nbash 1234 [001] 12.345679: 1000\n");
    const out = join(dir, "pm-bad.csv");
    const r = wsim(["convert", "--from", "perf-mem", p, out]);
    expect([r.status, r.stderr.trim()]).toEqual([
      3,
      `${p}:1: perf-mem: no line of the file is a perf-mem record; the first it could not read is "bash 1234 [001] 12.345678: 1000" (a line with a time but no event name (perf script -F must include event))`,
    ]);
    expect(spawnSync("test", ["-e", out]).status).toBe(1);
  });
});

describe("finding 6: stat -f json counts and names the lines not read", () => {
  it("lines_not_read and unread_examples (trace_pipe.txt: line 29 has no order=, line 30 is no event)", () => {
    const fx = join(ROOT, "test/fixtures/ktrace/trace_pipe.txt");
    const j = JSON.parse(wsim(["stat", "-f", "json", fx]).stdout);
    expect(j.lines_not_read).toEqual({ unrecognised: 1, malformed: 1, counter_clock: 0, perf_samples: 0 });
    expect(j.unread_examples).toHaveLength(2);
    expect(j.unread_examples[0]).toMatch(new RegExp(`^${fx}:29: mm_page_alloc without an order=0\\.\\.10 field: "stress-4242 `));
    expect(j.unread_examples[1]).toBe(`${fx}:30: "this line is not an event"`);
  });
});

describe("finding 7: the latency-format layout", () => {
  const WHY = "the latency-format layout (trace option latency-format) has no timestamps wsim can read: record without it (echo 0 > options/latency-format)";
  const lat = () =>
    file(
      "latfmt.txt",
      "# tracer: nop\n#\n" +
        "   bash-1234    0d..2. 1500us : mm_page_alloc: page=ffffea0000100000 pfn=0x4000 order=2 migratetype=0 gfp_flags=GFP_KERNEL\n" +
        "   bash-1234    0d..2. 1502us!: mm_page_free: page=ffffea0000100000 pfn=0x4000 order=2\n",
    );
  it("is sniffed as a kernel trace and named, exit 3, with or without --from, by convert and stat", () => {
    const p = lat();
    for (const args of [["convert", p, join(dir, "l.csv")], ["convert", "--from", "ftrace", p, join(dir, "l.csv")], ["stat", p]]) {
      const r = wsim(args);
      expect([r.status, r.stderr.trim()]).toEqual([3, `${p}:3: ${WHY}`]);
    }
  });
});

describe("finding 5: a free before its alloc in the file but after it in time (CPUs out of order)", () => {
  const ooo = () =>
    file(
      "ooo.txt",
      line(10, "mm_page_alloc", "pfn=0x100 order=0 migratetype=0 gfp_flags=GFP_KERNEL") +
        line(30, "mm_page_free", "pfn=0x2000 order=0", 1) + // stamped after the alloc below (CPU 0's)
        line(20, "mm_page_alloc", "pfn=0x2000 order=0 migratetype=1 gfp_flags=GFP_KERNEL") +
        line(40, "mm_page_free", "pfn=0x3000 order=0") + // a page from before the trace
        line(50, "mm_page_alloc", "pfn=0x3000 order=0 migratetype=1 gfp_flags=GFP_KERNEL"), // allocated again after: no pair
    );
  it("is paired: the free written right after its alloc, counted; a free from before the trace is not", () => {
    const r = wsim(["convert", ooo(), "-"]);
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.trim().split("\n").filter((l) => !l.startsWith("#")).slice(1).map((l) => l.split(",").filter(Boolean).join(","));
    // the alloc of 0x2000 (10.000020) comes after 10.000030: written at 0.02 ms, with its free
    expect(rows).toEqual(["0,alloc,p0x100,0,unmovable", "0.02,alloc,p0x2000,0,movable", "0.02,free,p0x2000", "0.04,alloc,p0x3000,0,movable"]);
    expect(r.stderr).toContain("skipped: 1 free of a page allocated before the trace began");
    expect(r.stderr).toContain("1 free before its alloc in the file but after it in time (events out of order across CPUs: written after the alloc)");
    const j = JSON.parse(wsim(["stat", "-f", "json", ooo()]).stdout);
    expect(j).toMatchObject({ frees_paired: 1, free_pages: 1, frees_unpaired: 1, still_allocated_blocks: 2, still_allocated_pages: 2, out_of_order_frees: 1 });
  });
});

describe("finding 8: stat's duration ends at the last event, whatever its name", () => {
  it("last_ms counts a compaction event after the last alloc/free, not a malformed event", () => {
    const p = file(
      "dur.txt",
      line(0, "mm_page_alloc", "pfn=0x100 order=0 migratetype=0 gfp_flags=GFP_KERNEL") +
        line(100, "mm_page_free", "pfn=0x100 order=0") +
        line(1400, "mm_compaction_begin", "zone_start=0x0 migrate_pfn=0x0 free_pfn=0x0 zone_end=0x0, mode=async") +
        line(2000, "mm_page_alloc", "pfn=0x200 migratetype=0"), // malformed (no order=): not read
    );
    expect(JSON.parse(wsim(["stat", "-f", "json", p]).stdout).last_ms).toBe(1.4);
    expect(wsim(["stat", p]).stdout.split("\n")[0]).toBe(`${p}: kmem page events (ftrace, trace-cmd report or perf script text), 0..1.4 ms (from the first alloc or free to the last event)`);
  });
  it("convert --help lists the gzipped outputs", () => {
    expect(wsim(["convert", "--help"]).stdout).toMatch(/\.json, each optionally\s+\.gz/);
  });
});

describe("finding 8: plain perf script (a tid, no pid/tid pair)", () => {
  const S = (who: string, us: number) => `          stress  ${who} [002]  1523.${String(us).padStart(6, "0")}:      10007 cpu/mem-loads,ldlat=30/P:     7ffd1a2b3c40         68100142 |OP LOAD|LVL L1 hit\n`;
  it("says on stderr that each thread is read as a process", () => {
    const r = wsim(["convert", file("tid.txt", S("4242", 1) + S("4243", 2)), "-"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("\n2 samples have one number where perf script prints pid/tid, read as the pid: plain perf script prints the tid there, making each thread a process of its own (perf script -F +pid keeps a process's threads together)\n");
  });
  it("says nothing with pid/tid", () => {
    const r = wsim(["convert", file("pidtid.txt", S("4242/4242", 1) + S("4242/4243", 2)), "-"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("read as the pid");
  });
});

describe("finding 8: a file mixing kmem events and perf mem samples (perf script of both)", () => {
  const K = (us: number, f: string) => `          stress  4242 [002]  1.${String(us).padStart(6, "0")}: kmem:mm_page_alloc: page=0xffffea0004a8ed00 ${f}\n`;
  const S = (us: number) => `          stress  4242 [002]  1.${String(us).padStart(6, "0")}:      10007 cpu/mem-loads,ldlat=30/P:     7ffd1a2b3c40         68100142 |OP LOAD|LVL L1 hit\n`;
  const mix = () => file("mix.txt", K(0, "pfn=0x100 order=0 migratetype=0 gfp_flags=GFP_KERNEL") + S(10) + S(20));
  it("read as perf mem samples: the kmem events are counted as what they are", () => {
    const r = wsim(["convert", mix(), "-"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("2 accesses written; skipped: 1 kmem page event (the file is read as perf mem samples, its first kind: convert the events apart with --from ftrace)\n");
  });
  it("read as kernel trace text (--from ftrace): the samples are counted as what they are, not unrecognised", () => {
    const p = mix();
    const r = wsim(["convert", "--from", "ftrace", p, "-"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("skipped: 2 perf mem samples (the file is read as kernel trace text, its first kind: convert the samples apart with --from perf-mem)\n");
    expect(r.stderr).toContain(`  ${p}:2: "stress  4242 [002]`);
  });
});

describe("finding 2: stat --replay of a split block's first page allocated again", () => {
  it("pgfree agrees exactly with stat's pages freed (4: the whole block, written before the new alloc)", () => {
    const sA = file(
      "sA2.txt",
      line(4, "mm_page_alloc", "pfn=0x4000 order=2 migratetype=0 gfp_flags=GFP_KERNEL") +
        line(5, "mm_page_free", "pfn=0x4000 order=0") +
        line(6, "mm_page_alloc", "pfn=0x4000 order=0 migratetype=1 gfp_flags=GFP_KERNEL"),
    );
    const csv = join(dir, "sA2.csv");
    const run = join(dir, "sA2.json");
    expect(wsim(["convert", "-q", sA, csv]).status).toBe(0);
    const rp = spawnSync("bash", ["-c", `node ${BIN} replay ${csv} --format json > ${run}`], { encoding: "utf8" });
    expect(rp.status, rp.stderr).toBe(0);
    expect(wsim(["stat", sA, "--replay", run]).stdout).toMatch(/\nmm_page_free \(pages, paired\) +4 +pgfree +4 +0\n/);
  });
});
