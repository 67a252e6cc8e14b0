/**
 * src/procfs/zoneinfo.ts: parse a real 6.1 /proc/zoneinfo (test/fixtures/kernel-samples/
 * zoneinfo.txt, a copy of ../shared/kernel-samples/zoneinfo.txt: captured through a serial
 * console, hence "\r\n") and format it back byte for byte; malformed files fail with
 * file:line: what.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DataError } from "../../../src/errors.js";
import { formatZoneinfo, parseZoneinfo, type Zoneinfo } from "../../../src/procfs/zoneinfo.js";

const SAMPLE = readFileSync(new URL("../../fixtures/kernel-samples/zoneinfo.txt", import.meta.url), "utf8");
const LF = SAMPLE.replace(/\r\n/g, "\n");

/** the error parseZoneinfo throws for `text`, as its message */
function errorOf(text: string): string {
  try {
    parseZoneinfo(text, "zi.txt");
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return (e as Error).message;
  }
  throw new Error("parsed without an error");
}

/** the LF sample with line `n` (1-based) replaced, or removed when `by` is null */
function edit(n: number, by: string | null): string {
  const l = LF.split("\n");
  if (by === null) l.splice(n - 1, 1);
  else l[n - 1] = by;
  return l.join("\n");
}

describe("the real 6.1 sample", () => {
  const info = parseZoneinfo(SAMPLE, "zoneinfo.txt");
  it("round-trips byte for byte, CRLF included, and as the kernel's LF", () => {
    expect(SAMPLE.includes("\r\n")).toBe(true);
    expect(info.lineEnding).toBe("\r\n");
    expect(formatZoneinfo(info)).toBe(SAMPLE);
    expect(formatZoneinfo(info, { lineEnding: "\n" })).toBe(LF);
    const lf = parseZoneinfo(LF, "zoneinfo.txt");
    expect(lf.lineEnding).toBe("\n");
    expect(formatZoneinfo(lf)).toBe(LF);
  });
  it("reads one node, five zones, DMA and DMA32 populated", () => {
    expect(info.pgdats.map((p) => p.nodeId)).toEqual([0]);
    const [dma, dma32, normal, movable, device] = info.pgdats[0]!.zones;
    expect(info.pgdats[0]!.zones.map((z) => z.name)).toEqual(["DMA", "DMA32", "Normal", "Movable", "Device"]);
    expect(dma).toMatchObject({
      freePages: 3625, watermarkBoost: 0, min: 190, low: 237, high: 284, spannedPages: 4095, presentPages: 3998,
      managedPages: 3840, cmaPages: 0, lowmemReserve: [0, 356, 356, 356, 356], nodeUnreclaimable: 0, zoneStartPfn: 1,
    });
    expect(dma!.pagesets).toEqual([{ cpu: 0, count: 0, high: 237, batch: 1, statThreshold: 2 }]);
    expect(dma32).toMatchObject({ freePages: 37944, min: 4639, low: 5798, high: 6957, spannedPages: 104407, presentPages: 104407, managedPages: 93694, zoneStartPfn: 4096 });
    expect(dma32!.pagesets).toEqual([{ cpu: 0, count: 5793, high: 5798, batch: 31, statThreshold: 6 }]);
    expect(dma32!.stats!.nr_zone_active_anon).toBe(41066);
    expect(Object.keys(dma32!.stats!)).toHaveLength(17); // 11 zone items + 6 NUMA items
    for (const z of [normal, movable, device]) {
      expect(z).toMatchObject({ freePages: 0, presentPages: 0, managedPages: 0, lowmemReserve: [0, 0, 0, 0, 0] });
      expect(z!.pagesets).toBeUndefined();
      expect(z!.zoneStartPfn).toBeUndefined();
    }
  });
  it("keeps the per-node stats in the kernel's order", () => {
    const s = info.pgdats[0]!.nodeStats!;
    expect(Object.keys(s)).toHaveLength(43);
    expect(Object.keys(s)[0]).toBe("nr_inactive_anon");
    expect(Object.keys(s).at(-1)).toBe("pgpromote_candidate");
    expect(s.nr_page_table_pages).toBe(167);
    expect(s.nr_slab_unreclaimable).toBe(4029);
  });
});

