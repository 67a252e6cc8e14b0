import { describe, expect, it } from "vitest";
import { calcAvgs, calcLoad, fixedPowerInt, Psi, PSI_PERIOD_NS } from "../../../src/mm/psi.js";

const MS = 1_000_000;

describe("psi fixed point (kernel/sched/loadavg.h, loadavg.c)", () => {
  it("calc_load rounds up only when the sample is at least the old value", () => {
    // (0*1677 + 51200*371 + 2047) / 2048 = 18,997,247 / 2048 = 9275.99 -> 9275
    expect(calcLoad(0, 1677, 51200)).toBe(9275);
    // falling: (51200*1677 + 0) / 2048 = 41925 exactly, no round-up
    expect(calcLoad(51200, 1677, 0)).toBe(41925);
  });
  it("fixed_power_int squares with the kernel's rounding", () => {
    expect(fixedPowerInt(1677, 0)).toBe(2048);
    expect(fixedPowerInt(1677, 1)).toBe(1677);
    // n=2: x*x = 2,812,329; +1024 = 2,813,353; >>11 = 1373
    expect(fixedPowerInt(1677, 2)).toBe(1373);
  });
  it("calc_avgs takes whole percent of the period (time*100/period, truncated)", () => {
    const avg = [0, 0, 0];
    calcAvgs(avg, 0, 499 * MS, 2000 * MS); // 24.95 % -> 24
    expect(avg[0]).toBe(calcLoad(0, 1677, 24 * 2048));
  });
});

/** one task, non-idle from 0, stalled [k*every, k*every + len) for k = 0.. until `until` */
function pattern(len: number, every: number, until: number): Psi {
  const psi = new Psi();
  psi.start(1, [psi.system], 0);
  for (let t = 0; t < until; t += every) psi.memstall(1, t * MS, len * MS);
  return psi;
}

describe("/proc/pressure/memory (psi_show, update_averages)", () => {
  it("500 ms stalled every 2 s: some and full avg10 converge to 25.00", () => {
    // The work runs at 2001, 4003, 6004, 8005 ... ms (PSI_FREQ = 2001 jiffies, rescheduled
    // one jiffy after avg_next_update); each period holds 500 ms of one stall plus 1 ms of the
    // next (e.g. (2001, 4003]: 499 + 3 = 502 of 2002 ms) -> 25 % in whole percent every period.
    // calc_load(l, 1677, 25*2048) from 0 settles at 51205 (371*l = 371*51200 + 2047 -> 51205.5):
    // LOAD_INT 25, LOAD_FRAC (5*100)>>11 = 0.
    const psi = pattern(500, 2000, 100_000);
    const out = psi.show(100_000 * MS);
    const [some, full] = out.trimEnd().split("\n");
    expect(some).toMatch(/^some avg10=25\.00 avg60=\d+\.\d\d avg300=\d+\.\d\d total=25000000$/);
    expect(full).toMatch(/^full avg10=25\.00 /);
    // avg60 after 49 samples of 25 %: 25 * (1 - (1981/2048)^49) = 25 * 0.805 = 20.1 (within rounding)
    const avg60 = Number(/avg60=(\d+\.\d\d)/.exec(some!)![1]);
    expect(avg60).toBeGreaterThan(19.5);
    expect(avg60).toBeLessThan(20.6);
  });

  it("the kernel's whole-percent sample: 490 ms in each 2001 ms period shows 24.00, not 24.49", () => {
    // stalls at 0, 2001, 4002 ...; periods (2001k+..] each hold 490 ms -> floor(49000/2001) = 24
    const psi = new Psi();
    psi.start(1, [psi.system], 0);
    for (let t = 0; t < 100 * 2001; t += 2001) psi.memstall(1, t * MS, 490 * MS);
    const some = psi.show(100 * 2001 * MS).split("\n")[0]!;
    expect(some).toMatch(/^some avg10=24\.00 /);
  });

  it("each task's CPU is weighted by its non-idle time: one of two busy tasks stalled half the time gives 25 %", () => {
    // task 1 stalled 1000 ms of every 2000; task 2 runs all the time, never stalled.
    // Per period: CPU1 some 1000 (+ edge), nonidle ~2001; CPU2 some 0, nonidle ~2001 ->
    // total += 1000*2001 / 4002 = 500 ms (with the 1 ms edges: 1002*2002/4004 = 501 of 2002)
    // -> 25 % per sample, avg10 settles at 25.00 as above; total after 100 s = 25 s.
    const psi = new Psi();
    psi.start(1, [psi.system], 0);
    psi.start(2, [psi.system], 0);
    for (let t = 0; t < 100_000; t += 2000) psi.memstall(1, t * MS, 1000 * MS);
    const some = psi.show(100_000 * MS).split("\n")[0]!;
    // total: 50 stalls of 1000 ms, each weighed against two CPUs' equal non-idle time
    expect(some).toMatch(/^some avg10=25\.00 .* total=25000000$/);
  });

  it("idle periods decay the averages by fixed_power_int over the missed periods", () => {
    const psi = new Psi();
    psi.start(1, [psi.system], 0);
    psi.memstall(1, 0, 2001 * MS); // the whole first period
    psi.exit(1, 2001 * MS);
    // work at 2001: sample 2001 of 2001 ms = 100 % -> avg10 = calc_load(0, 1677, 204800)
    const a1 = calcLoad(0, 1677, 100 * 2048);
    // it saw non-idle time, so it runs again at 4003 (no new time: stops; 4003 < 4002+2001, missed 0)
    const a2 = calcLoad(a1, 1677, 0);
    // a read at 20 s: expires 6003, (20000-6003)/2001 = 6 missed periods, decayed by 1677^6
    const a3 = calcLoad(calcLoad(a2, fixedPowerInt(1677, 6), 0), 1677, 0);
    const some = psi.show(20_000 * MS).split("\n")[0]!;
    const txt = `${a3 >> 11}.${String(((a3 & 2047) * 100) >> 11).padStart(2, "0")}`;
    expect(some).toBe(`some avg10=${txt} avg60=${/avg60=(\S+)/.exec(some)![1]} avg300=${/avg300=(\S+)/.exec(some)![1]} total=2001000`);
    expect(a3).toBeLessThan(a1);
  });

  it("a task with no stall shows zeros", () => {
    const psi = new Psi();
    psi.start(7, [psi.system], 0);
    expect(psi.show(10_000 * MS)).toBe(
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
    expect(PSI_PERIOD_NS).toBe(2_001_000_000);
  });

  it("a long quiet stretch is skipped exactly: the same file as stepping through every period", () => {
    const mk = () => {
      const psi = new Psi();
      psi.start(1, [psi.system], 0);
      psi.start(2, [psi.system], 0);
      for (let t = 0; t < 60_000; t += 2000) psi.memstall(1, t * MS, 700 * MS);
      return psi;
    };
    const T = 3 * 3600 * 1000; // three hours, long after every average decayed to 0
    const a = mk();
    const b = mk();
    for (let t = 60_000; t <= T; t += 1000) b.advance(t * MS); // every period's work, one by one
    expect(a.show(T * MS)).toBe(b.show(T * MS));
    expect(a.show(T * MS)).toMatch(/^some avg10=0\.00 avg60=0\.00 avg300=0\.00 total=\d+\n/);
  });
});

