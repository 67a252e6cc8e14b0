/**
 * Regions with a preferred node (`mmap node=`) are skipped by the NUMA scan as 6.1 skips VMAs
 * with an mbind policy: the replay says so at its end (a note, on standard error in the CLI;
 * the outputs are unchanged).
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { replay } from "../../../src/replay.js";

function trace(): string {
  const rows = ["time_ms,op,pid,addr,len,node,thp", "0,mmap,1,0x40000000,1048576,1,0", "0,mmap,1,0x50000000,1048576,0,0", "0,mmap,1,0x60000000,1048576,,0"];
  rows.push("1,access,1,0x40000000,,0,", "2,access,1,0x50000000,,0,");
  // the process runs (an event every 10 ms) for 3 s: the first scan comes 1 s in
  for (let t = 3; t < 3000; t += 10) rows.push(`${t},access,1,0x60000000,,0,`);
  const f = join(mkdtempSync(join(tmpdir(), "numab-note-")), "t.csv");
  writeFileSync(f, rows.join("\n") + "\n");
  return f;
}

describe("the note on regions NUMA balancing did not scan", () => {
  it("two node= regions, mode 1 on numa2: one note naming 2 regions; the output as without the note", async () => {
    const t = trace();
    const notes: string[] = [];
    const r = await replay({ trace: t, machine: "numa2", set: ["kernel.numa_balancing=1"], onNote: (n) => notes.push(n) });
    expect(notes).toEqual(["2 regions with a preferred node (mmap node=) were not scanned by NUMA balancing, as 6.1 skips VMAs with an mbind policy"]);
    const quiet = await replay({ trace: t, machine: "numa2", set: ["kernel.numa_balancing=1"] });
    expect(JSON.stringify(quiet)).toBe(JSON.stringify(r));
  });

  it("NUMA balancing off: no note", async () => {
    const notes: string[] = [];
    await replay({ trace: trace(), machine: "numa2", onNote: (n) => notes.push(n) });
    expect(notes).toEqual([]);
  });
});
