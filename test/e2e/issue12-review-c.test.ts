/**
 * Issue 12 review C (the third new-user session): the kinds it found in `wsim diff`, `wsim
 * generate` and `--interval`, each over every instance. Spawns bin/wsim (build first);
 * WSIM_BIN overrides it (to show the tests fail on a build without the fixes).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { diffCounters } from "../../src/report/diff.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = process.env.WSIM_BIN ?? join(ROOT, "bin/wsim");
const DIR = mkdtempSync(join(tmpdir(), "wsim-review-c-"));

function wsim(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: DIR, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { status: r.status, out: r.stdout ?? "", err: r.stderr };
}
const put = (n: string, text: string) => (writeFileSync(join(DIR, n), text), n);

// two runs' vmstat outputs (a wsim_ counter: not raw /proc/vmstat snapshots, which diff takes as --delta)
const A = "nr_free_pages 100\npgfault 10\nthp_fault_alloc 1\ncompact_stall 0\nwsim_events 5\n";
const B = "nr_free_pages 90\npgfault 12\nthp_fault_alloc 3\ncompact_stall 2\nwsim_events 5\n";

describe("a diff that compares nothing is a usage error, not a pass (item 7's kind)", () => {
  it("an --only glob matching no counter, a tolerance naming none, --ignore excluding all: exit 2 naming it", () => {
    put("a.vmstat", A);
    put("b.vmstat", B);
    const cases: [string[], RegExp][] = [
      [["--only", "thp_fualt*"], /^wsim: only "thp_fualt\*": matches no counter of either side\n$/],
      [["--only", "thp_*", "--only", "nosuch_*"], /only "nosuch_\*": matches no counter/],
      [["--tolerance", "nosuch_counter=5%"], /^wsim: tolerance "nosuch_counter": no such counter on either side\n$/],
      [["--ignore", "*"], /^wsim: no counter left to compare: the only\/ignore globs exclude all 5\n$/],
    ];
    for (const [args, err] of cases) {
      const r = wsim(["diff", "a.vmstat", "b.vmstat", ...args]);
      expect([r.status, r.out], args.join(" ")).toEqual([2, ""]);
      expect(r.err, args.join(" ")).toMatch(err);
    }
    // replay --expect takes the same filters
    put("t.csv", "time_ms,op,pid,addr\n0,access,1,0x1000\n");
    const r = wsim(["replay", "t.csv", "--expect", "a.vmstat", "--only", "nosuch*"]);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/only "nosuch\*": matches no counter/);
  });

  it("globs may be comma-separated, as the README's own example writes them", () => {
    const r = wsim(["diff", "a.vmstat", "b.vmstat", "--only", "thp_*,compact_*"]);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/thp_fault_alloc/);
    expect(r.out).toMatch(/compact_stall/);
    expect(r.out).not.toMatch(/pgfault/);
    // the library too, and with no counters on either side nothing is refused
    expect(diffCounters({ a_x: 1, b_y: 2 }, { a_x: 1, b_y: 3 }, { only: "a_*,b_*" }).compared).toBe(2);
    expect(diffCounters({}, {}, { only: "x*" }).compared).toBe(0);
  });

  it("diff --delta of two snapshots: an --only glob matching no counter is exit 2 too", () => {
    put("before.vmstat", "nr_free_pages 100\npgfault 10\n");
    put("after.vmstat", "nr_free_pages 90\npgfault 12\n");
    const r = wsim(["diff", "--delta", "before.vmstat", "after.vmstat", "--only", "pgfualt"]);
    expect([r.status, r.err]).toEqual([2, 'wsim: only "pgfualt": matches no counter of either snapshot\n']);
    expect(wsim(["diff", "--delta", "before.vmstat", "after.vmstat", "--only", "pgfault,nr_free_pages"]).status).toBe(0);
  });
});

describe("a vmstat file with a bad line is reported at that line as vmstat (item 21's kind)", () => {
  it("a value that is not an integer, a line that is not `name value`: file:line, exit 3", () => {
    const bad: [string, string, number][] = [
      ["bad.vmstat", A.replace("pgfault 10", "pgfault 12abc"), 2],
      ["frac.vmstat", A.replace("pgfault 10", "pgfault 1.5"), 2],
      ["garbage.vmstat", A + "garbage line here\n", 6],
    ];
    for (const [name, text, line] of bad) {
      put(name, text);
      const r = wsim(["diff", name, "a.vmstat"]);
      expect(r.status, name).toBe(3);
      expect(r.err, name).toMatch(new RegExp(`^${name.replace(".", "\\.")}:${line}: expected a vmstat line \`name value\` with an integer value, got "`));
    }
  });
});

describe("--interval samples at exactly k * MS (item 2's kind: the samples are the run's)", () => {
  it("a decimal interval gives k * MS as written, and the sample at 1 ms has the event at 1 ms", () => {
    const rows = (ms: string) =>
      wsim(["replay", join(ROOT, "traces/faults.csv"), "--interval", ms, "--format", "csv"]).out.trim().split("\n").slice(1).map((l) => l.split(","));
    const tenth = rows("0.1");
    expect(tenth.slice(0, 12).map((r) => r[0])).toEqual(["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1", "1.1", "1.2"]);
    // every row on the grid is k/10 as a decimal, up to the end row
    tenth.slice(0, -1).forEach((r, k) => expect(r[0]).toBe(String((k + 1) / 10)));
    const one = rows("1");
    const pgfault = wsim(["replay", join(ROOT, "traces/faults.csv"), "--interval", "1", "--format", "csv"]).out.split("\n")[0]!.split(",").indexOf("pgfault");
    expect(tenth[9]![pgfault]).toBe(one[0]![pgfault]);
    expect(rows("0.7")[2]![0]).toBe("2.1");
  });
});

describe("generate: a knob that would make a trace its own machine cannot replay is refused (item 9's kind)", () => {
  it("tiered --node takes the nodes of machine tiered (0, 1) only; each of them replays", () => {
    const r = wsim(["generate", "tiered", "--node", "5"]);
    expect([r.status, r.out, r.err]).toEqual([2, "", 'wsim: --node: expected an integer from 0 to 1, got "5"\n']);
    for (const node of ["0", "1"]) {
      put(`tiered-${node}.csv`, wsim(["generate", "tiered", "--node", node, "--heap-mb", "4", "--hot-mb", "1", "--duration-ms", "100"]).out);
      expect(wsim(["replay", `tiered-${node}.csv`, "-f", "vmstat"]).status, node).toBe(0);
    }
  });
});

describe("invalid JSON is reported at its line (the brief's file:line)", () => {
  it("a trailing comma, a bad literal, a cut document: the line of the fault, whichever message V8 gives", () => {
    const ev = (t: number, addr: string) => `{"time_ms": ${t}, "op": "access", "pid": 1, "addr": ${addr}}`;
    const cases: [string, string, number][] = [
      // V8 quotes the text around the token ("Unexpected token ']', ...")
      ["comma.json", `{\n  "events": [\n    ${ev(0, '"0x1000"')},\n    ${ev(1, '"0x2000"')},\n  ]\n}\n`, 5],
      ["literal.json", `{"events": [\n${ev(0, '"0x1000"')},\n${ev(1, "tru")}\n]}\n`, 3],
      // V8 gives a position
      ["cut.json", `{"events": [\n${ev(0, '"0x1000"')}\n`, 2],
      ["key.json", `{"events": [\n${ev(0, '"0x1000"')},\n{"time_ms" 1}\n]}\n`, 3],
    ];
    for (const [name, text, line] of cases) {
      put(name, text);
      const r = wsim(["replay", name]);
      expect([r.status, r.err.split(": invalid JSON")[0]], name).toEqual([3, `${name}:${line}`]);
    }
  });
});

describe("a JSON series too large for memory is refused up front (item 18's kind)", () => {
  it("--interval 1000 on an epoch-ms trace: exit 2 at once naming the count and the streaming formats; -o writes nothing; csv streams", () => {
    put("epoch.csv", "time_ms,op,pid,addr\n1764500000000,access,1,0x1000\n1764500005000,access,1,0x2000\n");
    const t0 = Date.now();
    const r = wsim(["replay", "epoch.csv", "--interval", "1000", "-o", "ep.json"]);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect([r.status, r.err]).toEqual([
      2,
      "wsim: --interval 1000: 1,764,500,000 samples by 1764500000000 ms, more than the 50,000 a JSON series keeps in memory (samples run from 0 ms, the virtual boot): raise --interval, or stream them with --format csv or ndjson\n",
    ]);
    expect(wsim(["replay", "epoch.csv", "--interval", "100000000000", "-f", "json"]).status).toBe(0);
  });
});
