import { describe, expect, it } from "vitest";
import { Rng } from "../../../src/engine/rng.js";
import { V } from "../../../src/stats/counters.js";
import { engineFor, pinnedNodeCsv, quietEngine, runCsv } from "../../helpers.js";
import { PG_ALLOC } from "../../../src/mm/pages.js";
import { checkMemory } from "../../../src/mm/check.js";
import { formatExtfragIndex, formatUnusableIndex } from "../../../src/procfs/procfs.js";

/** quietEngine, under --check unless told otherwise */
const quiet = (pages: number, extra: Record<string, string> = {}, check = true) => quietEngine(pages, extra, { check });

const ev = (e: ReturnType<typeof quiet>, n: keyof typeof V) => e.mem.vmstat()[V[n]]!;

describe("compact_zone, step by step", () => {
  it("visits pageblocks from both ends, moves LRU pages top-down, never moves the unmovable one", async () => {
    const e = quiet(2048); // four pageblocks
    const lines = ["time_ms,op,pid,addr,len,id,order,mt"];
    for (let i = 0; i < 2048; i++) lines.push(`0,access,1,${i * 4096},,,,`); // vpn i at pfn i
    lines.push(`1,munmap,1,${5 * 4096},4096,,,`);
    lines.push("1,alloc,,,,k,0,unmovable"); // falls back into the hole at pfn 5; the block stays Movable
    lines.push(`2,munmap,1,${100 * 4096},${100 * 4096},,,`); // pfns 100..199 free
    lines.push(`2,munmap,1,${2000 * 4096},${48 * 4096},,,`); // pfns 2000..2047: order-4 at 2000, order-5 at 2016
    await runCsv(e, lines.join("\n"));
    expect(e.mem.kallocs.get("k")! / 16).toBe(5);
    expect(Array.from(e.mem.pages.pbMt)).toEqual([1, 1, 1, 1]);

    const c = e.mem.compaction;
    c.trace = { visits: [], moves: [] };
    c.compactNode(0);
    const t = c.trace;
    // compact_zone's last_migrated_pfn starts at 0, which 6.1 also uses for "none": the first
    // pass over pageblock 0 is already a rescan (cc->rescan), so isolate_migratepages_block
    // takes all of block 0's LRU pages at once (not COMPACT_CLUSTER_MAX): 0..4, 6..99, 200..511
    // = 411. Free scanner: block 3 (its 48 free pages), then block 2 (full), down to the block
    // above the migrate scanner's; the scanners then meet
    expect(t.visits).toEqual([["migrate", 0], ["free", 1536], ["free", 1024]]);
    // the batch in list_add order (newest first: 511 down); the targets split to order 0 and
    // listed top-down; 48 targets for 411 pages
    expect(t.moves).toEqual(Array.from({ length: 48 }, (_, k) => [511 - k, 2047 - k]));
    expect(t.moves.some(([src]) => src === 5)).toBe(false);
    expect(e.mem.pages.flags[5]! & PG_ALLOC).toBeTruthy(); // the kernel page stays put
    expect(ev(e, "pgmigrate_success")).toBe(48);
    // the 49th page finds no target (-ENOMEM): it fails; the 362 never tried are put back
    // uncounted ("nr_failed isn't updated for not used", 6.1 migrate_pages)
    expect(ev(e, "pgmigrate_fail")).toBe(1);
    expect(ev(e, "compact_isolated")).toBe(411 + 48);
    // every moved page is still mapped at its address (the --check invariants pass after the next event)
    await runCsv(e, "time_ms,op,pid,addr\n3,access,1,0\n");
    expect(ev(e, "pgfault")).toBe(2048);
  });

  it("compact on a node of movable pages: free memory ends in order-9 blocks but where the scanners met", async () => {
    for (const seed of [3, 4, 5]) {
      const e = quiet(8192, {}, false); // 32 MiB, 16 pageblocks; checked after the compaction below
      const r = new Rng(seed);
      const lines = ["time_ms,op,pid,addr,len"];
      for (let i = 0; i < 8000; i++) lines.push(`0,access,1,${i * 4096},`);
      for (let i = 0; i < 8000; i++) if (r.next() < 0.5) lines.push(`1,munmap,1,${i * 4096},4096`);
      await runCsv(e, lines.join("\n"));
      const c = e.mem.compaction;
      c.trace = { visits: [], moves: [] };
      await runCsv(e, "time_ms,op\n2,compact\n");
      expect(checkMemory(e.mem.mappingView())).toBeNull();
      // 6.1's scanners meet at pageblock granularity (free_pfn >> 9 <= migrate_pfn >> 9): the
      // migrate scanner's last block may be left part-emptied and the next one untouched
      const lastMigrate = Math.max(...c.trace.visits.filter((v) => v[0] === "migrate").map((v) => v[1]));
      const flags = e.mem.pages.flags;
      for (let b = 0; b < 16; b++) {
        if (b * 512 === lastMigrate || b * 512 === lastMigrate + 512) continue;
        let free = 0;
        for (let p = b * 512; p < b * 512 + 512; p++) if (!(flags[p]! & PG_ALLOC)) free++;
        expect([0, 512], `pageblock ${b}, seed ${seed}`).toContain(free);
      }
      const low = Array.from(e.mem.zones[0]!.nrFree).slice(0, 9).reduce((s, n, o) => s + n * 2 ** o, 0);
      expect(low).toBeLessThan(2 * 512);
      expect(ev(e, "pgmigrate_success")).toBeGreaterThan(1000);
      expect(ev(e, "compact_stall")).toBe(0); // manual compaction is not a stall
    }
  });
});

