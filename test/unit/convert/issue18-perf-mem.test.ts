/**
 * Issue 18 item 2: `wsim convert --from perf-mem` (and sniffed): perf mem samples with a data
 * address, as perf script text (its default fields for a raw PMU event, and a -F list) and as
 * perf mem report -D, into `access` rows of the sample's pid at its address's page, sampled
 * (the periods recorded). Every expectation below was computed by hand from the fixtures
 * (test/fixtures/ktrace/perf-mem-*.txt, hand-made from the layouts src/convert/perf-samples.ts
 * cites): time_ms = (timestamp - first sample's) in ms; page = addr with its low 12 bits cleared.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { importRows, importSummary } from "../../../src/cli/commands/convert.js";
import { sniffImport } from "../../../src/convert/importers.js";
import { looksLikePerfSamples, perfLine } from "../../../src/convert/perf-samples.js";
import { foreignTraceMessage, identify } from "../../../src/trace/sniff.js";
import { dataErrorOf } from "../../helpers.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
const FX = (f: string) => join(ROOT, "test/fixtures/ktrace", f);
const dir = mkdtempSync(join(tmpdir(), "wsim-i18-perfmem-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const OPTS = { refsPerMs: "1000", instrPerMs: "1000", pid: "1", timeUnit: "s" };
const conv = (f: string, from?: string) => importRows(f, { ...OPTS, from });
/** rows as [time_ms, pid, addr, rw] */
const tuples = (rows: Record<string, unknown>[]) => rows.map((r) => [r.time_ms, r.pid, r.addr, r.rw]);
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("issue 18 item 2: perf mem samples convert, each layout", () => {
  it("perf script's default fields (perf mem record): pid, page, load/store from data_src's OP, time from the first sample; addr 0 and kernel addresses skipped", async () => {
    const { rows, stats } = await conv(FX("perf-mem-script.txt"));
    expect(rows.every((r) => r.op === "access")).toBe(true);
    expect(tuples(rows)).toEqual([
      [0, 4242, "0x7ffd1a2b3000", "r"], // |OP LOAD
      [0.1, 4242, "0x7ffd1a2b4000", "w"], // |OP STORE, 100 µs later
      // line 3: addr 0; line 4: ffff888003a1c040, a kernel address
      [1, 5555, "0x7f3c0a001000", "r"], // "Web Content": a comm with a blank
      [1.044, 5555, "0x7f3c0a002000", "w"], // |OP N/A: cpu/mem-stores/P says store
    ]);
    expect(stats!.kept).toBe(4);
    expect(stats!.skipped).toEqual({
      "samples without a data address (addr 0, or none: record with -d)": 1,
      "samples at kernel addresses": 1,
      "malformed perf samples": 1,
      "unrecognised lines": 1,
    });
    expect(stats!.counted).toEqual({ "samples whose data_src has no op (load or store told by the event name)": 1 });
    expect(stats!.unread!.map((u) => [u.no, u.why])).toEqual([
      [7, "the field after the event name is not a hex data address (perf script -F must include addr)"],
      [8, ""],
    ]);
    expect(stats!.sampled).toBe(
      "sampled, not complete: 4 rows (2 loads, 2 stores) from perf samples of period 10007: each row stands for ~10007 accesses (scale counts by 10007; the periods sum to 40028)",
    );
  });

  it("perf script -F pid,tid,cpu,time,period,event,addr --ns: pid of pid/tid, load/store from the event name, mixed periods summarised, PERF_RECORD_* lines counted", async () => {
    const { rows, stats } = await conv(FX("perf-mem-script-F.txt"));
    expect(tuples(rows)).toEqual([
      [0, 4242, "0x55d0c0de1000", "r"], // tid 4243 of pid 4242
      [0.01, 4242, "0x55d0c0de2000", "w"], // 55d0c0de2fff: the last byte of its page; 10 µs later
      [0.02, 4242, "0x55d0c0de1000", "r"],
    ]);
    expect(stats!.skipped).toEqual({ "perf side-band records (PERF_RECORD_*)": 1 });
    expect(stats!.sampled).toBe(
      "sampled, not complete: 3 rows (2 loads, 1 store) from perf samples of periods 2000 to 6000 (mean 4000): each row stands for its sample's period, ~4000 accesses on average (the periods sum to 12000, the accesses the rows stand for)",
    );
  });

  it("perf mem report -D: the 0x016 slip of its first row's ADDR dropped, DSRC's op bits, no time (sample / refs-per-ms), no period", async () => {
    const { rows, stats } = await conv(FX("perf-mem-report-D.txt"));
    expect(tuples(rows)).toEqual([
      [0, 4242, "0x7ffd1a2b3000", "r"], // 0x68100142: op bits 0x02, LOAD
      [0.001, 4242, "0x7ffd1a2b4000", "w"], // 0x48080144: 0x04, STORE; the pid column, not the tid (4243)
      // the rows after the first single-spaced and unpadded; 0xffff888003a1c040: kernel; 0x0: address 0
      [0.004, 5555, "0x7f3c0a001000", "r"],
    ]);
    expect(stats!.skipped).toEqual({ "samples at kernel addresses": 1, "samples without a data address (addr 0, or none: record with -d)": 1 });
    expect(stats!.sampled).toMatch(/^sampled, not complete: 3 rows \(2 loads, 1 store\) from perf samples without a period \(perf mem report -D prints none/);
    // the slip on a first row of address 0 or a kernel address
    expect(perfLine(" 4242  4242 0x0000000000401136 0x0160    35 0x68100142 /tmp/stress:main")).toMatchObject({ kind: "sample", pid: 4242, addr: "0", op: "LOAD" });
    expect(perfLine("  187   187 0xffffffff81234567 0x016ffff888003a1c040    35 0x48080144 [kernel.kallsyms]:memcpy_erms")).toMatchObject({ addr: "ffff888003a1c040", op: "STORE" });
    const { rows: slow } = await importRows(FX("perf-mem-report-D.txt"), { ...OPTS, refsPerMs: "0.5" });
    expect(slow.map((r) => r.time_ms)).toEqual([0, 2, 8]);
  });

  it("perf mem report -D -p -x ';': the header's columns (PHYS ADDR among them), fields joined by the separator", async () => {
    const { rows } = await conv(FX("perf-mem-report-D-x.txt"));
    expect(tuples(rows)).toEqual([
      [0, 4242, "0x7ffd1a2b3000", "r"],
      [0.001, 4242, "0x7ffd1a2b4000", "w"],
    ]);
  });

  it("the summary on stderr: mapping, rows, what was skipped, the periods, the lines not read named FILE:LINE", async () => {
    const { stats } = await conv(FX("perf-mem-script.txt"));
    const out = importSummary(stats!, "perf-mem-script.txt").split("\n");
    expect(out[0]).toMatch(/^perf-mem: perf samples with a data address/);
    expect(out[1]).toBe(
      "4 accesses written; skipped: 1 sample without a data address (addr 0, or none: record with -d), 1 sample at a kernel address, 1 malformed perf sample, 1 unrecognised line",
    );
    expect(out[2]).toMatch(/^sampled, not complete: 4 rows .* period 10007/);
    expect(out[3]).toBe("counted: 1 sample whose data_src has no op (load or store told by the event name)");
    // -F comm,pid: one number (as plain perf script's tid would be) in the 6 samples read: 4 written, 1 without an address, 1 at a kernel address
    expect(out[4]).toBe("6 samples have one number where perf script prints pid/tid, read as the pid: plain perf script prints the tid there, making each thread a process of its own (perf script -F +pid keeps a process's threads together)");
    expect(out[5]).toBe("first lines not read:");
    expect(out[6]).toMatch(/^ {2}perf-mem-script\.txt:7: the field after the event name is not a hex data address \(perf script -F must include addr\): "stress +4242 \[002\]/);
    expect(out[7]).toBe('  perf-mem-script.txt:8: "this line is not a perf sample"');
  });

  it("samples without a data address (recorded without -d: `IP SYM (DSO)` after the event), tracepoints, callchain lines and a line without a pid", async () => {
    const f = file(
      "mixed.txt",
      [
        "          stress  4242 [002]  1523.123456:      10007 cpu/mem-loads,ldlat=30/P:     7ffd1a2b3c40         68100142 |OP LOAD|LVL L1 hit|SNP None|TLB L1 or L2 hit|LCK No|BLK  N/A",
        "          stress  4242 [002]  1523.123460:     250000 cycles:P:           401136 main+0x16 (/tmp/stress)",
        "          stress  4242 [002]  1523.123470: kmem:mm_page_alloc: page=0xffffea0004a8ed00 pfn=0x12a3b4 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE",
        "\t          401136 main+0x16 (/tmp/stress)",
        "  1523.123480:      10007 cpu/mem-loads,ldlat=30/P:     7ffd1a2b3c40         68100142 |OP LOAD|LVL L1 hit",
        "          stress  4242 [002]  1523.123490:      10007 cpu/mem-loads,ldlat=30/P:     7ffd1a2b5c40         68100142 |OP LOAD|LVL L1 hit",
      ].join("\n") + "\n",
    );
    const { rows, stats } = await conv(f, "perf-mem");
    expect(tuples(rows)).toEqual([
      [0, 4242, "0x7ffd1a2b3000", "r"],
      [0.034, 4242, "0x7ffd1a2b5000", "r"],
    ]);
    expect(stats!.skipped).toEqual({
      "samples without a data address (addr 0, or none: record with -d)": 1,
      "kmem page events (the file is read as perf mem samples, its first kind: convert the events apart with --from ftrace)": 1, // kmem:mm_page_alloc, named as what it is
      "callchain lines": 1,
      "malformed perf samples": 1,
    });
    expect(stats!.unread!.map((u) => [u.no, u.why])).toEqual([[5, "a sample without a pid or tid before the time (perf script -F must include pid or tid)"]]);
    // two of the three samples have a period of 10007, the one without an address 250000 (not written: not summarised)
    expect(stats!.sampled).toMatch(/2 rows \(2 loads, 0 stores\) from perf samples of period 10007/);
  });

  it("a file of no perf sample is exit 3 naming its first line; an empty one too", async () => {
    expect(await dataErrorOf(conv(file("none.txt", "\nnot perf\nat all\n"), "perf-mem"))).toMatch(/none\.txt:2: perf-mem: no line of the file is a perf-mem record; the first it could not read is "not perf"/);
    expect(await dataErrorOf(conv(file("empty.txt", ""), "perf-mem"))).toMatch(/empty\.txt: perf-mem: the input is empty/);
  });
});

describe("issue 18 item 2: sniffing", () => {
  it("each perf mem layout is perf-mem; the kmem trace text stays ftrace", () => {
    for (const f of ["perf-mem-script.txt", "perf-mem-script-F.txt", "perf-mem-report-D.txt", "perf-mem-report-D-x.txt"]) expect(sniffImport(readFileSync(FX(f))), f).toBe("perf-mem");
    for (const f of ["perf-script.txt", "trace_pipe.txt", "trace_pipe-raw.txt", "trace-cmd-report.txt"]) expect(sniffImport(readFileSync(FX(f))), f).toBe("ftrace");
  });

  it("an arm_spe `memory:` event without a period (a kernel trace line to the ftrace sniffer) is a perf sample", () => {
    const l = "            ls 14753 [011]  3678.072400:         memory: ffffa7c22b4b2a00         88000182 |OP LOAD|LVL L1 miss|SNP N/A|TLB Walker hit|LCK No|BLK  N/A";
    expect(perfLine(l)).toMatchObject({ kind: "sample", pid: 14753, period: -1, event: "memory", addr: "ffffa7c22b4b2a00", op: "LOAD" });
    expect(sniffImport(Buffer.from(l + "\n"))).toBe("perf-mem");
  });

  it("a -x row without its header is not sniffed (a CSV trace's rows could read as one); with it, it is", () => {
    const rows = readFileSync(FX("perf-mem-report-D-x.txt"), "utf8").split("\n").slice(1);
    expect(looksLikePerfSamples(rows)).toBe(false);
    expect(sniffImport(Buffer.from("pid,len,addr,value\n4242,4242,0x401136,0x7ffd1a2b3c40\n"))).toBeNull();
  });

  it("a perf script --header's comment lines before the samples do not hide them", () => {
    const head = Array.from({ length: 30 }, (_, i) => `# header line ${i}`).join("\n");
    expect(looksLikePerfSamples((head + "\n" + readFileSync(FX("perf-mem-script.txt"), "utf8")).split("\n"))).toBe(true);
  });

  it("given to replay, a perf mem file is named and pointed at wsim convert", () => {
    expect(identify(readFileSync(FX("perf-mem-script.txt")))?.kind).toBe("perf-mem");
    expect(foreignTraceMessage(readFileSync(FX("perf-mem-script.txt")), "p.txt")).toMatch(/^this looks like `perf script` samples with data addresses .*not a wsim trace: import them as sampled accesses with `wsim convert p\.txt trace\.csv`/);
    expect(foreignTraceMessage(readFileSync(FX("perf-mem-report-D.txt")), "d.txt")).toMatch(/^this looks like perf mem samples with data addresses .*`wsim convert d\.txt trace\.csv`/);
  });
});
