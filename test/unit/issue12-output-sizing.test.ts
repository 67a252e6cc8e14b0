/**
 * Issue 12 item 18: a machine's host memory is worked out and checked before anything is
 * allocated. Figures by hand: 48 bytes per page (pages 11 + memory 20 + lru_gen 13 + the swap cache's
 * slots 4, issue 14), 17 more
 * with a lower tier, plus 256 MiB fixed.
 */
import { totalmem } from "node:os";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { checkHostMemory, hostBytesNeeded, PRESETS } from "../../src/machine/machine.js";
import { smallMachine } from "../helpers.js";

const GiB = 2 ** 30;
const TiB = 2 ** 40;

describe("host memory of a machine (item 18)", () => {
  it("one TiB on one node: 2^28 pages x 48 bytes + 256 MiB = 12.25 GiB", () => {
    const m = smallMachine(TiB / 4096);
    expect(hostBytesNeeded(m)).toBe(2 ** 28 * 49 + 256 * 2 ** 20);
    expect(hostBytesNeeded(m) / GiB).toBe(12.5);
  });

  it("the tiered preset (4 GiB + 8 GiB, two tiers): 3 * 2^20 pages x 65 bytes (48 + the ground truth's 17) + 256 MiB", () => {
    expect(hostBytesNeeded(PRESETS.tiered!)).toBe(3 * 2 ** 20 * 66 + 256 * 2 ** 20);
  });

  it("refuses with a usage error saying what is needed and what the host has", () => {
    const m = smallMachine(TiB / 4096);
    expect(() => checkHostMemory(m, 8 * GiB)).toThrow(UsageError);
    expect(() => checkHostMemory(m, 8 * GiB)).toThrow(
      "machine test: 1024.0 GiB of simulated memory needs about 12.5 GiB of host memory (49 bytes per 4 KiB page), and this host has 8.0 GiB: use a smaller machine",
    );
    // 13 GiB holds it
    expect(() => checkHostMemory(m, 13 * GiB)).not.toThrow();
  });

  const ROOT = new URL("../../", import.meta.url).pathname;
  const big = 7 * TiB;
  // 7 TiB needs 7 * 2^28 * 49 bytes = 85.75 GiB (+ 0.25 fixed = 86.0): refused on any host smaller than that
  it.skipIf(totalmem() > big / 4096 * 49)("wsim replay on a 7 TiB machine exits 2 before allocating, in about a second", () => {
    const dir = mkdtempSync(join(tmpdir(), "wsim-size-"));
    const mf = join(dir, "huge.machine.json");
    writeFileSync(mf, JSON.stringify({ name: "huge", nodes: [{ id: 0, mem: "7T", tier: 0, cpus: true }] }));
    const t = join(dir, "t.csv");
    writeFileSync(t, "time_ms,op,pid,addr\n0,access,1,0x1000\n");
    const r = spawnSync(process.execPath, [join(ROOT, "bin/wsim"), "replay", t, "--machine", mf], { encoding: "utf8", timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^wsim: machine huge: 7168\.0 GiB of simulated memory needs about 86\.0 GiB of host memory/);
  });
});
