/** Buffered file I/O in `wsim compare`'s guest script (issue 15 item 2; no QEMU needed): not replayed, reported. */
import { describe, expect, it } from "vitest";
import { ScriptBuilder } from "../../../src/kernel/script.js";
import { loadMachine } from "../../../src/machine/machine.js";
import { Settings } from "../../../src/machine/settings.js";
import { openTrace } from "../../../src/trace/open.js";
import { stdinOf } from "../../helpers.js";

describe("guest script: fread, fwrite, fsync, ftruncate, fdelete", () => {
  it("write no command and are counted among the unsupported, by op", async () => {
    const sb = new ScriptBuilder({ maxGapMs: 10000, minSleepMs: 10 });
    sb.startTunables(new Settings(loadMachine("default")));
    const csv = "time_ms,op,pid,file,off,len\n0,fread,1,a,0,8192\n0,fread,1,a,8192,8192\n1,fwrite,1,b,0,4096\n2,fsync,1,b,,\n3,ftruncate,,a,,0\n4,fdelete,,b,,\n";
    const t = await openTrace("-", { stdin: stdinOf(csv), format: "csv" });
    for await (const b of t.batches()) sb.add(b);
    const lines = sb.finish().trimEnd().split("\n");
    expect(lines.filter((l) => /^[RFSTD] /.test(l))).toEqual([]);
    const why = "(buffered file I/O: the guest has no block-backed filesystem yet)";
    expect(sb.unsupported).toEqual({ [`fread ${why}`]: 2, [`fwrite ${why}`]: 1, [`fsync ${why}`]: 1, [`ftruncate ${why}`]: 1, [`fdelete ${why}`]: 1 });
  });
});
