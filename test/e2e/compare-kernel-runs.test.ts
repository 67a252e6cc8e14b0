/**
 * `wsim compare --kernel-runs FILE` (a saved guest run, no QEMU) and `--start boot|free` (issue 13:
 * wsim starts from the guest's boot zoneinfo, buddyinfo and pagetypeinfo), on a real 6.1 guest's
 * output (test/fixtures/real/kernel-faults-192M.json.gz, `wsim kernel traces/faults.csv --mem 192M`).
 * Expectations come from the fixture's own /proc files: the free pages pagetypeinfo lists, the
 * zones its zoneinfo has, and changes taken from the start state wsim reports.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const FIX = join(ROOT, "test/fixtures/real/kernel-faults-192M.json.gz");
const tmp = mkdtempSync(join(tmpdir(), "wsim-kruns-"));

function wsim(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const kernel = JSON.parse(gunzipSync(readFileSync(FIX)).toString("utf8"));

/** Σ free pages of pagetypeinfo's first table per "node zone", Isolate left out (not in NR_FREE_PAGES) */
function pagetypeFree(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^Node\s+(\d+), zone\s+(\w+), type\s+(\w+)((?:\s+\d+)+)\s*$/gm)) {
    if (m[3] === "Isolate") continue;
    const pages = m[4]!.trim().split(/\s+/).reduce((s, c, o) => s + Number(c) * 2 ** o, 0);
    const k = `${m[1]} ${m[2]}`;
    out.set(k, (out.get(k) ?? 0) + pages);
  }
  return out;
}