describe("extfrag files on hand-computed buddyinfo", () => {
  it("unusable_index and extfrag_index follow the kernel's formulas", () => {
    // free: 4 blocks of order 0, 2 of order 1, 1 of order 3: 4 + 4 + 8 = 16 pages, 7 blocks
    const nrFree = [4, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0];
    const z = { nid: 0, name: "Normal", start: 0, end: 512, nrFree, nrFreeMt: new Int32Array(55), pbMt: new Uint8Array(1) };
    // unusable(o) = (free - suitable << o) * 1000 / free:
    //  o=0: 0; o=1: (16 - (2*1+1*4)*2)*1000/16 = 4*1000/16 = 250; o=2: (16 - 1*2*4)*1000/16 = 500;
    //  o=3: (16-8)*1000/16 = 500; o>=4: 1000
    expect(formatUnusableIndex([z])).toBe(
      "Node 0, zone   Normal 0.000 0.250 0.500 0.500 1.000 1.000 1.000 1.000 1.000 1.000 1.000 \n",
    );
    // extfrag(o) = -1000 with a suitable block; else 1000 - (1000 + free*1000 / 2^o) / blocks:
    //  o=4: 1000 - (1000 + 16000/16)/7 = 1000 - 2000/7 = 1000 - 285 = 715
    //  o=5: 1000 - (1000 + 500)/7 = 1000 - 214 = 786;  o=10: 1000 - (1000 + 15)/7 = 1000 - 145 = 855
    const ex = formatExtfragIndex([z]).trim().split(/\s+/).slice(4);
    expect(ex.slice(0, 4)).toEqual(["-1.000", "-1.000", "-1.000", "-1.000"]);
    expect(ex.slice(4, 6)).toEqual(["0.715", "0.786"]);
    expect(ex[10]).toBe("0.855");
  });
});

/**
 * A 16 MiB node whose filler pages are pinned every 64 pages by non-LRU (kernel, movable)
 * allocations, half of them then freed: plenty of free memory, fragmented, and no order-9
 * block can ever be formed; then huge page faults, 100 ms apart, in a MADV_HUGEPAGE region.
 */
async function pinnedNode(defrag: string, faults: number) {
  const e = engineFor(
    { name: "t", nodes: [{ id: 0, mem: 4096, tier: 0, cpus: true }], tunables: {} },
    {},
    { "transparent_hugepage.enabled": "madvise", "transparent_hugepage.defrag": defrag, "vm.compaction_proactiveness": "0" },
  );
  e.mem.compaction.log = [];
  return { e, csv: pinnedNodeCsv(faults) };
}

