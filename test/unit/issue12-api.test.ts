/**
 * Issue 12, the API part: `wsim diff`'s words and signs (27), diffCounters' documented options
 * and one name for its list (25), the library's argument errors (25), the tunables table that
 * fits the terminal (23) and help text without hard line breaks (24).
 */
import { describe, expect, it } from "vitest";
import { Command } from "commander";
import { diffCounters, formatChange, parseTolerances, renderDiffTable, type DiffResult } from "../../src/report/diff.js";
import { UsageError } from "../../src/errors.js";
import { renderTunablesTable, renderTunablesTsv, tunableRows } from "../../src/cli/commands/tunables.js";
import { loadMachine } from "../../src/machine/machine.js";
import { TUNABLES } from "../../src/machine/tunables.js";

describe("diff's change column carries a sign both ways (27)", () => {
  it("+5 on 18 is +27.8%, -5 on 18 is -27.8% (5/18 = 0.2777...)", () => {
    expect(formatChange({ a: 18, delta: 5 })).toBe("+27.8%");
    expect(formatChange({ a: 18, delta: -5 })).toBe("-27.8%");
    // relative to |A|: from -18 up by 5 is a rise
    expect(formatChange({ a: -18, delta: 5 })).toBe("+27.8%");
    // A = 0 or missing: no relative change
    expect(formatChange({ a: 0, delta: 5 })).toBe("");
    expect(formatChange({ a: null, delta: null })).toBe("");
  });
  it("the table prints both signs in its change column", () => {
    const r = diffCounters({ up: 18, down: 18 }, { up: 23, down: 13 });
    const t = renderDiffTable(r, false, ["A", "B"]);
    const line = (n: string) => t.split("\n").find((l) => l.includes(` ${n} `))!;
    expect(line("up")).toMatch(/ \+5 .* \+27\.8% /);
    expect(line("down")).toMatch(/ -5 .* -27\.8% /);
  });
});

describe("diff's summary line pluralises every count (27)", () => {
  const summary = (r: DiffResult) => renderDiffTable(r, false, ["A", "B"]).trim().split("\n").at(-1);
  it("one counter, no difference", () => {
    expect(summary(diffCounters({ x: 1 }, { x: 1 }))).toBe("1 counter compared: no differences");
    expect(summary(diffCounters({ x: 1, y: 2 }, { x: 1, y: 2 }))).toBe("2 counters compared: no differences");
  });
  it("one counter that differs; two that differ", () => {
    expect(summary(diffCounters({ x: 1 }, { x: 2 }))).toBe("1 counter compared, 1 differs, 1 outside tolerance");
    expect(summary(diffCounters({ x: 1, y: 1 }, { x: 2, y: 3 }, { tolerance: "y=2" }))).toBe("2 counters compared, 2 differ, 1 outside tolerance");
  });
});

