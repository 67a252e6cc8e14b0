/**
 * The `gfp` column (zones, issue 13) survives conversion to NDJSON, JSON and .wtrace, and every
 * copy replays as the original; a CSV converted from a wsim trace has the column too (an
 * importer's CSV, which has none of the extra columns, would refuse a row with one). Before, convert dropped it from CSV and NDJSON and
 * crashed (exit 70) writing .wtrace, whose field widths had no entry for it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const dir = mkdtempSync(join(tmpdir(), "wsim-gfp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wsim = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8" });
const pgalloc = (out: string) => out.split("\n").filter((l) => /^pgalloc_(dma|dma32|normal) /.test(l));

describe("convert keeps gfp", () => {
  writeFileSync(join(dir, "g.csv"), "time_ms,op,id,order,gfp\n0,alloc,a,0,dma32\n1,alloc,b,0,dma\n2,alloc,c,3,kernel\n3,free,a,,\n");

  it("NDJSON, JSON and .wtrace carry it; every copy replays as the original", () => {
    for (const out of ["g.ndjson", "g.json", "g.wtrace"]) {
      const r = wsim(["convert", "g.csv", out]);
      expect(r.status, r.stderr).toBe(0);
    }
    expect(readFileSync(join(dir, "g.ndjson"), "utf8").split("\n").filter((l) => /"gfp":"dma3?2?"/.test(l)).length).toBe(2);
    expect(wsim(["convert", "g.wtrace", "w.ndjson"]).status).toBe(0);
    expect(readFileSync(join(dir, "w.ndjson"), "utf8")).toBe(readFileSync(join(dir, "g.ndjson"), "utf8"));
    // on the x86 layout: one page from DMA32, one from DMA, 8 from Normal (kernel's)
    const want = ["pgalloc_dma 1", "pgalloc_dma32 1", "pgalloc_normal 8"];
    for (const f of ["g.csv", "g.ndjson", "g.json", "g.wtrace"]) expect(pgalloc(wsim(["replay", f, "--zones", "x86", "-f", "vmstat"]).stdout), f).toEqual(want);
  });

  it("to CSV: the column is kept (a wsim trace's CSV has every column after value), and it replays as the original", () => {
    const r = wsim(["convert", "g.csv", "c.csv"]);
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(join(dir, "c.csv"), "utf8");
    expect(text.split("\n")[0]).toBe("time_ms,op,pid,addr,len,rw,node,kind,thp,cg,id,order,mt,key,value,gfp,advice,cpu,child,file,off");
    expect(text.split("\n")[1]).toBe("0,alloc,,,,,,,,,a,0,unmovable,,,dma32,,,,,"); // mt written out (its default)
    expect(pgalloc(wsim(["replay", "c.csv", "--zones", "x86", "-f", "vmstat"]).stdout)).toEqual(["pgalloc_dma 1", "pgalloc_dma32 1", "pgalloc_normal 8"]);
    expect(existsSync(join(dir, "c.csv"))).toBe(true);
  });
});
