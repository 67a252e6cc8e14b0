/**
 * Issue 12, replay's CLI and outputs, as users run them: spawns bin/wsim (build first).
 * Each expectation is worked out from the trace or the rule, not copied from an output.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { KERNEL_VMSTAT, WSIM_COUNTERS } from "../../src/stats/counters.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const tmp = mkdtempSync(join(tmpdir(), "wsim-i12-"));

function wsim(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, input, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

const HEAD = "time_ms,op,pid,addr,len,key\n";
/** one process, three events at 0, 1 and 7 ms */
const T3 = file("t3.csv", HEAD + "0,access,1,0x1000,,\n1,access,1,0x2000,,\n7,access,1,0x3000,,\n");

describe("--interval ends with the run's end (item 2)", () => {
  it("the README's balloon pipeline: the last CSV row is at 41257 ms, the trace's last event", () => {
    const r = wsim(["replay", "traces/vm-balloon.csv", "--machine", "vm", "--interval", "2500", "--format", "csv"]);
    expect(r.code).toBe(0);
    const rows = r.out.trimEnd().split("\n");
    const times = rows.slice(1).map((l) => Number(l.split(",")[0]));
    // 2500, 5000, .. 40000 (16 samples), then the end at 41257
    expect(times).toHaveLength(17);
    expect(times[15]).toBe(40000);
    expect(times[16]).toBe(41257);
  });

  it("NDJSON and JSON mark the extra sample with end: true", () => {
    const nd = wsim(["replay", T3, "--interval", "5", "--format", "ndjson"]);
    expect(nd.code).toBe(0);
    const recs = nd.out.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(recs.map((s) => [s.time_ms, s.end])).toEqual([
      [5, undefined],
      [7, true],
    ]);
    const js = JSON.parse(wsim(["replay", T3, "--interval", "5", "--format", "json"]).out);
    expect(js.series.map((s: { time_ms: number; end?: boolean }) => [s.time_ms, s.end])).toEqual([
      [5, undefined],
      [7, true],
    ]);
  });
});

