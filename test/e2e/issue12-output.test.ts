/**
 * Issue 12, replay's CLI and outputs, as users run them: spawns bin/wsim (build first).
 * Each expectation is worked out from the trace or the rule, not copied from an output.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const tmp = mkdtempSync(join(tmpdir(), "wsim-i12-"));

function wsim(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, input, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

const HEAD = "time_ms,op,pid,addr,len,key\n";
/** one process, three events at 0, 1 and 7 ms */
const T3 = file("t3.csv", HEAD + "0,access,1,0x1000,,\n1,access,1,0x2000,,\n7,access,1,0x3000,,\n");

describe("--interval ends with the run's end (item 2)", () => {
  it("the README's balloon pipeline: the last CSV row is at 41257 ms, the trace's last event", () => {
    const r = wsim(["replay", "traces/vm-balloon.csv", "--machine", "vm", "--interval", "2500", "--format", "csv"]);
    expect(r.code).toBe(0);
    const rows = r.out.trimEnd().split("\n");
    const times = rows.slice(1).map((l) => Number(l.split(",")[0]));
    // 2500, 5000, .. 40000 (16 samples), then the end at 41257
    expect(times).toHaveLength(17);
    expect(times[15]).toBe(40000);
    expect(times[16]).toBe(41257);
  });

  it("NDJSON and JSON mark the extra sample with end: true", () => {
    const nd = wsim(["replay", T3, "--interval", "5", "--format", "ndjson"]);
    expect(nd.code).toBe(0);
    const recs = nd.out.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(recs.map((s) => [s.time_ms, s.end])).toEqual([
      [5, undefined],
      [7, true],
    ]);
    const js = JSON.parse(wsim(["replay", T3, "--interval", "5", "--format", "json"]).out);
    expect(js.series.map((s: { time_ms: number; end?: boolean }) => [s.time_ms, s.end])).toEqual([
      [5, undefined],
      [7, true],
    ]);
  });
});

describe("replay --seed is gone (item 8)", () => {
  it("is a usage error that says why and points at generate", () => {
    const r = wsim(["replay", T3, "--seed", "3"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^wsim: --seed: replay has no randomness/);
    expect(r.err).toContain("wsim generate");
    expect(r.err.trimEnd().split("\n")).toHaveLength(1);
  });

  it("the JSON has no seed, and --help does not offer it", () => {
    const j = JSON.parse(wsim(["replay", T3, "--format", "json"]).out);
    expect(j).not.toHaveProperty("seed");
    expect(wsim(["replay", "--help"]).out).not.toContain("--seed");
  });

  it("generate keeps its --seed", () => {
    const a = wsim(["generate", "zipf", "--seed", "1", "--events", "50"]);
    const b = wsim(["generate", "zipf", "--seed", "2", "--events", "50"]);
    expect(a.code).toBe(0);
    expect(a.out).not.toBe(b.out);
  });
});

describe("words (item 27)", () => {
  it("singular for one: 1 event, 1 node, 1 process, 1 counter compared", () => {
    const one = file("one.csv", HEAD + "0,access,1,0x1000,,\n");
    const text = wsim(["replay", one, "--format", "text"]).out;
    expect(text).toContain(": 1 event,");
    expect(text).toContain("1 node,");
    const st = wsim(["stat", one]).out;
    expect(st).toContain("1 event, 1 process,");
    expect(st).toContain("of 1 access ");
    const a = file("a.vmstat", "pgfault 1\n");
    const b = file("b.vmstat", "pgfault 1\n");
    expect(wsim(["diff", a, b]).out).toBe("1 counter compared: no differences\n");
  });

  it("plural for many: 3 events, 3 accesses", () => {
    expect(wsim(["replay", T3, "--format", "text"]).out).toContain(": 3 events,");
    const st = wsim(["stat", T3]).out;
    expect(st).toContain("3 events, 1 process,");
    expect(st).toContain("of 3 accesses ");
  });

  it("--interval -5, 0 and abc break one rule and get one message", () => {
    for (const v of ["-5", "0", "abc", "0.0"]) {
      const r = wsim(["replay", T3, "--format", "json", `--interval=${v}`]);
      expect(r.code, v).toBe(2);
      expect(r.err, v).toBe(`wsim: --interval: expected a positive number of ms, got "${v}"\n`);
    }
  });

  it("wsim_unmodelled_events is gone: every op is modelled, so it could never count", () => {
    const r = wsim(["replay", T3, "--format", "vmstat"]);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain("wsim_unmodelled_events");
  });
});
