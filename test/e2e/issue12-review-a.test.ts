/**
 * Issue 12 review A (a fresh user following the README): each finding is a kind, and each
 * test covers every instance of it. Spawns bin/wsim (build first); WSIM_BIN overrides it
 * (to show the tests fail on a build without the fixes).
 */
import { spawnSync } from "node:child_process";
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = process.env.WSIM_BIN ?? join(ROOT, "bin/wsim");
const DIR = mkdtempSync(join(tmpdir(), "wsim-review-a-"));

function wsim(args: string[], o: { input?: string; stdout?: number; cwd?: string } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: o.cwd ?? DIR,
    input: o.input,
    encoding: "utf8",
    stdio: ["pipe", o.stdout ?? "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { status: r.status, out: r.stdout ?? "", err: r.stderr };
}
const at = (n: string) => join(DIR, n);
const put = (n: string, text: string | Buffer) => (writeFileSync(at(n), text), n);

// a small trace: one process maps 1 MiB and touches 3 pages
put("z.csv", "time_ms,op,pid,addr,len,rw\n0,mmap,1,0x10000000,1048576,\n1,access,1,0x10000000,,w\n2,access,1,0x10001000,,r\n3,access,1,0x10002000,,w\n");
const vm = wsim(["replay", "z.csv", "-f", "vmstat"]).out;
put("a.vm", vm);
put("base.json", wsim(["replay", "z.csv", "-f", "json"]).out);

describe("A1: a failed write to standard output is one line, exit 3, for every command", () => {
  const cases: [string, string[]][] = [
    ["replay -f json", ["replay", "z.csv", "-f", "json"]],
    ["replay -f vmstat", ["replay", "z.csv", "-f", "vmstat"]],
    ["replay -f text", ["replay", "z.csv", "-f", "text"]],
    ["replay --interval -f ndjson (streamed)", ["replay", "z.csv", "-f", "ndjson", "--interval", "1"]],
    ["stat", ["stat", "z.csv"]],
    ["stat -f json", ["stat", "z.csv", "-f", "json"]],
    ["tunables", ["tunables"]],
    ["diff", ["diff", "a.vm", "a.vm"]],
    ["replay --expect", ["replay", "z.csv", "--expect", "a.vm"]],
    ["generate", ["generate", "zipf", "--events", "10"]],
    ["convert to -", ["convert", "z.csv", "-"]],
  ];
  for (const [name, args] of cases)
    it(`${name} > /dev/full`, () => {
      const fd = openSync("/dev/full", "w");
      const r = wsim(args, { stdout: fd });
      closeSync(fd);
      expect(r.err).toBe("-: cannot write: no space left on device (ENOSPC)\n");
      expect(r.status).toBe(3);
    });
});

describe("A2: an empty file is no baseline", () => {
  put("empty.vm", "");
  put("blank.vm", "\n  \n# only a comment\n");
  it("replay --expect EMPTY is exit 3 saying so", () => {
    for (const f of ["empty.vm", "blank.vm"]) {
      const r = wsim(["replay", "z.csv", "--expect", f]);
      expect(r.err).toBe(`${f}: is empty: not a JSON or vmstat output\n`);
      expect(r.status).toBe(3);
    }
  });
  it("replay --expect TRACE is exit 3: --expect takes outputs only", () => {
    const r = wsim(["replay", "z.csv", "--expect", "z.csv"]);
    expect(r.err).toBe("z.csv: not a JSON or vmstat output (--expect takes a run's output, e.g. `wsim replay -o FILE.json`)\n");
    expect(r.status).toBe(3);
  });
  it("diff with an empty side, either side, is exit 3 saying so", () => {
    for (const [a, b, bad] of [["empty.vm", "base.json", "empty.vm"], ["base.json", "blank.vm", "blank.vm"]]) {
      const r = wsim(["diff", a!, b!]);
      expect(r.err).toBe(`${bad}: is empty: neither a JSON/vmstat output nor a trace with events\n`);
      expect(r.status).toBe(3);
    }
  });
  it("a gzipped output is still a baseline (-o r.json.gz)", () => {
    expect(wsim(["replay", "z.csv", "-o", "r.json.gz"]).status).toBe(0);
    const r = wsim(["replay", "z.csv", "--expect", "r.json.gz"]);
    expect(r.status).toBe(0);
  });
});

describe("A3: diff refuses what it would silently misread", () => {
  it("a counter given twice names the second line", () => {
    put("twice.vm", "pgfault 5\nnr_free_pages 7\npgfault 6\n");
    for (const args of [["diff", "twice.vm", "a.vm"], ["replay", "z.csv", "--expect", "twice.vm"]]) {
      const r = wsim(args);
      expect(r.err).toBe('twice.vm:3: counter "pgfault" given twice (first at line 1)\n');
      expect(r.status).toBe(3);
    }
  });
  it("a value above 2^53-1 is refused (vmstat text and JSON), 2^53-1 itself is exact", () => {
    put("big.vm", "pgfault 1\npgfault_x 9007199254740993\n");
    let r = wsim(["diff", "big.vm", "a.vm"]);
    expect(r.err).toBe('big.vm:2: counter "pgfault_x": value beyond 2^53-1 (9007199254740991): it would lose precision\n');
    expect(r.status).toBe(3);
    put("big.json", '{\n  "vmstat": {\n    "pgfault": 9007199254740993\n  }\n}\n');
    r = wsim(["diff", "big.json", "a.vm"]);
    expect(r.err).toBe('big.json:3: vmstat "pgfault": value beyond 2^53-1 (9007199254740991): it would lose precision\n');
    expect(r.status).toBe(3);
    put("max1.vm", "pgfault 9007199254740991\n");
    put("max2.vm", "pgfault 9007199254740990\n");
    r = wsim(["diff", "max1.vm", "max2.vm", "-f", "json"]);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.out).rows[0].delta).toBe(-1);
  });
});

