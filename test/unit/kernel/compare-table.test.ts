/**
 * scripts/compare-table.mjs (issue 13 item 6): the README's comparison table is built from
 * `wsim compare --format json` outputs, names the kernel release, fills explanations from the
 * run, says "in range" where wsim is, and refuses a row outside the range with no explanation.
 * The QEMU runs themselves are the script's; here its table is built from hand-made outputs.
 */
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without types
import { BEGIN, caseRows, END, fill, renderTable, spliceReadme, valuesOf } from "../../../scripts/compare-table.mjs";
// @ts-expect-error: a plain .mjs script without types
import { CASES, NOTES } from "../../../scripts/compare-cases.mjs";

/** A compare output: rows for the counters given as [wsim, kernel_min, kernel_max], the kernel's vmstat, releases. */
function compareOf(rows: Record<string, [number | null, number, number]>, releases = ["6.1.0-50-cloud-amd64"], vmstat: Record<string, number> = {}) {
  const kernel = (release: string) => ({ kernel: { release }, vmstat: { pgfault: 0, compact_stall: 0, thp_fault_alloc: 0, thp_fault_fallback: 0, pgmigrate_success: 0, ...vmstat } });
  return {
    rows: Object.entries(rows).map(([counter, [wsim, lo, hi]]) => ({ counter, wsim, kernel_min: lo, kernel_max: hi })),
    kernel: kernel(releases[0]!),
    ...(releases.length > 1 ? { kernel_runs: releases.map(kernel) } : {}),
  };
}

const KASE = {
  name: "t",
  label: "`t`",
  trace: "traces/t.csv",
  args: [],
  rows: [
    { counters: ["thp_fault_alloc", "thp_fault_fallback"], why: "wsim {wsim:thp_fault_alloc}, the kernel {kernel:thp_fault_alloc}" },
    { counters: ["compact_stall"], inRange: "both stall {wsim:compact_stall} times" },
    { counters: ["pgfault"] },
  ],
};

