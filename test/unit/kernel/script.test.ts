/** The trace-to-guest-script translation of `wsim kernel` (no QEMU needed). */
import { describe, expect, it } from "vitest";
import { EnvironmentError, UsageError } from "../../../src/errors.js";
import { recordedEvents } from "../../../src/kernel/kernel.js";
import { eventEnablePath, ScriptBuilder, type ScriptOptions } from "../../../src/kernel/script.js";
import { loadMachine } from "../../../src/machine/machine.js";
import { Settings } from "../../../src/machine/settings.js";
import { openTrace } from "../../../src/trace/open.js";
import { stdinOf } from "../../helpers.js";

async function script(csv: string, opts: ScriptOptions = { maxGapMs: 10000, minSleepMs: 10 }, sets: Record<string, string> = {}) {
  const sb = new ScriptBuilder(opts);
  const settings = new Settings(loadMachine("default"));
  for (const [k, v] of Object.entries(sets)) settings.set(k, v);
  sb.startTunables(settings);
  // lines before the first event: two snapshots and the tunables written at start
  const head = sb.finish().trimEnd().split("\n").length - 3;
  const t = await openTrace("-", { stdin: stdinOf(csv), format: "csv" });
  for await (const b of t.batches()) sb.add(b);
  const lines = sb.finish().trimEnd().split("\n");
  return { sb, lines, body: lines.slice(head, -3) };
}

const HEAD = "time_ms,op,pid,addr,len,rw,thp,node,key,value,id,order,mt,cg\n";
const mapAt = (lines: string[]) => lines.filter((l) => l.startsWith("m ")).map((l) => l.split(" "));

