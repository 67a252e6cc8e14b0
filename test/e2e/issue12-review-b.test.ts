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
  // [name, file, content, rows written] — each content is what sniff.ts identifies as the format;
  // address traces get an mmap of each 2 MiB range before its first access
  const cases: [string, string, string, string[]][] = [
    ["lackey", "a.lackey", "==1== Lackey\n L 00001000,4\n S 00002000,8\n", ["0,mmap,1,0x0,2097152", "0,access,1,0x1000,,r", "0.001,access,1,0x2000,,w"]],
    ["ucsd", "a.ucsd", "l 0x1000 1\ns 0x2000 1000\n", ["0.001,mmap,1,0x0,2097152", "0.001,access,1,0x1000,,r", "1.001,access,1,0x2000,,w"]],
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
    expect(one.stderr).toMatch(/\n1 access \(and 1 mmap of 2 MiB\) written; skipped: 1 valgrind line \(==PID==\), 1 instruction fetch \(--instructions to keep it\), 1 unrecognised line\nfirst lines not read:\n  one\.lackey:4: "zzz"\n$/);
    writeFileSync(at("two.lackey"), "==1== x\n==1== y\nI  00001000,4\nI  00001000,4\n L 00001000,4\nzzz\nyyy\n");
    const two = wsim(["convert", "two.lackey", "two.csv", "--from", "lackey"]);
    expect(two.stderr).toMatch(/\n1 access \(and 1 mmap of 2 MiB\) written; skipped: 2 valgrind lines \(==PID==\), 2 instruction fetches \(--instructions to keep them\), 2 unrecognised lines\nfirst lines not read:\n  two\.lackey:6: "zzz"\n  two\.lackey:7: "yyy"\n$/);
  });

  it("libcachesim and lirs reasons too", () => {
    writeFileSync(at("b.lcs"), "time,obj_id\n5,1\nx,2\n4,3\n");
    const r = wsim(["convert", "b.lcs", "b.csv"]);
    // the row stamped 4 after 5 is written (at 5), so it is counted, not skipped
    expect(r.stderr).toMatch(/2 accesses written; skipped: 1 row with a bad time or object id\ncounted: 1 row going back in time \(written at the time of the row before: time_ms never decreases\)\nfirst lines not read:\n  b\.lcs:3: "x,2"\n$/);
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
      expect(r.stderr.trimEnd()).toMatch(new RegExp(`^long\\.${fmt}:1: ${fmt}: no line of the file is a ${fmt} record; the first it could not read is ${quoted} \\(a record is [^\n]*\\)$`));
    });
  it("libcachesim: the header it could not read", () => {
    writeFileSync(at("long.lcs"), long + "\n");
    const r = wsim(["convert", "long.lcs", "o.csv", "--from", "libcachesim"]);
    expect(r.status).toBe(3);
    expect(r.stderr.trimEnd().endsWith(`; got ${quoted}`)).toBe(true);
  });
});