describe("A4: generators", () => {
  it("-o with an extension generate cannot write is exit 2, nothing written", () => {
    for (const name of ["g.json", "g.txt", "g.vmstat", "g.json.gz"]) {
      const r = wsim(["generate", "zipf", "--events", "10", "-o", name]);
      expect(r.err).toBe(`wsim: -o ${name}: generate writes .csv, .ndjson or .jsonl (optionally + .gz): rename it\n`);
      expect(r.status).toBe(2);
    }
  });
  it("--seed to a generator that draws no random number (scan, balloon) is a usage error; the others take it", () => {
    for (const kind of ["scan", "balloon"]) {
      const r = wsim(["generate", kind, "--seed", "2"]);
      expect(r.err).toBe(`wsim: --seed: generate ${kind} draws no random number (the same knobs always give the same trace): drop --seed\n`);
      expect(r.status).toBe(2);
    }
    for (const [kind, ...knobs] of [["zipf", "--events", "20"], ["fragment", "--procs", "2", "--pages-per-proc", "8"], ["thp", "--regions", "4", "--region-mb", "2", "--partial-unmap", "0.5"], ["tiered", "--heap-mb", "2", "--hot-mb", "1", "--duration-ms", "50", "--shift-ms", "10"]]) {
      const one = wsim(["generate", kind!, ...knobs, "--seed", "1"]);
      const two = wsim(["generate", kind!, ...knobs, "--seed", "2"]);
      expect(one.status, kind).toBe(0);
      // the seed changes the trace (rows), not only its comment line
      expect(one.out.split("\n").slice(1), kind).not.toEqual(two.out.split("\n").slice(1));
    }
  });
  const small: Record<string, string[]> = {
    zipf: ["--events", "20"],
    scan: ["--pages", "16", "--passes", "1"],
    fragment: ["--procs", "2", "--pages-per-proc", "8"],
    thp: ["--regions", "1", "--region-mb", "2"],
    tiered: ["--heap-mb", "2", "--hot-mb", "1", "--duration-ms", "50", "--shift-ms", "10"],
    balloon: ["--alloc-mb", "2", "--again-mb", "1", "--idle-ms", "10"],
  };
  for (const [kind, knobs] of Object.entries(small))
    it(`generate ${kind} replays without flags (CSV and NDJSON), naming the machine it needs`, () => {
      const machine = { tiered: "tiered", balloon: "vm" }[kind as "tiered"];
      const csv = wsim(["generate", kind, ...knobs]);
      const nd = wsim(["generate", kind, ...knobs, "-f", "ndjson"]);
      expect(csv.status).toBe(0);
      if (machine) {
        expect(csv.out.split("\n")[1]).toBe(`# wsim: machine=${machine}`);
        expect(nd.out.split("\n")[0]).toBe(`{"machine":"${machine}"}`);
      }
      for (const [ext, text] of [["csv", csv.out], ["ndjson", nd.out]]) {
        const f = put(`gen-${kind}.${ext}`, text!);
        const r = wsim(["replay", f, "-f", "json"]);
        expect(r.err, `${kind} ${ext}`).toBe("");
        expect(r.status).toBe(0);
        if (machine) expect(JSON.parse(r.out).machine.name ?? JSON.parse(r.out).machine).toBe(machine);
      }
    });
});

