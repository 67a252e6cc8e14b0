import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { diffCounters, parseTolerances } from "../../src/report/diff.js";
import { GENERATORS, csvLine, COLUMNS } from "../../src/generate/generators.js";
import { Rng } from "../../src/engine/rng.js";
import { Progress } from "../../src/cli/progress.js";
import { replay } from "../../src/replay.js";
import { importRows } from "../../src/cli/commands/convert.js";
import { engineFor, runCsv, stdinOf } from "../helpers.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const wsim = (args: string[], input?: string) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, input, encoding: "utf8" });
const sh = (cmd: string) => spawnSync("bash", ["-o", "pipefail", "-c", cmd], { cwd: ROOT, encoding: "utf8", env: { ...process.env, PATH: `${ROOT}bin:${process.env.PATH}` } });

describe("diff: tolerance rules", () => {
  const a = { x: 100, y: 0, z: 50, only_a: 1 };
  const b = { x: 102, y: 0, z: 60, only_b: 2 };
  it("no tolerance: any difference counts; a counter on one side only is a difference", () => {
    const r = diffCounters(a, b);
    expect(r.within).toBe(false);
    expect(r.rows.map((x) => [x.counter, x.within])).toEqual([["x", false], ["z", false], ["only_a", false], ["only_b", false]]);
  });
  it("a percentage is relative to A; a plain number is absolute; per-counter beats global", () => {
    const r = diffCounters({ x: 100, z: 50 }, { x: 102, z: 60 }, { tolerance: ["2%", "z=10"] });
    expect(r.within).toBe(true);
    expect(diffCounters({ x: 100 }, { x: 103 }, { tolerance: ["2%"] }).within).toBe(false);
    expect(diffCounters({ y: 0 }, { y: 1 }, { tolerance: ["50%"] }).within).toBe(false); // A = 0 needs B = 0
    expect(diffCounters({ z: 50 }, { z: 60 }, { tolerance: ["1%,z=9"] }).within).toBe(false);
  });
  it("--only and --ignore take globs", () => {
    expect(diffCounters(a, b, { only: ["only_*"] }).rows.map((r) => r.counter)).toEqual(["only_a", "only_b"]);
    expect(diffCounters(a, b, { ignore: ["only_?"] }).rows.map((r) => r.counter)).toEqual(["x", "z"]);
    // ignoring every counter compares nothing: a usage error, not a pass (issue 12 item 7)
    expect(() => diffCounters(a, b, { ignore: ["only_?", "?"] })).toThrow(/no counter left to compare/);
    expect(() => parseTolerances(["5x"])).toThrow(/expected a number or a percentage/);
  });
  it("exit codes: 0 within, 1 outside, 2 usage, 3 unreadable", () => {
    const base = "test/golden/__expected__/faults.csv.vmstat.txt";
    expect(wsim(["diff", base, "traces/faults.csv"]).status).toBe(0);
    const moved = wsim(["diff", base, "traces/hotset-shift.csv"]);
    expect(moved.status).toBe(1);
    expect(moved.stdout).toMatch(/OUTSIDE/);
    expect(wsim(["diff", base, "traces/faults.csv", "--tolerance", "2x"]).status).toBe(2);
    expect(wsim(["diff", base, "/nonexistent.json"]).status).toBe(3);
    const j = wsim(["diff", base, "traces/hotset-shift.csv", "--format", "json"]);
    expect(JSON.parse(j.stdout).within).toBe(false);
    const exp = wsim(["replay", "traces/faults.csv", "--expect", base, "--set", "vm.watermark_scale_factor=3000", "--only", "pg*"]);
    expect(exp.status).toBe(0); // watermarks do not move the pg* counters of this small trace
  });
});

describe("time series", () => {
  it("--interval 100 --format csv | head -3: a header and two rows, exit 0; the JSON series has the same rows", async () => {
    const r = sh("wsim replay traces/faults.csv --interval 100 --format csv | head -3");
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    const header = lines[0]!.split(",");
    expect(header[0]).toBe("time_ms");
    const res = await replay({ trace: join(ROOT, "traces/faults.csv"), interval: 100 });
    for (const [k, line] of lines.slice(1).entries()) {
      const s = res.series[k]!;
      const vals = line.split(",").map(Number);
      expect(vals[0]).toBe(s.time_ms);
      for (const [n, v] of Object.entries(s.vmstat)) expect(vals[header.indexOf(n)], n).toBe(v);
    }
    // faults.csv ends at 533 ms: the last sample is the end (issue 12 item 2)
    expect(res.series.map((s) => s.time_ms)).toEqual([100, 200, 300, 400, 500, 533]);
  });
});

