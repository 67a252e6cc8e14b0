/**
 * The workingset report's refresh rules (SPEC §4.5, wsr_refresh_report) case by case, on a
 * Memory driven by hand, and page_age_exact against a brute-force count over the trace.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../../../src/engine/rng.js";
import { replay } from "../../../src/replay.js";
import { engineFor, runCsv, smallMachine, stdinOf } from "../../helpers.js";

/** A machine's Memory with a clock the test moves (kagingd never woken: nothing interferes). */
function memory() {
  const e = engineFor(smallMachine("16M"));
  e.advanceTo(0); // kagingd's boot pass finds nothing configured and waits for good
  return { m: e.mem, at: (ms: number) => e.advanceTo(ms), now: () => e.now() };
}

describe("wsr_refresh_report", () => {
  it("refresh_interval 0 never refreshes: the report stays zeros, nothing is aged", () => {
    const { m, at } = memory();
    const a = m.memcgs.ensure("/a", 0);
    a.wsr[0]!.setIntervals([1000, 5000]);
    at(100_000);
    expect(m.refreshReport(a.id, 0)).toBe(false);
    expect(a.lruvecs[0]!.maxSeq).toBe(3);
    expect(a.wsr[0]!.timestamp).toBeNull();
    expect(m.wsr.formatPageAge(a)).toBe("N0\n1000 anon=0 file=0\n5000 anon=0 file=0\n18446744073709551615 anon=0 file=0\n");
  });

  it("a report younger than refresh_interval is shown stale; an expired one is remade", () => {
    const { m, at } = memory();
    const a = m.memcgs.ensure("/a", 0);
    const w = a.wsr[0]!;
    w.setIntervals([1000]);
    w.refreshInterval = 2000;
    at(5000);
    expect(m.refreshReport(a.id, 0)).toBe(true); // never made
    expect(w.timestamp).toBe(5000);
    at(6999);
    expect(m.refreshReport(a.id, 0)).toBe(false); // 6999 < 5000 + 2000: stale
    expect(w.timestamp).toBe(5000);
    at(7000);
    expect(m.refreshReport(a.id, 0)).toBe(true); // now >= timestamp + refresh_interval
    expect(w.timestamp).toBe(7000);
  });

  it("an expired report ages only the memcgs whose youngest generation is older than refresh_interval (strictly)", () => {
    const { m, at } = memory();
    const a = m.memcgs.ensure("/a", 0);
    const b = m.memcgs.ensure("/a/b", 0);
    const c = m.memcgs.ensure("/a/c", 0);
    a.wsr[0]!.setIntervals([1000]);
    a.wsr[0]!.refreshInterval = 2000;
    // /a/b aged at 1500 (e.g. by its own reader), /a/c never
    at(1500);
    m.age(b.lruvecs[0]!);
    at(2000); // /a's youngest born 0: 0 + 2000 < 2000 is false, so /a is not aged yet
    expect(m.refreshReport(a.id, 0)).toBe(true);
    expect([a, b, c].map((x) => x.lruvecs[0]!.maxSeq)).toEqual([3, 4, 3]);
    at(4001); // /a, /a/c: 0 + 2000 < 4001 -> aged; /a/b: 1500 + 2000 < 4001 -> aged too
    expect(m.refreshReport(a.id, 0)).toBe(true);
    expect([a, b, c].map((x) => x.lruvecs[0]!.maxSeq)).toEqual([4, 5, 4]);
    at(6001); // /a, /a/c born 4001: 6001 is not > 6001; /a/b born 4001 too
    expect(m.refreshReport(a.id, 0)).toBe(true);
    expect([a, b, c].map((x) => x.lruvecs[0]!.maxSeq)).toEqual([4, 5, 4]);
  });

  it("a memcg's report includes its descendants' pages", async () => {
    const e = engineFor(smallMachine("16M"));
    await runCsv(e, [
      "time_ms,op,pid,addr,cg,key,value",
      '0,set,,,/a,memory.workingset.page_age_intervals,"N0=1000,5000"',
      "0,set,,,/a,memory.workingset.refresh_interval,N0=100",
      "0,access,1,0x1000,/a/x,,",
      "0,access,1,0x2000,,,",
      "0,access,2,0x1000,/a,,",
      "3000,read,,,/a,memory.workingset.page_age,",
    ].join("\n"));
    const v = e.reads[0]!.value;
    const bytes = v.split("\n").filter((l) => l.includes("anon=")).reduce((s, l) => s + Number(/anon=(\d+)/.exec(l)![1]), 0);
    expect(bytes).toBe(3 * 4096);
  });
});

describe("page_age_exact", () => {
  it("agrees with a brute-force count of each page's last access in the trace", async () => {
    const r = new Rng(11);
    const lines = ["time_ms,op,pid,addr,cg,key,value", '0,set,,,/,memory.workingset.page_age_intervals,"N0=500,2000,8000"'];
    const last = new Map<string, number>();
    let t = 0;
    for (let i = 0; i < 3000; i++) {
      t += r.int(20);
      const pid = 1 + r.int(3);
      const page = r.int(400);
      lines.push(`${t},access,${pid},${page * 4096},,,`);
      last.set(`${pid}:${page}`, t);
    }
    const res = await replay({ trace: "-", stdin: stdinOf(lines.join("\n") + "\n"), format: "csv" });
    const end = res.end_ms;
    const bounds = [500, 2000, 8000];
    const want = [0, 0, 0, 0];
    for (const at of last.values()) {
      const age = end - at;
      let b = 0;
      while (b < bounds.length && age >= bounds[b]!) b++;
      want[b]! += 4096;
    }
    const got = res.workingset["/"]!["0"]!.page_age_exact.map((x) => x.anon);
    expect(got).toEqual(want);
    expect(res.workingset["/"]!["0"]!.page_age_exact.map((x) => x.le_ms)).toEqual([500, 2000, 8000, null]);
  });
});
