/**
 * The pageblock map a replay keeps with pageblockMap: migratetypes from the bitmap and free
 * pages from the free blocks, on a 4 MiB machine (1024 pages = 2 pageblocks) worked out by hand.
 */
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { replay } from "../../../src/library.js";
import { UsageError } from "../../../src/errors.js";

const tmp = mkdtempSync(join(tmpdir(), "wsim-pbmap-"));

describe("pageblockMap", () => {
  it("one order-0 unmovable page: 511 and 512 free pages; the whole order-10 block it came from was stolen (both Unmovable)", async () => {
    const trace = join(tmp, "t.json");
    writeFileSync(
      trace,
      JSON.stringify({
        machine: { name: "tiny", nodes: [{ id: 0, mem: 1024, tier: 0, cpus: true }] },
        events: [{ time_ms: 0, op: "alloc", id: "a", order: 0, mt: "unmovable" }],
      }),
    );
    const r = await replay({ trace, pageblockMap: true });
    const z = r.pageblock_map!.zones[0]!;
    expect(r.pageblock_map!.pages_per_block).toBe(512);
    expect(z.free.reduce((a, b) => a + b, 0)).toBe(1023);
    expect([...z.free].sort((a, b) => a - b)).toEqual([511, 512]);
    // the fallback took the only free block, order 10 = both pageblocks, and 6.1 changes every
    // pageblock of a block of pageblock order or more (change_pageblock_range): both Unmovable
    expect(z.mt).toEqual([0, 0]);
    // as the result's own count of pageblocks per migratetype says
    expect(r.nodes[0]!.zones[0]!.pageblocks).toMatchObject({ Unmovable: 2, Movable: 0 });
  });

  it("is absent unless asked for, and must be a boolean", async () => {
    const r = await replay({ trace: "traces/faults.csv" });
    expect("pageblock_map" in r).toBe(false);
    await expect(replay({ trace: "traces/faults.csv", pageblockMap: "yes" as unknown as boolean })).rejects.toThrow(UsageError);
    await expect(replay({ trace: "traces/faults.csv", pageblockMap: "yes" as unknown as boolean })).rejects.toThrow('replay: config.pageblockMap must be true or false, got "yes"');
    await expect(replay({ trace: "traces/faults.csv", pageblockMapAt: [5] })).rejects.toThrow("config.pageblockMapAt takes its maps at samples: give config.interval too");
    await expect(replay({ trace: "traces/faults.csv", interval: 5, pageblockMapAt: [-1] })).rejects.toThrow("config.pageblockMapAt must be an array of times in ms (numbers >= 0), got an array");
  });
});
