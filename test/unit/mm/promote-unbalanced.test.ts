/**
 * wsim_promote_unbalanced counts the migrations to another node that migrate_balanced_pgdat
 * refuses (the target not above its high watermark): the reason kpromoted and kmmscand promote
 * nothing while the top tier sits at its low watermark.
 */
import { describe, expect, it } from "vitest";
import { counters, engineFor, runCsv, tiered } from "../../helpers.js";

const quiet = { "transparent_hugepage.enabled": "never", "vm.compaction_proactiveness": "0" };

describe("wsim_promote_unbalanced", () => {
  it("counts each kpromoted candidate refused by a DRAM node below its high watermark", async () => {
    const e = engineFor(tiered(), {}, { ...quiet, "kpromoted.enabled": "1", "hotness.hw_sample_period": "1" });
    const z0 = e.mem.zones[0]!;
    const fill = z0.freePages - z0.wmark[1]! - 4; // just above low, below high + 1
    const lines = ["time_ms,op,pid,addr,len,node,id"];
    for (let k = 0; k < fill; k++) lines.push(`0,alloc,,,,0,k${k}`);
    lines.push("0,mmap,1,0x100000,8192,1,"); // two pages on the CXL node
    const a = (i: number) => `,access,1,${0x100000 + i * 4096},,,`;
    lines.push(`100${a(0)}`, `101${a(0)}`); // a0: freq 2, a candidate at the walks 1000 .. 4000
    for (let k = 0; k < fill; k++) lines.push(`4500,free,,,,,k${k}`); // DRAM has room again
    lines.push(`4600${a(1)}`, `4601${a(1)}`); // a1: freq 2, a candidate at 5000: promoted
    lines.push(`5500${a(1)}`); // the trace runs past the walk at 5000
    await runCsv(e, lines.join("\n"));
    // walks at 1000, 2000, 3000, 4000: a0 refused 4 times; at 5000 a0 (same window, freq 2)
    // and a1 are both promoted
    expect(counters(e, ["wsim_promote_unbalanced", "pgpromote_success", "kpromoted_mig_candidate"])).toEqual({
      wsim_promote_unbalanced: 4,
      pgpromote_success: 2,
      kpromoted_mig_candidate: 6,
    });
  });

  it("stays 0 when the target has room", async () => {
    const e = engineFor(tiered(), {}, { ...quiet, "kpromoted.enabled": "1", "hotness.hw_sample_period": "1" });
    const a = (i: number) => `,access,1,${0x100000 + i * 4096},,,`;
    await runCsv(e, ["time_ms,op,pid,addr,len,node,id", "0,mmap,1,0x100000,4096,1,", `100${a(0)}`, `101${a(0)}`, "1500,access,1,0x100000,,,"].join("\n"));
    expect(counters(e, ["wsim_promote_unbalanced", "pgpromote_success"])).toEqual({ wsim_promote_unbalanced: 0, pgpromote_success: 1 });
  });
});