describe("ScriptBuilder", () => {
  it("starts and ends with vmstat/buddyinfo snapshots and writes THP's settings first", async () => {
    const { lines } = await script(HEAD + "0,access,1,0x1000,,w,,,,,,,,\n", undefined, { "vm.compaction_proactiveness": "40" });
    // MGLRU goes on before the first snapshot, so moving the boot's pages to it is not counted
    // then the release the guest runs (for the compare table's heading), the tunables (THP's
    // `enabled` raises min_free_kbytes: the snapshot's zoneinfo must show the watermarks the
    // replay runs with), the snapshot, and the first event right after it
    expect(lines.slice(0, 2)).toEqual(["s /sys/kernel/mm/lru_gen/enabled y", "p release /proc/sys/kernel/osrelease"]);
    const snap = lines.indexOf("p boot-vmstat /proc/vmstat");
    // under multi-gen LRU (the default) the boot LRU's generations too, for wsim's boot owner
    expect(lines.slice(snap, snap + 6)).toEqual([
      "p boot-vmstat /proc/vmstat",
      "p boot-buddyinfo /proc/buddyinfo",
      "p boot-pagetypeinfo /proc/pagetypeinfo",
      "p boot-zoneinfo /proc/zoneinfo",
      "p boot-lru_gen /sys/kernel/debug/lru_gen",
      "m 1000001000 4096 2",
    ]);
    for (const l of ["s /sys/kernel/mm/transparent_hugepage/enabled always", "s /proc/sys/vm/compaction_proactiveness 40"])
      expect(lines.indexOf(l)).toBeGreaterThan(1), expect(lines.indexOf(l)).toBeLessThan(snap);
    expect(lines.slice(-3)).toEqual(["p final-vmstat /proc/vmstat", "p final-buddyinfo /proc/buddyinfo", "p final-pagetypeinfo /proc/pagetypeinfo"]);
    expect(lines).toContain("s /sys/kernel/mm/transparent_hugepage/enabled always");
    expect(lines).toContain("s /sys/kernel/mm/transparent_hugepage/defrag madvise");
    expect(lines).toContain("s /proc/sys/vm/compaction_proactiveness 40");
    // defaults the kernel shares are not written
    expect(lines.some((l) => l.includes("swappiness"))).toBe(false);
  });

  it("writes NUMA balancing's sysctls and 6.1's debugfs scan knobs when set (issue 17)", async () => {
    const { lines } = await script(HEAD + "0,access,1,0x1000,,w,,,,,,,,\n", undefined, {
      "kernel.numa_balancing": "2", "kernel.numa_balancing_promote_rate_limit_MBps": "100", "numa_balancing.scan_delay_ms": "500", "numa_balancing.hot_threshold_ms": "2000",
    });
    expect(lines).toContain("s /proc/sys/kernel/numa_balancing 2");
    expect(lines).toContain("s /proc/sys/kernel/numa_balancing_promote_rate_limit_MBps 100");
    expect(lines).toContain("s /sys/kernel/debug/sched/numa_balancing/scan_delay_ms 500");
    expect(lines).toContain("s /sys/kernel/debug/sched/numa_balancing/hot_threshold_ms 2000");
    expect(lines.some((l) => l.includes("scan_size_mb"))).toBe(false); // defaults are not written
  });

  it("turns swap on before the first snapshot when there is a swap device", async () => {
    const { lines } = await script(HEAD + "0,access,1,0x1000,,w,,,,,,,,\n", { maxGapMs: 10000, minSleepMs: 10, swapDevice: "/dev/nvme0n1" });
    expect(lines.slice(0, 3)).toEqual(["s /sys/kernel/mm/lru_gen/enabled y", "W /dev/nvme0n1", "p release /proc/sys/kernel/osrelease"]);
    expect(lines.indexOf("p boot-vmstat /proc/vmstat")).toBeGreaterThan(2);
  });

  it("leaves the kernel's LRU as booted with lru: classic", async () => {
    const { lines } = await script(HEAD + "0,access,1,0x1000,,w,,,,,,,,\n", { maxGapMs: 10000, minSleepMs: 10, lru: "classic" });
    expect(lines[0]).toBe("p release /proc/sys/kernel/osrelease");
    expect(lines.some((l) => l.includes("lru_gen"))).toBe(false);
  });

  it("places each region congruent to its trace address modulo 2 MiB, apart from the others", async () => {
    const { body } = await script(
      HEAD + "0,mmap,1,0x10000000,8388608,,1,,,,,,,\n0,mmap,2,0x10000000,8388608,,0,,,,,,,\n0,mmap,3,0x7f0000123000,8192,,0,,,,,,,\n",
    );
    const maps = mapAt(body);
    expect(maps).toHaveLength(3);
    const addrs = maps.map((m) => parseInt(m[1]!, 16));
    expect(addrs[0]! % (2 << 20)).toBe(0);
    expect(addrs[2]! % (2 << 20)).toBe(0x123000);
    expect(maps.map((m) => m[3])).toEqual(["1", "0", "0"]);
    // no two regions touch, so none merge into one VMA
    for (let i = 1; i < 3; i++) expect(addrs[i]!).toBeGreaterThanOrEqual(addrs[i - 1]! + Number(maps[i - 1]![2]) + (2 << 20));
  });

  it("writes and reads land on the region's page; munmap splits a region; exit unmaps the rest", async () => {
    const { body } = await script(
      HEAD +
        "0,mmap,1,0x10000000,40960,,,,,,,,,\n0,access,1,0x10003010,,w,,,,,,,,\n0,access,1,0x10009000,,w,,,,,,,,\n" +
        "0,access,1,0x10003000,,r,,,,,,,,\n0,munmap,1,0x10002000,8192,,,,,,,,,\n0,access,1,0x10009000,,w,,,,,,,,\n0,exit,1,,,,,,,,,,,\n",
    );
    const base = parseInt(mapAt(body)[0]![1]!, 16);
    const hex = (n: number) => n.toString(16);
    expect(body.slice(1)).toEqual([
      `w ${hex(base + 0x3000)}`,
      `w ${hex(base + 0x9000)}`,
      `r ${hex(base + 0x3000)}`,
      `u ${hex(base + 0x2000)} 8192`,
      `w ${hex(base + 0x9000)}`,
      `u ${hex(base)} 8192`,
      `u ${hex(base + 0x4000)} 24576`,
    ]);
  });

  it("writes a page's first touch (wsim has no zero page), until it is unmapped", async () => {
    const { body } = await script(
      HEAD +
        "0,mmap,1,0x10000000,16384,,,,,,,,,\n0,access,1,0x10001000,,r,,,,,,,,\n0,access,1,0x10001000,,r,,,,,,,,\n" +
        "0,munmap,1,0x10000000,16384,,,,,,,,,\n0,mmap,1,0x10000000,16384,,,,,,,,,\n0,access,1,0x10001000,,r,,,,,,,,\n" +
        "0,access,1,0x20000000,,r,,,,,,,,\n0,access,1,0x20000000,,r,,,,,,,,\n",
    );
    expect(body.map((l) => l[0])).toEqual(["m", "w", "r", "u", "m", "w", "m", "w", "r"]);
    // a huge munmap walks the touched set, not the range, and still forgets the pages in it
    const big = await script(
      HEAD +
        "0,mmap,1,0x10000000,1073741824,,,,,,,,,\n0,access,1,0x10001000,,r,,,,,,,,\n" +
        "0,munmap,1,0x10000000,1073741824,,,,,,,,,\n0,mmap,1,0x10000000,8192,,,,,,,,,\n0,access,1,0x10001000,,r,,,,,,,,\n",
    );
    expect(big.body.map((l) => l[0])).toEqual(["m", "w", "u", "m", "w"]);
  });

  it("maps an access outside any region as one no-THP page, neighbours in one 2 MiB window", async () => {
    const { body, sb } = await script(HEAD + "0,access,1,0x5000,,w,,,,,,,,\n0,access,1,0x6000,,w,,,,,,,,\n0,access,1,0x400000,,w,,,,,,,,\n");
    const maps = mapAt(body);
    expect(maps.map((m) => [m[2], m[3]])).toEqual([["4096", "2"], ["4096", "2"], ["4096", "2"]]);
    const a = maps.map((m) => parseInt(m[1]!, 16));
    expect(a[1]! - a[0]!).toBe(4096); // adjacent: the kernel merges them into one VMA
    expect(a[2]! % (2 << 20)).toBe(0);
    expect(sb.unsupported).toEqual({});
  });

  it("maps an mmap naming a page-cache file anonymous, counted as not replayed", async () => {
    const { sb, body } = await script("time_ms,op,pid,addr,len,file,off\n0,mmap,1,0x1000,8192,data,4096\n");
    expect(sb.unsupported).toEqual({ "mmap of a named file (replayed as anonymous)": 1 });
    expect(mapAt(body)).toHaveLength(1);
  });

  it("counts what it cannot replay instead of dropping it silently", async () => {
    const { sb, body } = await script(
      HEAD +
        "0,alloc,,,,,,,,,k1,2,unmovable\n0,free,,,,,,,,,k1,,\n0,set,,,,,,,kpromoted.enabled,1,,,,\n" +
        "0,read,,,,,,,memory.workingset.page_age,,,,,/\n0,mmap,1,0x1000,4096,,,1,,,,,,\n0,access,1,0x1000,,w,,1,,,,,,\n",
    );
    expect(sb.unsupported).toEqual({
      "alloc unmovable (no wsim_kalloc module)": 1,
      "free (no wsim_kalloc module)": 1,
      "set kpromoted.enabled (no kernel file)": 1,
      "read memory.workingset.page_age (no such file in Linux 6.1)": 1,
      "access node (no CPU of that node in the guest)": 1,
    });
    // the mmap's preferred node goes to the helper (mbind MPOL_PREFERRED)
    expect(mapAt(body)[0]![4]).toBe("1");
  });

  it("pins the helper to the CPU wsim runs each event on when the guest has several (issue 13 item 6)", async () => {
    const csv =
      "time_ms,op,pid,addr,rw,node,cpu\n" +
      "0,access,1,0x1000,w,,\n" + // the first node with CPUs: CPU 0
      "0,access,1,0x2000,w,,\n" + // still CPU 0: no second command
      "0,access,1,0x3000,w,1,\n" + // node 1's first CPU: CPUs 0-1 are node 0's, 2-4 node 1's
      "0,access,1,0x4000,w,,3\n" + // the trace's cpu
      "0,access,1,0x5000,w,2,\n"; // node 2 has no CPU: counted, not pinned
    const { body, sb } = await script(csv, { maxGapMs: 10000, minSleepMs: 10, nodeCpus: [2, 3, 0] });
    expect(body.filter((l) => l.startsWith("c "))).toEqual(["c 0", "c 2", "c 3"]);
    expect(body.indexOf("c 2")).toBe(body.findIndex((l) => l.startsWith("w ") && l.endsWith("3000")) - 1);
    expect(sb.unsupported).toEqual({ "access node (no CPU of that node in the guest)": 1 });
    // one CPU: never pinned, an access of node 0 runs where it would
    const one = await script(csv.split("\n").slice(0, 3).join("\n") + "\n0,access,1,0x6000,w,0,\n");
    expect(one.body.some((l) => l.startsWith("c "))).toBe(false);
    expect(one.sb.unsupported).toEqual({});
  });

  it("makes kernel allocations with wsim_kalloc, loaded before the first snapshot", async () => {
    const opts = { maxGapMs: 10000, minSleepMs: 10, kallocModule: "/wsim_kalloc.ko" };
    const { sb, lines } = await script(
      HEAD +
        "0,alloc,,,,,,,,,slab,0,unmovable,\n0,alloc,,,,,,1,,,big,3,movable,\n0,alloc,,,,,,,,,r,1,reclaimable,\n" +
        "0,free,,,,,,,,,big,,,\n0,alloc,,,,,,,,,big,2,,\n0,free,,,,,,,,,nope,,,\n",
      opts,
    );
    expect(lines[0]).toBe("K /wsim_kalloc.ko");
    expect(lines.indexOf("K /wsim_kalloc.ko")).toBeLessThan(lines.indexOf("p boot-vmstat /proc/vmstat"));
    // handles become the module's IDs; a reused handle gets a new one; node -1 is the CPU's node
    expect(lines.filter((l) => l.startsWith("k "))).toEqual(["k a 0 0 u -1", "k a 1 3 m 1", "k a 2 1 r -1", "k f 1", "k a 3 2 u -1"]);
    expect(sb.usedKalloc).toBe(true);
    expect(sb.unsupported).toEqual({ "free (of a handle never allocated)": 1 });
    // no allocation: no module to load
    const none = await script(HEAD + "0,access,1,0x1000,,w,,,,,,,,\n", opts);
    expect(none.lines.some((l) => l.startsWith("K "))).toBe(false);
    // without the module (a custom kernel, --no-kalloc) they are counted with the reason
    const skipped = await script(HEAD + "0,alloc,,,,,,,,,a,0,unmovable,\n", { maxGapMs: 10000, minSleepMs: 10, kallocSkip: "--no-kalloc" });
    expect(skipped.sb.unsupported).toEqual({ "alloc unmovable (--no-kalloc)": 1 });
  });

  it("with fillDma has wsim_kalloc take ZONE_DMA before the first snapshot, and prints how much", async () => {
    const { lines, sb } = await script(HEAD + "0,access,1,0x1000,,w,,,,,,,,\n", { maxGapMs: 10000, minSleepMs: 10, kallocModule: "/wsim_kalloc.ko", fillDma: true });
    expect(lines.slice(0, 5)).toEqual(["K /wsim_kalloc.ko", "s /sys/kernel/mm/lru_gen/enabled y", "k D", "p dma-fill /proc/wsim_kalloc", "p release /proc/sys/kernel/osrelease"]);
    expect(lines.indexOf("p boot-vmstat /proc/vmstat")).toBeGreaterThan(4);
    expect(sb.usedKalloc).toBe(true);
  });

  it("turns set, read and compact into file writes and reads", async () => {
    const { sb, body } = await script(
      HEAD + "0,set,,,,,,,vm.swappiness,10,,,,\n5,read,,,,,,,buddyinfo,,,,,\n5,compact,,,,,,1,,,,,,\n5,compact,,,,,,,,,,,,\n",
    );
    expect(body).toEqual([
      "s /proc/sys/vm/swappiness 10",
      "p read-0 /proc/buddyinfo",
      "s /sys/devices/system/node/node1/compact 1",
      "s /proc/sys/vm/compact_memory 1",
    ]);
    expect(sb.reads).toEqual([{ tag: "read-0", time_ms: 5, key: "buddyinfo", cg: null, node: null }]);
    expect(sb.written["vm.swappiness"]).toBe("10");
  });

  it("sleeps through time gaps, short ones accumulated, long ones capped and reported", async () => {
    const { body, sb } = await script(
      HEAD + ["0", "4", "8", "12", "30", "60030"].map((t) => `${t},access,1,0x1000,,r,,,,,,,,`).join("\n") + "\n",
      { maxGapMs: 1000, minSleepMs: 10 },
    );
    expect(body.filter((l) => l.startsWith("t "))).toEqual(["t 12", "t 18", "t 1000"]);
    expect(sb.sleptMs).toBe(1030);
    expect(sb.skippedMs).toBe(59000);
  });
});

