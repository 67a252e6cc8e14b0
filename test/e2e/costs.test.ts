/**
 * Issue 16 from the command line: the cost.* tunables, the latency histograms and pressure in
 * JSON, the pressure/memory read key, --closed-loop, and their error paths. Spawns bin/wsim
 * (build with tsc first).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const tmp = mkdtempSync(join(tmpdir(), "wsim-costs-"));

function wsim(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

/** 100 small-page faults by one pid, then reads of the pressure files */
const faults = () => {
  const rows = ["time_ms,op,pid,addr,cg,key"];
  for (let i = 0; i < 100; i++) rows.push(`${i},access,1,${0x10000000 + i * 4096},/app,`);
  rows.push("200,read,1,,,pressure/memory", "200,read,1,,/app,memory.pressure");
  return file("faults.csv", rows.join("\n") + "\n");
};

describe("costs, latency and pressure (issue 16)", () => {
  it("JSON has the fault histogram at the set costs, and pressure for the system and the memcg", () => {
    const r = wsim(["replay", faults(), "--set", "transparent_hugepage.enabled=never", "--set", "cost.fault_ns=1000", "--set", "cost.zero_page_ns=1000", "-f", "json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    // 100 faults of 2 µs each (a page table too, which costs nothing of its own)
    expect(j.latency.fault).toMatchObject({ count: 100, total_us: 200, p50_us: 2, p99_us: 2, max_us: 2 });
    expect(j.latency.fault.buckets).toEqual([{ lo_us: 0, hi_us: 1, count: 0 }, { lo_us: 2, hi_us: 3, count: 100 }]);
    expect(j.latency.direct_compact.count).toBe(0);
    // every process is in /app: its histograms are the total's
    expect(Object.keys(j.latency_by_memcg)).toEqual(["/app"]);
    expect(j.latency_by_memcg["/app"].fault).toEqual(j.latency.fault);
    expect(Object.keys(j.pressure)).toEqual(["/", "/app"]);
    expect(j.pressure["/"].some).toEqual({ avg10: "0.00", avg60: "0.00", avg300: "0.00", total: 0 });
    expect(j.tunables["cost.profile"]).toBe("server");
    const zeros = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
    expect(j.reads.map((x: { key: string; value: string }) => [x.key, x.value])).toEqual([["pressure/memory", zeros], ["memory.pressure", zeros]]);
    expect(j.closed_loop).toBeUndefined();
  });

  it("--closed-loop adds closed_loop to JSON and a line to text", () => {
    const j = JSON.parse(wsim(["replay", faults(), "--closed-loop", "-f", "json"]).out);
    expect(j.closed_loop).toEqual({ delay_ms: {}, total_delay_ms: 0 });
    const t = wsim(["replay", faults(), "--closed-loop", "-f", "text"]);
    expect(t.out).toContain("closed loop: no pid stalled (total 0 ms of delay)");
    expect(t.out).toMatch(/stall latency/);
  });

  it("a bad cost is a usage error naming the allowed values; an unknown profile too", () => {
    const a = wsim(["replay", faults(), "--set", "cost.migrate_ns=-1"]);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/cost\.migrate_ns/);
    expect(a.err).not.toMatch(/at .*\.js/);
    const b = wsim(["replay", faults(), "--set", "cost.profile=fast"]);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/server, tcg/);
  });
});
