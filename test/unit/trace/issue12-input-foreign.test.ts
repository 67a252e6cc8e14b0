/**
 * Issue 12, item 21: a file wsim does not read as a trace (a kernel text file, a trace of
 * another tool, wsim's own output or machine file) is named for what it looks like, with
 * the command that reads it, at every entry point that reads files: replay, stat, diff,
 * convert and --machine. Never `unknown column "Node 0"`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dataErrorOf as dataError } from "../../helpers.js";
import { describe, expect, it } from "vitest";
import { loadCounters } from "../../../src/cli/commands/diff.js";
import { importRows } from "../../../src/cli/commands/convert.js";
import { loadMachine } from "../../../src/machine/machine.js";
import { replay } from "../../../src/replay.js";
import { openTrace } from "../../../src/trace/open.js";
import { identify } from "../../../src/trace/sniff.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "wsim-foreign-"));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

/** [kind, file, what the message says it looks like, what it says reads it] */
const FOREIGN: [string, string, RegExp, RegExp][] = [
  ["lackey", join(ROOT, "test/fixtures/real/lackey-echo.out.gz"), /valgrind lackey log/, /wsim convert .* trace\.csv/],
  ["ucsd", join(ROOT, "test/fixtures/real/ucsd-swim-20k.trace.gz"), /UCSD address trace/, /wsim convert/],
  ["lirs", join(ROOT, "test/fixtures/real/lirs-multi2.trace.gz"), /LIRS page trace/, /wsim convert/],
  ["damon", join(ROOT, "test/fixtures/real/damo-record.json_compressed"), /DAMON record/, /wsim convert/],
  ["libcachesim", file("cache.csv", "time,obj_id,obj_size\n1,42,4096\n2,43,4096\n"), /libCacheSim CSV \(header time,obj_id,obj_size\)/, /wsim convert .*cache\.csv trace\.csv/],
  ["buddyinfo", join(ROOT, "test/fixtures/kernel-samples/buddyinfo.txt"), /\/proc\/buddyinfo/, /--start-state DIR`; a trace's `read` event with key=buddyinfo/],
  ["pagetypeinfo", join(ROOT, "test/fixtures/kernel-samples/pagetypeinfo.txt"), /\/proc\/pagetypeinfo/, /key=pagetypeinfo/],
  ["zoneinfo", file("zoneinfo", "Node 0, zone      DMA\n  per-node stats\n      nr_inactive_anon 0\n  pages free     3840\n"), /\/proc\/zoneinfo/, /machine file/],
  ["fragmentation-index", join(ROOT, "test/fixtures/kernel-samples/extfrag_index.txt"), /extfrag_index or unusable_index/, /key=extfrag_index/],
  ["ftrace", file("trace", "# tracer: nop\n#\n#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n#              | |         |   |||||     |         |\n            bash-1234    [001] .....  5123.456789: mm_page_alloc: page=000000004e5a7d3b pfn=0x12345 order=0 migratetype=0 gfp_flags=GFP_KERNEL\n"), /ftrace \/ trace_pipe/, /wsim convert .*trace trace\.csv/],
  ["ftrace", file("trace_pipe", "            bash-1234    [001] ..... 5123.456789: mm_page_alloc: page=000000004e5a7d3b pfn=0x12345 order=0 migratetype=0\n"), /ftrace \/ trace_pipe/, /wsim convert .*trace_pipe trace\.csv/],
  ["perf-script", file("perf.txt", "            perf  4321 [000]  5123.456789:          1 cpu-clock:  ffffffff810a1234 native_safe_halt+0x4 ([kernel.kallsyms])\n"), /`perf script` text/, /no wsim command reads it/],
  // issue 18 item 2: perf mem samples (a data address after the event) are imported
  ["perf-mem", file("perf-mem.txt", "            perf  4321 [000]  5123.456789:          1 cpu-clock:  ffffffff810a1234 native_safe_halt+0x4 ([kernel.kallsyms])\n              ls  4322  5123.460000:      10007 cpu/mem-loads,ldlat=30/P:      7fff12345678\n"), /`perf script` samples with data addresses/, /wsim convert .*perf-mem\.txt trace\.csv/],
  ["wsim-json", file("run.json", '{\n  "schema": 1,\n  "wsim_version": "0.1.0",\n  "vmstat": {"pgfault": 1}\n}\n'), /wsim's --format json output/, /wsim diff A B/],
  ["machine", join(ROOT, "traces/small128.machine.json"), /a wsim machine file/, /--machine .*small128\.machine\.json/],
];

const VMSTAT = join(ROOT, "test/fixtures/kernel-samples/vmstat.txt");


describe("issue 12 item 21: foreign files say what they look like and what reads them", () => {
  for (const [kind, path, what, use] of FOREIGN) {
    it(`${kind}: ${path.split("/").pop()}`, async () => {
      const raw = readFileSync(path);
      const plain = raw[0] === 0x1f ? (await import("node:zlib")).gunzipSync(raw) : raw;
      expect(identify(plain)?.kind).toBe(kind);
      // replay and stat open the trace; diff replays a file it cannot read as counters (it reads wsim's JSON output)
      const entries = [() => replay({ trace: path }), () => openTrace(path)];
      if (kind === "wsim-json") expect((await loadCounters(path, {})).pgfault).toBe(1);
      else entries.push(() => loadCounters(path, {}));
      for (const entry of entries) {
        const msg = await dataError(entry);
        expect(msg).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:1: this looks like `));
        expect(msg).toMatch(what);
        expect(msg).toMatch(use);
        expect(msg).toMatch(/not a wsim trace/);
      }
      // convert: the importers' formats are converted (sniffed); the others are named
      if (["lackey", "ucsd", "lirs", "damon", "libcachesim", "ftrace", "perf-mem"].includes(kind)) {
        const { stats } = await importRows(path, { refsPerMs: "1000", instrPerMs: "1000", pid: "1", timeUnit: "s" });
        expect(stats!.kept).toBeGreaterThan(0);
      } else {
        const msg = await dataError(() => importRows(path, { refsPerMs: "1000", instrPerMs: "1000", pid: "1", timeUnit: "s" }));
        expect(msg).toMatch(what);
        expect(msg).toMatch(use);
      }
      // --machine
      if (kind === "zoneinfo") {
        // issue 13 item 5: --machine reads a zoneinfo as the machine it describes; this one is cut short
        expect(await dataError(() => loadMachine(path))).toMatch(/:4: expected "        boost    N", got the end of the file/);
      } else if (kind !== "machine" && raw[0] !== 0x1f && raw[0] !== 0x78) {
        const msg = await dataError(() => loadMachine(path));
        expect(msg).toMatch(/:1: this looks like /);
        expect(msg).toMatch(what);
        expect(msg).toMatch(/not a machine file/);
      }
    });
  }

  it("/proc/vmstat: a legal input of diff (read as counters); replay, stat and --machine name it and suggest diff", async () => {
    const c = await loadCounters(VMSTAT, {});
    expect(c.nr_free_pages).toBe(112696); // the sample's first line
    for (const entry of [() => replay({ trace: VMSTAT }), () => openTrace(VMSTAT), () => loadMachine(VMSTAT)]) {
      const msg = await dataError(entry);
      expect(msg).toMatch(/:1: this looks like \/proc\/vmstat counters/);
      expect(msg).toMatch(/wsim diff A B/);
    }
  });

  it("a CSV trace given to --machine is named as a trace; a JSON trace document too", async () => {
    expect(await dataError(() => loadMachine(join(ROOT, "traces/faults.csv")))).toMatch(/:1: this looks like a wsim CSV trace, not a machine file/);
    expect(await dataError(() => loadMachine(join(ROOT, "traces/overcommit.json")))).toMatch(/:1: this looks like a JSON trace document, not a machine file/);
  });

  it("wsim's own traces are never called foreign: a bad column is still a bad column", async () => {
    for (const t of ["faults.csv", "numa-spill.ndjson", "overcommit.json", "kernel-fallback.json"]) expect(identify(readFileSync(join(ROOT, "traces", t)))).toBeNull();
    const p = file("typo.csv", "time_ms,op,pidd\n0,exit,1\n");
    expect(await dataError(() => replay({ trace: p }))).toMatch(/:1: unknown column "pidd"/);
  });
});

describe("a trace refused by its first bytes closes its file", () => {
  it("openTrace of a foreign file, 20 times: no file descriptor left open (Node warns 'Closing file descriptor N on garbage collection' otherwise)", async () => {
    const { readdirSync } = await import("node:fs");
    const fds = () => readdirSync("/proc/self/fd").length;
    const p = file("buddyinfo-again", "Node 0, zone      DMA      1      1      1      0      2      1      1      0      1      1      3\n");
    const before = fds();
    for (let k = 0; k < 20; k++) await expect(openTrace(p)).rejects.toThrow(/buddyinfo/);
    await new Promise((r) => setTimeout(r, 50)); // the closes are asynchronous
    expect(fds()).toBe(before);
  });
});
