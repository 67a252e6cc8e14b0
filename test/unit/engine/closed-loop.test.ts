import { describe, expect, it } from "vitest";
import { K_DIRECT_COMPACT, K_DIRECT_RECLAIM } from "../../../src/mm/stall.js";
import { engineFor, runCsv } from "../../helpers.js";

/**
 * 16 MiB pinned every 64 pages, half freed (compaction.test.ts's pinnedNode): pid 2's THP
 * faults at 100, 200, 300 ms each direct-compact and fail; then reads by pid 1 and pid 2.
 */
function scenario(closedLoop: boolean, until?: number) {
  const e = engineFor(
    { name: "t", nodes: [{ id: 0, mem: 4096, tier: 0, cpus: true }], tunables: {} },
    { closedLoop, until },
    // reclaim costs nothing here, so the only stalls are pid 2's direct compactions
    { "transparent_hugepage.enabled": "madvise", "transparent_hugepage.defrag": "always", "vm.compaction_proactiveness": "0", "cost.reclaim_scan_ns": "0", "cost.reclaim_page_ns": "0" },
  );
  const lines = ["time_ms,op,pid,addr,len,thp,id,order,mt,key"];
  lines.push(`0,mmap,1,0x10000000,${16 * 1024 * 1024},0,,,,`, `0,mmap,2,0x40000000,${32 * 1024 * 1024},1,,,,`);
  let k = 0;
  for (let i = 0; i < 3900; i++) {
    lines.push(`0,access,1,${0x10000000 + i * 4096},,,,,,`);
    if (i % 63 === 62) lines.push(`0,alloc,,,,,pin${k++},0,movable,`);
  }
  for (let i = 0; i < 3900; i += 2) lines.push(`1,munmap,1,${0x10000000 + i * 4096},4096,,,,,`);
  for (let f = 0; f < 3; f++) lines.push(`${100 + f * 100},access,2,${0x40000000 + f * 2097152},,,,,,`);
  lines.push("1000,read,1,,,,,,,vmstat", "1000,read,2,,,,,,,buddyinfo");
  return { e, csv: lines.join("\n") };
}

describe("--closed-loop", () => {
  it("pushes a pid's later events back by exactly its stalls; other pids keep their times", async () => {
    const { e, csv } = scenario(true);
    await runCsv(e, csv);
    const stalledMs = (e.stall.stallNs[K_DIRECT_COMPACT]! + e.stall.stallNs[K_DIRECT_RECLAIM]!) / 1e6;
    expect(stalledMs).toBeGreaterThan(0);
    const r = e.closedLoop!.result();
    expect(Object.keys(r.delay_ms)).toEqual(["2"]); // pid 1 never stalled
    expect(r.delay_ms["2"]).toBeCloseTo(stalledMs, 6);
    // pid 1's read at its trace time; pid 2's read after all three faults' stalls
    expect(e.reads.map((x) => [x.key, x.time_ms])).toEqual([
      ["vmstat", 1000],
      ["buddyinfo", 1000 + e.closedLoop!.delay.get(2)!],
    ]);
  });

  it("open loop (the default) keeps every trace time and has no closed_loop state", async () => {
    const { e, csv } = scenario(false);
    await runCsv(e, csv);
    expect(e.closedLoop).toBeNull();
    expect(e.reads.map((x) => x.time_ms)).toEqual([1000, 1000]);
  });

  it("--until drops held events whose delayed time is later, and runs those before it", async () => {
    const { e, csv } = scenario(true, 1000);
    await runCsv(e, csv);
    // pid 2's read would run at 1000 + delay > 1000: dropped; pid 1's at 1000 ran
    expect(e.reads.map((x) => x.key)).toEqual(["vmstat"]);
  });

  it("with no stall the replay is the open-loop one, counter for counter", async () => {
    const mk = (closedLoop: boolean) => engineFor({ name: "t", nodes: [{ id: 0, mem: 4096, tier: 0, cpus: true }], tunables: {} }, { closedLoop }, { "transparent_hugepage.enabled": "never" });
    const rows = ["time_ms,op,pid,addr"];
    for (let i = 0; i < 200; i++) rows.push(`${i},access,${1 + (i % 3)},${0x10000000 + i * 4096}`);
    const a = mk(false), b = mk(true);
    await runCsv(a, rows.join("\n"));
    await runCsv(b, rows.join("\n"));
    expect(Array.from(b.mem.vmstat())).toEqual(Array.from(a.mem.vmstat()));
    expect(b.closedLoop!.result()).toEqual({ delay_ms: {}, total_delay_ms: 0 });
  });

  it("a held event keeps its strings: cg, id, key, value and the file of a file op", async () => {
    const { ClosedLoop } = await import("../../../src/engine/closed-loop.js");
    const { EventBatch, OP_FREAD, STRING_COLUMNS } = await import("../../../src/trace/types.js");
    const b = new EventBatch();
    // strs of the source batch: index 0 is another event's, so a copied index that is not
    // remapped names the wrong string
    b.strs.push("other", "/a", "h1", "memory.max", "1M", "datafile");
    b.n = 1;
    b.op[0] = OP_FREAD;
    b.time[0] = 5;
    [b.cg[0], b.id[0], b.key[0], b.value[0], b.fname[0]] = [1, 2, 3, 4, 5];
    const cl = new ClosedLoop();
    cl.addDelay(1, 2);
    cl.hold(1, b, 0);
    const d = cl.nextDue(100)!;
    // released at 5 + 2
    expect(d.at).toBe(7);
    expect(STRING_COLUMNS.map((c) => d.b.strs[d.b[c][d.i]!])).toEqual(["/a", "h1", "memory.max", "1M", "datafile"]);
  });
});
