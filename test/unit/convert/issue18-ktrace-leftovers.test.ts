/**
 * Issue 18's leftovers of the ftrace import (and of diff --delta): frees of pages of a split
 * block, an input whose every line is malformed, the clamped-time wording, convert to a device
 * without an extension, stat of a converted kmem CSV. Expectations computed by hand.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { importRows, importSummary } from "../../../src/cli/commands/convert.js";
import { dataErrorOf } from "../../helpers.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const dir = mkdtempSync(join(tmpdir(), "wsim-i18-leftovers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const OPTS = { refsPerMs: "1000", instrPerMs: "1000", pid: "1", timeUnit: "s" };
const conv = (f: string, from?: string) => importRows(f, { ...OPTS, from });
const tuples = (rows: Record<string, unknown>[]) => rows.map((r) => (r.op === "alloc" ? [r.time_ms, "alloc", r.id, r.order, r.mt] : [r.time_ms, r.op, r.id]));
const wsim = (args: string[], input?: string) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", input });
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const line = (us: number, ev: string, fields: string) => `  a-1 [000] ..... 1.${String(us).padStart(6, "0")}: ${ev}: page=0 ${fields}\n`;

describe("issue 18 leftover 1: frees of pages of a split block (split_page, then page by page)", () => {
  const split = () =>
    file(
      "split.txt",
      line(0, "mm_page_alloc", "pfn=0x100 order=2 migratetype=0 gfp_flags=GFP_KERNEL") + // pages 0x100..0x103
        line(100, "mm_page_free", "pfn=0x101 order=0") +
        line(200, "mm_page_free", "pfn=0x100 order=0") +
        line(300, "mm_page_free", "pfn=0x103 order=0") +
        line(400, "mm_page_free_batched", "pfn=0x102 order=0") + // mm_page_free of 0x102 not recorded
        line(500, "mm_page_alloc", "pfn=0x200 order=1 migratetype=1 gfp_flags=GFP_KERNEL") +
        line(600, "mm_page_free", "pfn=0x200 order=0") + // its first page, split off
        line(700, "mm_page_alloc", "pfn=0x200 order=0 migratetype=1 gfp_flags=GFP_KERNEL") + // and allocated again
        line(800, "mm_page_free", "pfn=0x201 order=0") + // the block's last page: its free was written at 0.7
        line(900, "mm_page_free", "pfn=0x200 order=0") + // the order-0 page of 0.7
        line(1000, "mm_page_free", "pfn=0x300 order=0") + // no block of the trace: allocated before it
        line(1100, "mm_page_alloc", "pfn=0x400 order=0 migratetype=0 gfp_flags=GFP_KERNEL") +
        line(1200, "mm_page_free", "pfn=0x400 order=1") + // a larger order than allocated: the block freed
        line(1300, "mm_page_alloc", "pfn=0x800 order=3 migratetype=2 gfp_flags=GFP_KERNEL") +
        line(1400, "mm_page_free", "pfn=0x804 order=2"), // __free_pages' upper half: 4 of 8 pages still allocated at the end
    );

  it("are pieces of the trace's block, not pages allocated before the trace: the block is freed with its last page", async () => {
    const { rows, stats } = await conv(split());
    expect(tuples(rows)).toEqual([
      [0, "alloc", "p0x100", 2, "unmovable"],
      [0.4, "free", "p0x100"],
      [0.5, "alloc", "p0x200", 1, "movable"],
      [0.7, "free", "p0x200"],
      [0.7, "alloc", "p0x200", 0, "movable"],
      [0.9, "free", "p0x200"],
      [1.1, "alloc", "p0x400", 0, "unmovable"],
      [1.2, "free", "p0x400"],
      [1.3, "alloc", "p0x800", 3, "reclaimable"],
    ]);
    expect(stats!.skipped).toEqual({ "frees of pages allocated before the trace began": 1 });
    expect(stats!.counted).toEqual({
      "frees of pages of a split block (the block freed with its last page)": 7,
      "order-0 frees from mm_page_free_batched alone": 1,
      "allocations of the first page of a split block still held (the block's free written first)": 1,
      "frees of another order than their allocation (the whole block freed)": 1,
      "pages of a split block freed early because its first pfn was allocated again (the kernel still held them)": 1, // 0x201
    });
    expect(importSummary(stats!, "s.txt")).toMatch(/\ncounted: 7 frees of pages of a split block \(the block freed with its last page\), /);
  });

  it("stat counts them apart, and its pages freed and still allocated are the replay's", () => {
    const r = wsim(["stat", "-f", "json", split()]);
    expect(r.status, r.stderr).toBe(0);
    // pages the frees written free (the replay's pgfree): 4 (0x100's block) + 2 (0x200's block,
    // written when 0x200 was allocated again, 0x201 still the kernel's) + 1 (0x200 order 0) + 1 (0x400) = 8;
    // still held: the 0x800 block whole (8 pages), 4 of them (0x804..0x807) freed by the kernel
    expect(JSON.parse(r.stdout)).toMatchObject({
      frees_paired: 4, split_frees: 7, frees_unpaired: 1, free_pages: 8, still_allocated_blocks: 1, still_allocated_pages: 8, split_pages_freed_early: 1, split_pages_held: 4,
    });
    expect(wsim(["stat", split()]).stdout).toMatch(/, 7 frees of pages of a split block \(split_page: the block is freed with its last page\)\n/);
  });

  it("the converted trace replays: every written free has its alloc", () => {
    const r = spawnSync("bash", ["-o", "pipefail", "-c", `node ${BIN} convert -q ${split()} - | node ${BIN} replay - --format vmstat | grep -E '^pgfree '`], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("pgfree 8\n"); // 4 + 2 + 1 + 1: the 0x800 block is still allocated
  });
  it("a split block's first page allocated again: stat's pages freed and held are what the converted trace replays (3 pages freed early)", () => {
    const sA = file(
      "sA.txt",
      "cpus=2\n" +
        "            bash-1234  [000] 10.000004: mm_page_alloc:        page=ffffea0000100000 pfn=0x4000 order=2 migratetype=0 gfp_flags=GFP_KERNEL\n" +
        "            bash-1234  [000] 10.000005: mm_page_free:         page=ffffea0000100000 pfn=0x4000 order=0\n" +
        "            bash-1234  [000] 10.000006: mm_page_alloc:        page=ffffea0000100000 pfn=0x4000 order=0 migratetype=1 gfp_flags=GFP_KERNEL\n",
    );
    const r = wsim(["stat", "-f", "json", sA]);
    expect(r.status, r.stderr).toBe(0);
    // the block's free (4 pages) is written before the new order-0 alloc, which stays held
    expect(JSON.parse(r.stdout)).toMatchObject({ frees_paired: 1, free_pages: 4, still_allocated_blocks: 1, still_allocated_pages: 1, split_pages_freed_early: 3, split_pages_held: 0 });
    expect(wsim(["stat", sA]).stdout).toMatch(/\nsplit blocks freed early: 3 pages the kernel still held, freed by the replay because the block's first pfn was allocated again\nstill allocated at the end: 1 block, 1 page \(4 KiB\)\n/);
    const v = spawnSync("bash", ["-o", "pipefail", "-c", `node ${BIN} convert -q ${sA} - | node ${BIN} replay - --format vmstat | grep -E '^pgfree '`], { encoding: "utf8" });
    expect(v.stdout).toBe("pgfree 4\n");
  });
});

describe("issue 18 leftover 2: an input whose every kernel event is malformed", () => {
  it("is exit 3 naming its first line and what is wrong with it, as an input with no event line is; OUT is not written", async () => {
    const p = file("allbad.txt", "# tracer: nop\n" + line(1, "mm_page_alloc", "order=0 migratetype=1") + line(2, "mm_page_free", "pfn=0x1") + "not an event\n");
    const want = `${p}:2: ftrace: no line of the file is a ftrace record; the first it could not read is "a-1 [000] ..... 1.000001: mm_page_alloc: page=0 order=0 migr…" (mm_page_alloc without a pfn=0x… field)`;
    expect(await dataErrorOf(conv(p))).toBe(want);
    const out = join(dir, "allbad.csv");
    const r = wsim(["convert", p, out]);
    expect([r.status, r.stderr.trim()]).toEqual([3, want]);
    expect(spawnSync("test", ["-e", out]).status).toBe(1);
    expect(wsim(["stat", p]).status).toBe(3);
  });
  it("one event it can read (or one not replayed) is enough: exit 0, the bad lines counted", async () => {
    const p = file("somebad.txt", line(1, "mm_page_alloc", "order=0 migratetype=1") + line(2, "mm_page_pcpu_drain", "pfn=0x1 order=0 migratetype=1"));
    const { rows, stats } = await conv(p);
    expect(rows).toEqual([]);
    expect(stats!.skipped).toEqual({ "malformed kmem events": 1 });
  });
});

describe("issue 18 leftovers 3 and 4: wsim diff --delta", () => {
  const FX = (f: string) => join(ROOT, "test/fixtures/ktrace", f);
  it("a snapshot whose first line is not `name value` is exit 3 at that line, saying what is wrong", () => {
    const p = file("bad-first.vmstat", "\n# taken at boot\nnr_free_pages: 112696\npgfault 5\n");
    const r = wsim(["diff", "--delta", p, FX("vmstat-after.txt")]);
    expect([r.status, r.stderr.trim()]).toEqual([3, `${p}:3: --delta: BEFORE is not a /proc/vmstat snapshot: expected a vmstat line \`name value\` with an integer value, got "nr_free_pages: 112696"`]);
    const a = wsim(["diff", "--delta", FX("vmstat-before.txt"), p]);
    expect([a.status, a.stderr.trim()]).toEqual([3, `${p}:3: --delta: AFTER is not a /proc/vmstat snapshot: expected a vmstat line \`name value\` with an integer value, got "nr_free_pages: 112696"`]);
  });
  it("--delta with --no-delta is a usage error saying they conflict, whatever their order", () => {
    for (const flags of [["--delta", "--no-delta"], ["--no-delta", "--delta"]]) {
      const r = wsim(["diff", ...flags, FX("vmstat-before.txt"), FX("vmstat-after.txt")]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^wsim: --delta and --no-delta conflict: /);
      expect(r.stdout).toBe("");
    }
    expect(wsim(["diff", "--delta", FX("vmstat-before.txt"), FX("vmstat-after.txt")]).status).toBe(0);
  });
});

describe("issue 18 leftover 5: an event stamped earlier than the one before", () => {
  it("is written at the time of the event before and counted as such, not listed as skipped", async () => {
    const p = file("back.txt", line(200, "mm_page_alloc", "pfn=0x10 order=0 migratetype=0 gfp_flags=GFP_KERNEL") + line(100, "mm_page_free", "pfn=0x10 order=0") + line(300, "mm_page_alloc", "pfn=0x10 order=0 migratetype=0 gfp_flags=GFP_KERNEL"));
    const { rows, stats } = await conv(p);
    expect(tuples(rows)).toEqual([[0, "alloc", "p0x10", 0, "unmovable"], [0, "free", "p0x10"], [0.1, "alloc", "p0x10", 0, "unmovable"]]);
    expect(stats!.skipped).toEqual({});
    const s = importSummary(stats!, "b.txt");
    expect(s).toMatch(/\n2 allocs and 1 free written\ncounted: 1 event stamped earlier than the event before \(written at the time of the event before: time_ms never decreases\)\n/);
    expect(s).not.toMatch(/clamped/);
  });
});

describe("issue 18 leftover 6: timestamps without a fraction (a trace_clock that does not count ns)", () => {
  // libtraceevent (trace-cmd report) and tracefs print ` %12llu:` for the counter, uptime and
  // x86-tsc clocks: a count, jiffies or cycles, not nanoseconds, so they are named, not read
  it("are sniffed as a kernel trace and named with what to record instead; alone, exit 3", async () => {
    const p = file(
      "counter.txt",
      "cpus=2\n          stress-4242  [000] 3056123456789: mm_page_alloc:         page=0xffffea0004a8ed00 pfn=0x12a3b4 order=0 migratetype=1 gfp_flags=GFP_KERNEL\n" +
        "          stress-4242  [000] 3056123457789: mm_page_free:          page=0xffffea0004a8ed00 pfn=0x12a3b4 order=0\n",
    );
    const r = wsim(["convert", p, "-"]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`^${p}:2: ftrace: no line of the file is a ftrace record; the first it could not read is "stress-4242  \\[000\\] 3056123456789: mm_page_alloc: .*" \\(a timestamp without a fraction: the trace_clock was counter, uptime or x86-tsc \\(a count, jiffies or cycles, not time\\); record with the default clock`));
  });
  it("among lines it reads, counted as such", async () => {
    const p = file("mixed.txt", line(0, "mm_page_alloc", "pfn=0x10 order=0 migratetype=0 gfp_flags=GFP_KERNEL") + "  a-1 [000] 3056123457789: mm_page_free: page=0 pfn=0x10 order=0\n");
    const { rows, stats } = await conv(p);
    expect(rows).toHaveLength(1);
    expect(stats!.skipped).toEqual({ "events stamped by a clock that does not count time (no fraction)": 1 });
    expect(importSummary(stats!, "m.txt")).toMatch(/skipped: 1 event stamped by a clock that does not count time \(no fraction\)\n[^]*\n {2}m\.txt:2: a timestamp without a fraction: /);
  });
});

describe("issue 18 leftover 7: wsim stat of a converted kmem CSV", () => {
  it("summarises the alloc/free rows as stat of the kernel text does (allocations, frees, what is still allocated, by order)", () => {
    const csv = join(dir, "tp.csv");
    expect(wsim(["convert", "-q", join(ROOT, "test/fixtures/ktrace/trace_pipe.txt"), csv]).status).toBe(0);
    const j = JSON.parse(wsim(["stat", "-f", "json", csv]).stdout) as { kernel: unknown };
    // as the text's stat: 5 served (524 pages), 3 paired frees (10 pages), 2 blocks and 514 pages still allocated
    expect(j.kernel).toEqual({
      allocs: 5, alloc_pages: 524, frees: 3, free_pages: 10, frees_unknown: 0, still_allocated_blocks: 2, still_allocated_pages: 514,
      by_order: {
        0: { unmovable: 0, movable: 1, reclaimable: 1 },
        1: { unmovable: 1, movable: 0, reclaimable: 0 },
        3: { unmovable: 1, movable: 0, reclaimable: 0 },
        9: { unmovable: 0, movable: 1, reclaimable: 0 },
      },
    });
    const text = wsim(["stat", csv]).stdout;
    expect(text).toMatch(/\nkernel allocations: 5 allocs \(524 pages, 2096 KiB\), 3 frees \(10 pages\)\nstill allocated at the end: 2 blocks, 514 pages \(2056 KiB\)\nallocs by order: 0: movable 1 reclaimable 1, 1: unmovable 1, 3: unmovable 1, 9: movable 1\n$/);
    expect(text).not.toMatch(/distinct pages|reuse/); // no access: the access lines say nothing
  });
  it("a trace of accesses keeps its summary and has no kernel section", () => {
    const r = wsim(["stat", "-f", "json", join(ROOT, "traces/faults.csv")]);
    expect(JSON.parse(r.stdout).kernel).toBeUndefined();
  });
});

describe("issue 18 leftover 8: convert to a device without an extension", () => {
  const tp = join(ROOT, "test/fixtures/ktrace/trace_pipe.txt");
  it("/dev/null and /dev/stdout are written as CSV, as - is", () => {
    expect(wsim(["convert", "-q", tp, "/dev/null"]).status).toBe(0);
    const r = spawnSync("bash", ["-c", `node ${BIN} convert -q ${tp} /dev/stdout | head -2`], { encoding: "utf8" });
    expect(r.stdout).toBe("time_ms,op,pid,addr,len,rw,node,kind,thp,cg,id,order,mt,key,value\n0,alloc,,,,,,,,,p0x12a3b4,0,movable,,\n");
  });
  it("/dev/full: exit 3 saying the device is full, no stack trace", () => {
    const r = wsim(["convert", "-q", tp, "/dev/full"]);
    expect([r.status, r.stderr]).toEqual([3, "/dev/full: cannot write: no space left on device (ENOSPC)\n"]);
  });
  it("a regular file's name without an extension is still a usage error naming the extensions", () => {
    const r = wsim(["convert", "-q", tp, join(dir, "noext")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/noext: name the output \.csv, \.ndjson, \.jsonl, \.json or \.wtrace/);
  });
});
