/**
 * madvise / mlock / munlock through the command line (issue 15 item 3): a trace replays under
 * --check with hand-counted counters, in every format `convert` writes that can carry the
 * advice column; the errors; and `wsim generate malloc-trim`'s output replays under --check.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const dir = mkdtempSync(join(tmpdir(), "wsim-madv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wsim = (args: string[], input?: string) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8", input, maxBuffer: 1 << 28 });
const counters = (out: string) => Object.fromEntries(out.trim().split("\n").map((l) => [l.split(" ")[0]!, Number(l.split(" ")[1])]));

// 16 pages mapped, 4 written; 2 zapped (DONTNEED); 2 lazyfreed; PAGEOUT drops those 2 clean
// lazyfree pages without swap; mlock of all 16 populates 16; COLD of a locked region is
// refused; munlock of half, exit munlocks the other half; COLLAPSE of a range holding no
// whole 2 MiB does nothing.
const TRACE = `time_ms,op,pid,addr,len,rw,advice
0,mmap,1,0x100000,65536,,
1,access,1,0x100000,,w,
1,access,1,0x101000,,w,
1,access,1,0x102000,,w,
1,access,1,0x103000,,w,
2,madvise,1,0x100000,8192,,dontneed
3,madvise,1,0x102000,8192,,free
4,madvise,1,0x100000,65536,,pageout
5,mlock,1,0x100000,65536,,
6,madvise,1,0x100000,65536,,cold
7,munlock,1,0x100000,32768,,
8,madvise,1,0x100000,65536,,collapse
9,exit,1,,,,
`;
const WANT = {
  pgfault: 20, // 4 writes + 16 populated by mlock (the 2 zapped and 2 dropped pages among them)
  pglazyfree: 2,
  pglazyfreed: 2,
  pswpout: 0,
  pgdeactivate: 0,
  unevictable_pgs_mlocked: 16,
  unevictable_pgs_culled: 16,
  unevictable_pgs_munlocked: 16, // 8 by munlock, 8 by exit
  unevictable_pgs_rescued: 16,
  unevictable_pgs_cleared: 0,
  nr_mlock: 0,
  nr_unevictable: 0,
  thp_collapse_alloc: 0,
  // 20 pages + the page tables (PGD 2, PUD, PMD, PTE) + one slab page for each of the four
  // caches VMAs use (vm_area_struct, anon_vma, anon_vma_chain, maple_node); exit frees the
  // pages and tables, and SLUB keeps the four (empty) CPU slabs
  pgalloc_normal: 29,
  pgfree: 25,
};

describe("madvise and mlock replay", () => {
  writeFileSync(join(dir, "m.csv"), TRACE);

  it("replays under --check with the hand-counted counters, from CSV, NDJSON, JSON and .wtrace", () => {
    for (const out of ["m.ndjson", "m.json", "m.wtrace"]) {
      const r = wsim(["convert", "m.csv", out]);
      expect(r.status, r.stderr).toBe(0);
    }
    expect(readFileSync(join(dir, "m.ndjson"), "utf8")).toContain('"op":"madvise","pid":1,"addr":"0x102000","len":8192,"advice":"free"');
    expect(wsim(["convert", "m.wtrace", "w.ndjson"]).status).toBe(0);
    expect(readFileSync(join(dir, "w.ndjson"), "utf8")).toBe(readFileSync(join(dir, "m.ndjson"), "utf8"));
    for (const f of ["m.csv", "m.ndjson", "m.json", "m.wtrace"]) {
      const r = wsim(["replay", f, "--check", "--set", "transparent_hugepage.enabled=never", "-f", "vmstat"]);
      expect(r.status, r.stderr).toBe(0);
      const v = counters(r.stdout);
      for (const [k, n] of Object.entries(WANT)) expect(v[k], `${f} ${k}`).toBe(n);
    }
  });

  it("convert to CSV keeps the advice column: the copy replays as the original", () => {
    const r = wsim(["convert", "m.csv", "c.csv"]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "c.csv"), "utf8")).toMatch(/\n2,madvise,1,[^\n]*,dontneed,,,,\n/);
    expect(wsim(["replay", "c.csv", "-f", "vmstat"]).stdout).toBe(wsim(["replay", "m.csv", "-f", "vmstat"]).stdout);
    expect(existsSync(join(dir, "c.csv"))).toBe(true);
  });

  it("an unknown advice is exit 3 naming the line and the accepted values", () => {
    writeFileSync(join(dir, "bad.csv"), "time_ms,op,pid,addr,advice\n0,mmap,1,0x100000,\n1,madvise,1,0x100000,MADV_FREE\n");
    const r = wsim(["replay", "bad.csv"]);
    expect(r.status).toBe(3);
    expect(r.stderr).toBe('bad.csv:3: unknown advice "MADV_FREE" (expected one of dontneed, free, cold, pageout, willneed, hugepage, nohugepage, collapse)\n');
    writeFileSync(join(dir, "bad.ndjson"), '{"time_ms":0,"op":"madvise","pid":1,"addr":4096,"advice":"sideways"}\n');
    const n = wsim(["replay", "bad.ndjson"]);
    expect(n.status).toBe(3);
    expect(n.stderr).toMatch(/^bad\.ndjson:1: unknown advice "sideways" \(expected one of dontneed, /);
  });

  it("mlock of a range with no region is exit 3", () => {
    writeFileSync(join(dir, "ml.csv"), "time_ms,op,pid,addr,len\n0,mlock,1,0x100000,4096\n");
    const r = wsim(["replay", "ml.csv"]);
    expect(r.status).toBe(3);
    expect(r.stderr).toBe("ml.csv:2: mlock of [0x100000, +4096) of pid 1: the range is not wholly inside mmap'ed regions (the kernel's ENOMEM); mmap it first\n");
  });
});

describe("wsim generate malloc-trim", () => {
  it("writes the advice column, is deterministic, and replays under --check", () => {
    const args = ["generate", "malloc-trim", "--heap-mb", "4", "--chunk-kb", "64", "--ops", "200", "--seed", "3"];
    const a = wsim(args);
    expect(a.status, a.stderr).toBe(0);
    expect(wsim(args).stdout).toBe(a.stdout);
    const rows = a.stdout.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(rows[0]).toBe("time_ms,op,pid,addr,len,rw,node,kind,thp,cg,id,order,mt,key,value,advice");
    const frees = rows.filter((l) => l.endsWith(",free")).length;
    const dontneeds = rows.filter((l) => l.endsWith(",dontneed")).length;
    const writes = rows.filter((l) => l.includes(",access,")).length;
    expect(frees).toBeGreaterThan(0);
    expect(dontneeds).toBeGreaterThan(0);
    // each op writes a whole chunk (16 pages) or trims one
    expect(writes).toBe(16 * (200 - frees - dontneeds));
    writeFileSync(join(dir, "mt.csv"), a.stdout);
    // --check is O(pages) an event: a 16 MiB machine (4096 pages) keeps it quick
    writeFileSync(join(dir, "small.json"), JSON.stringify({ name: "small", nodes: [{ id: 0, mem: "16M", cpus: true }] }));
    const r = wsim(["replay", "mt.csv", "-m", "small.json", "--check", "--set", "transparent_hugepage.enabled=never", "-f", "vmstat"]);
    expect(r.status, r.stderr).toBe(0);
    const v = counters(r.stdout);
    // a trimmed chunk was written whole: FREE marks at most its 16 pages (none already lazyfree)
    expect(v.pglazyfree).toBeGreaterThan(0);
    expect(v.pglazyfree).toBeLessThanOrEqual(16 * frees);
    // every write faults unless its page is present (written before and not zapped)
    expect(v.pgfault).toBeLessThanOrEqual(writes);
    expect(v.pgfault).toBeGreaterThanOrEqual(16 * (200 - frees - dontneeds) - 16 * frees);
    // a 4 MiB heap on 16 MiB: no reclaim, so no lazyfree page is dropped
    expect(v.pglazyfreed).toBe(0);
    // NDJSON carries the advice key
    const n = wsim([...args, "-f", "ndjson"]);
    expect(n.stdout.split("\n").filter((l) => l.includes('"advice":"free"')).length).toBe(frees);
  });
});