describe("importers, on real traces copied into the project", () => {
  const fx = (f: string) => join(ROOT, "test/fixtures/real", f);
  const convertReplay = async (file: string, set: string[] = []) => {
    const { rows, stats } = await importRows(file, { refsPerMs: "1000", instrPerMs: "1000", pid: "1", timeUnit: "s" });
    const text = COLUMNS.join(",") + "\n" + [...(rows as Iterable<Record<string, string | number>>)].map(csvLine).join("\n") + "\n";
    const r = await replay({ trace: "-", stdin: stdinOf(text), format: "csv", set });
    return { r, stats: stats!, text };
  };

  it("a lackey log of a real program: pgfault equals the distinct pages its data references touch", async () => {
    // small pages only: with THP a fault brings in 512 of them
    const { r, stats } = await convertReplay(fx("lackey-echo.out.gz"), ["transparent_hugepage.enabled=never"]);
    const pages = new Set<number>();
    for (const line of gunzipSync(readFileSync(fx("lackey-echo.out.gz"))).toString().split("\n")) {
      const m = /^ [LSM] ([0-9a-f]+),(\d+)/.exec(line);
      if (!m) continue;
      const a = parseInt(m[1]!, 16);
      for (let p = Math.floor(a / 4096); p <= Math.floor((a + Number(m[2]) - 1) / 4096); p++) pages.add(p);
    }
    expect(pages.size).toBeGreaterThan(50);
    expect(r.vmstat.pgfault).toBe(pages.size);
    expect(stats.skipped["instruction fetches (--instructions to keep them)"]).toBeGreaterThan(0);
    expect(stats.mapping).toMatch(/^lackey: pid 1/);
    // the importer mapped every 2 MiB it saw, so with THP (the default, always) huge pages back them
    const thp = await convertReplay(fx("lackey-echo.out.gz"));
    expect(thp.r.vmstat.thp_fault_alloc).toBeGreaterThan(0);
    expect(thp.r.vmstat.wsim_implicit_maps).toBe(0);
    const chunks = new Set([...pages].map((p) => Math.floor(p / 512)));
    expect(stats.mapped).toBe(chunks.size);
  });

  it("UCSD, LIRS and DAMON samples convert and replay", async () => {
    const u = await convertReplay(fx("ucsd-swim-20k.trace.gz"));
    expect(u.stats.mapped).toBeGreaterThan(0);
    expect(u.r.trace.events).toBe(20000 + u.stats.mapped!); // the accesses and an mmap per 2 MiB
    expect(u.r.vmstat.pgfault).toBeGreaterThanOrEqual(u.stats.mapped!); // every mapped 2 MiB was touched: one fault at least (a THP's)
    const l = await convertReplay(fx("lirs-multi2.trace.gz"));
    expect(l.r.trace.events).toBe(26311);
    const d = await convertReplay(fx("damo-record.json_compressed"));
    expect(d.stats.kept).toBeGreaterThan(10000);
    expect(d.r.vmstat.pgfault).toBeGreaterThan(100);
    expect(d.stats.skipped["regions without accesses"]).toBeGreaterThan(0);
  });

  it("libCacheSim CSV; and the CLI reports the mapping on stderr", async () => {
    const r = sh(`printf 'timestamp,obj_id,obj_size\\n1,10,4096\\n2,11,4096\\n2,10,4096\\nx,1,1\\n' | wsim convert --from libcachesim - - | wsim replay - --format vmstat | grep '^pgfault '`);
    expect(r.stdout).toBe("pgfault 2\n");
    expect(r.stderr).toMatch(/libcachesim: pid 1; object n = page n[\s\S]*3 accesses written; skipped: 1 row with a bad time/);
  });
});

