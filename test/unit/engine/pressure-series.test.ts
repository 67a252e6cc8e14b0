/**
 * Memory pressure in the `--interval` series (issue 16 item 4: PSI "as `read` keys and in the
 * series"): each sample carries what /proc/pressure/memory and each memcg's memory.pressure read
 * at its time show, the CSV row the system's; sampling does not change later values (reading
 * catches psi_avgs_work up on its own 2 s schedule), and the last sample is the run's `pressure`.
 * The trace: memcg /t with memory.high 1M and no swap; at 1000 ms one task faults 330 pages, so
 * it is throttled (mem_cgroup_handle_over_high) for 2 s from 1000.256 ms: the first averaging
 * period (0 - 2000 ms) is stalled 999.744 ms of 2000, half: avg10 = 50 % x (1 - e^(-2/10)) =
 * 9.06, which 6.1's fixed point (calc_avgs, EXP_10s 1677/2048) prints as 9.05.
 */
import { describe, expect, it } from "vitest";
import { replay } from "../../../src/replay.js";
import { sampleCsvHeader, sampleCsvRow } from "../../../src/report/series.js";
import { stdinOf } from "../../helpers.js";

const rows = ["time_ms,op,pid,addr,len,key,value,cg", "0,set,,,,memory.high,1M,/t", "0,set,,,,memory.swap.max,0,/t", "0,mmap,1,0x10000000,8388608,,,/t"];
for (let k = 0; k < 330; k++) rows.push(`${(1000 + k / 1000).toFixed(3)},access,1,0x${(0x10000000 + k * 4096).toString(16)},,,,/t`);
rows.push("3000,read,,,,memory.pressure,,/t", "3000,read,,,,pressure/memory,,", "9000,exit,1,,,,,");
const TRACE = rows.join("\n") + "\n";
const run = (interval?: number) =>
  replay({ trace: "-", stdin: stdinOf(TRACE), machine: "vm", set: ["transparent_hugepage.enabled=never", "wsim.pcp=0"], ...(interval ? { interval } : {}) });

describe("pressure in the series", () => {
  it("each sample shows what a read at its time shows; the first 2 s period's avg10 is 9.05", async () => {
    const r = await run(1000);
    const at = (t: number) => r.series.find((s) => s.time_ms === t)!.pressure!;
    expect(at(1000)["/t"]!.some).toEqual({ avg10: "0.00", avg60: "0.00", avg300: "0.00", total: 0 });
    // total in µs: stalled from 1000.256 ms, 999744 µs by 2000 ms
    expect(at(2000)["/t"]!.some.total).toBe(999744);
    expect(at(3000)["/t"]!.some.avg10).toBe("9.05");
    // the read events at 3000 ms print the same lines
    const line = (p: { some: { avg10: string; avg60: string; avg300: string; total: number } }) =>
      `some avg10=${p.some.avg10} avg60=${p.some.avg60} avg300=${p.some.avg300} total=${p.some.total}`;
    expect(r.reads[0]!.value.split("\n")[0]).toBe(line(at(3000)["/t"]!));
    expect(r.reads[1]!.value.split("\n")[0]).toBe(line(at(3000)["/"]!));
    expect(r.series.at(-1)!.pressure).toEqual(r.pressure);
  });

  it("sampling changes nothing: the run's pressure and counters are those of a run without --interval", async () => {
    const [a, b] = [await run(), await run(7)];
    expect(b.pressure).toEqual(a.pressure);
    expect(b.vmstat).toEqual(a.vmstat);
  });

  it("the CSV row has the system's pressure last: psi_some_avg10 .. psi_full_total", async () => {
    const r = await run(1000);
    const s = r.series.find((x) => x.time_ms === 3000)!;
    const head = sampleCsvHeader(s).split(",");
    expect(head.slice(-8)).toEqual(["psi_some_avg10", "psi_some_avg60", "psi_some_avg300", "psi_some_total", "psi_full_avg10", "psi_full_avg60", "psi_full_avg300", "psi_full_total"]);
    const p = s.pressure!["/"]!;
    expect(sampleCsvRow(s).split(",").slice(-8)).toEqual([p.some.avg10, p.some.avg60, p.some.avg300, String(p.some.total), p.full.avg10, p.full.avg60, p.full.avg300, String(p.full.total)]);
  });
});
