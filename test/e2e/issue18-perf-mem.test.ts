/**
 * Issue 18 item 2 through the CLI: `wsim convert` of perf mem samples (sniffed) writes a CSV
 * that says it is sampled (a `# sampled:` comment at the top, the periods at the end) and
 * replays; the notes on stderr; --from perf-mem; a file of nothing perf's is exit 3.
 * Expectations computed by hand from test/fixtures/ktrace/perf-mem-script.txt.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const FX = (f: string) => join(ROOT, "test/fixtures/ktrace", f);
const dir = mkdtempSync(join(tmpdir(), "wsim-i18-perfmem-e2e-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wsim = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8" });

describe("issue 18 item 2: wsim convert of perf mem samples", () => {
  it("perf script text to CSV: sniffed, marked sampled at the top and the end, and it replays (4 pages faulted)", () => {
    const r = wsim(["convert", FX("perf-mem-script.txt"), "pm.csv"]);
    expect(r.status, r.stderr).toBe(0);
    const lines = readFileSync(join(dir, "pm.csv"), "utf8").trim().split("\n");
    expect(lines[0]).toMatch(/^# sampled: a row a perf sample, not every access/);
    expect(lines[1]).toMatch(/^time_ms,op,pid,addr,/);
    expect(lines.slice(2, 6).map((l) => l.split(",").slice(0, 6).join(","))).toEqual([
      "0,access,4242,0x7ffd1a2b3000,,r",
      "0.1,access,4242,0x7ffd1a2b4000,,w",
      "1,access,5555,0x7f3c0a001000,,r",
      "1.044,access,5555,0x7f3c0a002000,,w",
    ]);
    expect(lines[6]).toBe("# sampled, not complete: 4 rows (2 loads, 2 stores) from perf samples of period 10007: each row stands for ~10007 accesses (scale counts by 10007; the periods sum to 40028)");
    expect(r.stderr).toContain("4 accesses written; skipped: 1 sample without a data address");
    expect(r.stderr).toContain("perf-mem-script.txt:7: the field after the event name is not a hex data address");
    const v = wsim(["replay", "pm.csv", "--format", "vmstat"]);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^pgfault 4$/m);
  });

  it("--from perf-mem on a file of nothing perf's is exit 3 at its first line; -q leaves the notes out", () => {
    writeFileSync(join(dir, "junk.txt"), "hello\n");
    const r = wsim(["convert", "--from", "perf-mem", "junk.txt", "-"]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/junk\.txt:1: perf-mem: no line of the file is a perf-mem record; the first it could not read is "hello"/);
    const q = wsim(["convert", "-q", FX("perf-mem-report-D.txt"), "-"]);
    expect(q.status, q.stderr).toBe(0);
    expect(q.stderr).toBe("");
    expect(q.stdout.trim().split("\n")).toHaveLength(2 + 3 + 1); // the top comment, the header, 3 rows, the periods
  });
});