describe("deferred compaction", () => {
  it("repeated failing THP faults: the exact sequence of deferred and attempted compactions follows the shift rule", async () => {
    const { e, csv } = await pinnedNode("always", 12);
    await runCsv(e, csv);
    const seq = e.mem.compaction.log!.map((x) => `${x.time_ms}:${x.prio === 2 ? "async" : "sync"}:${x.result === "deferred" ? "D" : "R"}`);
    // Each fault: pass 1 (this node, __GFP_NORETRY): async compaction, and if it ran, reclaim and
    // async again; pass 2: async, reclaim, sync-light. Only a sync-light failure defers
    // (considered = 0, shift + 1); compaction_deferred lets one attempt through once
    // ++considered reaches 1 << shift.
    const expected = [
      // shift 0: everything runs; the sync-light failure defers (shift 1)
      "100:async:R", "100:async:R", "100:async:R", "100:sync:R",
      // considered 1 < 2: deferred, pass 1 gives up; 2 >= 2: runs; the sync-light failure -> shift 2
      "200:async:D", "200:async:R", "200:sync:R",
      "300:async:D", "300:async:D", "300:sync:D", // 1, 2, 3 < 4
      "400:async:R", "400:async:R", "400:async:R", "400:sync:R", // 4 >= 4: all run; -> shift 3
      "500:async:D", "500:async:D", "500:sync:D", // 1..3 < 8
      "600:async:D", "600:async:D", "600:sync:D", // 4..6
      "700:async:D", "700:async:R", "700:sync:R", // 7 < 8; 8 >= 8 runs twice; -> shift 4
      ...[800, 900, 1000, 1100, 1200].flatMap((t) => [`${t}:async:D`, `${t}:async:D`, `${t}:sync:D`]), // 1..15 < 16
    ];
    expect(seq).toEqual(expected);
    const v = e.mem.vmstat();
    expect(v[V.thp_fault_alloc]).toBe(0);
    expect(v[V.thp_fault_fallback]).toBe(12);
    // a deferred compaction still counts a stall and a failure, as 6.1 does
    expect(v[V.compact_stall]).toBe(expected.length);
    expect(v[V.compact_fail]).toBe(expected.length);
    expect(v[V.compact_success]).toBe(0);
  });
});

describe("kcompactd", () => {
  it("compact_daemon_wake happens when kswapd, woken for the huge page's order, goes to sleep on a node suitable for compaction", async () => {
    const { e, csv } = await pinnedNode("defer", 4);
    const k = e.mem.kswapd[0]!;
    const kc = e.mem.kcompactd[0]!;
    const sleeps: { t: number; order: number; suitable: boolean }[] = [];
    const onSleep = k.onSleep!;
    k.onSleep = (order, hz) => {
      const suitable = e.mem.compaction.suitable(k.zones[0]!, Math.max(order, kc.maxOrder), 0) === 4; // COMPACT_CONTINUE
      sleeps.push({ t: e.now(), order, suitable });
      onSleep(order, hz);
    };
    await runCsv(e, csv);
    expect(sleeps.length).toBeGreaterThan(0);
    // defrag=defer: the faults only wake kswapd (for order 9); each time it sleeps kcompactd is
    // woken for order 9, and runs then, if the node is suitable
    expect(sleeps.filter((s) => s.order === 9).length).toBeGreaterThan(0);
    expect(kc.wakes).toEqual(sleeps.filter((s) => s.order > 0 && s.suitable).map((s) => s.t));
    expect(kc.wakes.length).toBeGreaterThan(0);
    expect(e.mem.vmstat()[V.compact_daemon_wake]).toBe(kc.wakes.length);
    expect(e.mem.vmstat()[V.compact_stall]).toBe(0); // no direct compaction under defer
  });

  it("ignores order 0, is not woken while running, and an order raised while asleep is kept", async () => {
    const { e, csv } = await pinnedNode("defer", 0);
    await runCsv(e, csv);
    const kc = e.mem.kcompactd[0]!;
    kc.wakeup(0);
    expect(kc.maxOrder).toBe(0);
    kc.wakeup(9);
    expect(kc.maxOrder).toBe(9);
    kc.wakeup(4); // a lower order does not lower it
    expect(kc.maxOrder).toBe(9);
    e.advanceTo(e.now()); // the pending run happens
    expect(kc.wakes).toEqual([e.now()]);
    // kcompactd_do_work's tail clears the order at the pass's end (its cost in virtual time)
    e.advanceTo(Math.max(e.now(), kc.busy.until));
    expect(kc.maxOrder).toBe(0);
  });
});

