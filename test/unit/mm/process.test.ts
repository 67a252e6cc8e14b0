import { describe, expect, it } from "vitest";
import { V } from "../../../src/stats/counters.js";
import { checkInvariants } from "../../../src/mm/check.js";
import { engineFor, runCsv, smallMachine } from "../../helpers.js";

const ev = (e: ReturnType<typeof engineFor>, n: keyof typeof V) => e.mem.vmstat()[V[n]];

describe("processes, faults and page tables", () => {
  it("a first touch faults one page; later touches do not; munmap and exit free them", async () => {
    const e = engineFor(smallMachine());
    const free0 = e.mem.freePages();
    await runCsv(e, [
      "time_ms,op,pid,addr,len,kind,rw",
      "0,mmap,1,0x100000,65536,anon,",
      "0,mmap,1,0x200000,16384,file,",
      ...Array.from({ length: 16 }, (_, i) => `1,access,1,${0x100000 + i * 4096},,,w`),
      ...Array.from({ length: 16 }, (_, i) => `2,access,1,${0x100000 + i * 4096},,,r`),
      ...Array.from({ length: 4 }, (_, i) => `3,access,1,${0x200000 + i * 4096},,,r`),
      "4,munmap,1,0x108000,32768,,",
      "5,access,1,0x108000,,,r", // unmapped now: an implicit one-page mapping
    ].join("\n"));
    // 16 anon first touches, 4 file reads (major: each retried after its read, 8), 1 implicit
    expect(ev(e, "pgfault")).toBe(25);
    expect(ev(e, "pgmajfault")).toBe(4);
    expect(ev(e, "pgpgin")).toBe(16);
    expect(ev(e, "wsim_implicit_maps")).toBe(1);
    expect(ev(e, "pgfree")).toBe(8);
    expect(ev(e, "nr_anon_pages")).toBe(9);
    expect(ev(e, "nr_file_pages")).toBe(4);
    expect(e.mem.freePages()).toBe(free0 - 13);
    const mm = e.mem.procs.get(1)!;
    expect(mm.vmas.map((v) => [v.start, v.end])).toEqual([[0x100, 0x108], [0x200, 0x204]]);
    await runCsv(e, "time_ms,op,pid\n6,exit,1\n");
    expect(e.mem.freePages()).toBe(free0);
    expect(ev(e, "nr_anon_pages")).toBe(0);
    expect(checkInvariants(e.mem.buddy)).toBeNull();
  });

  it("munmap in the middle of a region splits it; mmap over a mapping replaces it (MAP_FIXED)", async () => {
    const e = engineFor(smallMachine());
    await runCsv(e, "time_ms,op,pid,addr,len\n0,mmap,1,0x0,40960\n1,access,1,0x3000\n1,munmap,1,0x2000,8192\n2,mmap,1,0x8000,4096\n");
    expect(e.mem.procs.get(1)!.vmas.map((v) => [v.start, v.end])).toEqual([[0, 2], [4, 8], [8, 9], [9, 10]]);
    expect(ev(e, "pgfree")).toBe(1);
  });

  it("pages come from the accessing CPU's node, or the region's preferred node; numa_* as zone_statistics", async () => {
    const e = engineFor(smallMachine("16M", 2));
    await runCsv(e, [
      "time_ms,op,pid,addr,len,node",
      "0,access,1,0x1000,,1", // CPU on node 1: local page on node 1
      "0,mmap,2,0x100000,8192,1", // preferred node 1 region
      "1,access,2,0x100000,,0", // CPU on node 0, page on node 1: hit (preferred), other (not local)
    ].join("\n"));
    expect(ev(e, "numa_hit")).toBe(2);
    expect(ev(e, "numa_local")).toBe(1);
    expect(ev(e, "numa_other")).toBe(1);
    expect(e.mem.zones[1]!.managed - e.mem.zones[1]!.freePages).toBe(2);
  });

  it("a full node spills to the next in the zonelist (numa_miss/foreign); a full machine reclaims", async () => {
    const e = engineFor(smallMachine("4M", 2));
    const lines = ["time_ms,op,pid,addr"];
    for (let i = 0; i < 2600; i++) lines.push(`0,access,1,${i * 4096}`);
    await runCsv(e, lines.join("\n"));
    expect(ev(e, "numa_miss")).toBeGreaterThan(0);
    expect(ev(e, "numa_foreign")).toBe(ev(e, "numa_miss"));
    // all at one instant: kswapd cannot help; a fault's reclaim_idx is ZONE_MOVABLE (gfp_zone(GFP_HIGHUSER_MOVABLE))
    expect(ev(e, "allocstall_movable")).toBeGreaterThan(0);
    expect(ev(e, "allocstall_normal")).toBe(0);
    expect(ev(e, "pswpout")).toBeGreaterThan(0);
    expect(ev(e, "oom_kill")).toBe(0);
    expect(ev(e, "pgalloc_normal")).toBe(2600);
    expect(ev(e, "pgsteal_kswapd")).toBeLessThanOrEqual(2 * 256); // one ms's budget per node
    expect(checkInvariants(e.mem.buddy)).toBeNull();
  });

  it("when nothing can be reclaimed a fault counts oom_kill and the access is dropped", async () => {
    const e = engineFor(smallMachine("4M"));
    const lines = ["time_ms,op,id,order,pid,addr"];
    for (let i = 0; i < 1024; i++) lines.push(`0,alloc,k${i},0,,`);
    lines.push("1,access,,,1,0");
    await runCsv(e, lines.join("\n"));
    expect(ev(e, "wsim_alloc_fail")).toBeGreaterThan(0);
    expect(ev(e, "oom_kill")).toBe(1);
    expect(ev(e, "nr_anon_pages")).toBe(0);
  });

  it("millions of touched pages cost one 2 KiB leaf per 2 MiB, not an object per page", async () => {
    const e = engineFor(smallMachine("64M"));
    const lines = ["time_ms,op,pid,addr"];
    for (let i = 0; i < 8192; i++) lines.push(`0,access,1,${0x40000000 + i * 4096}`);
    await runCsv(e, lines.join("\n"));
    expect(e.mem.procs.get(1)!.pt.size).toBe(16);
  });
});