describe("formatting a structure", () => {
  it("prints a two-node machine with the per-node stats under each node's first populated zone", () => {
    const zone = (name: string, present: number, start: number) => ({
      name, freePages: present, watermarkBoost: 0, min: 1, low: 2, high: 3, spannedPages: present, presentPages: present,
      managedPages: present, cmaPages: 0, lowmemReserve: [0, 0],
      ...(present ? { stats: { nr_free_pages: present }, pagesets: [{ cpu: 0, count: 0, high: 12, batch: 3 }], nodeUnreclaimable: 0, zoneStartPfn: start } : {}),
    });
    const info: Zoneinfo = {
      pgdats: [
        { nodeId: 0, nodeStats: { nr_inactive_anon: 5 }, zones: [zone("Normal", 512, 0), zone("Movable", 0, 0)] },
        { nodeId: 1, nodeStats: { nr_inactive_anon: 7 }, zones: [zone("Normal", 0, 0), zone("Movable", 1024, 512)] },
      ],
    };
    const text = formatZoneinfo(info);
    expect(text).toBe(
      [
        "Node 0, zone   Normal", "  per-node stats", "      nr_inactive_anon 5", "  pages free     512", "        boost    0", "        min      1",
        "        low      2", "        high     3", "        spanned  512", "        present  512", "        managed  512", "        cma      0",
        "        protection: (0, 0)", "      nr_free_pages 512", "  pagesets", "    cpu: 0", "              count: 0", "              high:  12",
        "              batch: 3", "  node_unreclaimable:  0", "  start_pfn:           0",
        "Node 0, zone  Movable", "  pages free     0", "        boost    0", "        min      1", "        low      2", "        high     3",
        "        spanned  0", "        present  0", "        managed  0", "        cma      0", "        protection: (0, 0)",
        "Node 1, zone   Normal", "  pages free     0", "        boost    0", "        min      1", "        low      2", "        high     3",
        "        spanned  0", "        present  0", "        managed  0", "        cma      0", "        protection: (0, 0)",
        "Node 1, zone  Movable", "  per-node stats", "      nr_inactive_anon 7", "  pages free     1024", "        boost    0", "        min      1",
        "        low      2", "        high     3", "        spanned  1024", "        present  1024", "        managed  1024", "        cma      0",
        "        protection: (0, 0)", "      nr_free_pages 1024", "  pagesets", "    cpu: 0", "              count: 0", "              high:  12",
        "              batch: 3", "  node_unreclaimable:  0", "  start_pfn:           512", "",
      ].join("\n"),
    );
    // and it parses back to the same structure (no vm stats threshold: a non-SMP kernel)
    expect(parseZoneinfo(text, "x")).toEqual({ ...info, lineEnding: "\n" });
  });
  it("refuses a populated zone without its block", () => {
    const info: Zoneinfo = { pgdats: [{ nodeId: 0, nodeStats: null, zones: [{ name: "Normal", freePages: 0, watermarkBoost: 0, min: 0, low: 0, high: 0, spannedPages: 1, presentPages: 1, managedPages: 1, cmaPages: 0, lowmemReserve: [0] }] }] };
    expect(() => formatZoneinfo(info)).toThrow(/lacks stats/);
  });
});