describe("diffCounters takes the documented options {tolerance, only, ignore} (25)", () => {
  const a = { compact_stall: 10, pgfault: 100, thp_fault_alloc: 4 };
  const b = { compact_stall: 11, pgfault: 150, thp_fault_alloc: 4 };
  it("only as a glob or a list of globs", () => {
    // compact_stall and thp_fault_alloc match; thp_fault_alloc is equal: one row
    expect(diffCounters(a, b, { only: ["compact_*", "thp_*"] }).rows.map((r) => r.counter)).toEqual(["compact_stall"]);
    expect(diffCounters(a, b, { only: "compact_*" }).compared).toBe(1);
  });
  it("ignore, and tolerance as a string, a list or parsed", () => {
    expect(diffCounters(a, b, { ignore: "pg*" }).rows.map((r) => r.counter)).toEqual(["compact_stall"]);
    // 1/10 = 10% and 50/100 = 50%
    expect(diffCounters(a, b, { tolerance: "10%" }).rows.map((r) => [r.counter, r.within])).toEqual([["compact_stall", true], ["pgfault", false]]);
    expect(diffCounters(a, b, { tolerance: ["10%", "pgfault=50"] }).within).toBe(true);
    expect(diffCounters(a, b, { tolerance: parseTolerances("50%") }).within).toBe(true);
    expect(diffCounters(a, b, { tolerance: ["10%", "pgfault=49"] }).within).toBe(false);
  });
  it("a wrong shape is a UsageError that says what is expected, never a TypeError", () => {
    const cases: [() => unknown, RegExp][] = [
      [() => (diffCounters as (...x: unknown[]) => unknown)(), /a must be an object of counter name to number/],
      [() => (diffCounters as (...x: unknown[]) => unknown)(a), /b must be an object/],
      [() => diffCounters(a, { pgfault: "x" as unknown as number }), /b\.pgfault must be a number, got "x"/],
      [() => diffCounters(a, b, { onlyy: ["x"] } as never), /unknown option "onlyy" \(options: tolerance, only, ignore\)/],
      [() => diffCounters(a, b, { only: 5 } as never), /options\.only must be a glob or an array of globs, got 5/],
      [() => diffCounters(a, b, { ignore: [1] } as never), /options\.ignore must be a glob or an array of globs/],
      [() => diffCounters(a, b, "2%" as never), /options must be an object \{tolerance\?, only\?, ignore\?\}, got "2%"/],
      [() => diffCounters(a, b, { tolerance: 2 } as never), /expected a tolerance spec like "2%" or an array of them, got 2/],
      [() => diffCounters(a, b, { tolerance: "2x" }), /^diffCounters: options\.tolerance: expected a number or a percentage like 2%, got "2x"/],
      [() => (parseTolerances as (...x: unknown[]) => unknown)(), /got undefined/],
    ];
    for (const [f, msg] of cases) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err, String(msg)).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(msg);
    }
  });
});

describe("help text has no hard line breaks and fits the terminal (24)", () => {
  /** every command of the program, subcommands included */
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  const name = (c: Command): string => (c.parent ? `${name(c.parent)} ${c.name()}` : c.name());
  /** the help a user sees for `wsim ... --help` on a terminal `width` columns wide */
  function helpOf(cmd: Command, width: number): string {
    let out = "";
    for (let c: Command | null = cmd; c; c = c.parent)
      c.configureOutput({ writeOut: (s) => (out += s), getOutHelpWidth: () => width, getOutHasColors: () => false });
    cmd.outputHelp();
    return out;
  }

  it("on a very wide terminal every paragraph and every item is one line (for every command)", async () => {
    const { createProgram } = await import("../../src/cli/program.js");
    const cmds = all(createProgram());
    expect(cmds.length).toBeGreaterThan(10); // wsim, its commands, generate's kinds
    for (const cmd of cmds) {
      const lines = helpOf(cmd, 10_000).split("\n");
      for (const [i, l] of lines.entries()) {
        // a line at column 0 right after a non-blank line continues a paragraph: a hard break
        if (i > 0 && lines[i - 1]!.trim() !== "" && /^\S/.test(l)) throw new Error(`${name(cmd)} --help: hard break before "${l}"`);
        // deeper indentation continues an item (option, command, list entry)
        expect(l, `${name(cmd)} --help`).not.toMatch(/^ {3,}/);
      }
    }
  });

  it("wsim --help's description is one paragraph, wrapped at the terminal's width", async () => {
    const { createProgram } = await import("../../src/cli/program.js");
    const text = "Replays page-access and allocation traces through a deterministic model of Linux memory management and prints what the kernel would have counted.";
    expect(helpOf(createProgram(), 200)).toContain(`\n\n${text}\n\n`);
    const at80 = helpOf(createProgram(), 80).split("\n\n")[1]!;
    expect(at80.replace(/\n/g, " ")).toBe(text);
  });

  it("at 80, 100 and 120 columns no line is wider than the terminal (every command)", async () => {
    const { createProgram } = await import("../../src/cli/program.js");
    for (const width of [80, 100, 120])
      for (const cmd of all(createProgram()))
        for (const l of helpOf(cmd, width).split("\n")) expect(l.length, `${name(cmd)} --help at ${width}: ${l}`).toBeLessThanOrEqual(width);
  });
});

