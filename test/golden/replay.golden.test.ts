/**
 * Golden tests: every bundled trace replays to the pinned /proc/vmstat output and `read`
 * results (test/golden/__expected__), and two runs are byte-identical in every format.
 * Refresh with `npx vitest run test/golden -u` and read the diff: it says which counters moved.
 */
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import { replay } from "../../src/replay.js";
import { renderJson } from "../../src/report/json.js";
import { renderText } from "../../src/report/text.js";
import { renderVmstat } from "../../src/report/vmstat.js";
import { bundledTraces, GOLDEN_ARGS, TRACES } from "./bundled.js";




describe("bundled traces", () => {
  const all = bundledTraces();
  it("there are at least three demo traces and a real one", () => {
    expect(all.length).toBeGreaterThanOrEqual(4);
    expect(all.some((p) => p.includes("/real/"))).toBe(true);
  });

  for (const path of all) {
    const name = relative(TRACES, path);
    it(`${name}: pinned vmstat and reads, byte-identical twice`, async () => {
      const cfg = { trace: path, ...GOLDEN_ARGS[name.split("/").pop()!] };
      const a = await replay(cfg);
      const b = await replay(cfg);
      const vm = renderVmstat(a);
      expect(renderVmstat(b)).toBe(vm);
      expect(renderJson(b)).toBe(renderJson(a));
      expect(renderText(b, { color: false })).toBe(renderText(a, { color: false }));
      const safe = name.replace(/[/]/g, "__");
      await expect(vm).toMatchFileSnapshot(`./__expected__/${safe}.vmstat.txt`);
      const reads = a.reads.map((r) => `== t=${r.time_ms} read ${r.key}${r.node !== null ? ` node=${r.node}` : ""}\n${r.value}`).join("");
      if (reads) await expect(reads).toMatchFileSnapshot(`./__expected__/${safe}.reads.txt`);
      // every zone's buddyinfo adds up to its free pages
      for (const n of a.nodes) {
        const z = n.zones[0]!;
        expect(z.buddyinfo.reduce((s, c, o) => s + c * 2 ** o, 0)).toBe(z.free);
      }
    });
  }
});
