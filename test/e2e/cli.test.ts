/**
 * The CLI as users run it: spawns bin/wsim (built by `npm test`'s tsc step) and checks exit
 * codes, stdout and the one-line stderr of each error path.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KERNEL_VMSTAT } from "../../src/stats/counters.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const tmp = mkdtempSync(join(tmpdir(), "wsim-e2e-"));

function wsim(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, input, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function sh(cmd: string) {
  const r = spawnSync("bash", ["-c", `set -o pipefail; ${cmd}`], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function trace(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe("wsim replay", () => {
  it("--format vmstat prints only `name value` lines with kernel names, then wsim_ ones", () => {
    const r = wsim(["replay", "traces/faults.csv", "--format", "vmstat"]);
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    const lines = r.out.trimEnd().split("\n");
    for (const l of lines) expect(l).toMatch(/^[a-z0-9_]+ \d+$/);
    const names = lines.map((l) => l.split(" ")[0]!);
    const kernel = names.filter((n) => !n.startsWith("wsim_"));
    expect(kernel).toEqual([...KERNEL_VMSTAT]);
    expect(names.indexOf("nr_unstable")).toBe(kernel.length - 1);
  });

  it("--format json has the SPEC keys and each zone's buddyinfo adds up to its free pages", () => {
    const r = wsim(["replay", "traces/kernel-fallback.json", "--format", "json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    for (const k of ["schema", "wsim_version", "trace", "machine", "tunables", "vmstat", "nodes", "reads"]) expect(j).toHaveProperty(k);
    expect(j.schema).toBe(1);
    expect(j.trace).toMatchObject({ path: "traces/kernel-fallback.json", first_ms: 0 });
    expect(j.tunables["vm.min_free_kbytes"]).toBeGreaterThan(0);
    expect(j.machine.nodes[0].mem).toBe(8192);
    for (const n of j.nodes)
      for (const z of n.zones) {
        expect(z.buddyinfo.reduce((s: number, c: number, o: number) => s + c * 2 ** o, 0)).toBe(z.free);
        expect(Object.keys(z.watermarks)).toEqual(expect.arrayContaining(["min", "low", "high"]));
        expect(Object.keys(z.pagetypeinfo)).toEqual(["Unmovable", "Movable", "Reclaimable"]);
      }
    expect(j.reads.map((x: { key: string }) => x.key)).toEqual(["pagetypeinfo", "extfrag_index", "unusable_index"]);
    expect(j.reads[0].value).toMatch(/^Page block order: 9\nPages per block:  512\n\n/);
  });

  it("reads standard input with -", () => {
    const text = readFileSync(join(ROOT, "traces/faults.csv"), "utf8");
    const a = wsim(["replay", "-", "--format", "vmstat"], text);
    const b = wsim(["replay", "traces/faults.csv", "--format", "vmstat"]);
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
  });

  it("text output on a pipe has no colour codes", () => {
    const r = wsim(["replay", "traces/faults.csv", "--format", "text"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\/proc\/buddyinfo/);
    expect(r.out).not.toMatch(/\u001b\[/);
  });

  it("ends quietly when the reader of the pipe goes away", () => {
    const a = sh(`node bin/wsim replay traces/faults.csv --format vmstat | head -1`);
    // the first line of test/golden/__expected__/faults.csv.vmstat.txt: every process has exited;
    // freed pages wait on the per-cpu lists, outside nr_free_pages (below high, so never
    // drained), and the four VMA caches keep their CPU slabs, as SLUB does
    expect(a).toMatchObject({ code: 0, err: "", out: `${readFileSync(new URL("../golden/__expected__/faults.csv.vmstat.txt", import.meta.url), "utf8").split("\n")[0]}\n` });
    // a large output that really hits EPIPE
    const b = sh(`node bin/wsim replay traces/numa-spill.ndjson --machine traces/numa2-small.machine.json --format json | head -c 10`);
    expect(b.code).toBe(0);
    expect(b.err).toBe("");
  });

  it("-o writes the whole file; on an error nothing is written", () => {
    const out = join(tmp, "run.json");
    expect(wsim(["replay", "traces/faults.csv", "-o", out]).code).toBe(0);
    expect(JSON.parse(readFileSync(out, "utf8")).schema).toBe(1);
    const bad = trace("bad-late.csv", "time_ms,op,pid,addr\n0,access,1,0\n1,bogus,1,0\n");
    const out2 = join(tmp, "never.json");
    const r = wsim(["replay", bad, "-o", out2]);
    expect(r.code).toBe(3);
    expect(existsSync(out2)).toBe(false);
    const r2 = wsim(["replay", "traces/faults.csv", "-o", join(tmp, "no/such/dir/x.json")]);
    expect(r2.code).toBe(3);
    expect(r2.err).toMatch(/no\/such\/dir\/x\.json: cannot write: no such file or directory \(ENOENT\)/);
  });
});

describe("errors: exit codes and one line, never a stack", () => {
  const data: [string, string, string, RegExp][] = [
    ["unknown op", "a.csv", "time_ms,op\n0,frob\n", /a\.csv:2: unknown op "frob"/],
    ["unknown column", "b.csv", "time_ms,op,pfn\n", /b\.csv:1: unknown column "pfn"/],
    ["time going back", "c.csv", "time_ms,op,pid\n2,exit,1\n1,exit,1\n", /c\.csv:3: time_ms goes back/],
    ["bad number", "d.csv", "time_ms,op,pid,addr\n0,access,1,12x\n", /d\.csv:2: addr: expected/],
    ["order 11", "e.csv", "time_ms,op,id,order\n0,alloc,a,11\n", /e\.csv:2: order: expected an integer 0\.\.10/],
    ["unknown migratetype", "f.csv", "time_ms,op,id,mt\n0,alloc,a,cma\n", /f\.csv:2: mt: expected unmovable/],
    ["free of an unknown handle", "g.csv", "time_ms,op,id\n0,free,nope\n", /g\.csv:2: free of unknown handle "nope"/],
    ["broken quote", "h.csv", 'time_ms,op,key,value\n0,set,vm.swappiness,"6\n', /h\.csv:2: unterminated quoted field/],
    ["broken JSON line", "i.ndjson", '{"time_ms":0,"op":"exit","pid":1}\n{"time_ms":\n', /i\.ndjson:2: invalid JSON/],
    ["bad set value in the trace", "j.csv", "time_ms,op,key,value\n0,set,vm.swappiness,900\n", /j\.csv:2: vm\.swappiness: expected an integer 0\.\.200/],
    ["missing file", "", "", /nope\.csv: cannot read: no such file or directory \(ENOENT\)/],
  ];
  for (const [name, file, text, msg] of data)
    it(`exit 3: ${name}`, () => {
      const p = file ? trace(file, text) : join(tmp, "nope.csv");
      const r = wsim(["replay", p]);
      expect(r.code).toBe(3);
      expect(r.err).toMatch(msg);
      expect(r.err.trim().split("\n")).toHaveLength(1);
      expect(r.err).not.toMatch(/\s+at /);
    });

  it("exit 3: a bad machine file names its line", () => {
    const m = trace("m.json", '{\n  "nodes": [\n    {"id": 0, "mem": "4G", "tier": -1}\n  ]\n}\n');
    const r = wsim(["replay", "traces/faults.csv", "--machine", m]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/m\.json:3: node 0 tier must be an integer 0\.\.7/);
  });

  const usage: [string, string[], RegExp][] = [
    ["unknown tunable", ["--set", "vm.swapiness=1"], /unknown tunable "vm\.swapiness" \(did you mean vm\.swappiness/],
    ["bad tunable value", ["--set", "transparent_hugepage.enabled=yes"], /transparent_hugepage\.enabled: expected one of always, madvise, never/],
    ["--set without =", ["--set", "vm.swappiness"], /--set expects key=value/],
    ["unknown option", ["--frobnicate"], /unknown option '--frobnicate'/],
    ["unknown machine", ["--machine", "huge"], /unknown machine "huge": use one of default, tiered, numa2, vm/],
    ["bad --until", ["--until", "soon"], /--until: expected a non-negative decimal number/],
    ["bad --format", ["--format", "xml"], /argument 'xml' is invalid/],
  ];
  for (const [name, args, msg] of usage)
    it(`exit 2: ${name}`, () => {
      const r = wsim(["replay", "traces/faults.csv", ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
      expect(r.err).not.toMatch(/\s+at /);
    });

  const wsrBad: [string, string, RegExp][] = [
    ["intervals not increasing", "memory.workingset.page_age_intervals=N0=5000,1000", /intervals must be strictly increasing/],
    ["32 intervals", `memory.workingset.page_age_intervals=N0=${Array.from({ length: 32 }, (_, i) => i + 1).join(",")}`, /at most 31 intervals/],
    ["a node without memory", "memory.workingset.reaccess_intervals=N3=1000", /node 3 has no memory/],
    ["no N<node>=", "memory.workingset.refresh_interval=2000", /expected N<node>=<values>/],
    ["a malformed value", "memory.workingset.page_age_intervals=N0=1000,abc", /"abc" is not a number of ms/],
    ["two refresh values", "memory.workingset.refresh_interval=N0=1000,2000", /expected N<node>=<ms>/],
  ];
  for (const [name, set, msg] of wsrBad) {
    it(`workingset writes: ${name} is exit 2 on the command line, exit 3 with the line in a trace`, () => {
      const r = wsim(["replay", "traces/faults.csv", "--set", set]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
      const [key, ...rest] = set.split("=");
      const p = trace(`wsr-${name.replace(/\W+/g, "-")}.csv`, `time_ms,op,key,value\n0,read,vmstat,\n1,set,${key},"${rest.join("=")}"\n`);
      const t = wsim(["replay", p]);
      expect(t.code).toBe(3);
      expect(t.err).toMatch(new RegExp(`:3: .*${msg.source}`));
    });
  }

  it("exit 2: unknown command", () => {
    expect(wsim(["replya"]).code).toBe(2);
  });
});

describe("help and tunables", () => {
  it("--help everywhere, with defaults", () => {
    const r = wsim(["replay", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--drain <ms>[\s\S]*?\(default: "0"\)/);
    expect(r.out).toMatch(/vm\.watermark_scale_factor/);
    expect(wsim(["--help"]).out).toMatch(/replay/);
    expect(wsim(["tunables", "--help"]).code).toBe(0);
  });

  it("wsim tunables lists every tunable with its default on the machine", () => {
    const r = wsim(["tunables", "--format", "json"]);
    const rows = JSON.parse(r.out) as { key: string; default: unknown }[];
    // khugepaged's set_recommended_min_free_kbytes on default's three populated zones (x86):
    // 512 * 3 * (2 + 3 * 3) pages = 16896 pages = 67584 KiB
    expect(rows.find((x) => x.key === "vm.min_free_kbytes")!.default).toBe(67584);
    expect(rows.find((x) => x.key === "page_reporting.enabled")!.default).toBe(0);
    const vm = JSON.parse(wsim(["tunables", "--machine", "vm", "--format", "json"]).out) as { key: string; default: unknown }[];
    expect(vm.find((x) => x.key === "page_reporting.enabled")!.default).toBe(1);
    expect(wsim(["tunables"]).out).toMatch(/^vm\.min_free_kbytes\t67584\t/m);
  });
});

describe("wsim diff and replay --expect read - (standard input)", () => {
  it("takes either side of diff from standard input: an output, or a trace to replay", () => {
    const a = wsim(["replay", "traces/faults.csv", "--format", "vmstat"]).out;
    const file = trace("faults.vmstat", a);
    const r = wsim(["diff", "-", file], a);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/no differences/);
    // a trace on standard input is replayed as `wsim replay -` would
    const t = wsim(["diff", file, "-"], readFileSync(join(ROOT, "traces/faults.csv"), "utf8"));
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/no differences/);
  });

  it("refuses - for both sides, and --expect - with the trace on standard input (exit 2)", () => {
    const both = wsim(["diff", "-", "-"], "pgfault 1\n");
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/both - \(standard input\)/);
    const r = wsim(["replay", "-", "--expect", "-"], "time_ms,op,pid,addr\n0,access,1,0x1000\n");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--expect - and the trace - both read standard input/);
  });

  it("replay T --expect - compares with the counters given on standard input", () => {
    const base = wsim(["replay", "traces/faults.csv", "--format", "vmstat"]).out;
    const r = wsim(["replay", "traces/faults.csv", "--format", "vmstat", "--expect", "-"], base);
    expect(r.code, r.err).toBe(0);
  });
});