describe("wsim tunables fits the terminal (23)", () => {
  const rows = tunableRows(loadMachine("default"));
  const words = (s: string) => s.split(/\s+/).filter(Boolean);

  it("no line wider than the terminal at any width from 40 to 200 columns, and nothing lost", () => {
    for (let width = 40; width <= 200; width += 5) {
      const out = renderTunablesTable(rows, "default", width);
      for (const l of out.split("\n")) expect(l.length, `width ${width}: ${l}`).toBeLessThanOrEqual(width);
      const have = new Set(words(out));
      for (const r of rows) {
        // a key longer than the line (kernel.numa_balancing_promote_rate_limit_MBps, 45) is cut across lines
        const shown = r.key.length <= width ? r.key : r.key.slice(0, width);
        expect(out, `width ${width}`).toMatch(new RegExp(`^${shown.replace(/\./g, "\\.")}${r.key.length <= width ? "\\b" : ""}`, "m"));
        for (const w of [...words(r.allowed), ...words(r.help)]) if (w.length < width - 8) expect(have.has(w), `width ${width}: "${w}" of ${r.key}`).toBe(true);
      }
    }
  });

  it("80 columns: a block per tunable; 170 columns: a table row per tunable with its default beside it", () => {
    // the default machine's vm.min_free_kbytes is 67584 KiB (x86: three zones; README)
    const narrow = renderTunablesTable(rows, "default", 80);
    expect(narrow).toMatch(/^vm\.min_free_kbytes = 67584\n {4}allowed: an integer 0\.\.2147483647\n {4}KiB kept free/m);
    // 170: the key column fits transparent_hugepage.khugepaged.alloc_sleep_millisecs (53)
    const wide = renderTunablesTable(rows, "default", 170);
    expect(wide).toMatch(/^tunable +default +allowed +help$/m);
    expect(wide).toMatch(/^vm\.watermark_scale_factor +10 +an integer 1\.\.3000 +distance between min, low and high watermarks, in 1\/10000 of the zone$/m);
    expect(wide.split("\n")[0]).toBe("Tunables and their defaults on machine default:");
  });

  it("on a pipe: one plain tab-separated line per tunable (key, default, allowed, modelled, help)", () => {
    const lines = renderTunablesTsv(rows).trimEnd().split("\n");
    expect(lines).toHaveLength(TUNABLES.length);
    for (const l of lines) expect(l.split("\t")).toHaveLength(5);
    expect(lines).toContain(`vm.watermark_scale_factor\t10\tan integer 1..3000\t\t${TUNABLES.find((t) => t.key === "vm.watermark_scale_factor")!.help}`);
  });
});

