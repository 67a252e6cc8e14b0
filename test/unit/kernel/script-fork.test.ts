/** fork in `wsim compare`'s guest script (issue 15 item 1; no QEMU needed): real fork(2), commands routed to workers. */
import { describe, expect, it } from "vitest";
import { MAX_WORKERS, ScriptBuilder } from "../../../src/kernel/script.js";
import { loadMachine } from "../../../src/machine/machine.js";
import { Settings } from "../../../src/machine/settings.js";
import { openTrace } from "../../../src/trace/open.js";
import { stdinOf } from "../../helpers.js";

async function build(csv: string): Promise<ScriptBuilder> {
  const sb = new ScriptBuilder({ maxGapMs: 10000, minSleepMs: 10 });
  sb.startTunables(new Settings(loadMachine("default")));
  const t = await openTrace("-", { stdin: stdinOf(csv), format: "csv" });
  for await (const b of t.batches()) sb.add(b);
  return sb;
}
const body = (sb: ScriptBuilder) => sb.finish().trimEnd().split("\n").filter((l) => /^[mwrualLFX@] /.test(l) || l === "X");

describe("guest script: fork", () => {
  it("the helper's other pids are MADV_DONTFORK'd around F; the child's commands go to its worker at the same addresses; its exit is X", async () => {
    const sb = await build(
      "time_ms,op,pid,addr,len,rw,child\n" +
        "0,mmap,1,0x100000,8192,,\n0,mmap,3,0x900000,4096,,\n0,access,1,0x100000,,w,\n0,access,3,0x900000,,w,\n" +
        "1,fork,1,,,,2\n2,access,2,0x100000,,r,\n2,access,2,0x101000,,r,\n2,access,1,0x100000,,w,\n3,exit,2,,,,\n3,access,1,0x101000,,r,\n",
    );
    const lines = body(sb);
    const [g1, g3] = lines.filter((l) => l.startsWith("m ")).map((l) => l.split(" ")[1]!);
    expect(lines.slice(4)).toEqual([
      `a ${g3} 4096 10`, // MADV_DONTFORK: pid 3's region stays out of the child
      "F 1", // the lowest free worker
      `a ${g3} 4096 11`, // MADV_DOFORK
      "@ 1",
      `r ${g1}`, // a page the parent touched: shared in the child, a read
      `w ${(parseInt(g1!, 16) + 4096).toString(16)}`, // untouched: its first touch writes (no zero page)
      "@ 0",
      `w ${g1}`,
      "@ 1",
      "X",
      "@ 0",
      `w ${(parseInt(g1!, 16) + 4096).toString(16)}`, // the parent never touched it: a first touch
    ]);
    expect(sb.unsupported).toEqual({});
  });

  it("a fork by a forked process is routed to its worker; one beyond the workers is skipped and counted", async () => {
    const rows = ["time_ms,op,pid,addr,len,rw,child", "0,mmap,1,0x100000,4096,,", "1,fork,1,,,,2", "2,fork,2,,,,3"];
    const lines = body(await build(rows.join("\n") + "\n"));
    expect(lines.slice(1)).toEqual(["F 1", "@ 1", "F 2"]); // the lowest free worker first
    const many = ["time_ms,op,pid,addr,len,rw,child", "0,mmap,1,0x100000,4096,,", ...Array.from({ length: MAX_WORKERS + 1 }, (_, k) => `1,fork,1,,,,${k + 10}`)];
    const sb = await build(many.join("\n") + "\n");
    expect(body(sb).filter((l) => l.startsWith("F "))).toHaveLength(MAX_WORKERS);
    expect(sb.unsupported).toEqual({ [`fork beyond ${MAX_WORKERS} forked processes alive`]: 1 });
  });
});
