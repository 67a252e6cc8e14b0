/**
 * scripts/compare-generators.mjs (issue 15's acceptance): the README's comparison of the
 * fork-snapshot, malloc-trim and filecache generators with a real kernel is generated from
 * `wsim compare --format json` outputs. The QEMU runs are the script's; here its block is built
 * from a hand-made output, and its cases are checked against the generators and counters.
 */
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without types
import { BEGIN, END, renderGenerators, spliceGenerators } from "../../../scripts/compare-generators.mjs";
// @ts-expect-error: a plain .mjs script without types
import { GEN_CASES } from "../../../scripts/compare-generator-cases.mjs";
import { GENERATORS } from "../../../src/generate/generators.js";

const compareOf = (release: string) => ({
  rows: [{ counter: "pgfault", wsim: 245, kernel_min: 278, kernel_max: 280 }],
  kernel: { kernel: { release }, vmstat: { pgfault: 0, pgreuse: 0 } },
});

describe("compare-generators", () => {
  it("covers the three generators of issue 15, each with a generator that exists and options it has", () => {
    expect(GEN_CASES.map((c: { name: string }) => c.name)).toEqual(["fork-snapshot", "malloc-trim", "filecache"]);
    for (const c of GEN_CASES as { name: string; generate: string[]; rows: { counters: string[]; why?: string; inRange?: string }[] }[]) {
      const spec = GENERATORS[c.generate[0]!];
      expect(spec, c.generate[0]).toBeDefined();
      for (const o of c.generate.filter((a) => a.startsWith("--") && a !== "--seed")) expect(Object.keys(spec!.options), `${c.name}: ${o}`).toContain(o.slice(2).replace(/-/g, "_"));
      for (const r of c.rows) {
        expect(r.why ?? r.inRange, `${c.name}: ${r.counters.join(" / ")} says nothing`).toBeTruthy();
        for (const m of `${r.why ?? ""} ${r.inRange ?? ""}`.matchAll(/\{(?:wsim|kernel):(\w+)\}/g)) expect(r.counters, `${c.name}: ${m[0]}`).toContain(m[1]);
      }
    }
  });

  it("names the release, the boots and each case's commands, then the rows with their explanations", () => {
    const kase = { name: "fork-snapshot", label: "`fork-snapshot`", generate: ["fork-snapshot", "--heap-mb", "8"], args: ["--mem", "256M"], rows: [{ counters: ["pgfault", "pgreuse"], why: "wsim {wsim:pgfault}, the kernel {kernel:pgfault}" }] };
    const text = renderGenerators([{ kase, compare: compareOf("6.1.0-57-cloud-amd64") }], 1);
    expect(text).toMatch(/^Measured on Linux 6\.1\.0-57-cloud-amd64 \(Debian's cloud kernel, the `wsim kernel` default\), 1 boot per case\n\(wsim's side at the guest's pace, in the root memcg: `wsim compare`'s defaults `--pace guest --memcgs root`\);$/m);
    expect(text).toMatch(/^- fork-snapshot: `wsim generate fork-snapshot --heap-mb 8 > t\.csv; wsim compare t\.csv --mem 256M`$/m);
    // pgfault 245 is outside 278 – 280; pgreuse moved on neither side (0 / 0)
    expect(text).toMatch(/^\| `fork-snapshot` \| pgfault \/ pgreuse \| 245 \/ 0 \| 278 – 280 \/ 0 \| wsim 245, the kernel 278 – 280 \|$/m);
  });

  it("--from DIR renders what a --keep run left, without QEMU; --keep and --from together are a usage error", async () => {
    const { spawnSync } = await import("node:child_process");
    const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "wsim-gen-from-"));
    try {
      // every counter the cases show, 0 on both sides in two boots: every row in range
      const counters = (GEN_CASES as { rows: { counters: string[] }[] }[]).flatMap((c) => c.rows.flatMap((r) => r.counters));
      const kernel = { kernel: { release: "6.1.0-57-cloud-amd64" }, vmstat: Object.fromEntries(counters.map((c) => [c, 0])) };
      for (const c of GEN_CASES as { name: string }[]) writeFileSync(join(dir, `${c.name}.json`), JSON.stringify({ rows: [], kernel, kernel_runs: [kernel, kernel] }));
      const script = new URL("../../../scripts/compare-generators.mjs", import.meta.url).pathname;
      const r = spawnSync(process.execPath, [script, "--from", dir, "--out", "-"], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^Measured on Linux 6\.1\.0-57-cloud-amd64 .*, 2 boots per case$/m);
      const rows = r.stdout.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| trace"));
      expect(rows).toHaveLength((GEN_CASES as { rows: unknown[] }[]).reduce((n, c) => n + c.rows.length, 0)); // one line per row of every case
      for (const l of rows) expect(l).toMatch(/\| in range \|$/);
      const both = spawnSync(process.execPath, [script, "--keep", dir, "--from", dir], { encoding: "utf8" });
      expect(both.status).toBe(2);
      expect(both.stderr).toMatch(/--keep and --from exclude each other/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("replaces what lies between its own markers, and needs both", () => {
    expect(BEGIN).toBe("<!-- compare-generators:begin -->");
    expect(spliceGenerators(`a\n${BEGIN}\nold\n${END}\nb\n`, "new")).toBe(`a\n${BEGIN}\nnew\n${END}\nb\n`);
    expect(() => spliceGenerators("a\n<!-- compare-table:begin -->\n<!-- compare-table:end -->\n", "new")).toThrow(/lacks the markers/);
  });
});
