/**
 * Issue 12, review B: what a fresh user found trying wsim from the README. Each finding is a
 * kind, and each test covers every instance of it: B2 (a document's tunables converted to
 * set events at time 0 replay as the document), B5 (convert -q for every input), B6 (every
 * importer's format converted without --from), B7 (counts in convert's skip summary in the
 * right number), B8 (importer messages quote at most 60 characters), and the others below.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const dir = mkdtempSync(join(tmpdir(), "wsim-i12-review-b-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wsim = (args: string[], input?: string) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, input, encoding: "utf8", maxBuffer: 1 << 28, timeout: 60000 });
const at = (f: string) => join(dir, f);
const vmstat = (text: string) => Object.fromEntries(text.trim().split("\n").map((l) => l.split(" ")).map(([k, v]) => [k, Number(v)]));

describe("B2: a document's tunables converted to CSV/NDJSON are set events at 0 and replay as the document", () => {
  it("the repro: page_reporting.enabled=0 on vm, first event at 10 s: no page is reported, converted or not", () => {
    writeFileSync(at("pr.json"), JSON.stringify({ machine: "vm", tunables: { "page_reporting.enabled": 0 }, events: [{ time_ms: 10000, op: "access", pid: 1, addr: "0x1000" }] }));
    const orig = vmstat(wsim(["replay", "pr.json", "--format", "vmstat"]).stdout);
    expect(orig.wsim_reported_pages).toBe(0);
    for (const ext of ["csv", "ndjson"]) {
      const c = wsim(["convert", "pr.json", `pr.${ext}`]);
      expect(c.status, c.stderr).toBe(0);
      expect(c.stderr).toBe("tunables written as set events at 0 ms: page_reporting.enabled=0\n");
      const conv = vmstat(wsim(["replay", `pr.${ext}`, "--format", "vmstat"]).stdout);
      // reporting off from boot: no pass ever runs
      expect([conv.wsim_reporting_calls, conv.wsim_reported_pages, conv.wsim_nr_reported_pages]).toEqual([0, 0, 0]);
      // everything equal but the one set event the converted trace has more
      expect({ ...conv, wsim_events: conv.wsim_events! - 1 }).toEqual(orig);
    }
  });

  it("reporting turned off by a set at 0 on a machine that reports from boot cancels its first request", () => {
    writeFileSync(at("off.csv"), "# wsim: machine=vm\ntime_ms,op,pid,addr,len,rw,node,kind,thp,cg,id,order,mt,key,value\n0,set,,,,,,,,,,,,page_reporting.enabled,0\n10000,access,1,0x1000,,r,,,,,,,,,\n");
    expect(vmstat(wsim(["replay", "off.csv", "--format", "vmstat"]).stdout).wsim_reported_pages).toBe(0);
  });

  for (const t of ["kernel-fallback", "overcommit"])
    it(`traces/${t}.json converted to CSV and NDJSON replays as the document`, () => {
      const src = join(ROOT, `traces/${t}.json`);
      const doc = JSON.parse(readFileSync(src, "utf8")) as { machine: unknown; tunables?: Record<string, unknown> };
      const nTunables = Object.keys(doc.tunables ?? {}).length;
      writeFileSync(at(`${t}.machine.json`), JSON.stringify(doc.machine));
      const orig = vmstat(wsim(["replay", src, "--format", "vmstat"]).stdout);
      for (const ext of ["csv", "ndjson"]) {
        const c = wsim(["convert", src, `${t}.${ext}`, "-q"]);
        expect(c.status, c.stderr).toBe(0);
        const args = ["replay", `${t}.${ext}`, "--format", "vmstat", ...(ext === "csv" ? ["--machine", `${t}.machine.json`] : [])];
        const conv = vmstat(wsim(args).stdout);
        expect({ ...conv, wsim_events: conv.wsim_events! - nTunables }).toEqual(orig);
      }
    });
});

describe("B5: convert -q applies to every input", () => {
  it("a JSON document: -q silences the tunables note but not the machine CSV cannot carry", () => {
    const r = wsim(["convert", join(ROOT, "traces/kernel-fallback.json"), "kfq.csv", "-q"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/tunables written/);
    expect(r.stderr).toMatch(/^kfq\.csv cannot carry the machine "small32"/);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    const n = wsim(["convert", join(ROOT, "traces/kernel-fallback.json"), "kfq.ndjson", "-q"]);
    expect([n.status, n.stderr]).toEqual([0, ""]);
  });

  it("a wsim CSV trace and an importer's input: -q, nothing on stderr", () => {
    writeFileSync(at("plainq.csv"), "time_ms,op,pid,addr\n0,access,1,0x1000\n");
    expect(wsim(["convert", "plainq.csv", "plainq.ndjson", "-q"])).toMatchObject({ status: 0, stderr: "" });
    writeFileSync(at("q.lirs"), "1\n2\n");
    expect(wsim(["convert", "q.lirs", "q.csv", "-q"])).toMatchObject({ status: 0, stderr: "" });
  });
});

describe("B6: every importer's format is converted without --from", () => {
  // [name, file, content, accesses written] — each content is what sniff.ts identifies as the format
  const cases: [string, string, string, string[]][] = [
    ["lackey", "a.lackey", "==1== Lackey\n L 00001000,4\n S 00002000,8\n", ["0,access,1,0x1000,,r", "0.001,access,1,0x2000,,w"]],
    ["ucsd", "a.ucsd", "l 0x1000 1\ns 0x2000 1000\n", ["0.001,access,1,0x1000,,r", "1.001,access,1,0x2000,,w"]],
    ["lirs", "a.lirs", "1\n2\n", ["0,access,1,0x1000,,r", "0.001,access,1,0x2000,,r"]],
    ["libcachesim", "a.lcs", "time,obj_id,obj_size,next_access_vtime\n5,1,4096,-1\n7,2,4096,-1\n", ["0,access,1,0x1000,,r", "2000,access,1,0x2000,,r"]],
  ];
  for (const [name, file, content, rows] of cases)
    it(`${name}: recognised by its lines and imported, its mapping on stderr`, () => {
      writeFileSync(at(file), content);
      const r = wsim(["convert", file, "-"]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr.split("\n")[0]).toMatch(new RegExp(`^${name}: pid 1;`));
      expect(r.stdout.trim().split("\n").slice(1).map((l) => l.replace(/,+$/, ""))).toEqual(rows);
    });

  it("damon: the bundled damo record, sniffed", () => {
    const r = wsim(["convert", join(ROOT, "test/fixtures/real/damo-record.json_compressed"), "d.csv"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^damon: pid 1;/);
  });

  it("replay's hint for a libCacheSim CSV names the convert command that now works", () => {
    writeFileSync(at("h.lcs"), "time,obj_id,obj_size,next_access_vtime\n5,1,4096,-1\n");
    const r = wsim(["replay", "h.lcs"]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/import it with `wsim convert h\.lcs trace\.csv`/);
  });
});

describe("B7: the skip summary's counts are in the right number", () => {
  it("one of each reason: singular; two: plural", () => {
    writeFileSync(at("one.lackey"), "==1== x\nI  00001000,4\n L 00001000,4\nzzz\n");
    const one = wsim(["convert", "one.lackey", "one.csv", "--from", "lackey"]);
    expect(one.status, one.stderr).toBe(0);
    expect(one.stderr).toMatch(/\n1 access written; skipped: 1 valgrind line \(==PID==\), 1 instruction fetch \(--instructions to keep it\), 1 unrecognised line\n$/);
    writeFileSync(at("two.lackey"), "==1== x\n==1== y\nI  00001000,4\nI  00001000,4\n L 00001000,4\nzzz\nyyy\n");
    const two = wsim(["convert", "two.lackey", "two.csv", "--from", "lackey"]);
    expect(two.stderr).toMatch(/\n1 access written; skipped: 2 valgrind lines \(==PID==\), 2 instruction fetches \(--instructions to keep them\), 2 unrecognised lines\n$/);
  });

  it("libcachesim and lirs reasons too", () => {
    writeFileSync(at("b.lcs"), "time,obj_id\n5,1\nx,2\n4,3\n");
    const r = wsim(["convert", "b.lcs", "b.csv"]);
    expect(r.stderr).toMatch(/2 accesses written; skipped: 1 row with a bad time or object id, 1 row going back in time \(clamped\)\n$/);
    writeFileSync(at("big.lirs"), "1\n2199023255552\n");
    const l = wsim(["convert", "big.lirs", "big.csv", "--from", "lirs"]);
    expect(l.stderr).toMatch(/1 access written; skipped: 1 block at or above 2\^41 \(address at or above 2\^53\)\n$/);
  });
});

describe("B8: importer messages quote at most 60 characters of the input", () => {
  const long = "x".repeat(100);
  const quoted = `"${"x".repeat(60)}…"`;
  for (const fmt of ["lackey", "ucsd", "lirs"])
    it(`${fmt}: the first line it could not read`, () => {
      writeFileSync(at(`long.${fmt}`), long + "\n");
      const r = wsim(["convert", `long.${fmt}`, "o.csv", "--from", fmt]);
      expect(r.status).toBe(3);
      expect(r.stderr.trimEnd()).toBe(`long.${fmt}:1: ${fmt}: no line of the file is a ${fmt} record; the first it could not read is ${quoted}`);
    });
  it("libcachesim: the header it could not read", () => {
    writeFileSync(at("long.lcs"), long + "\n");
    const r = wsim(["convert", "long.lcs", "o.csv", "--from", "libcachesim"]);
    expect(r.status).toBe(3);
    expect(r.stderr.trimEnd().endsWith(`; got ${quoted}`)).toBe(true);
  });
});
