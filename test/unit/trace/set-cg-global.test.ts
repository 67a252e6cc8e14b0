/** A trace `set` naming a memcg (`cg`) for a global sysctl is a data error, not a silent global write. */
import { describe, expect, it } from "vitest";
import { engineFor, runCsv, smallMachine } from "../../helpers.js";

describe("set with cg on a non-memcg key", () => {
  it("kernel.numa_balancing with cg /a: file:line error, the setting unchanged", async () => {
    const e = engineFor(smallMachine("32M", 2, (i) => i));
    await expect(runCsv(e, "time_ms,op,pid,addr,len,key,value,cg\n1,set,,,,kernel.numa_balancing,2,/a\n", "t.csv")).rejects.toThrow(
      "t.csv:2: kernel.numa_balancing is not a memcg file: drop cg",
    );
  });

  it("a memory.* key with cg is still accepted, and the global key without cg", async () => {
    const e = engineFor(smallMachine("32M", 2, (i) => i));
    await runCsv(e, "time_ms,op,pid,addr,len,key,value,cg\n1,set,,,,kernel.numa_balancing,2,\n2,set,,,,memory.workingset.refresh_interval,N0=1000,/a\n");
    expect(e.settings.get("kernel.numa_balancing")).toBe(2);
  });
});
