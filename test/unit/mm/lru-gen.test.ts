import { describe, expect, it } from "vitest";
import { ANON, FILE, LruGen, NR_SLOTS } from "../../../src/mm/lru-gen.js";
import { PageArrays, PG_ACCESSED, PG_ANON } from "../../../src/mm/pages.js";
import { collectPageAgeType } from "../../../src/mm/workingset-report.js";

function setup(n = 64) {
  const pages = new PageArrays(n);
  const flags = pages.flags;
  const lru = new LruGen(pages);
  const lv = lru.newLruvec(0, null, 0);
  return { flags, lru, lv };
}

const gens = (lv: ReturnType<typeof setup>["lv"], type: number) => {
  const out: Record<number, number> = {};
  for (let seq = lv.minSeq[type]!; seq <= lv.maxSeq; seq++) out[seq] = lv.pagesIn(type, seq);
  return out;
};

describe("MGLRU generations", () => {
  it("a new lruvec has four generations (seq 0..3) born at creation", () => {
    const lv = new LruGen(new PageArrays(1)).newLruvec(0, null, 1234.7);
    expect([lv.minSeq[ANON], lv.minSeq[FILE], lv.maxSeq]).toEqual([0, 0, 3]);
    for (let s = 0; s <= 3; s++) expect(lv.birthOf(s)).toBe(1234);
  });

  it("aging moves accessed pages into the current youngest generation, merges at max_nr_gens, opens a new one", () => {
    const { flags, lru, lv } = setup();
    // 10 anon pages faulted into the youngest generation (seq 3), 4 file pages
    for (let p = 0; p < 10; p++) {
      flags[p] = PG_ANON | PG_ACCESSED;
      lru.add(lv, p, lv.maxSeq);
    }
    for (let p = 10; p < 14; p++) {
      flags[p] = PG_ACCESSED;
      lru.add(lv, p, lv.maxSeq);
    }
    // age at t=1000: all accessed, already youngest; nr_gens = 4 = max: inc_min_seq first
    lru.age(lv, 1000, null);
    expect([lv.minSeq[ANON], lv.maxSeq]).toEqual([1, 4]);
    expect(gens(lv, ANON)).toEqual({ 1: 0, 2: 0, 3: 10, 4: 0 });
    expect(lv.birthOf(4)).toBe(1000);
    for (let p = 0; p < 14; p++) expect(flags[p]! & PG_ACCESSED).toBe(0);
    // pages 0..3 touched again; age at t=2000: they move to seq 4 (the youngest then)
    for (let p = 0; p < 4; p++) flags[p]! |= PG_ACCESSED;
    const moved: [number, number, number][] = [];
    lru.age(lv, 2000, (_lv, type, seq, n) => moved.push([type, seq, n]));
    expect(moved).toEqual([[ANON, 3, 4]]);
    expect(gens(lv, ANON)).toEqual({ 2: 0, 3: 6, 4: 4, 5: 0 });
    expect(gens(lv, FILE)).toEqual({ 2: 0, 3: 4, 4: 0, 5: 0 });
    // age twice more without accesses: the oldest merge forward, nothing is lost
    lru.age(lv, 3000, null);
    lru.age(lv, 4000, null);
    expect(gens(lv, ANON)).toEqual({ 4: 10, 5: 0, 6: 0, 7: 0 });
    expect(lv.total[ANON]).toBe(10);
    expect(lv.total[FILE]).toBe(4);
    expect([4, 5, 6, 7].map((s) => lv.birthOf(s))).toEqual([1000, 2000, 3000, 4000]);
  });

  it("lru_gen.max_nr_gens = 3 keeps three generations", () => {
    const { flags, lru, lv } = setup();
    lru.maxNrGens = 3;
    flags[0] = PG_ANON;
    lru.add(lv, 0, lv.maxSeq);
    lru.age(lv, 10, null);
    expect(lv.nrGens(ANON)).toBe(3);
    lru.age(lv, 20, null);
    expect(lv.nrGens(ANON)).toBe(3);
    expect(lv.total[ANON]).toBe(1);
  });

  it("the active/inactive split counts the two youngest generations as active", () => {
    const { flags, lru, lv } = setup();
    for (let p = 0; p < 6; p++) {
      flags[p] = PG_ANON;
      lru.add(lv, p, p < 2 ? 1 : p < 4 ? 2 : 3);
    }
    expect(lru.activeInactive(lv)).toEqual([4, 2, 0, 0]);
  });
});

describe("page_age: the RFC's proportional split (collect_page_age_type)", () => {
  it("splits each generation across bins as size / gen_len * gen_in_bin, integer division first", () => {
    const { lv } = setup();
    // generations 2..5 born at 1000, 3000, 6000, 9000; now 10000
    lv.minSeq[ANON] = 2;
    lv.maxSeq = 5;
    const birth: Record<number, number> = { 2: 1000, 3: 3000, 4: 6000, 5: 9000 };
    const pages: Record<number, number> = { 2: 50, 3: 10000, 4: 300, 5: 100 };
    for (const s of [2, 3, 4, 5]) {
      lv.birth[s % NR_SLOTS] = birth[s]!;
      lv.count[ANON * NR_SLOTS + (s % NR_SLOTS)] = pages[s]!;
    }
    const bins = [0, 0, 0, 0];
    collectPageAgeType(lv, ANON, [2000, 5000, 8000], bins, 10000);
    // seq 5 [9000, now]: age 0..1000, all in bin 0                                  -> 100
    // seq 4 [6000, 9000]: 1000 ms of its 3000 fall under 2000 ms, but 300/3000 = 0 -> 0 split, 300 to bin 1
    // seq 3 [3000, 6000]: under 5000: 1000 of 3000 ms -> 10000/3000*1000 = 3000 in bin 1, 7000 to bin 2
    // seq 2 [1000, 3000]: under 8000: 1000 of 2000 ms -> 50/2000 = 0 -> all 50 in the open bin
    expect(bins).toEqual([100, 300 + 3000, 7000, 50]);
    expect(bins.reduce((a, b) => a + b, 0)).toBe(10450); // nothing lost
  });
});