describe("wsim compare --kernel-runs, --start", () => {
  const r = wsim(["compare", "traces/faults.csv", "--kernel-runs", FIX, "--format", "json"]);
  const doc = JSON.parse(r.out || "{}");

  it("takes the guest's run from the file, boots nothing, and says so", () => {
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/1 kernel run from .*kernel-faults-192M\.json\.gz \(Linux 6\.1\.0-57-cloud-amd64\); no guest booted/);
    expect(doc.kernel.vmstat).toEqual(kernel.vmstat);
  });

  it("starts wsim from the guest's boot state: its zones, its free pages zone by zone", () => {
    const s = doc.wsim.start_state;
    expect(doc.wsim.nodes[0].zones.map((z: { name: string }) => z.name)).toEqual(["DMA", "DMA32"]);
    const free = pagetypeFree(kernel.kernel.boot.pagetypeinfo);
    for (const z of s.zones) expect(z.free, z.zone).toBe(free.get(`${z.node} ${z.zone}`));
    expect(s.vmstat.nr_free_pages).toBe([...free.values()].reduce((a, b) => a + b, 0));
    // the boot owner's movable pages are anonymous: nr_anon_pages starts at them
    expect(s.vmstat.nr_anon_pages).toBe(s.boot_movable);
  });

  it("compares changes from that start: each counter minus its start value, each zone's free pages minus its start", () => {
    for (const row of doc.rows)
      if (row.wsim !== null) expect(row.wsim, row.counter).toBe((doc.wsim.vmstat[row.counter] ?? 0) - (doc.wsim.start_state.vmstat[row.counter] ?? 0));
    const anon = doc.rows.find((x: { counter: string }) => x.counter === "nr_anon_pages");
    // both of faults.csv's processes exit: no change, though the boot owner's anonymous pages
    // are still there at the end: as many as the guest's boot zoneinfo has on its LRU lists
    const lru = [...String(kernel.kernel.boot.zoneinfo).matchAll(/^\s+nr_zone_(?:(?:in)?active_(?:anon|file)|unevictable)\s+(\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(lru).toBeGreaterThan(0);
    expect(doc.wsim.start_state.boot_movable).toBe(lru);
    expect(doc.wsim.vmstat.nr_anon_pages).toBe(doc.wsim.start_state.boot_movable);
    expect(anon.wsim).toBe(0);
    for (const zr of doc.zones.filter((x: { quantity: string }) => x.quantity === "free pages, change")) {
      const end = doc.wsim.nodes[0].zones.find((z: { name: string }) => z.name === zr.zone).free;
      const start = doc.wsim.start_state.zones.find((z: { zone: string }) => z.zone === zr.zone).free;
      expect(zr.wsim, zr.zone).toBe(end - start);
    }
  });

  it("--start free: wsim's machine is the guest's free pages in whole pageblocks, nothing used", () => {
    const f = wsim(["compare", "traces/faults.csv", "--kernel-runs", FIX, "--start", "free", "--format", "json"]);
    expect(f.code, f.err).toBe(0);
    const d = JSON.parse(f.out);
    expect(d.wsim.start_state).toBeUndefined();
    // each zone: its boot buddyinfo's free pages rounded down to whole pageblocks (512)
    const boot = new Map<string, number>();
    for (const m of (kernel.kernel.boot.buddyinfo as string).matchAll(/^Node (\d+), zone\s+(\w+)((?:\s+\d+)+)/gm))
      boot.set(m[2]!, m[3]!.trim().split(/\s+/).reduce((s, c, o) => s + Number(c) * 2 ** o, 0));
    for (const z of d.wsim.nodes[0].zones) expect(z.managed, z.name).toBe(Math.floor(boot.get(z.name)! / 512) * 512);
  });

  it("a start state's zoneinfo is the machine, and replay says so when the trace names another", () => {
    // the fixture guest's boot files as a --start-state directory
    const d = join(tmp, "boot");
    mkdirSync(d);
    for (const f of ["zoneinfo", "buddyinfo", "pagetypeinfo"]) writeFileSync(join(d, f), kernel.kernel.boot[f]);
    const r = wsim(["replay", "traces/thp-defrag.csv.gz", "--start-state", d, "--until", "1", "--format", "vmstat"]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`note: the machine is ${d}/zoneinfo (the start state's), not the one the trace names (small128.machine.json): give --machine to choose\n`);
  });

  it("refuses a file it cannot use, another trace's runs, and --runs beside it", () => {
    const missing = wsim(["compare", "traces/faults.csv", "--kernel-runs", join(tmp, "none.json")]);
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/none\.json: cannot read: no such file or directory \(ENOENT\)/);
    writeFileSync(join(tmp, "bad.json"), "{ not json");
    const bad = wsim(["compare", "traces/faults.csv", "--kernel-runs", join(tmp, "bad.json")]);
    expect(bad.code).toBe(3);
    expect(bad.err).toMatch(/bad\.json: not JSON: --kernel-runs takes the output of `wsim compare --format json`/);
    writeFileSync(join(tmp, "run.json"), JSON.stringify({ vmstat: { pgfault: 1 } }));
    const run = wsim(["compare", "traces/faults.csv", "--kernel-runs", join(tmp, "run.json")]);
    expect(run.code).toBe(3);
    expect(run.err).toMatch(/run\.json: holds no kernel run/);
    const other = wsim(["compare", "traces/hotset-shift.csv", "--kernel-runs", FIX]);
    expect(other.code).toBe(3);
    expect(other.err).toMatch(/kernel-faults-192M\.json\.gz: its kernel runs replayed 535 events of traces\/faults\.csv, this trace has \d+: not the same trace/);
    const runs = wsim(["compare", "traces/faults.csv", "--kernel-runs", FIX, "--runs", "2"]);
    expect(runs.code).toBe(2);
    expect(runs.err).toMatch(/--kernel-runs takes the guest runs from FILE: --runs would boot more/);
    // the saved guests ran with defrag=never: a replay with another value is refused, naming the --set to give
    const tun = wsim(["compare", "traces/thp-defrag.csv.gz", "--kernel-runs", "docs/compare-runs/thp-defrag-never.json.gz"]);
    expect(tun.code).toBe(2);
    expect(tun.err).toMatch(/its guests ran with transparent_hugepage\.defrag=never, this replay with transparent_hugepage\.defrag=madvise: give --set transparent_hugepage\.defrag=never/);
    for (const x of [missing, bad, run, other, runs, tun]) expect(x.err).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe("wsim compare runs wsim's side as the guest ran the trace (--pace, --memcgs)", () => {
  // faults.csv: 535 events, two of them (its mmaps) naming memcgs /app and /db
  const rows = readFileSync(join(ROOT, "traces/faults.csv"), "utf8").split("\n").filter((l) => l && !l.startsWith("#")).slice(1);
  const cgCol = "time_ms,op,pid,addr,len,rw,kind,cg,key".split(",").indexOf("cg");
  const withCg = rows.filter((l) => l.split(",")[cgCol] !== "").length;

  it("by default: event k at its trace time + k × the guest's time per event, every pid in the root memcg", () => {
    const r = wsim(["compare", "traces/faults.csv", "--kernel-runs", FIX, "--format", "json"]);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out);
    // the fixture's guest: 824 ms, 530 of them asleep, for 535 events
    const pace = (kernel.kernel.guest_ms - kernel.kernel.slept_ms) / kernel.trace.events;
    expect(pace).toBeCloseTo(294 / 535, 12);
    expect(withCg).toBe(2);
    expect(doc.wsim.guest_like).toEqual({ pace_ms_per_event: pace, root_memcg: true, cg_dropped: withCg, memcg_events_removed: 0 });
    expect(r.err).toContain(`wsim compare: wsim runs at the guest's pace: event k at its trace time + k × ${pace.toFixed(3)} ms (the guest's time per event, the median over 1 run; --pace trace keeps the trace's times)\n`);
    expect(r.err).toContain("wsim compare: every pid in the root memcg, as in the guest: the cg of 2 events dropped, 0 sets and reads of memory.* files of memcgs other than the root not replayed (--memcgs trace keeps the trace's memcgs)\n");
    // the trace's own times in trace; the run ends at the last event's paced time (its 534th)
    expect(doc.wsim.trace).toMatchObject({ events: 535, first_ms: kernel.trace.first_ms, last_ms: kernel.trace.last_ms });
    expect(doc.wsim.end_ms).toBeCloseTo(kernel.trace.last_ms + 534 * pace, 5); // to the ns
    const text = wsim(["compare", "traces/faults.csv", "--kernel-runs", FIX]);
    expect(text.out).toMatch(new RegExp(`^guest clock: 824 ms for 533 ms of trace \\(asleep 530 ms, working the rest; the kernel's daemons ran on that clock, wsim's at that pace: event k at its trace time \\+ k × ${pace.toFixed(3).replace(".", "\\.")} ms\\)$`, "m"));
  });

  it("--pace trace --memcgs trace: the trace's times and memcgs, as `wsim replay` runs it", () => {
    const r = wsim(["compare", "traces/faults.csv", "--kernel-runs", FIX, "--pace", "trace", "--memcgs", "trace", "--format", "json"]);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.wsim.guest_like).toEqual({ pace_ms_per_event: 0, root_memcg: false, cg_dropped: 0, memcg_events_removed: 0 });
    expect(doc.wsim.end_ms).toBe(kernel.trace.last_ms);
    expect(r.err).toContain("wsim compare: wsim runs at the trace's times (--pace trace); the guest ran later by its own time on each event\n");
    expect(r.err).toContain("wsim compare: wsim keeps the trace's memcgs (--memcgs trace); the guest runs every pid in the root memcg\n");
    const text = wsim(["compare", "traces/faults.csv", "--kernel-runs", FIX, "--pace", "trace"]);
    expect(text.out).toMatch(/^guest clock: .*the kernel's daemons ran on that clock, wsim's on the trace's\)$/m);
  });

  it("a saved guest without its clock (an older wsim's, or edited): the trace's times, said so", () => {
    const k = JSON.parse(JSON.stringify(kernel));
    delete k.kernel.slept_ms;
    writeFileSync(join(tmp, "noslept.json"), JSON.stringify(k));
    const a = wsim(["compare", "traces/faults.csv", "--kernel-runs", join(tmp, "noslept.json"), "--format", "json"]);
    expect(a.code, a.err).toBe(0);
    expect(JSON.parse(a.out).wsim.guest_like.pace_ms_per_event).toBe(0);
    expect(a.err).toContain("wsim compare: the guest runs do not say how long the replay took (kernel.guest_ms, kernel.slept_ms): wsim runs at the trace's times\n");
    k.kernel.guest_ms = null;
    k.kernel.slept_ms = 0;
    writeFileSync(join(tmp, "noclock.json"), JSON.stringify(k));
    const b = wsim(["compare", "traces/faults.csv", "--kernel-runs", join(tmp, "noclock.json")]);
    expect(b.code, b.err).toBe(0);
    expect(b.out).not.toMatch(/guest clock|NaN|undefined/);
    // slept as long as it ran: no pace, and stderr says why
    k.kernel.guest_ms = 100;
    k.kernel.slept_ms = 500;
    writeFileSync(join(tmp, "slept.json"), JSON.stringify(k));
    const c = wsim(["compare", "traces/faults.csv", "--kernel-runs", join(tmp, "slept.json")]);
    expect(c.code, c.err).toBe(0);
    expect(c.err).toContain("wsim compare: the guest's replay took no longer than its sleeps: wsim runs at the trace's times\n");
    expect(c.out).toMatch(/^guest clock: 100 ms for \d+ ms of trace \(asleep 500 ms, working the rest; the kernel's daemons ran on that clock, wsim's on the trace's\)$/m);
  });

  it("refuses other values with a usage error", () => {
    for (const [opt, v] of [["--pace", "fast"], ["--memcgs", "none"]]) {
      const r = wsim(["compare", "traces/faults.csv", "--kernel-runs", FIX, opt!, v!]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`option '${opt} <\\w+>' argument '${v}' is invalid\\. Allowed choices are`));
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });
});
