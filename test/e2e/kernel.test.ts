/**
 * `wsim kernel` and `wsim compare` against a real Linux 6.1 in QEMU (TCG). Needs
 * qemu-system-x86_64, gcc with a static libc, and the kernel (cached, or apt-get to fetch
 * it): where any is missing the tests are skipped and say why (`.ci/run` installs them).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parseBuddyinfo } from "../../src/kernel/guest-output.js";
import { which } from "../../src/kernel/toolchain.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const tmp = mkdtempSync(join(tmpdir(), "wsim-kernel-e2e-"));

const missing = [
  !which("qemu-system-x86_64") && "qemu-system-x86_64 (Debian: qemu-system-x86)",
  !which("gcc") && "gcc",
  !which("make") && "make (for wsim_kalloc.ko)",
  !existsSync("/usr/lib/x86_64-linux-gnu/libc.a") && "a static libc (Debian: libc6-dev)",
  !which("apt-get") && !process.env.WSIM_CACHE && !existsSync(join(homedir(), ".cache/wsim/headers")) && "apt-get to fetch the kernel and its headers",
].filter(Boolean);
if (missing.length) console.warn(`SKIPPED: wsim kernel tests, QEMU cannot run here; missing ${missing.join(", ")}`);

function wsim(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", input, env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const json = (p: string) => JSON.parse(readFileSync(p, "utf8"));

describe.skipIf(missing.length > 0)("wsim kernel (QEMU)", () => {
  it("replays the fragmentation demo on Linux 6.1 and prints kernel counters in wsim's JSON shape", { timeout: 600_000 }, () => {
    const out = join(tmp, "kernel.json");
    // no swap: the guest then never reclaims, so nothing ages (see the MGLRU check below)
    const r = wsim(["kernel", "traces/fragmentation.csv.gz", "--mem", "192M", "--swap", "0", "-f", "json", "-o", out]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/29882 events replayed on Linux 6\.1\.\S+ in /);
    // the trace's 232 slab-like allocations are made in the kernel by wsim_kalloc.ko
    expect(r.err).toMatch(/232 kernel allocations made by wsim_kalloc, 0 failed/);
    const k = json(out);
    expect(k.source).toBe("kernel");
    expect(k.trace.events).toBe(29882);
    expect(k.kernel.unsupported).toEqual({});
    expect(k.kernel.kalloc).toMatchObject({ allocs: 232, failed: 0 });
    expect(k.kernel.kalloc.module).toMatch(/wsim_kalloc-\w+\.ko$/);
    expect(k.kernel.errors).toEqual([]);
    // the release the guest booted (/proc/sys/kernel/osrelease), as uname -r prints it
    expect(k.kernel.release).toMatch(/^6\.1\.\d+-\d+-cloud-amd64$/);
    // the guest's clock: every sleep, plus the work (so at least the slept time)
    expect(k.kernel.guest_ms).toBeGreaterThanOrEqual(k.kernel.slept_ms);
    expect(r.err).toMatch(/the guest's clock ran \d+ ms: \d+ ms asleep, \d+ ms working \(the trace spans 6161 ms\)/);
    // MGLRU is on (--lru mglru, the default): with no swap the guest cannot reclaim anon pages,
    // so nothing ages and the new anon pages stay in the two youngest generations, which print
    // as active; the classic LRU would have put them on the inactive list
    expect(k.kernel.lru).toBe("mglru");
    expect(k.vmstat.nr_active_anon).toBeGreaterThan(10 * Math.max(1, k.vmstat.nr_inactive_anon));
    // every access of the trace faulted a page in (the helper adds a few faults of its own)
    expect(k.vmstat.pgfault).toBeGreaterThanOrEqual(29632 - 32 * 511);
    expect(k.vmstat.thp_fault_alloc + k.vmstat.thp_fault_fallback).toBe(32);
    expect(k.reads.map((x: { key: string }) => x.key)).toEqual(["unusable_index", "unusable_index", "buddyinfo"]);
    for (const x of k.reads) expect(x.value).toMatch(/^Node 0, zone +DMA +\d/);
    expect(k.reads[0].value).toMatch(/DMA32 0\.000 0\.\d{3} /); // debugfs's extfrag files are there too
    expect(k.tunables).toEqual({ "transparent_hugepage.enabled": "madvise", "transparent_hugepage.defrag": "defer" });
    // wsim diff takes it as it takes a replay's JSON
    const sim = join(tmp, "sim.json");
    expect(wsim(["replay", "traces/fragmentation.csv.gz", "-m", "traces/small128.machine.json", "-o", sim]).code).toBe(0);
    const d = wsim(["diff", sim, out, "--only", "thp_fault_*"]);
    expect([0, 1]).toContain(d.code);
    expect(d.out).toMatch(/thp_fault_alloc/);
  });

  it("--events records the guest's own kmem events for the replay; they convert, replay in wsim, and wsim stat counts every line", { timeout: 600_000 }, () => {
    const out = join(tmp, "events.json");
    const ev = join(tmp, "events.txt");
    const r = wsim(["kernel", "test/fixtures/real/kmem-mixed.csv", "--mem", "128M", "--swap", "0", "-f", "json", "-o", out, "--events-out", ev]);
    expect(r.code, r.err).toBe(0);
    const k = json(out);
    const text = readFileSync(ev, "utf8");
    const lines = text.split("\n").filter((l) => l !== "");
    expect(k.kernel.events).toEqual({
      enabled: ["kmem:mm_page_alloc", "kmem:mm_page_free", "kmem:mm_page_free_batched", "kmem:mm_page_alloc_extfrag"],
      buffer_kb: 8192,
      lines: lines.length,
      dropped: 0,
      overrun: 0,
    });
    expect(r.err).toContain(`recorded ${lines.length} event lines of kmem:mm_page_alloc,`);
    // trace_pipe's layout, hashed pointers (hash-ptr is on by default)
    for (const l of lines) expect(l).toMatch(/^ +\S.*-\d+ +\[000\] [.dDbNnpHhs0-9a-f]{5} +\d+\.\d{6}: mm_page_(alloc|free|free_batched|alloc_extfrag): page=[0-9a-f]{16} pfn=0x[0-9a-f]+ /);
    const count = (e: string) => lines.filter((l) => l.includes(` ${e}: `)).length;
    // the trace's 48 kernel allocations (wsim_kalloc) and 256 faults are among them
    expect(count("mm_page_alloc")).toBeGreaterThanOrEqual(256 + 48);
    const st = wsim(["stat", ev, "-f", "json"]);
    expect(st.code, st.err).toBe(0);
    const s = JSON.parse(st.out);
    expect(s.kind).toBe("kmem");
    expect(s.alloc_requests).toBe(count("mm_page_alloc"));
    expect(s.free_requests).toBe(count("mm_page_free"));
    expect(s.batched_duplicates + s.implicit_frees).toBe(count("mm_page_free_batched"));
    expect(s.by_order[3]).toEqual({ unmovable: 4, movable: 4, reclaimable: 4 }); // wsim_kalloc's order-3 allocations
    const csv = join(tmp, "events.csv");
    const c = wsim(["convert", ev, csv]);
    expect(c.code, c.err).toBe(0);
    const rows = readFileSync(csv, "utf8").split("\n").filter((l) => /^[\d.]+,(alloc|free),/.test(l));
    expect(rows.filter((l) => l.includes(",alloc,")).length).toBe(s.alloc_served);
    const rp = join(tmp, "events-replay.json");
    const p = wsim(["replay", csv, "-m", "traces/small128.machine.json", "--check", "-f", "json", "-o", rp]);
    expect(p.code, p.err).toBe(0);
    // every page the guest allocated during the replay is allocated in wsim (none fails on 128 MiB),
    // in whichever zone of small128's DMA and DMA32
    const v = json(rp).vmstat;
    expect(v.pgalloc_dma + v.pgalloc_dma32 + v.pgalloc_normal).toBe(s.alloc_pages);
    expect(json(rp).vmstat.wsim_alloc_fail).toBe(0);
  });

  it("--events names a tracepoint the guest kernel lacks (exit 2)", { timeout: 600_000 }, () => {
    const r = wsim(["kernel", "traces/faults.csv", "--mem", "128M", "--swap", "0", "--events", "kmem:mm_page_alloc,kmem:no_such_event", "--events-out", join(tmp, "none.txt")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^wsim: --events: the guest kernel \(Linux 6\.1\.\S+\) has no tracepoint kmem:no_such_event \(events\/kmem\/no_such_event\/enable did not open\)\n$/m);
    expect(existsSync(join(tmp, "none.txt"))).toBe(false);
  });

  it("compare: defrag=always stalls in direct compaction on both sides, defrag=never on neither", { timeout: 600_000 }, () => {
    const run = (defrag: string) => {
      const out = join(tmp, `compare-${defrag}.json`);
      const r = wsim(["compare", "traces/thp-defrag.csv.gz", "--mem", "192M", "--set", `transparent_hugepage.defrag=${defrag}`,
        // proactive compaction runs a varying amount in the guest (its timers against TCG's speed): off, for a stable shape
        "--set", "vm.compaction_proactiveness=0", "-f", "json", "-o", out]);
      expect(r.code, r.err).toBe(0);
      return json(out) as { wsim: { vmstat: Record<string, number> }; kernel: { vmstat: Record<string, number> } };
    };
    const always = run("always");
    expect(Object.keys(json(join(tmp, "compare-always.json")))).toEqual(["wsim", "kernel", "rows", "pageblock_changes", "zones"]);
    const never = run("never");
    for (const side of ["wsim", "kernel"] as const) {
      expect(always[side].vmstat.compact_stall, side).toBeGreaterThan(0);
      expect(never[side].vmstat.compact_stall, side).toBe(0);
      expect(always[side].vmstat.thp_fault_alloc, side).toBeGreaterThanOrEqual(never[side].vmstat.thp_fault_alloc!);
      expect(always[side].vmstat.thp_fault_alloc! + always[side].vmstat.thp_fault_fallback!, side).toBe(32);
    }
  });

  it("--append reaches the guest's command line: movablecore= gives a Movable zone that compact_memory compacts", { timeout: 600_000 }, () => {
    const out = join(tmp, "movable.json");
    const r = wsim(["kernel", "traces/movable-compact.csv.gz", "--mem", "192M", "--append", "movablecore=96M", "-f", "json", "-o", out]);
    expect(r.code, r.err).toBe(0);
    const k = json(out);
    expect(k.kernel.cmdline).toMatch(/ movablecore=96M$/);
    const movable = (text: string) => {
      const zone = parseBuddyinfo(text)[0]?.zones.find((z) => z.name === "Movable");
      expect(zone, text).toBeDefined();
      return zone!.buddyinfo;
    };
    const [before, after] = k.reads.map((x: { value: string }) => movable(x.value));
    // the user pages live in the Movable zone (6.1 puts GFP_HIGHUSER_MOVABLE there first), and
    // compaction empties whole pageblocks of it
    expect(k.vmstat.pgmigrate_success).toBeGreaterThan(1000);
    expect(after[9] * 2 + after[10] * 4).toBeGreaterThan(before[9] * 2 + before[10] * 4);
    // every first touch was written, so each page was allocated, as wsim allocates it (no zero page)
    expect(k.vmstat.nr_anon_pages).toBeGreaterThanOrEqual(4 * 2400);
  });

  it("a kernel allocation the guest cannot satisfy is counted as failed, not an error", { timeout: 600_000 }, () => {
    const trace = join(tmp, "kfail.csv");
    const lines = ["time_ms,op,id,order,mt"];
    for (let i = 0; i < 40; i++) lines.push(`${i},alloc,big${i},10,unmovable`); // 160 MiB in 4 MiB blocks
    writeFileSync(trace, lines.join("\n") + "\n");
    const out = join(tmp, "kfail.json");
    const r = wsim(["kernel", trace, "--mem", "96M", "-f", "json", "-o", out]);
    expect(r.code, r.err).toBe(0);
    const k = json(out);
    expect(k.kernel.errors).toEqual([]);
    expect(k.kernel.kalloc.allocs).toBe(40);
    expect(k.kernel.kalloc.failed).toBeGreaterThan(20);
    expect(k.kernel.kalloc.failed).toBeLessThan(40);
    expect(r.err).toMatch(new RegExp(`40 kernel allocations made by wsim_kalloc, ${k.kernel.kalloc.failed} failed`));
  });

  it("compare reads a trace on standard input once per pass (spooled), naming it -", { timeout: 600_000 }, () => {
    const r = wsim(["compare", "-", "--mem", "128M", "--runs", "2"], readFileSync(join(ROOT, "traces/faults.csv"), "utf8"));
    expect(r.code, r.err).toBe(0);
    expect(r.err.match(/535 events replayed/g)).toHaveLength(2);
    expect(r.out).toMatch(/^trace -: 535 events;/);
    expect(r.out).toMatch(/│ pgfault +│ +528 │/); // 400 faults, the 128 file reads retried
  });

  it("--fill-dma empties ZONE_DMA before the first snapshot, so no free order-9 block there balances the node", { timeout: 600_000 }, () => {
    const out = join(tmp, "filldma.json");
    const r = wsim(["kernel", "traces/faults.csv", "--mem", "128M", "--fill-dma", "-f", "json", "-o", out]);
    expect(r.code, r.err).toBe(0);
    const k = json(out);
    expect(k.kernel.errors).toEqual([]);
    expect(k.kernel.dma_filled).toBeGreaterThan(3000);
    expect(r.err).toMatch(new RegExp(`wsim_kalloc took ${k.kernel.dma_filled} pages of ZONE_DMA`));
    const dma = parseBuddyinfo(k.kernel.boot.buddyinfo)[0]!.zones.find((z) => z.name === "DMA")!;
    expect(dma.buddyinfo[9]! + dma.buddyinfo[10]!).toBe(0);
    // what DMA keeps is below its watermarks (the allocator refused there), a few pages
    expect(dma.free).toBeLessThan(256);
  });

  it("--numa adds a memory-only node; a region preferring it (mmap node) is faulted there", { timeout: 600_000 }, () => {
    const trace = join(tmp, "node1.csv");
    const lines = ["time_ms,op,pid,addr,len,rw,node", `0,mmap,1,0x10000000,${4096 * 4096},,1`];
    for (let i = 0; i < 4096; i++) lines.push(`0,access,1,0x${(0x10000000 + i * 4096).toString(16)},,r,`);
    writeFileSync(trace, lines.join("\n") + "\n");
    const out = join(tmp, "numa.json");
    const r = wsim(["kernel", trace, "--mem", "128M", "--numa", "64M", "-s", "transparent_hugepage.enabled=never", "-f", "json", "-o", out]);
    expect(r.code, r.err).toBe(0);
    const k = json(out);
    expect(k.kernel.errors).toEqual([]);
    expect(k.machine.nodes.map((n: { id: number; cpus: boolean }) => [n.id, n.cpus])).toEqual([[0, true], [1, false]]);
    const free = (text: string, id: number) =>
      parseBuddyinfo(text).find((n) => n.id === id)!.zones.reduce((t, z) => t + z.free, 0);
    // node 1 gave the region its 4096 pages (reads too: first touches are written); buddyinfo
    // does not count the per-cpu lists, which hold up to a few hundred pages either way
    expect(free(k.kernel.boot.buddyinfo, 1) - free(k.kernel.final.buddyinfo, 1)).toBeGreaterThan(4096 - 256);
    expect(free(k.kernel.boot.buddyinfo, 0) - free(k.kernel.final.buddyinfo, 0)).toBeLessThan(1024);
  });

  it("the guest swaps to its NVMe swap disk as wsim swaps; without swap it reclaims only the file region's pages", { timeout: 600_000 }, () => {
    const run = (swap: string[]) => {
      const out = join(tmp, `overcommit${swap.join("")}.json`);
      const r = wsim(["compare", "traces/overcommit.json", "--mem", "96M", ...swap, "-f", "json", "-o", out]);
      expect(r.code, r.err).toBe(0);
      return json(out) as { wsim: { vmstat: Record<string, number> }; kernel: { vmstat: Record<string, number>; kernel: { errors: string[]; swap_mib: number } } };
    };
    const on = run([]);
    expect(on.kernel.kernel.errors).toEqual([]);
    expect(on.kernel.kernel.swap_mib).toBe(192);
    for (const side of [on.wsim, on.kernel]) {
      expect(side.vmstat.pswpout).toBeGreaterThan(1000);
      expect(side.vmstat.pswpin).toBeGreaterThan(1000);
    }
    // without swap: the trace's file region is a file on the data disk (its 3 passes over 3072
    // pages fault it in from disk each time), whose clean pages reclaim drops; no anon page goes
    const off = wsim(["kernel", "traces/overcommit.json", "--mem", "96M", "--swap", "0"]);
    expect(off.code, off.err).toBe(0);
    const v = Object.fromEntries(off.out.trim().split("\n").map((l) => l.split(" ")).map(([k, n]) => [k, Number(n)]));
    expect([v.pswpout, v.pswpin, v.pgsteal_anon]).toEqual([0, 0, 0]);
    expect(v.pgsteal_file).toBeGreaterThan(3072);
    expect(v.pgmajfault).toBeGreaterThanOrEqual(3 * 3072);
  });

  it("the table marks counters wsim does not model, lists what was not replayed, and gives the kernel's range over --runs", { timeout: 600_000 }, () => {
    // --no-kalloc: the allocations are then listed as not replayed
    const r = wsim(["compare", "traces/fragmentation.csv.gz", "--mem", "192M", "--runs", "2", "--no-kalloc"]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/kernel run 1 of 2[\s\S]*kernel run 2 of 2/);
    expect(r.out).toMatch(/│ counter +│ +wsim │ +kernel, 2 runs │ +kernel − wsim │ wsim in range │/);
    expect(r.out).toMatch(/│ pgfault +│ +\d+ │ +\d+( – \d+)? │ +[+-]?\d+( – [+-]?\d+)? │ (yes|no) +│/);
    // wsim starts from the guest's boot state (--start boot: its zones, DMA and DMA32, their free
    // blocks and used pages): its pages come from DMA32 as the kernel's do, and the per-zone
    // table puts the zones side by side
    expect(r.out).toMatch(/│ pgalloc_dma32 +│ +[1-9]\d* │/);
    expect(r.out).toMatch(/per zone \(wsim starts from the guest's boot zoneinfo, buddyinfo and pagetypeinfo\):/);
    expect(r.out).toMatch(/│ +0 │ DMA32 │ free pages, change +│ +-?\d+ │/);
    expect(r.out).toMatch(/buddyinfo, kernel \(run 1 of 2\):\nNode 0, zone +DMA/);
    expect(r.out).toMatch(/^kernel: Linux 6\.1\.\S+$/m);
    expect(r.out).toMatch(/232\talloc unmovable \(--no-kalloc\)/);
    expect(r.out).toMatch(/pageblocks by migratetype, change during the replay \(kernel: run 1\):\n  wsim +Unmovable [+-]?\d+  Movable [+-]?\d+/);
  });
});

it("wsim kernel --help names what it needs and the exit code for a missing tool", () => {
  const r = wsim(["kernel", "--help"]);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/qemu-system-x86/);
  expect(r.out).toMatch(/mke2fs\s+\(Debian: e2fsprogs\)/); // the data disk of a trace's files
  expect(r.out).toMatch(/69 the guest could not run\s+\(something to\s+install is missing/);
});

it("wsim kernel --append refuses parameters that would take the guest's console or /init (exit 2)", () => {
  const r = wsim(["kernel", "traces/faults.csv", "--append", "quiet init=/bin/sh"]);
  expect(r.code).toBe(2);
  expect(r.err).toBe(`wsim: --append: "quiet init=/bin/sh" would take the guest's console or /init from wsim\n`);
});

it("wsim kernel and compare check --swap, --lru and --runs before they boot anything (exit 2)", () => {
  const a = wsim(["kernel", "traces/faults.csv", "--swap", "lots"]);
  expect(a.code).toBe(2);
  expect(a.err).toBe(`wsim: --swap: expected a size like 512M or 2G, or 0 for none, got "lots"\n`);
  for (const [args, err] of [
    [["--swap", "1536K"], `wsim: --swap: expected whole MiB, got "1536K"\n`],
    [["--mem", "32M"], `wsim: --mem: expected whole MiB, at least 64M, got "32M"\n`],
    [["--numa", "lots"], `wsim: --numa: expected a size like 256M or 1G, got "lots"\n`],
  ] as const) {
    const e = wsim(["kernel", "traces/faults.csv", ...args]);
    expect(e.code, args.join(" ")).toBe(2);
    expect(e.err).toBe(err);
  }
  const d = wsim(["kernel", "traces/faults.csv", "--fill-dma", "--no-kalloc"]);
  expect(d.code).toBe(2);
  expect(d.err).toBe("wsim: --fill-dma needs wsim_kalloc: the default kernel or a --kernel in its build tree, without --no-kalloc\n");
  const c = wsim(["compare", "traces/faults.csv", "--runs", "0"]);
  expect(c.code).toBe(2);
  expect(c.err).toBe(`wsim: --runs: expected a whole number from 1 to 20, got "0"\n`);
  const b = wsim(["kernel", "traces/faults.csv", "--lru", "clock"]);
  expect(b.code).toBe(2);
  expect(b.err).toMatch(/--lru <lru>' argument 'clock' is invalid/);
});

it("wsim kernel checks --events, --events-out and --events-buffer before it boots anything (exit 2)", () => {
  for (const [args, err] of [
    [["--events", "kmem:mm_page_alloc"], "wsim: --events needs --events-out FILE: where the recorded events go\n"],
    [["--events-out", "-"], "wsim: --events-out -: standard output takes the counters; give -o FILE for them\n"],
    [["--events", "kmem:mm page alloc", "--events-out", "x.txt"], `wsim: --events: "kmem:mm page alloc" is not a tracepoint: expected SYSTEM:EVENT (kmem:mm_page_alloc) or SYSTEM (compaction)\n`],
    [["--events", ",", "--events-out", "x.txt"], `wsim: --events: expected tracepoints like kmem:mm_page_alloc,kmem:mm_page_free, got ","\n`],
    [["--events-out", "x.txt", "--events-buffer", "lots"], `wsim: --events-buffer: expected a size like 8M or 65536K, got "lots"\n`],
    [["--events-out", "x.txt", "--events-buffer", "1K"], `wsim: --events-buffer: expected whole KiB from 4K to 4G, got "1K"\n`],
  ] as const) {
    const e = wsim(["kernel", "traces/faults.csv", ...args]);
    expect(e.code, args.join(" ")).toBe(2);
    expect(e.err).toBe(err);
  }
  // compare has no --events (its runs are counters side by side)
  const c = wsim(["compare", "traces/faults.csv", "--events-out", "x.txt"]);
  expect(c.code).toBe(2);
  expect(c.err).toMatch(/unknown option '--events-out'/);
});

it("the kernel events recorded in the 6.1 guest (test/fixtures/real) convert and replay, and wsim stat counts their lines", () => {
  const fixture = "test/fixtures/real/kmem-mixed.trace_pipe.txt.gz";
  const text = gunzipSync(readFileSync(join(ROOT, fixture))).toString("utf8");
  const count = (e: string) => text.split("\n").filter((l) => l.includes(` ${e}: `)).length;
  const st = wsim(["stat", fixture, "-f", "json"]);
  expect(st.code, st.err).toBe(0);
  const s = JSON.parse(st.out);
  expect([s.alloc_requests, s.free_requests, s.batched_duplicates]).toEqual([count("mm_page_alloc"), count("mm_page_free"), count("mm_page_free_batched")]);
  // hand-counted from the file: 308 allocations, all served, all freed by the end (the process exited)
  expect([s.alloc_requests, s.alloc_served, s.alloc_pages, s.still_allocated_blocks, s.frees_unpaired]).toEqual([308, 308, 440, 0, 0]);
  const csv = join(tmp, "fixture.csv");
  expect(wsim(["convert", fixture, csv]).code).toBe(0);
  const r = wsim(["replay", csv, "-m", "traces/small128.machine.json", "--check", "-f", "vmstat"]);
  expect(r.code, r.err).toBe(0);
  // small128 has DMA and DMA32 (x86 zones): the 440 pages come from either
  const n = (k: string) => Number(new RegExp(`^${k} (\\d+)$`, "m").exec(r.out)?.[1]);
  expect(n("pgalloc_dma") + n("pgalloc_dma32") + n("pgalloc_normal")).toBe(440);
  expect(n("pgalloc_normal")).toBe(0);
  expect(r.out).toMatch(/^pgfree 440$/m);
});

it("wsim compare reports a bad trace on standard input as -:LINE before it boots anything (exit 3)", () => {
  const r = wsim(["compare", "-"], "time_ms,op\n0,bogus\n");
  expect(r.code).toBe(3);
  expect(r.err).toMatch(/^-:2: /);
});

it("wsim kernel names the package to install when QEMU is missing (exit 69)", () => {
  const r = spawnSync(process.execPath, [BIN, "kernel", "traces/faults.csv"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, PATH: "/nonexistent" },
  });
  expect(r.status).toBe(69);
  expect(r.stderr).toBe("wsim: qemu-system-x86_64 not found: install Debian's package qemu-system-x86 (apt-get install qemu-system-x86)\n");
});