describe("malformed input: file:line: what", () => {
  it("empty file, wrong first line", () => {
    expect(errorOf("")).toMatch(/^zi\.txt: empty/);
    expect(errorOf("hello\n")).toBe('zi.txt:1: expected "Node N, zone NAME", got "hello"');
  });
  it("a missing or garbled fixed line names the line and what it expected", () => {
    // line 48 is DMA's "        min      190", 55 its protection
    expect(LF.split("\n")[47]).toBe("        min      190");
    expect(errorOf(edit(48, "        min      lots"))).toBe('zi.txt:48: expected "        min      N", got "        min      lots"');
    expect(errorOf(edit(48, null))).toBe('zi.txt:48: expected "        min      N", got "        low      237"');
    expect(errorOf(edit(55, "        protection: (0, x)"))).toBe('zi.txt:55: protection: expected numbers separated by ", ", got "0, x"');
  });
  it("a truncated file ends in an error at its last line", () => {
    const cut = LF.split("\n").slice(0, 70).join("\n");
    expect(errorOf(cut)).toMatch(/^zi\.txt:70: expected "  pagesets", got the end of the file$/);
  });
  it("structure the kernel guarantees: stats placement, pagesets, protection length, node order, duplicates", () => {
    // per-node stats moved under DMA32 (not the first populated zone): drop them from DMA, add to DMA32
    const l = LF.split("\n");
    const stats = l.slice(1, 45);
    const moved = [l[0]!, ...l.slice(45, 81), ...stats, ...l.slice(81)].join("\n");
    expect(errorOf(moved)).toBe(`zi.txt:2: zone DMA is node 0's first populated zone, so 6.1 prints "  per-node stats" right after its header`);
    const twice = [...l.slice(0, 81), ...stats, ...l.slice(81)].join("\n");
    expect(errorOf(twice)).toBe("zi.txt:82: per-node stats under zone DMA32 of node 0: 6.1 prints them only under the node's first populated zone");
    // a zone without present pages followed by more lines
    expect(errorOf(edit(128, "      nr_free_pages 0"))).toMatch(/^zi\.txt:128: zone Normal of node 0 has no present pages, so 6\.1 ends it after protection/);
    // no CPU under pagesets
    expect(errorOf([...l.slice(0, 73), ...l.slice(78)].join("\n"))).toMatch(/^zi\.txt:74: zone DMA of node 0: pagesets lists no CPU; got "  node_unreclaimable:  0"/);
    // four protection values for five zones
    expect(errorOf(edit(55, "        protection: (0, 356, 356, 356)"))).toBe(
      "zi.txt:55: zone DMA of node 0: protection has 4 values, but the node has 5 zones (one value per zone)",
    );
    expect(errorOf(edit(81, "Node 0, zone      DMA"))).toBe("zi.txt:81: zone DMA of node 0 appears twice");
    expect(errorOf(LF.replace("Node 0, zone   Normal", "Node 1, zone   Normal").replace("Node 0, zone  Movable", "Node 0, zone  Movable"))).toBe(
      "zi.txt:128: node 0 after node 1: zoneinfo lists nodes in ascending order",
    );
    expect(errorOf(edit(3, "      nr_active_anon 41066"))).toBe('zi.txt:4: per-node stat "nr_active_anon" appears twice');
  });
  it("a missing final newline is accepted, with or without its \\r", () => {
    const info = parseZoneinfo(SAMPLE, "s");
    expect(parseZoneinfo(SAMPLE.slice(0, -2), "s")).toEqual(info);
    expect(parseZoneinfo(SAMPLE.slice(0, -1), "s")).toEqual(info);
    expect(parseZoneinfo(LF.slice(0, -1), "s")).toEqual({ ...info, lineEnding: "\n" });
    expect(parseZoneinfo("\uFEFF" + LF, "s")).toEqual({ ...info, lineEnding: "\n" });
  });
  it("a stat named __proto__ is refused, not swallowed", () => {
    expect(errorOf(edit(3, "      __proto__ 0"))).toBe('zi.txt:3: per-node stat "__proto__" is no vmstat item');
  });
  it("mixed line endings, huge values, control characters are quoted", () => {
    expect(errorOf(SAMPLE.replace("  pages free     3625\r\n", "  pages free     3625\n"))).toBe(
      'zi.txt:46: mixed line endings: line 1 ends with "\\r\\n", this one does not',
    );
    expect(errorOf(edit(46, "  pages free     99999999999999999999"))).toBe("zi.txt:46: value 99999999999999999999 is too large to hold exactly (at most 2^53)");
    expect(errorOf(edit(46, "  pages free \u001b[2J"))).toBe('zi.txt:46: expected "  pages free     N", got "  pages free \\u001b[2J"');
  });
});
