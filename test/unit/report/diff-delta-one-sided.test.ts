/**
 * `wsim diff --delta BEFORE AFTER REPLAY`: a counter one side does not have (the kernel's
 * snapshots lack pgalloc_device without ZONE_DEVICE; the replay lacks counters wsim does not
 * model) is left out and named, not a difference that fails the check. The snapshots are the
 * hand-written fixtures (12 counters, no pgalloc_device); the replay's JSON has every wsim
 * counter, so every counter the fixtures lack is replay-only.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const FX = (f: string) => join(ROOT, "test/fixtures/ktrace", f);
const dir = mkdtempSync(join(tmpdir(), "wsim-delta-1side-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wsim = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8" });

describe("diff --delta with a replay: one-sided counters", () => {
  it("pgalloc_device (replay only) is left out and named; the counters both have are compared", () => {
    const r = wsim(["diff", "--delta", FX("vmstat-before.txt"), FX("vmstat-after.txt"), FX("touch512.csv"), "--only", "pgfault", "--only", "pgalloc_device", "-f", "json"]);
    // pgfault: kernel 512, replay 512 (touch512 faults 512 pages): equal, so within
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.replay_only).toContain("pgalloc_device");
    expect(j.replay_only).not.toContain("pgfault");
    expect(j.kernel_only).toEqual([]);
    expect(j.compared).toBe(1);
    expect(j.rows).toEqual([]);
    expect(r.stderr).toMatch(/^not in the kernel's snapshots, left out: .*\bpgalloc_device\b/m);
  });

  it("a counter only the kernel prints is left out the other way", () => {
    const before = join(dir, "b.txt");
    const after = join(dir, "a.txt");
    writeFileSync(before, "nr_free_pages 100\npgfault 10\nzz_kernel_only 1\n");
    writeFileSync(after, "nr_free_pages 100\npgfault 522\nzz_kernel_only 5\n");
    const r = wsim(["diff", "--delta", before, after, FX("touch512.csv"), "--only", "pgfault,zz_*", "-f", "json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).kernel_only).toEqual(["zz_kernel_only"]);
    expect(r.stderr).toMatch(/^not counted by the replay, left out: zz_kernel_only$/m);
    // the filters decide what is named: without the zz_* glob it is left out silently
    const quiet = wsim(["diff", "--delta", before, after, FX("touch512.csv"), "--only", "pgfault", "-f", "json"]);
    expect(JSON.parse(quiet.stdout).kernel_only).toEqual([]);
    expect(quiet.stderr).not.toMatch(/zz_kernel_only/);
  });

  it("--only that selects one-sided counters alone is a usage error (exit 2) naming the glob", () => {
    const r = wsim(["diff", "--delta", FX("vmstat-before.txt"), FX("vmstat-after.txt"), FX("touch512.csv"), "--only", "pgalloc_device"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--only pgalloc_device: selects counters on one side only \(named above\): nothing to compare/);
    expect(r.stderr).not.toMatch(/ at .*\.js:/);
  });
});
