/** A bad tunable in a machine file is reported at the line of its key (file:LINE:), like other machine-file errors. */
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { replay } from "../../../src/replay.js";

describe("machine file tunables", () => {
  it("kernel.numa_balancing 9 on line 5: badt.machine.json:5", async () => {
    const dir = mkdtempSync(join(tmpdir(), "badt-"));
    const m = join(dir, "badt.machine.json");
    writeFileSync(m, '{\n  "nodes": [{"mem": "64M"}],\n  "tunables": {\n    "vm.swappiness": 60,\n    "kernel.numa_balancing": 9\n  }\n}\n');
    const t = join(dir, "t.csv");
    writeFileSync(t, "time_ms,op,pid,addr\n0,access,1,0x1000\n");
    const err = await replay({ trace: t, machine: m }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toBe(`${m}:5: machine tunables: kernel.numa_balancing: expected an integer 0..4, got "9"`);
  });
});