describe("generators", () => {
  for (const kind of Object.keys(GENERATORS)) {
    it(`${kind}: deterministic for a seed, different for another, and its output passes --check`, async () => {
      const spec = GENERATORS[kind]!;
      const small: Record<string, number> = {};
      for (const [k, [def]] of Object.entries(spec.options)) small[k] = def;
      Object.assign(small, { pages: 512, events: 3000, pages_per_proc: 128, procs: 4, regions: 3, region_mb: 4, heap_mb: 2, hot_mb: 1, duration_ms: 400, shift_ms: 100, alloc_mb: 16, again_mb: 4, idle_ms: 100, passes: 2, ops: 200, writes: 64, file_mb: 80 });
      const extra = spec.columns ?? [];
      const text = (seed: number) => [...spec.rows(small, new Rng(seed))].map((r) => csvLine(r, extra)).join("\n");
      expect(text(5)).toBe(text(5));
      if (kind === "zipf" || kind === "fragment" || kind === "tiered" || kind === "malloc-trim" || kind === "fork-snapshot") expect(text(6)).not.toBe(text(5));
      const machine = kind === "tiered"
        ? { name: "t", nodes: [{ id: 0, mem: 4096, tier: 0, cpus: true }, { id: 1, mem: 4096, tier: 1, cpus: false }], tunables: {} }
        : { name: "t", nodes: [{ id: 0, mem: 16384, tier: 0, cpus: true }], tunables: {} };
      const e = engineFor(machine, { check: true });
      await runCsv(e, [...COLUMNS, ...extra].join(",") + "\n" + text(5));
      expect(e.mem.vmstat()[0]).toBeGreaterThan(0);
    });
  }
  it("wsim generate streams, and --help lists the knobs", () => {
    const r = sh("wsim generate zipf --events 100 --seed 9 | head -3");
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n")[1]).toBe(COLUMNS.join(","));
    expect(wsim(["generate", "fragment", "--help"]).stdout).toMatch(/--kernel-every <n>/);
  });
});

describe("progress", () => {
  it("draws only on a TTY, not before a second, and erases itself", () => {
    let t = 0;
    const pipe: string[] = [];
    const p1 = new Progress({ isTTY: false, write: (s: string) => pipe.push(s) }, () => t);
    t = 5000;
    p1.update(1000, 10, 50, 100);
    p1.done();
    expect(pipe).toEqual([]);
    const tty: string[] = [];
    t = 0;
    const p2 = new Progress({ isTTY: true, columns: 100, write: (s: string) => tty.push(s) }, () => t);
    t = 500;
    p2.update(100, 1, 10, 100);
    expect(tty).toEqual([]);
    t = 2000;
    p2.update(2_000_000, 1500, 50, 100);
    expect(tty[0]).toMatch(/^\rwsim:  50\.0% 2000000 events, 1\.00 M\/s, virtual 1\.5 s/);
    p2.done();
    expect(tty[1]).toBe("\r\u001b[2K");
  });
});

describe("the README's CI job runs", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const steps = readme.split("\n").filter((l) => l.trim().startsWith("- run: ./bin/wsim")).map((l) => l.trim().slice("- run: ".length));
  it("has wsim steps", () => expect(steps.length).toBeGreaterThanOrEqual(2));
  for (const cmd of steps)
    it(cmd.slice(0, 70), () => {
      const r = sh(cmd);
      expect(r.status, r.stdout + r.stderr).toBe(0);
    });
});

describe("series carry page age totals", () => {
  it("a sample lists each configured memcg's page_age bins", async () => {
    const res = await replay({ trace: join(ROOT, "traces/hotset-shift.csv"), interval: 10000 });
    const s = res.series[1]!;
    expect(Object.keys(s.page_age)).toEqual(["/svc"]);
    expect(s.page_age["/svc"]!["0"]).toHaveLength(5);
    expect(s.page_age["/svc"]!["0"]!.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });
});

describe("the README's pipelines run", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = readme.split("<!-- pipelines -->")[1]!.split("<!-- /pipelines -->")[0]!;
  const cmds = block.split("\n").filter((l) => l.startsWith("wsim "));
  it("has examples", () => expect(cmds.length).toBeGreaterThanOrEqual(4));
  for (const cmd of cmds)
    it(cmd.slice(0, 60), () => {
      const r = sh(cmd);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
    });
});