describe("kcompactd's wait (wait_event_freezable_timeout)", () => {
  it("an order raised while it sleeps on an unsuitable node runs kcompactd_do_work at the timeout, not a proactive pass", async () => {
    // 2048 pages, 1536 of them held: 512 free, fewer than order 9's compact_gap (2 << 9) asks
    // for, so wakeup_kcompactd(9) raises kcompactd_max_order without waking it
    const e = quiet(2048, { "vm.compaction_proactiveness": "20" });
    await runCsv(e, "time_ms,op,id,order,mt\n0,alloc,a,10,unmovable\n0,alloc,b,9,unmovable\n");
    const kc = e.mem.kcompactd[0]!;
    expect(e.mem.compaction.suitable(e.mem.zones[0]!, 9, 0)).not.toBe(4); // not COMPACT_CONTINUE
    kc.wakeup(9);
    expect(kc.maxOrder).toBe(9);
    e.advanceTo(499);
    expect(kc.wakes).toEqual([]);
    // the 500 ms timeout: the condition (max_order > 0) holds, so the wait returns 1 and the
    // work runs (compact_daemon_wake), finds the node unsuitable, and clears the order
    e.advanceTo(500);
    expect(kc.wakes).toEqual([500]);
    expect(e.mem.vmstat()[V.compact_daemon_wake]).toBe(1);
    expect(kc.maxOrder).toBe(0);
    e.advanceTo(5000); // later timeouts are proactive checks again: no more daemon wakes
    expect(kc.wakes).toEqual([500]);
  });
});

describe("proactive compaction (traces/fragmentation.csv.gz)", () => {
  it("vm.compaction_proactiveness=40 compacts while idle and more huge page faults succeed than with 0", async () => {
    const { replay } = await import("../../../src/replay.js");
    const trace = new URL("../../../traces/fragmentation.csv.gz", import.meta.url).pathname;
    // small128 as one flat zone: on its x86 zones direct compaction migrates pages at THP faults
    // even with proactiveness 0, which this comparison of kcompactd's idle passes leaves out
    const { loadMachine } = await import("../../../src/machine/machine.js");
    const machine = { ...loadMachine(new URL("../../../traces/small128.machine.json", import.meta.url).pathname), zones: "flat" as const };
    const off = await replay({ trace, machine, set: ["vm.compaction_proactiveness=0"] });
    const on = await replay({ trace, machine, set: ["vm.compaction_proactiveness=40"] });
    expect(off.vmstat.pgmigrate_success).toBe(0);
    expect(on.vmstat.pgmigrate_success).toBeGreaterThan(1000);
    expect(on.vmstat.thp_fault_alloc!).toBeGreaterThan(off.vmstat.thp_fault_alloc! + 3);
  });
});

describe("proactive compaction triggers", () => {
  it("writing a non-zero proactiveness runs it at once if the score is above the high mark; it then checks every 500 ms", async () => {
    const { e, csv } = await pinnedNode("defer", 0);
    await runCsv(e, csv);
    const c = e.mem.compaction;
    // fragmented: almost all free memory below order 9; proactiveness 40 -> marks 60 / 70
    expect(c.scoreNode(0)).toBeGreaterThan(70);
    await runCsv(e, "time_ms,op,key,value\n5000,set,vm.compaction_proactiveness,40\n5800,set,vm.compaction_proactiveness,40\n");
    const pro = c.log!.filter((x) => x.who === "proactive").map((x) => x.time_ms);
    // the write at 5000 wakes kcompactd (proactive_compact_trigger); pinned pages keep the score
    // from dropping, so the next check waits 500 << 6 ms; the second write finds the trigger
    // cleared and wakes it again
    expect(pro).toEqual([5000, 5800]);
    expect(e.mem.vmstat()[V.compact_daemon_wake]).toBe(0); // proactive runs are not counted in 6.1
  });
});