describe("compare-table", () => {
  it("takes each counter's wsim value and the kernel's range; one that moved on neither side is 0 on both", () => {
    const v = valuesOf(compareOf({ thp_fault_alloc: [8, 5, 26], pgmigrate_success: [0, 1, 3] }), ["thp_fault_alloc", "pgmigrate_success", "pgfault"]);
    expect(v.thp_fault_alloc).toEqual({ wsim: 8, kernelMin: 5, kernelMax: 26, inRange: true });
    expect(v.pgmigrate_success).toEqual({ wsim: 0, kernelMin: 1, kernelMax: 3, inRange: false });
    expect(v.pgfault).toEqual({ wsim: 0, kernelMin: 0, kernelMax: 0, inRange: true });
    expect(() => valuesOf(compareOf({}), ["no_such_counter"])).toThrow(/no_such_counter: not a counter of the kernel's \/proc\/vmstat/);
  });

  it("fills {wsim:NAME} and {kernel:NAME} (a range, or one value when the boots agree)", () => {
    const v = valuesOf(compareOf({ a_x: [1, 2, 4], b_y: [3, 5, 5] }, undefined, { a_x: 0, b_y: 0 }), ["a_x", "b_y"]);
    expect(fill("{wsim:a_x} vs {kernel:a_x}; {kernel:b_y}", v)).toBe("1 vs 2 – 4; 5");
    expect(() => fill("{wsim:c_z}", v)).toThrow(/c_z is not a counter of the compare/);
  });

  it("builds the rows: label once, values joined with /, 'in range' or the filled explanation", () => {
    const { rows, unexplained } = caseRows(KASE, compareOf({ thp_fault_alloc: [8, 5, 7], thp_fault_fallback: [24, 25, 27], compact_stall: [80, 36, 83] }));
    expect(rows).toEqual([
      ["`t`", "thp_fault_alloc / thp_fault_fallback", "8 / 24", "5 – 7 / 25 – 27", "wsim 8, the kernel 5 – 7"],
      ["", "compact_stall", "80", "36 – 83", "in range; both stall 80 times"],
      ["", "pgfault", "0", "0", "in range"],
    ]);
    expect(unexplained).toEqual([]);
  });

  it("lists a row outside the range that has no explanation, and a counter wsim does not model is outside", () => {
    const { unexplained } = caseRows(KASE, compareOf({ pgfault: [12, 14, 15], compact_stall: [null, 1, 2] }));
    expect(unexplained).toEqual(["t: compact_stall: wsim not modelled, kernel 1 – 2", "t: pgfault: wsim 12, kernel 14 – 15"]);
  });

  it("heads the table with every release the boots reported and the number of boots", () => {
    const text = renderTable([{ kase: KASE, compare: compareOf({}, ["6.1.0-50-cloud-amd64", "6.1.0-57-cloud-amd64"]) }]);
    expect(text).toMatch(/^Measured on Linux 6\.1\.0-50-cloud-amd64, 6\.1\.0-57-cloud-amd64 \(Debian's cloud kernel, the `wsim kernel` default\), 2 boots per case,$/m);
    expect(text).toMatch(/`wsim compare TRACE ARGS --runs 2` \(wsim starts from the first boot's state, `--start boot`, and runs the trace as the guest does: at its pace, in the root memcg, `--pace guest --memcgs root`\)/);
    expect(text.split("\n").filter((l) => l.startsWith("| ")).length).toBe(4); // header + 3 rows
  });

  it("replaces what lies between the README's markers, and needs both", () => {
    const readme = `a\n${BEGIN}\nold table\n${END}\nb\n`;
    expect(spliceReadme(readme, "new")).toBe(`a\n${BEGIN}\nnew\n${END}\nb\n`);
    expect(() => spliceReadme("a\nb\n", "new")).toThrow(/lacks the markers/);
  });

  it("every case names a bundled trace, and every row's placeholders name a /proc/vmstat counter", async () => {
    const { existsSync } = await import("node:fs");
    const { COUNTER_NAMES } = await import("../../../src/stats/counters.js");
    for (const c of CASES) {
      expect(existsSync(c.trace), c.trace).toBe(true);
      for (const r of c.rows)
        for (const m of `${r.why ?? ""} ${r.inRange ?? ""}`.matchAll(/\{(?:wsim|kernel):(\w+)\}/g)) expect(COUNTER_NAMES as readonly string[], `${c.name}: ${m[0]}`).toContain(m[1]);
    }
  });

  it("a {note:ID} names a note once below the table, in the notes' order, only when a shown explanation uses it", () => {
    const notes = [
      { id: "a", title: "first", text: "A long reason." },
      { id: "b", title: "second", text: "Another." },
      { id: "c", title: "third", text: "Unused." },
    ];
    // pgfault outside (1 against 2 – 3) names b then a; compact_stall in range names c in a why it never shows
    const kase = {
      ...KASE,
      rows: [
        { counters: ["pgfault"], why: "it differs {note:b} and {note:a}" },
        { counters: ["compact_stall"], why: "never shown {note:c}" },
      ],
    };
    const text = renderTable([{ kase, compare: compareOf({ pgfault: [1, 2, 3], compact_stall: [0, 0, 0] }) }], notes);
    expect(text).toContain("| it differs (note *second*) and (note *first*) |");
    expect(text.endsWith("Notes the explanations refer to:\n\n- *first*: A long reason.\n- *second*: Another.")).toBe(true);
    expect(text).not.toContain("Unused.");
    expect(() => fill("{note:zz}", {}, notes)).toThrow(/\{note:zz\}: no such note \(notes: a, b, c\)/);
    // the README's cases name only notes that exist
    for (const c of CASES) for (const r of c.rows) for (const m of `${r.why ?? ""} ${r.inRange ?? ""}`.matchAll(/\{note:([\w-]+)\}/g)) expect(NOTES.map((n: { id: string }) => n.id), `${c.name}: ${m[0]}`).toContain(m[1]);
  });

  it("fills a placeholder of a counter outside the row from the compare's other rows", () => {
    // pgfault outside its range (1 against 2 – 3), so its why is filled; pswpout is another row of the compare
    const kase = { ...KASE, rows: [{ counters: ["pgfault"], why: "wsim {wsim:pswpout}, kernel {kernel:pswpout}" }] };
    const { rows } = caseRows(kase, compareOf({ pgfault: [1, 2, 3], pswpout: [7, 8, 9] }));
    expect(rows[0]![4]).toBe("wsim 7, kernel 8 – 9");
    // a name that is no counter of the compare is an error
    expect(() => caseRows({ ...KASE, rows: [{ counters: ["pgfault"], why: "{wsim:pgsteal_anon}" }] }, compareOf({ pgfault: [1, 2, 3] }))).toThrow(/pgsteal_anon: not a counter of the kernel's \/proc\/vmstat/);
  });
});
