/**
 * `wsim stat KMEM --replay FILE` where FILE is a kernel's raw /proc/vmstat: its counters count
 * from boot, not from the trace's start, so setting them beside the trace's events is wrong:
 * a usage error (exit 2) pointing at `wsim diff --delta`, where it was accepted silently.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const FX = (f: string) => join(ROOT, "test/fixtures/ktrace", f);
const wsim = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });

describe("stat --replay with a raw /proc/vmstat", () => {
  it("is exit 2 naming diff --delta, with no stack trace and nothing on stdout", () => {
    const r = wsim(["stat", FX("trace_pipe.txt"), "--replay", FX("vmstat-after.txt")]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/--replay .*vmstat-after\.txt: reads as a kernel's \/proc\/vmstat, whose counters count from boot/);
    expect(r.stderr).toMatch(/wsim diff --delta BEFORE AFTER REPLAY/);
    expect(r.stderr).not.toMatch(/ at .*\.js:\d+/);
  });
  it("a replay's own vmstat output is still taken", () => {
    const out = wsim(["replay", FX("touch512.csv"), "-f", "vmstat"]);
    expect(out.status).toBe(0);
    const r = spawnSync(process.execPath, [BIN, "stat", FX("trace_pipe.txt"), "--replay", "-"], { input: out.stdout, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/pgfree/);
  });
});