describe("A5: extensions in any case, .gz in any case gzips", () => {
  const gz = (f: string) => gunzipSync(readFileSync(at(f))).toString("utf8");
  it("replay -o r.txt.GZ, r.JSON, r.Json.Gz, r.VMSTAT", () => {
    expect(wsim(["replay", "z.csv", "-o", "r.txt.GZ"]).status).toBe(0);
    expect(gz("r.txt.GZ")).toBe(wsim(["replay", "z.csv", "-f", "text"]).out);
    expect(wsim(["replay", "z.csv", "-o", "r.JSON"]).status).toBe(0);
    expect(readFileSync(at("r.JSON"), "utf8")).toBe(readFileSync(at("base.json"), "utf8"));
    expect(wsim(["replay", "z.csv", "-o", "r.Json.Gz"]).status).toBe(0);
    expect(gz("r.Json.Gz")).toBe(readFileSync(at("base.json"), "utf8"));
    expect(wsim(["replay", "z.csv", "-o", "r.VMSTAT"]).status).toBe(0);
    expect(readFileSync(at("r.VMSTAT"), "utf8")).toBe(vm);
  });
  it("convert to c.ndjson.GZ and generate to g.CSV.GZ are gzipped", () => {
    expect(wsim(["convert", "z.csv", "c.ndjson.GZ"]).status).toBe(0);
    expect(gz("c.ndjson.GZ")).toBe(wsim(["convert", "z.csv", "c.ndjson"]).status === 0 ? readFileSync(at("c.ndjson"), "utf8") : "");
    expect(wsim(["generate", "zipf", "--events", "10", "-o", "g.CSV.GZ"]).status).toBe(0);
    expect(gz("g.CSV.GZ")).toBe(wsim(["generate", "zipf", "--events", "10"]).out);
    expect(wsim(["generate", "zipf", "--events", "10", "-o", "g.NDJSON"]).status).toBe(0);
    expect(readFileSync(at("g.NDJSON"), "utf8")).toBe(wsim(["generate", "zipf", "--events", "10", "-f", "ndjson"]).out);
  });
});

describe("A6: replay -o's help says what the README says", () => {
  it("--help names every extension, no extension = vmstat, another = usage error", () => {
    const h = wsim(["replay", "--help"], { cwd: ROOT }).out.replace(/\s+/g, " ");
    for (const w of [".json", ".txt", ".vmstat", ".csv", ".ndjson", ".jsonl", "no extension: vmstat", "another extension: usage error"]) expect(h).toContain(w);
  });
  it("-o r (no extension) writes vmstat; -o r.xyz is exit 2", () => {
    expect(wsim(["replay", "z.csv", "-o", "r"]).status).toBe(0);
    expect(readFileSync(at("r"), "utf8")).toBe(vm);
    expect(wsim(["replay", "z.csv", "-o", "r.xyz"]).status).toBe(2);
  });
});