describe("replay --seed is gone (item 8)", () => {
  it("is a usage error that says why and points at generate", () => {
    const r = wsim(["replay", T3, "--seed", "3"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^wsim: --seed: replay has no randomness/);
    expect(r.err).toContain("wsim generate");
    expect(r.err.trimEnd().split("\n")).toHaveLength(1);
  });

  it("the JSON has no seed, and --help does not offer it", () => {
    const j = JSON.parse(wsim(["replay", T3, "--format", "json"]).out);
    expect(j).not.toHaveProperty("seed");
    expect(wsim(["replay", "--help"]).out).not.toContain("--seed");
  });

  it("generate keeps its --seed", () => {
    const a = wsim(["generate", "zipf", "--seed", "1", "--events", "50"]);
    const b = wsim(["generate", "zipf", "--seed", "2", "--events", "50"]);
    expect(a.code).toBe(0);
    expect(a.out).not.toBe(b.out);
  });
});

describe("words (item 27)", () => {
  it("singular for one: 1 event, 1 node, 1 process, 1 counter compared", () => {
    const one = file("one.csv", HEAD + "0,access,1,0x1000,,\n");
    const text = wsim(["replay", one, "--format", "text"]).out;
    expect(text).toContain(": 1 event,");
    expect(text).toContain("1 node,");
    const st = wsim(["stat", one]).out;
    expect(st).toContain("1 event, 1 process,");
    expect(st).toContain("of 1 access ");
    const a = file("a.vmstat", "pgfault 1\n");
    const b = file("b.vmstat", "pgfault 1\n");
    expect(wsim(["diff", a, b]).out).toBe("1 counter compared: no differences\n");
  });

  it("plural for many: 3 events, 3 accesses", () => {
    expect(wsim(["replay", T3, "--format", "text"]).out).toContain(": 3 events,");
    const st = wsim(["stat", T3]).out;
    expect(st).toContain("3 events, 1 process,");
    expect(st).toContain("of 3 accesses ");
  });

  it("--interval -5, 0 and abc break one rule and get one message", () => {
    for (const v of ["-5", "0", "abc", "0.0"]) {
      const r = wsim(["replay", T3, "--format", "json", `--interval=${v}`]);
      expect(r.code, v).toBe(2);
      expect(r.err, v).toBe(`wsim: --interval: expected a positive decimal number of ms like 1000 or 0.5 (no sign, no exponent), got "${v}"\n`);
    }
  });

  it("wsim_unmodelled_events is gone: every op is modelled, so it could never count", () => {
    const r = wsim(["replay", T3, "--format", "vmstat"]);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain("wsim_unmodelled_events");
  });
});

describe("-o honours every extension the README lists (item 5)", () => {
  /** what each format's text looks like, checked on the file's (gunzipped) content */
  const checks: Record<string, (t: string) => void> = {
    json: (t) => expect(JSON.parse(t).vmstat.wsim_events).toBe(3),
    ndjson: (t) => expect(t.trimEnd().split("\n").map((l) => JSON.parse(l).time_ms)).toEqual([5, 7]),
    csv: (t) => {
      const rows = t.trimEnd().split("\n");
      expect(rows[0]!.startsWith("time_ms,")).toBe(true);
      expect(rows.slice(1).map((r) => Number(r.split(",")[0]))).toEqual([5, 7]);
    },
    text: (t) => expect(t.startsWith("wsim ")).toBe(true),
    vmstat: (t) => {
      for (const l of t.trimEnd().split("\n")) expect(l).toMatch(/^[a-z0-9_]+ \d+$/);
      expect(t).toContain("\nwsim_events 3\n");
    },
  };
  const cases: [string, string][] = [
    [".json", "json"], [".ndjson", "ndjson"], [".jsonl", "ndjson"], [".csv", "csv"], [".txt", "text"], [".vmstat", "vmstat"],
  ];
  for (const [ext, format] of cases)
    for (const gz of ["", ".gz"]) {
      it(`-o s${ext}${gz} writes ${format}${gz ? ", gzipped" : ""}`, () => {
        const out = join(tmp, `s${ext}${gz}`);
        // samples only where the format prints them (--interval is refused otherwise)
        const iv = ["json", "ndjson", "csv"].includes(format) ? ["--interval", "5"] : [];
        const r = wsim(["replay", T3, ...iv, "-o", out]);
        expect(r.code, r.err).toBe(0);
        const raw = readFileSync(out);
        // gzip's magic number 1f 8b, and only for .gz
        expect(raw[0] === 0x1f && raw[1] === 0x8b).toBe(gz === ".gz");
        checks[format]!((gz ? gunzipSync(raw) : raw).toString());
      });
    }

  it("an extension nothing honours is a usage error, and no file is written", () => {
    for (const name of ["s.out", "s.xml.gz"]) {
      const out = join(tmp, name);
      const r = wsim(["replay", T3, "-o", out]);
      expect(r.code, name).toBe(2);
      expect(r.err).toMatch(/unknown extension/);
      expect(existsSync(out)).toBe(false);
    }
  });
});

describe("-o output safety, one writer for every command (item 17)", () => {
  const commands = (out: string): [string, string[]][] => [
    ["replay", ["replay", T3, "-o", out]],
    ["generate", ["generate", "zipf", "--events", "20", "-o", out]],
    ["convert", ["convert", T3, out]],
  ];

  it("(a) a temporary file left by a killed run (its pid gone) is removed by the next run", () => {
    for (const [cmd, args] of commands(join(tmp, "stale.csv"))) {
      // pid 2^22 + 1 is above Linux's largest pid (4194304): no process has it
      const stale = join(tmp, `.stale.csv.${2 ** 22 + 1}.tmp`);
      writeFileSync(stale, "half written");
      const r = wsim(cmd === "replay" ? [...args, "--format", "vmstat"] : args);
      expect(r.code, `${cmd}: ${r.err}`).toBe(0);
      expect(existsSync(stale), cmd).toBe(false);
    }
  });

  it("(a) SIGTERM and SIGINT during a streamed -o remove the temporary file and leave no output", async () => {
    const big = join(tmp, "big.csv");
    expect(wsim(["generate", "zipf", "--events", "100000", "-o", big]).code).toBe(0);
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      const out = join(tmp, `sig-${sig}.ndjson`);
      const child = spawn(process.execPath, [BIN, "replay", big, "--interval", "0.01", "--format", "ndjson", "-o", out], { cwd: ROOT });
      const temp = join(tmp, `.sig-${sig}.ndjson.${child.pid}.tmp`);
      // wait until the temporary file holds something, then signal
      for (let i = 0; i < 300 && !(existsSync(temp) && statSync(temp).size > 0); i++) await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(temp), sig).toBe(true);
      const code = await new Promise<number | null>((res) => {
        child.on("exit", (c) => res(c));
        child.kill(sig);
      });
      // 128 + the signal's number
      expect(code, sig).toBe(sig === "SIGTERM" ? 143 : 130);
      expect(existsSync(temp), sig).toBe(false);
      expect(existsSync(out), sig).toBe(false);
    }
  }, 60_000);

  it("(b) a symlink is written through (the link stays), for every command", () => {
    for (const [cmd, args] of commands(join(tmp, "link.csv"))) {
      const target = join(tmp, `target-${cmd}.csv`);
      writeFileSync(target, "old");
      rmSync(join(tmp, "link.csv"), { force: true });
      symlinkSync(target, join(tmp, "link.csv"));
      const r = wsim(cmd === "replay" ? [...args, "--format", "vmstat"] : args);
      expect(r.code, `${cmd}: ${r.err}`).toBe(0);
      expect(lstatSync(join(tmp, "link.csv")).isSymbolicLink(), cmd).toBe(true);
      expect(readFileSync(target, "utf8"), cmd).not.toBe("old");
    }
  });

  it("(b) a FIFO is written into, not replaced", () => {
    const fifo = join(tmp, "fifo");
    spawnSync("mkfifo", [fifo]);
    const r = spawnSync("bash", ["-c", `timeout 20 cat ${fifo} | wc -l & ${process.execPath} ${BIN} replay ${T3} --format vmstat -o ${fifo}; wait`], { encoding: "utf8" });
    expect(r.status).toBe(0);
    // every vmstat line went through the pipe: the kernel's names, then wsim's
    expect(Number(r.stdout.trim())).toBe(KERNEL_VMSTAT.length + Object.keys(WSIM_COUNTERS).length);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it("(b) /dev/stdout and /dev/null are written directly; /dev/full fails with exit 3 and stays a device", () => {
    const viaStdout = spawnSync("bash", ["-c", `${process.execPath} ${BIN} replay ${T3} --format vmstat -o /dev/stdout | grep -c '^wsim_events 3$'`], { encoding: "utf8" });
    expect(viaStdout.stdout.trim()).toBe("1");
    // stdout redirected to a regular file: that file gets the output (it is not replaced)
    const f = join(tmp, "redirected.txt");
    spawnSync("bash", ["-c", `${process.execPath} ${BIN} replay ${T3} --format vmstat -o /dev/stdout > ${f}`]);
    expect(readFileSync(f, "utf8")).toContain("\nwsim_events 3\n");
    expect(wsim(["replay", T3, "-o", "/dev/null"]).code).toBe(0);
    expect(lstatSync("/dev/null").isCharacterDevice()).toBe(true);
    const full = wsim(["replay", T3, "--format", "vmstat", "-o", "/dev/full"]);
    expect(full.code).toBe(3);
    expect(full.err).toBe("/dev/full: cannot write: no space left on device (ENOSPC)\n");
    expect(lstatSync("/dev/full").isCharacterDevice()).toBe(true);
  });
});

describe("combinations that do nothing are usage errors that say what to add (item 7)", () => {
  const vm = file("base.vmstat", "pgfault 3\n");
  const cases: [string, string[], RegExp][] = [
    // replay
    ["replay --tolerance without --expect", ["replay", T3, "--tolerance", "2%"], /--tolerance only filters the comparison with --expect FILE: add --expect/],
    ["replay --only without --expect", ["replay", T3, "--only", "pg*"], /--only .*add --expect/],
    ["replay --ignore without --expect", ["replay", T3, "--ignore", "wsim_*"], /--ignore .*add --expect/],
    ["replay --interval with vmstat", ["replay", T3, "--interval", "5", "--format", "vmstat"], /--interval: --format vmstat prints no samples: add --format json, csv or ndjson/],
    ["replay --interval with text", ["replay", T3, "--interval", "5", "--format", "text"], /--format text prints no samples/],
    ["replay --interval with -o FILE.txt", ["replay", T3, "--interval", "5", "-o", join(tmp, "x.txt")], /--format text prints no samples/],
    ["replay --csv-parser on NDJSON", ["replay", "traces/numa-spill.ndjson", "--csv-parser", "csv-parse"], /--csv-parser only parses CSV; this trace is ndjson/],
    ["replay --csv-parser with --input-format json", ["replay", "-", "--input-format", "json", "--csv-parser", "csv-parse"], /this trace is json/],
    ["replay --expect with a streamed format to stdout", ["replay", T3, "--expect", vm, "--interval", "5", "--format", "csv"], /add -o FILE for the samples/],
    ["replay --interval with --expect and no -o", ["replay", T3, "--expect", vm, "--interval", "5", "--format", "json"], /--interval: with --expect the run is only compared, its samples go nowhere: add -o FILE.json/],
    // diff
    ["diff --machine with two outputs", ["diff", vm, vm, "--machine", "vm"], /--machine only applies to a trace given as A or B/],
    ["diff --set with two outputs", ["diff", vm, vm, "--set", "vm.swappiness=10"], /--set only applies to a trace/],
    // convert
    ["convert --refs-per-ms on a wsim trace", ["convert", T3, join(tmp, "c1.ndjson"), "--refs-per-ms", "5"], /--refs-per-ms applies to lackey, lirs, perf-mem input only; this input is a wsim trace/],
    ["convert --instr-per-ms on a lirs trace", ["convert", "test/fixtures/real/lirs-multi2.trace.gz", join(tmp, "c2.csv"), "--instr-per-ms", "5"], /--instr-per-ms applies to ucsd input only; this input is lirs/],
    ["convert --instructions on lirs", ["convert", "test/fixtures/real/lirs-multi2.trace.gz", join(tmp, "c3.csv"), "--instructions"], /--instructions applies to lackey/],
    ["convert --time-unit on lirs", ["convert", "test/fixtures/real/lirs-multi2.trace.gz", join(tmp, "c4.csv"), "--time-unit", "ms"], /--time-unit applies to libcachesim/],
    ["convert --pid on a wsim trace", ["convert", T3, join(tmp, "c5.csv"), "--pid", "7"], /--pid applies to .* input only; this input is a wsim trace/],
    // generate
    ["generate -f csv -o FILE.ndjson", ["generate", "zipf", "--events", "5", "-f", "csv", "-o", join(tmp, "g.ndjson")], /-o .*g\.ndjson names ndjson but -f is csv/],
    // kernel, compare (refused before any guest starts; --fill-dma --no-kalloc was refused already)
    ["kernel --fill-dma --no-kalloc", ["kernel", T3, "--fill-dma", "--no-kalloc"], /--fill-dma needs wsim_kalloc/],
    ["compare --fill-dma --no-kalloc", ["compare", T3, "--fill-dma", "--no-kalloc"], /--fill-dma needs wsim_kalloc/],
    ["kernel -f vmstat -o FILE.json", ["kernel", T3, "-f", "vmstat", "-o", join(tmp, "k.json")], /names json but --format is vmstat/],
  ];
  for (const [name, args, msg] of cases)
    it(name, () => {
      const r = wsim(args, "");
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(msg);
      expect(r.err.trimEnd().split("\n")).toHaveLength(1);
    });

  it("the same options where they do something still work", () => {
    expect(wsim(["replay", T3, "--expect", vm, "--only", "pgfault"]).code).toBe(0);
    const withSeries = join(tmp, "exp.json");
    expect(wsim(["replay", T3, "--expect", vm, "--only", "pgfault", "--interval", "5", "-o", withSeries]).code).toBe(0);
    expect(JSON.parse(readFileSync(withSeries, "utf8")).series.map((x: { time_ms: number }) => x.time_ms)).toEqual([5, 7]);
    expect(wsim(["diff", vm, T3, "--set", "vm.swappiness=10", "--only", "pgfault"]).code).toBe(0);
    expect(wsim(["convert", "test/fixtures/real/lirs-multi2.trace.gz", join(tmp, "ok.csv"), "--refs-per-ms", "5", "--quiet"]).code).toBe(0);
    const g = wsim(["generate", "zipf", "--events", "5", "-o", join(tmp, "g2.ndjson")]);
    expect(g.code).toBe(0);
    expect(JSON.parse(readFileSync(join(tmp, "g2.ndjson"), "utf8").split("\n")[0]!)).toHaveProperty("op");
  });
});
