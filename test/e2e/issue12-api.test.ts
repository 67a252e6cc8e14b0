/**
 * Issue 12, the API part, as users run it: `wsim diff` (its JSON names its list as the library
 * does; signs and plurals), `wsim tunables` on terminals of several widths and on a pipe,
 * help text without hard line breaks, and the package installed from `npm pack` elsewhere.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { diffCounters } from "../../src/report/diff.js";
import { TUNABLES } from "../../src/machine/tunables.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const tmp = mkdtempSync(join(tmpdir(), "wsim-e2e-api-"));

function wsim(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe("wsim diff (25, 27)", () => {
  const a = file("a.vmstat", "pgfault 18\ncompact_stall 18\nthp_fault_alloc 3\n");
  const b = file("b.vmstat", "pgfault 23\ncompact_stall 13\nthp_fault_alloc 3\n");

  it("--format json is {within, compared, rows}: the library's DiffResult, one name for the list", () => {
    const r = wsim(["diff", a, b, "--format", "json"]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as Record<string, unknown>;
    expect(Object.keys(j)).toEqual(["within", "compared", "rows"]);
    expect(j).toEqual(diffCounters({ pgfault: 18, compact_stall: 18, thp_fault_alloc: 3 }, { pgfault: 23, compact_stall: 13, thp_fault_alloc: 3 }));
    // replay --expect prints the same shape
    const exp = file("exp.vmstat", "pgfault 1\n");
    const e = wsim(["replay", "traces/faults.csv", "--expect", exp, "--only", "pgfault", "--format", "json"]);
    expect(e.code).toBe(1);
    const ej = JSON.parse(e.out.slice(e.out.lastIndexOf('{\n  "within"'))) as Record<string, unknown>;
    expect(Object.keys(ej)).toEqual(["within", "compared", "rows"]);
  });

  it("the table signs both changes (+27.8% and -27.8% for ±5 on 18) and pluralises", () => {
    const r = wsim(["diff", a, b]);
    expect(r.out).toMatch(/ pgfault .* \+5 .* \+27\.8% /);
    expect(r.out).toMatch(/ compact_stall .* -5 .* -27\.8% /);
    expect(r.out).toMatch(/^3 counters compared, 2 differ, 2 outside tolerance$/m);
    expect(wsim(["diff", a, b, "--only", "pgfault"]).out).toMatch(/^1 counter compared, 1 differs, 1 outside tolerance$/m);
    expect(wsim(["diff", a, a, "--only", "pgfault"]).out).toBe("1 counter compared: no differences\n");
  });
});

describe("wsim tunables on terminals and pipes (23)", () => {
  const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;
  /** `wsim tunables` on a pseudo-terminal `cols` wide (util-linux script) */
  function onTerminal(cols: number): string {
    const r = spawnSync("script", ["-qec", `stty cols ${cols}; "${process.execPath}" "${BIN}" tunables`, "/dev/null"], { cwd: ROOT, encoding: "utf8", input: "" });
    expect(r.status).toBe(0);
    return r.stdout.replace(/\r/g, "").replace(/\x1b\[[0-9;]*m/g, "");
  }

  it.skipIf(!hasScript)("on a terminal 80, 100, 120 or 160 columns wide no line wraps, and every tunable is listed", () => {
    for (const cols of [80, 100, 120, 160]) {
      const out = onTerminal(cols);
      for (const l of out.split("\n")) expect(l.length, `${cols} columns: ${l}`).toBeLessThanOrEqual(cols);
      for (const t of TUNABLES) expect(out, `${cols} columns`).toContain(`\n${t.key} `);
    }
  });

  it("--format table on a pipe fits $COLUMNS (80 without it); a plain pipe gets one tab-separated line per tunable", () => {
    for (const [env, cols] of [[{ COLUMNS: "100" }, 100], [{ COLUMNS: "" }, 80]] as const) {
      const r = wsim(["tunables", "--format", "table"], env);
      expect(r.code).toBe(0);
      for (const l of r.out.split("\n")) expect(l.length).toBeLessThanOrEqual(cols);
    }
    const lines = wsim(["tunables"]).out.trimEnd().split("\n");
    expect(lines.map((l) => l.split("\t")[0])).toEqual(TUNABLES.map((t) => t.key));
  });
});
