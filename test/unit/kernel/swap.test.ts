/** The guest's swap image: the header mkswap(8) writes, so swapon(2) takes it. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { swapHeader, writeSwapImage } from "../../../src/kernel/swap.js";
import { which } from "../../../src/kernel/toolchain.js";

const dir = mkdtempSync(join(tmpdir(), "wsim-swap-"));
const mkswap = which("mkswap");
if (!mkswap) console.warn("SKIPPED: the swap image against mkswap's, no mkswap here (Debian: util-linux)");

describe("swap image", () => {
  it("has union swap_header's fields where include/linux/swap.h puts them", () => {
    const h = swapHeader(64 << 20);
    expect(h.length).toBe(4096);
    expect(h.readUInt32LE(1024)).toBe(1); // version
    expect(h.readUInt32LE(1028)).toBe(16383); // last_page: 16384 pages, the header is page 0
    expect(h.readUInt32LE(1032)).toBe(0); // nr_badpages
    expect(h.subarray(4086).toString("latin1")).toBe("SWAPSPACE2");
    expect(h.subarray(0, 1024).every((b) => b === 0)).toBe(true); // bootbits
    expect(() => swapHeader(4096)).toThrow(/at least two pages/);
  });

  it("is sparse and the size asked for", () => {
    const p = join(dir, "a.img");
    writeSwapImage(p, (8 << 20) + 100); // rounded down to whole pages
    expect(statSync(p).size).toBe(8 << 20);
    expect(readFileSync(p).subarray(0, 4096)).toEqual(swapHeader(8 << 20));
  });

  it.skipIf(!mkswap)("matches mkswap's first page byte for byte (same label, nil UUID)", () => {
    const ours = join(dir, "ours.img");
    const theirs = join(dir, "theirs.img");
    writeSwapImage(ours, 16 << 20);
    writeFileSync(theirs, Buffer.alloc(16 << 20));
    const r = spawnSync(mkswap!, ["-L", "wsim-swap", "-U", "00000000-0000-0000-0000-000000000000", theirs], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(ours).subarray(0, 4096)).toEqual(readFileSync(theirs).subarray(0, 4096));
  });
});