describe("every exported function says what is wrong with a wrong or missing argument (25)", () => {
  it("replay({}) names the missing trace; a string, a misspelt option and bad values are named too", async () => {
    const wsim = await import("../../src/index.js");
    const bad: [unknown, RegExp][] = [
      [{}, /^replay: config\.trace must be a trace file's path, or "-" with config\.stdin, got undefined$/],
      [undefined, /^replay: expected a config object, e\.g\. replay\(\{ trace: "traces\/faults\.csv" \}\); got undefined$/],
      ["traces/faults.csv", /^replay: expected a config object, .*; got "traces\/faults\.csv"$/],
      [{ trace: "traces/faults.csv", machne: "vm" }, /^replay: unknown option "machne" \(options: trace, machine, set,/],
      [{ trace: "traces/faults.csv", set: "vm.swappiness=1" }, /^replay: config\.set must be an array of strings \["key=value", \.\.\.\], got "vm\.swappiness=1"$/],
      [{ trace: "traces/faults.csv", machine: 4 }, /^replay: config\.machine must be a preset name, a machine file's path or a Machine object, got 4$/],
      [{ trace: "traces/faults.csv", machine: {} }, /^replay: config\.machine: machine needs a non-empty "nodes" array$/],
      [{ trace: "traces/faults.csv", machine: { nodes: [{ id: 0 }] } }, /^replay: config\.machine: node 0 needs "mem"/],
      [{ trace: "traces/faults.csv", interval: 0 }, /^replay: config\.interval must be a number of ms > 0, got 0$/],
      [{ trace: "traces/faults.csv", format: "xml" }, /^replay: config\.format must be one of csv, ndjson, json, got "xml"$/],
      [{ trace: "traces/faults.csv", until: "5" }, /^replay: config\.until must be a finite number >= 0, got "5"$/],
      [{ trace: "traces/faults.csv", paceMs: -1 }, /^replay: config\.paceMs must be a finite number >= 0, got -1$/],
      [{ trace: "traces/faults.csv", paceMs: Infinity }, /^replay: config\.paceMs must be a finite number >= 0, got Infinity$/],
      [{ trace: "traces/faults.csv", paceMs: "0.5" }, /^replay: config\.paceMs must be a finite number >= 0, got "0\.5"$/],
      [{ trace: "traces/faults.csv", rootMemcg: "yes" }, /^replay: config\.rootMemcg must be true or false, got "yes"$/],
    ];
    for (const [cfg, msg] of bad) {
      const err = await (wsim.replay as (c: unknown) => Promise<unknown>)(cfg).catch((e: unknown) => e);
      expect(err, String(msg)).toBeInstanceOf(wsim.UsageError);
      expect((err as Error).message).toMatch(msg);
    }
  });

  it("every function the package exports, called with nothing or with a number, throws a UsageError naming itself", async () => {
    const wsim = (await import("../../src/index.js")) as Record<string, unknown>;
    const fns = Object.entries(wsim).filter(
      ([, v]) => typeof v === "function" && !((v as { prototype?: unknown }).prototype instanceof Error),
    ) as [string, (...a: unknown[]) => unknown][];
    // the list this test covers: a new export is covered as soon as it exists
    expect(fns.map(([n]) => n).sort()).toEqual(
      ["diffCounters", "formatBuddyinfo", "formatVmstat", "openTrace", "parseTolerances", "renderJson", "renderVmstat", "replay", "runKernel"],
    );
    const gens = Object.values(wsim.GENERATORS as Record<string, { kind: string; rows: (...a: unknown[]) => unknown }>);
    const calls: [string, () => unknown][] = [];
    for (const [name, f] of fns) for (const args of [[], [42], [null, null]]) calls.push([name, () => f(...args)]);
    for (const g of gens)
      for (const args of [[42], [{ nope: 1 }], [{ [Object.keys((wsim.GENERATORS as Record<string, { options: object }>)[g.kind]!.options)[0]!]: "x" }], [{}, 1.5]])
        calls.push([`GENERATORS.${g.kind}.rows`, () => g.rows(...args)]);
    expect(calls.length).toBe(fns.length * 3 + 9 * 4); // 9 generators (malloc-trim the seventh, fork-snapshot the eighth, filecache the ninth)
    for (const [name, call] of calls) {
      let err: unknown;
      try {
        await call();
      } catch (e) {
        err = e;
      }
      expect(err, `${name}: ${String(err)}`).toBeInstanceOf(UsageError);
      expect((err as Error).message.startsWith(`${name}: `), (err as Error).message).toBe(true);
    }
  });

  it("the checked functions still do their work: a generator from the library takes knobs and a seed", async () => {
    const wsim = await import("../../src/index.js");
    // a Machine object is checked as a machine file is, and used: vm is 2 GiB = 524288 pages
    const r = await wsim.replay({ trace: "traces/faults.csv", machine: wsim.PRESETS.vm! });
    expect(r.nodes.reduce((s, n) => s + n.zones.reduce((t, z) => t + z.managed, 0), 0)).toBeLessThanOrEqual(524288);
    expect(r.machine.nodes).toEqual(wsim.PRESETS.vm!.nodes);
    // zipf writes one mmap, then one access per event
    const rows = [...wsim.GENERATORS.zipf!.rows({ events: 3, pages: 4 }, 7)];
    expect(rows.map((r) => r.op)).toEqual(["mmap", "access", "access", "access"]);
    expect(rows[0]!.len).toBe(4 * 4096);
    expect([...wsim.GENERATORS.zipf!.rows({ events: 3, pages: 4 }, 7)]).toEqual(rows); // deterministic for a seed
    expect(wsim.formatBuddyinfo([{ nid: 0, name: "Normal", nrFree: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }])).toBe(
      "Node 0, zone   Normal      1      2      3      4      5      6      7      8      9     10     11 \n",
    );
  });
});
