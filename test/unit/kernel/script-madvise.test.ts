/** madvise, mlock and munlock in `wsim compare`'s guest script (issue 15 item 3; no QEMU needed). */
import { describe, expect, it } from "vitest";
import { ScriptBuilder } from "../../../src/kernel/script.js";
import { loadMachine } from "../../../src/machine/machine.js";
import { Settings } from "../../../src/machine/settings.js";
import { openTrace } from "../../../src/trace/open.js";
import { stdinOf } from "../../helpers.js";

async function body(csv: string): Promise<string[]> {
  const sb = new ScriptBuilder({ maxGapMs: 10000, minSleepMs: 10 });
  sb.startTunables(new Settings(loadMachine("default")));
  const t = await openTrace("-", { stdin: stdinOf(csv), format: "csv" });
  for await (const b of t.batches()) sb.add(b);
  return sb.finish().trimEnd().split("\n").filter((l) => /^[mwrualL] /.test(l));
}

describe("guest script: madvise, mlock, munlock", () => {
  it("one call per region the range overlaps, with x86-64's MADV_* numbers", async () => {
    const lines = await body(
      "time_ms,op,pid,addr,len,rw,advice\n" +
        "0,mmap,1,0x100000,16384,,\n" +
        "0,mmap,1,0x104000,16384,,\n" +
        ["dontneed", "free", "cold", "pageout", "willneed", "hugepage", "nohugepage", "collapse"].map((a) => `1,madvise,1,0x102000,16384,,${a}`).join("\n") +
        "\n2,mlock,1,0x100000,32768,,\n3,munlock,1,0x100000,8192,,\n",
    );
    const maps = lines.filter((l) => l.startsWith("m ")).map((l) => parseInt(l.split(" ")[1]!, 16));
    expect(maps).toHaveLength(2);
    const [g1, g2] = maps as [number, number];
    // [0x102000, +16 KiB): the second half of region 1, the first half of region 2
    const calls = (n: number) => [`a ${(g1 + 0x2000).toString(16)} 8192 ${n}`, `a ${g2.toString(16)} 8192 ${n}`];
    const want = [4, 8, 20, 21, 3, 14, 15, 25].flatMap(calls);
    expect(lines.filter((l) => l.startsWith("a "))).toEqual(want);
    expect(lines.filter((l) => /^[lL] /.test(l))).toEqual([`l ${g1.toString(16)} 16384`, `l ${g2.toString(16)} 16384`, `L ${g1.toString(16)} 8192`]);
  });

  it("a page zapped by DONTNEED is written again at its next touch (wsim has no zero page)", async () => {
    const lines = await body(
      "time_ms,op,pid,addr,len,rw,advice\n0,mmap,1,0x100000,8192,,\n1,access,1,0x100000,,w,\n2,access,1,0x100000,,r,\n" +
        "3,madvise,1,0x100000,8192,,free\n4,access,1,0x100000,,r,\n5,madvise,1,0x100000,8192,,dontneed\n6,access,1,0x100000,,r,\n",
    );
    expect(lines.filter((l) => /^[wr] /.test(l)).map((l) => l[0])).toEqual(["w", "r", "r", "w"]);
  });
});