describe("kernel allocations and bad events", () => {
  it("alloc/free by handle; a failed alloc is counted and the run goes on", async () => {
    const e = engineFor(smallMachine("4M"));
    await runCsv(e, "time_ms,op,id,order,mt\n0,alloc,a,3,movable\n1,alloc,b,10,unmovable\n2,free,a,,\n3,alloc,c,0,reclaimable\n");
    expect(ev(e, "wsim_alloc_fail")).toBe(1); // a 4 MiB node cannot give an order-10 block above its watermark
    expect(ev(e, "pgalloc_normal")).toBe(9);
    expect(ev(e, "pgfree")).toBe(8);
    expect(ev(e, "wsim_kernel_pages")).toBe(1);
  });

  const bad: [string, string, RegExp][] = [
    ["free of an unknown handle", "time_ms,op,id\n0,free,zz\n", /t\.csv:2: free of unknown handle "zz" \(use --lenient/],
    ["free of a failed handle", "time_ms,op,id,order\n0,alloc,a,10\n1,free,a,\n", /t\.csv:3: free of handle "a", whose allocation failed/],
    ["reuse of a live handle", "time_ms,op,id\n0,alloc,a\n1,alloc,a\n", /t\.csv:3: handle "a" is still allocated/],
    ["access from a node without CPUs", "time_ms,op,pid,addr,node\n0,access,1,0,1\n", /t\.csv:2: node 1 has no CPUs/],
    ["a node that does not exist", "time_ms,op,id,node\n0,alloc,a,5\n", /t\.csv:2: node 5 does not exist/],
    ["a process changing memcg", "time_ms,op,pid,addr,cg\n0,access,1,0,/a\n1,access,1,0,/b\n", /t\.csv:3: pid 1 is in memcg \/a since its first event/],
    ["an unaligned mmap", "time_ms,op,pid,addr\n0,mmap,1,100\n", /t\.csv:2: mmap addr 100 is not page-aligned/],
    ["exit of an unknown pid", "time_ms,op,pid\n0,exit,9\n", /t\.csv:2: exit of pid 9, which has no earlier event/],
    ["an unknown tunable in a set event", "time_ms,op,key,value\n0,set,vm.nope,1\n", /t\.csv:2: unknown tunable "vm\.nope"/],
    ["a bad tunable value", "time_ms,op,key,value\n0,set,transparent_hugepage.enabled,sometimes\n", /t\.csv:2: transparent_hugepage\.enabled: expected one of always, madvise, never/],
    ["a read of an unknown file", "time_ms,op,key\n0,read,meminfo\n", /t\.csv:2: read: unknown file "meminfo"/],
  ];
  for (const [name, csv, msg] of bad)
    it(`rejects ${name}`, async () => {
      const machine = smallMachine("4M", 2);
      machine.nodes[1]!.cpus = false;
      await expect(runCsv(engineFor(machine), csv)).rejects.toThrow(msg);
    });

  it("--check turns a broken invariant into an internal error naming the event", async () => {
    const e = engineFor(smallMachine("4M"), { check: true });
    await runCsv(e, "time_ms,op,pid,addr\n0,access,1,0\n");
    e.mem.zones[0]!.freePages += 1; // corrupt NR_FREE_PAGES behind the allocator's back
    await expect(runCsv(e, "time_ms,op,pid,addr\n1,access,1,4096\n", "late.csv")).rejects.toThrow(
      /^late\.csv:2: after this access event: invariant broken: node 0: NR_FREE_PAGES \d+ but the lists hold \d+$/,
    );
    const { InternalError } = await import("../../../src/errors.js");
    await expect(runCsv(e, "time_ms,op,pid,addr\n2,access,1,8192\n")).rejects.toBeInstanceOf(InternalError);
  });

  it("--lenient counts and skips bad frees", async () => {
    const e = engineFor(smallMachine("4M"), { lenient: true });
    await runCsv(e, "time_ms,op,id,order\n0,free,zz,\n1,alloc,a,10\n2,free,a,\n");
    expect(ev(e, "wsim_lenient_skipped")).toBe(2);
  });
});
