/**
 * scripts/fit-tcg-costs.mjs: the NNLS fit of the TCG cost profile recovers known costs from
 * synthetic runs, and keeps costs non-negative.
 */
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script, no declarations
import { nnls, fitCosts, profileFrom, GUESS } from "../../../scripts/fit-tcg-costs.mjs";

describe("fit-tcg-costs", () => {
  it("nnls clamps a cost the data would make negative", () => {
    // min (x1+1)^2 + (x2-2)^2 + (x1+x2-1)^2 with x >= 0: unconstrained x1 < 0; at x1 = 0 the
    // best x2 minimises (x2-2)^2 + (x2-1)^2 -> x2 = 1.5, and d/dx1 there = 2*1 + 2*0.5 = 3 > 0,
    // so (0, 1.5) is the constrained optimum.
    const x = nnls([[1, 0], [0, 1], [1, 1]], [-1, 2, 1]);
    expect(x[0]).toBe(0);
    expect(x[1]).toBeCloseTo(1.5, 9);
  });

  it("recovers the costs of synthetic runs made with known costs", () => {
    // known ns: event 100000, sleep 50000, fault+zero_page 9000, zero_thp 500000,
    // compact_scan 300, migrate 15000, reclaim_scan 2000, reclaim_page 10000,
    // io_read 150000, io_write 100000
    const runs = [];
    for (let i = 0; i < 14; i++) {
      const k = (m: number, a: number) => ((i * a + 3) % m) * 100; // varied, independent counts
      const v = {
        pgfault: 20000 + k(7, 3) * 5, pgmajfault: k(5, 2), thp_fault_alloc: (i * 7) % 11,
        compact_migrate_scanned: k(9, 4) * 10, compact_free_scanned: k(4, 1) * 10,
        pgmigrate_success: k(6, 5), pgscan_direct: k(3, 2), pgscan_kswapd: k(11, 7) * 3,
        pgsteal_direct: k(2, 1), pgsteal_kswapd: k(13, 5), pswpin: k(8, 3), pswpout: k(10, 9),
      };
      const events = 10000 + 1000 * ((i * 5) % 9), sleeps = 2000 + 500 * ((i * 4) % 7);
      const ns = 100000 * events + 50000 * sleeps + 9000 * (v.pgfault - v.pgmajfault - v.thp_fault_alloc)
        + 500000 * v.thp_fault_alloc + 300 * (v.compact_migrate_scanned + v.compact_free_scanned)
        + 15000 * v.pgmigrate_success + 2000 * (v.pgscan_direct + v.pgscan_kswapd)
        + 10000 * (v.pgsteal_direct + v.pgsteal_kswapd) + 150000 * v.pswpin + 100000 * v.pswpout;
      runs.push({ label: `r${i}`, events, sleeps, vmstat: v, workedMs: ns / 1e6 });
    }
    const fit = fitCosts(runs);
    const want = [100000, 50000, 9000, 500000, 300, 15000, 2000, 10000, 150000, 100000];
    want.forEach((w, j) => expect(fit.x[j]).toBeCloseTo(w, -1)); // within 5 ns
    expect(fit.rmsMs).toBeLessThan(1e-3);
    expect(fit.identified.every(Boolean)).toBe(true);
    // fault's own part: 9000 - zero_page's guess 1900 = 7100; the others as fitted
    const p = profileFrom(fit);
    expect(p.fault).toBe(9000 - GUESS.zero_page);
    expect(p.zero_page).toBe(GUESS.zero_page);
    expect(p.migrate).toBe(15000);
    expect(p.io_write).toBe(100000);
  });

  it("keeps the guess for a cost no run exercises", () => {
    // swap never happens: io_read/io_write columns all zero -> not identified, guess kept
    const runs = [];
    for (let i = 0; i < 12; i++) {
      const v = { pgfault: 1000 + 300 * i, pgmajfault: 0, thp_fault_alloc: i % 4, pswpin: 0, pswpout: 0 };
      const events = 5000 + 700 * ((i * 3) % 5), sleeps = 100 * ((i * 2) % 7);
      const ns = 100000 * events + 50000 * sleeps + 9000 * (v.pgfault - v.thp_fault_alloc) + 500000 * v.thp_fault_alloc;
      runs.push({ label: `r${i}`, events, sleeps, vmstat: v, workedMs: ns / 1e6 });
    }
    const fit = fitCosts(runs);
    expect(fit.identified[8]).toBe(false); // io_read
    expect(fit.identified[9]).toBe(false); // io_write
    const p = profileFrom(fit);
    expect(p.io_read).toBe(GUESS.io_read);
    expect(p.io_write).toBe(GUESS.io_write);
    expect(p.zero_thp).toBe(500000);
  });

  it("flags columns that move together as confounded", () => {
    // pswpout = 2 * pswpin in every run: correlation exactly 1 >= 0.95 -> one pair flagged,
    // io_read ~ io_write; the other columns vary on their own
    const runs = [];
    for (let i = 0; i < 12; i++) {
      const v = { pgfault: 1000 + 300 * i, thp_fault_alloc: i % 4, pswpin: 10 * ((i * 5) % 7), pswpout: 20 * ((i * 5) % 7) };
      runs.push({ label: `r${i}`, events: 5000 + 700 * ((i * 3) % 5), sleeps: 100 * ((i * 2) % 7), vmstat: v, workedMs: 1000 + i });
    }
    const pairs = fitCosts(runs).confounded.map(([a, b]: [string, string]) => `${a}~${b}`);
    expect(pairs).toContain("io_read~io_write");
  });
});
