/**
 * Issue 20 item 2, `.wtrace` end to end: `wsim convert` writes it (by name or --to), every
 * reader sniffs it by magic (a path, `-`, gzipped); CSV -> wtrace -> CSV is byte-identical
 * to CSV -> CSV for every bundled trace and for a fixture with every op and column; a
 * replay of the .wtrace prints the pinned golden output of its source; a cut or corrupt
 * file is one line `file: record N: ...` (or `byte B`), exit 3, and `convert` then writes
 * no output.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { replay } from "../../src/replay.js";
import { renderVmstat } from "../../src/report/vmstat.js";
import { bundledTraces, GOLDEN_ARGS, TRACES } from "../golden/bundled.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const dir = mkdtempSync(join(tmpdir(), "wsim-wtrace-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wsim = (args: string[], input?: Buffer) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, input, maxBuffer: 1 << 28 });
const at = (f: string) => join(dir, f);



describe("every bundled trace through .wtrace", () => {
  for (const path of bundledTraces()) {
    const name = relative(TRACES, path);
    const safe = name.replace(/[/]/g, "__");
    it(`${name}: CSV via .wtrace is CSV direct, byte for byte; its replay is the golden output`, async () => {
      const a = wsim(["convert", "-q", path, `${safe}.a.csv`]);
      expect(a.status, a.stderr.toString()).toBe(0);
      const w = wsim(["convert", "-q", path, `${safe}.wtrace`]);
      expect(w.status, w.stderr.toString()).toBe(0);
      expect(readFileSync(at(`${safe}.wtrace`)).subarray(0, 8).toString("latin1")).toBe("\x89WTRACE\n");
      const b = wsim(["convert", "-q", `${safe}.wtrace`, `${safe}.b.csv`]);
      expect(b.status, b.stderr.toString()).toBe(0);
      expect(readFileSync(at(`${safe}.b.csv`)).equals(readFileSync(at(`${safe}.a.csv`)))).toBe(true);
      const r = await replay({ trace: at(`${safe}.wtrace`), ...GOLDEN_ARGS[name.split("/").pop()!] });
      expect(r.trace.format).toBe("wtrace");
      expect(renderVmstat(r)).toBe(readFileSync(join(ROOT, "test/golden/__expected__", `${safe}.vmstat.txt`), "utf8"));
      const reads = r.reads.map((x) => `== t=${x.time_ms} read ${x.key}${x.node !== null ? ` node=${x.node}` : ""}\n${x.value}`).join("");
      const pinned = join(ROOT, "test/golden/__expected__", `${safe}.reads.txt`);
      if (reads || existsSync(pinned)) expect(reads).toBe(readFileSync(pinned, "utf8"));
    });
  }
});

// every op and every column the CSV reader accepts, columns in a free order, quoting,
// non-ASCII strings, fractional times, hex and decimal addresses
const ALL = [
  "# wsim: machine=default",
  "op,time_ms,pid,addr,len,rw,node,kind,thp,cg,id,order,mt,key,value",
  "set,0,,,,,,,,,,,,vm.swappiness,10",
  "set,0,,,,,,,,/a/b,,,,memory.workingset.page_age_intervals,\"N0=100,1000,10000\"",
  "mmap,0.25,7,0x10000000,8388608,,0,file,1,/a/b,,,,,",
  "mmap,0.5,8,268435456,,,,anon,0,,,,,,",
  "access,1,7,0x10001000,,w,0,,,,,,,,",
  "access,1.125,8,0x10000000,,r,,,,,,,,,",
  "alloc,2,,,,,0,,,,hé llo,3,reclaimable,,",
  "alloc,2,,,,,,,,,\"x,y\",0,movable,,",
  "free,3,,,,,,,,,hé llo,,,,",
  "read,4,,,,,0,,,,,,,buddyinfo,",
  "read,4,,,,,,,,/a/b,,,,memory.workingset.page_age,",
  "compact,5,,,,,0,,,,,,,,",
  "compact,5.5,,,,,,,,,,,,,",
  "munmap,6,7,0x10000000,4096,,,,,,,,,,",
  "exit,7,7,,,,,,,,,,,,",
  "exit,7,8,,,,,,,,,,,,",
  "",
].join("\n");

describe("a trace with every op and column", () => {
  it("CSV -> wtrace -> CSV and -> NDJSON are byte-identical to the direct conversions", () => {
    writeFileSync(at("all.csv"), ALL);
    for (const [args, out] of [[["all.csv", "all.wtrace"], "all.wtrace"], [["all.csv", "all.csv.wtrace", "--to", "wtrace"], "all.csv.wtrace"]] as const) {
      const r = wsim(["convert", ...args]);
      expect(r.status, r.stderr.toString()).toBe(0);
      expect(readFileSync(at(out)).subarray(0, 8).toString("latin1")).toBe("\x89WTRACE\n");
    }
    for (const ext of ["csv", "ndjson", "json"]) {
      expect(wsim(["convert", "all.csv", `d.${ext}`]).status).toBe(0);
      expect(wsim(["convert", "all.wtrace", `w.${ext}`]).status).toBe(0);
      expect(readFileSync(at(`w.${ext}`), "utf8")).toBe(readFileSync(at(`d.${ext}`), "utf8"));
    }
    // the CSV direct conversion itself: every column, the machine named
    const d = readFileSync(at("d.csv"), "utf8").split("\n");
    expect(d[0]).toBe("# wsim: machine=default");
    expect(d).toContain('2,alloc,,,,,,,,,"x,y",0,movable,,,,,,,,'); // key, value and the 6 extra columns empty
    expect(d).toContain("0.25,mmap,7,0x10000000,8388608,,0,file,1,/a/b,,,,,,,,,,,");
  });

  it("replays as the CSV does (every output format), from a path, from stdin and gzipped", () => {
    writeFileSync(at("all.csv"), ALL);
    expect(wsim(["convert", "all.csv", "all.wtrace"]).status).toBe(0);
    expect(wsim(["convert", "all.csv", "all.wtrace.gz"]).status).toBe(0);
    expect(readFileSync(at("all.wtrace.gz"))[0]).toBe(0x1f);
    for (const f of ["vmstat", "json", "text"]) {
      const csv = wsim(["replay", "all.csv", "--format", f]);
      expect(csv.status, csv.stderr.toString()).toBe(0);
      const norm = (s: string) => s.replace(/all\.csv|all\.wtrace(\.gz)?|-(?=")/g, "T").replace(/"format": "(csv|wtrace)"/, '"format": F').replace(/format: (csv|wtrace)/, "format: F").replace(/\((csv|wtrace)\)/, "(F)").replace(/^(wsim \S+) - \(/m, "$1 T (");
      for (const [args, input] of [[["all.wtrace"], undefined], [["all.wtrace.gz"], undefined], [["-"], readFileSync(at("all.wtrace"))]] as const) {
        const w = wsim(["replay", ...args, "--format", f], input);
        expect(w.status, w.stderr.toString()).toBe(0);
        if (f === "vmstat") expect(w.stdout.toString()).toBe(csv.stdout.toString());
        else expect(norm(w.stdout.toString())).toBe(norm(csv.stdout.toString()));
      }
    }
    // and stat
    const s1 = wsim(["stat", "all.csv", "--format", "json"]);
    const s2 = wsim(["stat", "all.wtrace", "--format", "json"]);
    expect(s2.status, s2.stderr.toString()).toBe(0);
    const strip = (b: Buffer) => {
      const o = JSON.parse(b.toString()) as Record<string, unknown>;
      delete o.trace;
      delete o.format;
      return o;
    };
    expect(strip(s2.stdout)).toEqual(strip(s1.stdout));
  });

  it("--to wtrace writes the binary to standard output, which replay reads from a pipe", () => {
    writeFileSync(at("all.csv"), ALL);
    const w = wsim(["convert", "all.csv", "-", "--to", "wtrace"]);
    expect(w.status, w.stderr.toString()).toBe(0);
    expect(w.stdout.equals(readFileSync(at("all.wtrace")))).toBe(true);
  });
});

describe("errors", () => {
  it("a cut .wtrace: exit 3, one line naming the record; convert writes nothing", () => {
    writeFileSync(at("all.csv"), ALL);
    expect(wsim(["convert", "all.csv", "all.wtrace"]).status).toBe(0);
    const full = readFileSync(at("all.wtrace"));
    writeFileSync(at("cut.wtrace"), full.subarray(0, full.length - 9 - 20));
    const r = wsim(["replay", "cut.wtrace"]);
    expect(r.status).toBe(3);
    // one block of 16 records (the rows of ALL): 20 bytes off its end cut the 16th
    expect(r.stderr.toString()).toBe("cut.wtrace: record 16: cut short: the file ends inside it\n");
    expect(r.stderr.toString()).not.toMatch(/\n\s+at /);
    writeFileSync(at("out.csv"), "keep me\n");
    const c = wsim(["convert", "cut.wtrace", "out.csv"]);
    expect(c.status).toBe(3);
    expect(readFileSync(at("out.csv"), "utf8")).toBe("keep me\n");
    const c2 = wsim(["convert", "cut.wtrace", "new.csv"]);
    expect(c2.status).toBe(3);
    expect(existsSync(at("new.csv"))).toBe(false);
  });

  it("a .wtrace name without the magic, a corrupt gzip of one, an unknown --to", () => {
    writeFileSync(at("text.wtrace"), "time_ms,op,pid\n0,exit,1\n");
    const r = wsim(["replay", "text.wtrace"]);
    expect(r.status).toBe(3);
    expect(r.stderr.toString()).toContain("text.wtrace: not a .wtrace file (its first bytes are not the magic \\x89WTRACE\\n)");
    writeFileSync(at("all.csv"), ALL);
    expect(wsim(["convert", "all.csv", "z.wtrace.gz"]).status).toBe(0);
    const gz = readFileSync(at("z.wtrace.gz"));
    writeFileSync(at("zcut.wtrace.gz"), gz.subarray(0, gz.length - 12));
    const g = wsim(["replay", "zcut.wtrace.gz"]);
    expect(g.status).toBe(3);
    expect(g.stderr.toString().trim().split("\n").length).toBe(1);
    const u = wsim(["convert", "all.csv", "x.out", "--to", "bin"]);
    expect(u.status).toBe(2);
    // the magic wins over the name: a .wtrace called .csv is still read as one
    writeFileSync(at("binary.csv"), readFileSync(at("all.wtrace")));
    expect(wsim(["replay", "binary.csv", "--format", "vmstat"]).stdout.toString()).toBe(wsim(["replay", "all.csv", "--format", "vmstat"]).stdout.toString());
    void gzipSync;
  });

  it("an engine error in a .wtrace names the record (its number in place of a line)", () => {
    writeFileSync(at("badfree.csv"), "time_ms,op,id\n0,alloc,a\n1,free,b\n");
    expect(wsim(["convert", "badfree.csv", "badfree.wtrace"]).status).toBe(0);
    const csv = wsim(["replay", "badfree.csv"]);
    const w = wsim(["replay", "badfree.wtrace"]);
    expect(csv.status).toBe(3);
    expect(w.status).toBe(3);
    // line 3 of the CSV is the second record
    expect(w.stderr.toString()).toBe(csv.stderr.toString().replace("badfree.csv:3:", "badfree.wtrace:2:"));
  });
});
