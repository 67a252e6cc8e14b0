/** The CLI's exit codes for the two-list LRU's refusals (README, Machines and tunables: LRU). */
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";

const wsim = (args: string[]) => {
  const r = spawnSync("./bin/wsim", args, { encoding: "utf8" });
  return { code: r.status, err: r.stderr, out: r.stdout };
};

it("--set of a workingset file with lru_gen.enabled=0 exits 2; a trace's workingset write exits 3 at its line", () => {
  const a = wsim(["replay", "traces/faults.csv", "--set", "lru_gen.enabled=0", "--set", "memory.workingset.page_age_intervals=N0=100,1000", "--format", "vmstat"]);
  expect(a.code).toBe(2);
  expect(a.err).toMatch(/memory\.workingset\.page_age_intervals: the workingset report needs MGLRU/);
  expect(a.out).toBe("");
  const b = wsim(["replay", "traces/overcommit.json", "--set", "lru_gen.enabled=0", "--format", "vmstat"]);
  expect(b.code).toBe(3);
  expect(b.err).toMatch(/^traces\/overcommit\.json:4: memory\.workingset\.page_age_intervals: the workingset report needs MGLRU/);
});

it("lru_gen.enabled=0 replays with the two lists: faults start inactive", () => {
  const r = wsim(["replay", "traces/faults.csv", "--set", "lru_gen.enabled=0", "--until", "50", "--format", "vmstat"]);
  expect(r.code).toBe(0);
  const v = Object.fromEntries(r.out.trim().split("\n").map((l) => [l.split(" ")[0], Number(l.split(" ")[1])]));
  expect(v.nr_active_anon).toBe(0);
  expect(v.nr_inactive_anon).toBeGreaterThan(0);
});
