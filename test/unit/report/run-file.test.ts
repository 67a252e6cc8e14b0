/**
 * Reading `wsim report`'s inputs: a run and a compare output are recognised; anything else is
 * a DataError naming the file, the line and what is wrong (never a TypeError later in a chart).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readInput } from "../../../src/report/run-file.js";
import { dataErrorOf } from "../../helpers.js";
import { handRun } from "./fixtures.js";

const tmp = mkdtempSync(join(tmpdir(), "wsim-runfile-"));
let n = 0;
/** writes `doc` pretty-printed (2 spaces, as --format json) and returns its path */
function write(doc: unknown): string {
  const p = join(tmp, `in${n++}.json`);
  writeFileSync(p, JSON.stringify(doc, null, 2) + "\n");
  return p;
}
/** the line of the first occurrence of `needle` in the pretty-printed doc (`needle@-1`: the line before) */
const lineOf = (doc: unknown, needle: string) => {
  const [text, off] = needle.split("@") as [string, string | undefined];
  return JSON.stringify(doc, null, 2).split("\n").findIndex((l) => l.includes(text)) + 1 + Number(off ?? 0);
};

describe("readInput", () => {
  it("recognises a run and a compare output", () => {
    expect(readInput(write(handRun())).kind).toBe("run");
    expect(readInput(write({ wsim: {}, kernel: {}, rows: [{ counter: "pgfault", wsim: 1, kernel_min: 0, kernel_max: 2 }] })).kind).toBe("compare");
  });

  it("a run without workingset gets an empty one", () => {
    const { workingset: _, ...rest } = handRun();
    const doc = readInput(write(rest));
    expect(doc.kind === "run" && doc.run.workingset).toEqual({});
  });

  const cases: [string, (r: Record<string, any>) => void, string, string][] = [
    ["a machine without nodes", (r) => (r.machine = { name: "x" }), '"machine": {', 'not a wsim run: "machine" is an object, expected {name, nodes: [{id, mem, tier, cpus}]}'],
    // the line is where the offending element opens: for a node, 4 lines above its "zones"
    ["a node without zones", (r) => (r.nodes[1].zones = []), '"zones": []@-4', "nodes[1]: expected {id, zones: [{buddyinfo: [11 numbers], ...}]}"],
    ["a sample's buddyinfo of 10 orders", (r) => (r.series[2].buddyinfo[0] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), '"time_ms": 3000,@-1', "series[2]: expected {time_ms, vmstat, buddyinfo: [[11 numbers] per node], ...}"],
    ["a sample's counter that is a string", (r) => (r.series[1].vmstat.pgfault = "10"), '"time_ms": 2000,@-1', 'series[1].vmstat "pgfault": expected a number, got "10"'],
    ["page_age bins that are not bins", (r) => (r.workingset["/a"]["0"].page_age = "x"), '"0": {', "workingset /a node 0: expected {page_age, page_age_exact: [{le_ms, anon, file}] of one length, misplaced_share}"],
    ["page_age and exact of different lengths", (r) => r.workingset["/a"]["0"].page_age_exact.pop(), '"0": {', "workingset /a node 0: expected"],
    ["promotion latency without counts", (r) => (r.promotion.by.kpromoted.latency = [{ le_ms: 100 }]), '"promotion": {', "promotion: expected {truly_hot, promoted_hot, by: {promoter: {latency: [{le_ms, count}]}}, ...}"],
    ["a pageblock map whose mt and free differ in length", (r) => r.pageblock_map.zones[0].free.pop(), '"pageblock_map": {', "pageblock_map: expected {time_ms, zones: [{node, zone, start_pfn, mt: [...], free: [...] of one length}]}"],
  ];
  it.each(cases)("%s is bad data at its line", async (_, spoil, needle, msg) => {
    const r = handRun() as unknown as Record<string, any>;
    spoil(r);
    const p = write(r);
    const err = await dataErrorOf(() => readInput(p));
    expect(err).toContain(`${p}:${lineOf(r, needle)}: ${msg}`);
  });

  it("a file larger than the limit is bad data that says what to do instead", async () => {
    const p = write(handRun());
    expect(await dataErrorOf(() => readInput(p, 1024))).toMatch(
      new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: \\d+\\.\\d MiB is more than wsim report reads \\(0\\.0 MiB\\): replay with --report FILE\\.html instead`),
    );
  });

  it("a compare row without the kernel's range is bad data at its line", async () => {
    const doc = { rows: [{ counter: "a", wsim: 1, kernel_min: 0, kernel_max: 1 }, { counter: "b", wsim: 2 }] };
    const p = write(doc);
    expect(await dataErrorOf(() => readInput(p))).toBe(`${p}:${lineOf(doc, '"counter": "b"') - 1}: rows[1]: expected {counter, wsim, kernel_min, kernel_max} as wsim compare --format json writes`);
  });
});