describe("wsim kernel --events: the script records tracepoints around the replay only", () => {
  it("enables the events with tracing off before the first snapshot, traces from the first event to the last, drains after the final snapshot", async () => {
    const events = { events: ["kmem:mm_page_alloc", "compaction"], bufferKb: 8192 };
    const { lines } = await script(HEAD + "0,access,1,0x1000,,w,,,,,,,,\n", { maxGapMs: 10000, minSleepMs: 10, events });
    const at = (l: string) => lines.indexOf(l);
    // the ring buffer's pages are allocated before the boot snapshot (they are not the replay's)
    expect(lines.slice(1, 6)).toEqual([
      "s /sys/kernel/tracing/tracing_on 0",
      "s /sys/kernel/tracing/options/overwrite 0",
      "s /sys/kernel/tracing/buffer_size_kb 8192",
      "s /sys/kernel/tracing/events/kmem/mm_page_alloc/enable 1",
      "s /sys/kernel/tracing/events/compaction/enable 1",
    ]);
    expect(at("s /sys/kernel/tracing/tracing_on 1")).toBe(at("p boot-lru_gen /sys/kernel/debug/lru_gen") + 1);
    const firstTouch = lines.findIndex((l) => l.startsWith("w "));
    expect(firstTouch).toBeGreaterThan(at("s /sys/kernel/tracing/tracing_on 1"));
    // off before the final snapshot: reading /proc would be traced too
    const off = lines.lastIndexOf("s /sys/kernel/tracing/tracing_on 0");
    expect(off).toBeGreaterThan(firstTouch);
    expect(lines.slice(off + 1)).toEqual([
      "p final-vmstat /proc/vmstat",
      "p final-buddyinfo /proc/buddyinfo",
      "p final-pagetypeinfo /proc/pagetypeinfo",
      "p events-stats /sys/kernel/tracing/per_cpu/cpu0/stats",
      "P events /sys/kernel/tracing/trace_pipe",
    ]);
  });

  it("without --events the script has no tracefs line", async () => {
    const { lines } = await script(HEAD + "0,access,1,0x1000,,w,,,,,,,,\n");
    expect(lines.filter((l) => l.includes("tracing"))).toEqual([]);
  });

  it("names a tracepoint's enable file: system:event, or a whole system", () => {
    expect(eventEnablePath("kmem:mm_page_free")).toBe("/sys/kernel/tracing/events/kmem/mm_page_free/enable");
    expect(eventEnablePath("vmscan")).toBe("/sys/kernel/tracing/events/vmscan/enable");
  });
});

