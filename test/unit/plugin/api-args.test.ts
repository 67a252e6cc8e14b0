/**
 * A new user's findings on the plugin API: a pfn that is not a number is named as such (it was
 * "pfn x is in no zone"), and api.machine.nodes[].pages is the node's managed pages summed over its
 * zones (it read zone i's for node i, wrong once a node has several zones).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { replay } from "../../../src/replay.js";

const dir = mkdtempSync(join(tmpdir(), "wsim-plugin-args-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const trace = join(dir, "t.csv");
writeFileSync(trace, "time_ms,op,pid,addr\n0,access,1,0x1000\n");

describe("plugin api arguments", () => {
  it("migratePage with a string pfn: plugin FILE: pfn must be an integer page frame number", async () => {
    const p = join(dir, "bad.mjs");
    writeFileSync(p, 'export function register(api) { api.on("fault", () => api.migratePage("x", 0)); }\n');
    await expect(replay({ trace, plugins: [p] })).rejects.toThrow(/^plugin .*bad\.mjs: migratePage: pfn must be an integer page frame number, got "x"$/);
  });

  it("machine.nodes[].pages sums the node's zones: the x86 layout of a 4 GiB node is its managed pages, not DMA's", async () => {
    const p = join(dir, "nodes.mjs");
    writeFileSync(p, 'export function register(api) { const c = api.defineCounter("node0_pages"); c.add(api.machine.nodes[0].pages); }\n');
    const flat = await replay({ trace, plugins: [p], zones: "flat" });
    const x86 = await replay({ trace, plugins: [p], zones: "x86" });
    // flat: the whole 4 GiB node, 1048576 pages; x86: the sum of its zones' managed pages
    expect(flat.vmstat.wsim_plugin_node0_pages).toBe(1048576);
    const managed = x86.nodes[0]!.zones.reduce((s, z) => s + z.managed, 0);
    expect(x86.nodes[0]!.zones.length).toBeGreaterThan(1);
    expect(x86.vmstat.wsim_plugin_node0_pages).toBe(managed);
  });
});
