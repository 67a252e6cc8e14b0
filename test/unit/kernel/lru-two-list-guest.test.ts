/** `wsim kernel` / `wsim compare` boot the guest with the replay's LRU (lru_gen.enabled; no QEMU needed). */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../src/errors.js";
import { guestLru, LRU_GEN_ENABLED, ScriptBuilder } from "../../../src/kernel/script.js";
import { loadMachine } from "../../../src/machine/machine.js";
import { Settings } from "../../../src/machine/settings.js";
import { openTrace } from "../../../src/trace/open.js";
import { stdinOf } from "../../helpers.js";

const HEAD = "time_ms,op,pid,addr,len,rw,thp,node,key,value,id,order,mt,cg\n";

async function lines(csv: string, lru: "mglru" | "classic" | "off", sets: Record<string, string> = {}) {
  const sb = new ScriptBuilder({ maxGapMs: 10000, minSleepMs: 10, lru });
  const settings = new Settings(loadMachine("default"));
  for (const [k, v] of Object.entries(sets)) settings.set(k, v);
  sb.startTunables(settings);
  const t = await openTrace("-", { stdin: stdinOf(csv), format: "csv" });
  for await (const b of t.batches()) sb.add(b);
  return { sb, lines: sb.finish().trimEnd().split("\n") };
}

describe("the guest's LRU follows lru_gen.enabled", () => {
  it("guestLru: the replay's by default, --lru classic kept, --lru mglru with lru_gen.enabled=0 refused", () => {
    expect(guestLru(1, undefined)).toBe("mglru");
    expect(guestLru(0, undefined)).toBe("off");
    expect(guestLru(0, "classic")).toBe("classic");
    expect(guestLru(1, "classic")).toBe("classic");
    expect(guestLru(1, "mglru")).toBe("mglru");
    expect(() => guestLru(0, "mglru")).toThrow(UsageError);
    expect(() => guestLru(0, "mglru")).toThrow(/--lru mglru conflicts with lru_gen\.enabled=0/);
  });

  it("off writes 0 to lru_gen/enabled before the first snapshot; lru_gen.enabled itself is not reported as unsupported", async () => {
    const { sb, lines: l } = await lines(HEAD + "0,access,1,0x1000,,w,,,,,,,,\n", "off", { "lru_gen.enabled": "0" });
    expect(l[0]).toBe(`s ${LRU_GEN_ENABLED} 0`);
    expect(l.filter((x) => x.includes("lru_gen")).length).toBe(1);
    expect(sb.unsupported).not.toHaveProperty("tunable lru_gen.enabled (no kernel file)");
  });

  it("a trace's set of lru_gen.enabled is written to the guest's file (0, or y for 1)", async () => {
    const { sb, lines: l } = await lines(HEAD + "0,set,,,,,,,lru_gen.enabled,0,,,,\n5,set,,,,,,,lru_gen.enabled,1,,,,\n", "mglru");
    // the boot snapshot (under MGLRU, as the replay starts) prints the generations; the sets are events after it
    expect(l.filter((x) => x.includes("lru_gen"))).toEqual([`s ${LRU_GEN_ENABLED} y`, "p boot-lru_gen /sys/kernel/debug/lru_gen", `s ${LRU_GEN_ENABLED} 0`, `s ${LRU_GEN_ENABLED} y`]);
    expect(sb.written["lru_gen.enabled"]).toBe("1");
    expect(Object.keys(sb.unsupported).some((k) => k.includes("lru_gen"))).toBe(false);
  });
});