describe("recordedEvents: what the guest printed for --events", () => {
  const ev = { events: ["kmem:mm_page_alloc", "kmem:nosuch"], bufferKb: 4096 };
  const stats = "entries: 3\noverrun: 0\ncommit overrun: 0\nbytes: 120\noldest event ts:     2.1\nnow ts:     3.2\ndropped events: 17\nread events: 0\n";
  const text = "init-1 [000] ..... 2.6: mm_page_alloc: page=0 pfn=0x1 order=0 migratetype=0 gfp_flags=GFP_KERNEL\n".repeat(3);
  it("counts the lines and reads the ring buffer's dropped events", () => {
    const r = recordedEvents({ ...ev, events: ["kmem:mm_page_alloc"] }, new Map([["events", text], ["events-stats", stats]]), [], "6.1.0-50-cloud-amd64");
    // the drop is marked at the end as trace_pipe marks lost events
    expect(r).toEqual({ text: text + "CPU:0 [LOST 17 EVENTS]\n", lines: 3, dropped: 17, overrun: 0 });
  });
  it("an empty trace_pipe is no line", () => {
    const r = recordedEvents({ ...ev, events: ["kmem:mm_page_alloc"] }, new Map([["events", "\n"]]), [], null);
    expect(r).toEqual({ text: "", lines: 0, dropped: 0, overrun: 0 });
  });
  it("a tracepoint the guest kernel lacks is a usage error naming it and the release", () => {
    const errors = ["7: open /sys/kernel/tracing/events/kmem/nosuch/enable: No such file or directory"];
    expect(() => recordedEvents(ev, new Map([["events", text]]), errors, "6.1.0-50-cloud-amd64")).toThrow(
      new UsageError("--events: the guest kernel (Linux 6.1.0-50-cloud-amd64) has no tracepoint kmem:nosuch (events/kmem/nosuch/enable did not open)"),
    );
  });
  it("no tracefs at all is an environment error", () => {
    const errors = ["1: open /sys/kernel/tracing/tracing_on: No such file or directory"];
    expect(() => recordedEvents({ ...ev, events: ["kmem"] }, new Map(), errors, null)).toThrow(EnvironmentError);
  });
});
