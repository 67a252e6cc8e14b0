/**
 * `fork` through the CLI (issue 15 item 1) and the fork-snapshot generator (item 6). Figures by
 * hand: a fault per first touch, one per write to a page still shared (a copy), one per write
 * by its last mapper (a reuse, pgreuse); reads of shared pages fault nothing. A 64 MiB node
 * with page tables, VMA slab and per-cpu lists off, so only the trace's pages count.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const dir = mkdtempSync(join(tmpdir(), "wsim-fork-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wsim = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8" });
const stat = (out: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(out)![1]);

writeFileSync(join(dir, "m.json"), JSON.stringify({ name: "m", nodes: [{ id: 0, mem: "64M" }] }));
const QUIET = ["--machine", "m.json", "--set", "wsim.page_tables=0", "--set", "wsim.slab=0", "--set", "wsim.pcp=0", "-f", "vmstat"];
const replay = (f: string, ...more: string[]) => wsim(["replay", f, ...QUIET, ...more]);

const BASE = 0x10000000;
const a = (k: number) => `0x${(BASE + k * 4096).toString(16)}`;
/** pid 1 writes 16 pages, forks 2; 1 writes pages 0..3 (copies); 2 writes page 0 (reuse) and reads 9; 2 exits */
const TRACE = [
  "time_ms,op,pid,addr,len,rw,thp,child",
  `0,mmap,1,${a(0)},65536,,0,`,
  ...Array.from({ length: 16 }, (_, k) => `0,access,1,${a(k)},,w,,`),
  "1,fork,1,,,,,2",
  ...[0, 1, 2, 3].map((k) => `2,access,1,${a(k)},,w,,`),
  `3,access,2,${a(0)},,w,,`,
  `3,access,2,${a(9)},,r,,`,
  "4,exit,2,,,,,",
].join("\n") + "\n";

describe("fork in a trace", () => {
  it("replays under --check: 16 first touches, 4 copies, 1 reuse; the child's exit frees 4 originals", () => {
    writeFileSync(join(dir, "f.csv"), TRACE);
    const r = replay("f.csv", "--check");
    expect(r.status, r.stderr).toBe(0);
    expect(stat(r.stdout, "pgfault")).toBe(16 + 4 + 1);
    expect(stat(r.stdout, "pgreuse")).toBe(1);
    expect(stat(r.stdout, "pgalloc_normal")).toBe(16 + 4);
    // the child mapped originals 0..3 alone (0 reused) and 4..15 shared: its exit frees 4
    expect(stat(r.stdout, "pgfree")).toBe(4);
    expect(stat(r.stdout, "nr_anon_pages")).toBe(16);
    expect(stat(r.stdout, "nr_free_pages")).toBe(16384 - 16);
  });

  it("an unknown parent, a child pid alive, a missing or bad child: exit 3 at the line, no stack trace", () => {
    const cases: [string, string][] = [
      ["time_ms,op,pid,child\n0,fork,7,8\n", "u.csv:2: fork of pid 7, which has no earlier event: a process forks after it has run\n"],
      [`time_ms,op,pid,addr,child\n0,access,1,${a(0)},\n0,access,2,${a(0)},\n1,fork,1,,2\n`, "u.csv:4: fork's child pid 2 is alive (it has events and no exit before this fork): a new process needs a free pid\n"],
      [`time_ms,op,pid,addr,child\n0,access,1,${a(0)},\n1,fork,1,,\n`, "u.csv:3: fork needs child\n"],
      [`time_ms,op,pid,addr,child\n0,access,1,${a(0)},\n1,fork,1,,-2\n`, 'u.csv:3: child: expected a pid 0..4294967295, got "-2"\n'],
    ];
    for (const [text, err] of cases) {
      writeFileSync(join(dir, "u.csv"), text);
      const r = replay("u.csv");
      expect(r.status, text).toBe(3);
      expect(r.stderr).toBe(err);
    }
  });

  it("convert keeps the child column in NDJSON, JSON, .wtrace and CSV (each replays as the original)", () => {
    writeFileSync(join(dir, "f.csv"), TRACE);
    const want = stat(replay("f.csv").stdout, "pgfault");
    for (const out of ["f.ndjson", "f.json", "f.wtrace"]) {
      expect(wsim(["convert", "f.csv", out]).status).toBe(0);
      expect(stat(replay(out).stdout, "pgfault"), out).toBe(want);
    }
    expect(readFileSync(join(dir, "f.ndjson"), "utf8")).toContain('{"time_ms":1,"op":"fork","pid":1,"child":2}\n');
    // and a CSV made of it keeps the column: the same replay
    const r = wsim(["convert", "f.csv", "c.csv"]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "c.csv"), "utf8")).toContain("\n1,fork,1,,,,,,,,,,,,,,,,2,,\n");
    expect(stat(replay("c.csv").stdout, "pgfault")).toBe(want);
    expect(existsSync(join(dir, "c.csv"))).toBe(true);
  });
});

describe("wsim generate fork-snapshot", () => {
  it("replays under --check: one THP fault per 2 MiB, one copy per distinct page the parent writes after the fork, a split per huge page written", () => {
    const g = wsim(["generate", "fork-snapshot", "--heap-mb", "4", "--writes", "64", "--seed", "5", "-o", "s.csv"]);
    expect(g.status, g.stderr).toBe(0);
    const rows = readFileSync(join(dir, "s.csv"), "utf8").split("\n").filter((l) => l && !l.startsWith("#")).slice(1).map((l) => l.split(","));
    // what the trace holds, read from it: the parent's writes after the fork, and which 2 MiB halves they hit
    const forkAt = rows.findIndex((c) => c[1] === "fork");
    expect(rows[forkAt]!.at(-1)).toBe("2");
    const after = rows.slice(forkAt).filter((c) => c[1] === "access" && c[2] === "1");
    expect(after).toHaveLength(64);
    const pages = new Set(after.map((c) => (Number(c[3]) - BASE) / 4096));
    const huge = new Set([...pages].map((p) => Math.floor(p / 512)));
    expect(rows.filter((c) => c[1] === "access" && c[2] === "2")).toHaveLength(1024); // the child reads the heap once
    expect(rows.at(-1)!.slice(1, 3)).toEqual(["exit", "2"]);
    const r = replay("s.csv", "--check");
    expect(r.status, r.stderr).toBe(0);
    expect(stat(r.stdout, "thp_fault_alloc")).toBe(2);
    expect(stat(r.stdout, "thp_split_pmd")).toBe(huge.size);
    expect(stat(r.stdout, "pgfault")).toBe(2 + pages.size);
    expect(stat(r.stdout, "pgalloc_normal")).toBe(1024 + pages.size);
    // the child's exit frees the originals of the copied pages; the parent maps the heap
    expect(stat(r.stdout, "pgfree")).toBe(pages.size);
    expect(stat(r.stdout, "nr_anon_pages")).toBe(1024);
  });
});