describe("B1: times at or beyond 2^52 ms are refused, never replayed (they hung)", () => {
  const LIMIT = "(2^52 ms = 4503599627370496 ms, about 142,000 years)";
  // 2^53 - 1, and 10^23 (not even an exact double)
  const cases: [string, string, string, number][] = [
    ["csv", "big.csv", "time_ms,op,pid,addr\n0,access,1,0x1000\n9007199254740991,access,1,0x2000\n", 3],
    ["csv, the only event", "big1.csv", "time_ms,op,pid,addr\n99999999999999999999999,access,1,0x2000\n", 2],
    ["csv, exactly 2^52", "at.csv", "time_ms,op,pid,addr\n4503599627370496,access,1,0x2000\n", 2],
    ["ndjson", "big.ndjson", '{"time_ms":0,"op":"access","pid":1,"addr":"0x1000"}\n{"time_ms":9007199254740991,"op":"access","pid":1,"addr":"0x2000"}\n', 2],
  ];
  for (const [name, file, content, line] of cases)
    it(`${name}: exit 3 naming the line`, () => {
      writeFileSync(at(file), content);
      const bad = content.split("\n")[line - 1]!.match(/\d{16,}/)![0];
      for (const args of [["replay", file], ["replay", file, "--csv-parser", "csv-parse"], ["stat", file]]) {
        if (args.includes("--csv-parser") && !file.endsWith(".csv")) continue;
        const r = wsim(args);
        expect(r.status, args.join(" ")).toBe(3);
        expect(r.stderr.trimEnd()).toBe(`${file}:${line}: time_ms "${bad}" is beyond the latest time wsim replays ${LIMIT}`);
      }
    });

  it("a JSON document, 1e18: exit 3", () => {
    writeFileSync(at("big.json"), '{"events":[{"time_ms":1e18,"op":"access","pid":1,"addr":"0x1"}]}');
    const r = wsim(["replay", "big.json"]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^big\.json:1: time_ms "?1(e\+?18|000000000000000000)"? is beyond the latest time wsim replays/);
  });

  it("--until, --drain, --interval at or beyond 2^52, and the last event + --drain: exit 2", () => {
    writeFileSync(at("z.csv"), "time_ms,op,pid,addr\n0,access,1,0x1000\n");
    for (const flag of ["--until", "--drain", "--interval"]) {
      const r = wsim(["replay", "z.csv", flag, "10000000000000000", "-f", "json"]);
      expect(r.status, flag).toBe(2);
      expect(r.stderr.trimEnd()).toBe(`wsim: ${flag}: 10000000000000000 ms is beyond the latest time wsim replays ${LIMIT}`);
    }
    // 2^52 - 496 + 1000 = 2^52 + 504
    writeFileSync(at("late.csv"), "time_ms,op,pid,addr\n4503599627370000,access,1,0x1000\n");
    const r = wsim(["replay", "late.csv", "--drain", "1000"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--drain: the last event's time 4503599627370000 ms \+ --drain 1000 ms is beyond/);
  });

  it("just below the limit still replays (2^52 - 496 ms, then --drain 100)", () => {
    writeFileSync(at("ok.csv"), "time_ms,op,pid,addr\n4503599627370000,access,1,0x1000\n");
    const r = wsim(["replay", "ok.csv", "--drain", "100", "--format", "vmstat"]);
    expect(r.status, r.stderr).toBe(0);
    expect(vmstat(r.stdout).pgfault).toBe(1);
  });
});

describe("B9: `# wsim:` comments before the header are directives or errors", () => {
  const HDR = "time_ms,op,pid,addr\n0,access,1,0x1000\n";
  it("a second machine directive: exit 3 at its line, for replay and stat", () => {
    writeFileSync(at("two.csv"), "# wsim: machine=numa2\n# wsim: machine=vm\n" + HDR);
    for (const cmd of ["replay", "stat"]) {
      const r = wsim([cmd, "two.csv"]);
      expect(r.status, cmd).toBe(3);
      expect(r.stderr.trimEnd()).toBe("two.csv:2: a second `# wsim: machine=` directive (the first is at line 1): name the machine once");
    }
  });
  it("a typo (machin=) and an unknown directive: exit 3 at their line", () => {
    writeFileSync(at("typo.csv"), "# notes\n# wsim: machin=numa2\n" + HDR);
    const r = wsim(["replay", "typo.csv"]);
    expect(r.status).toBe(3);
    expect(r.stderr.trimEnd()).toBe('typo.csv:2: not a wsim directive: "# wsim: machin=numa2" (the one there is: `# wsim: machine=NAME`; a plain `#` comment is free)');
    writeFileSync(at("seed.csv"), "#wsim: seed=4\n" + HDR);
    expect(wsim(["replay", "seed.csv"]).stderr).toMatch(/^seed\.csv:1: not a wsim directive: "#wsim: seed=4"/);
  });
  it("plain comments around one directive stay free, and the directive is used (vm: 2 GiB, 524287 free pages after one fault)", () => {
    writeFileSync(at("fine.csv"), "# hello\n# wsim: machine=vm\n# machine=numa2 is only a comment\n" + HDR);
    const r = wsim(["replay", "fine.csv", "--format", "vmstat"]);
    expect(r.status, r.stderr).toBe(0);
    expect(vmstat(r.stdout).nr_free_pages).toBe(vmstat(wsim(["replay", "fine.csv", "--machine", "vm", "--format", "vmstat"]).stdout).nr_free_pages);
  });
});