describe("A7: errno codes in words; '-' names standard input and output", () => {
  it("every read and write failure says the words and the code", () => {
    mkdirSync(at("adir"), { recursive: true });
    try {
      symlinkSync(at("nowhere/x.json"), at("dangling.json"));
    } catch {
      /* exists from an earlier run */
    }
    const cases: [string[], string][] = [
      [["replay", "nosuch.csv"], "nosuch.csv: cannot read: no such file or directory (ENOENT)"],
      [["stat", "nosuch.csv"], "nosuch.csv: cannot read: no such file or directory (ENOENT)"],
      [["diff", "nosuch.vm", "a.vm"], "nosuch.vm: cannot read: no such file or directory (ENOENT)"],
      [["convert", "nosuch.csv", "c.csv"], "nosuch.csv: cannot read: no such file or directory (ENOENT)"],
      [["replay", "z.csv", "--machine", "nosuch.json"], "nosuch.json: cannot read machine file: no such file or directory (ENOENT)"],
      [["replay", "z.csv", "-o", "adir"], "adir: cannot write: is a directory (EISDIR)"],
      [["replay", "z.csv", "-o", "dangling.json"], "dangling.json: cannot write: no such file or directory (ENOENT)"],
    ];
    for (const [args, msg] of cases) {
      const r = wsim(args);
      expect(r.err, args.join(" ")).toBe(msg + "\n");
      expect(r.status).toBe(3);
    }
  });
  it("a machine file named in a trace: its name and the path it resolved to", () => {
    mkdirSync(at("sub"), { recursive: true });
    put("sub/t.csv", "# wsim: machine=nosuch.json\ntime_ms,op,pid\n0,exit,1\n");
    const r = wsim(["replay", "sub/t.csv"]);
    expect(r.err).toBe('sub/t.csv:1: machine "nosuch.json" ("sub/nosuch.json"): cannot read machine file: no such file or directory (ENOENT)\n');
    expect(r.status).toBe(3);
  });
  it("standard input is '-' in replay, stat and convert", () => {
    for (const cmd of [["replay", "-"], ["stat", "-"], ["convert", "-", "o.csv"]]) {
      const r = wsim(cmd, { input: "time_ms,op,pid\n0,frobnicate,1\n" });
      expect(r.err, cmd.join(" ")).toMatch(/^-:2: /);
      expect(r.status).toBe(3);
    }
  });
});

describe("A8: ms options say the notation they take", () => {
  it("exponents and signs are refused with the same sentence for every option", () => {
    const cases: [string, string, boolean][] = [
      ["--interval", "1e-9", true],
      ["--interval", "1e14", true],
      ["--drain", "1e3", false],
      ["--until", "1e3", false],
      ["--until", "-5", false],
    ];
    for (const [flag, v, positive] of cases) {
      const extra = flag === "--interval" ? ["-f", "json"] : [];
      const r = wsim(["replay", "z.csv", flag, v, ...extra]);
      expect(r.err, `${flag} ${v}`).toBe(`wsim: ${flag}: expected a ${positive ? "positive" : "non-negative"} decimal number of ms like 1000 or 0.5 (no sign, no exponent), got "${v}"\n`);
      expect(r.status).toBe(2);
    }
    for (const flag of ["--timeout", "--max-gap"]) {
      const r = wsim(["kernel", "z.csv", flag, "1e3"]);
      expect(r.err, flag).toBe(`wsim: ${flag}: expected a positive decimal number like 1000 or 0.5 (no sign, no exponent), got "1e3"\n`);
      expect(r.status).toBe(2);
    }
  });
});

describe("A9: --machine NAME that is no preset but a file in the working directory", () => {
  it("is read as the file; a foreign file gets its message; an unknown name lists the presets", () => {
    const cwd = at("mcwd");
    mkdirSync(cwd, { recursive: true });
    copyFileSync(join(ROOT, "traces/numa2-small.machine.json"), join(cwd, "mymachine"));
    writeFileSync(join(cwd, "z.csv"), readFileSync(at("z.csv")));
    const bare = wsim(["replay", "z.csv", "--machine", "mymachine", "-f", "json"], { cwd });
    const dotted = wsim(["replay", "z.csv", "--machine", "./mymachine", "-f", "json"], { cwd });
    expect(bare.err).toBe("");
    expect(bare.status).toBe(0);
    expect(bare.out).toBe(dotted.out);
    writeFileSync(join(cwd, "buddyinfo"), "Node 0, zone   Normal      1      2      3\n");
    const foreign = wsim(["replay", "z.csv", "--machine", "buddyinfo"], { cwd });
    expect(foreign.err).toMatch(/^buddyinfo:1: this looks like \/proc\/buddyinfo/);
    expect(foreign.status).toBe(3);
    const unknown = wsim(["replay", "z.csv", "--machine", "nosuch"], { cwd });
    expect(unknown.err).toBe('wsim: unknown machine "nosuch": use one of default, tiered, numa2, vm, or a JSON file\n');
    expect(unknown.status).toBe(2);
  });
});
