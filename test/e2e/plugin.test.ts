/**
 * Plugins from the command line (issue 22): --plugin, a JSON trace's "plugins", a sweep spec's
 * plugins; every error path is one line `plugin FILE: message`, exit 3, no stack trace;
 * Math.random under --check; the examples; and the README's "Write your own policy" walk
 * through, run as written.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const tmp = mkdtempSync(join(tmpdir(), "wsim-plugin-"));

function wsim(args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

const SMALL = "traces/small128.machine.json";
const HOTSET = ["traces/tiered-hotset.csv.gz", "--set", "kpromoted.enabled=1", "--set", "hotness.hw_sample_period=8"];
const COUNT = `export function register(api) {
  const f = api.defineCounter("faults");
  api.on("fault", () => f.add());
}
`;

describe("--plugin", () => {
  it("kpromoted's rule as a plugin reproduces the built-in's vmstat and JSON counters byte for byte", () => {
    const vm = wsim(["replay", ...HOTSET, "-f", "vmstat"]);
    const vmP = wsim(["replay", ...HOTSET, "-f", "vmstat", "--plugin", "examples/plugins/kpromoted.mjs"]);
    expect(vm.code).toBe(0);
    expect(vm.out).toMatch(/^pgpromote_success [1-9]\d*$/m); // the rule is exercised
    expect(vmP).toEqual(vm);
    const js = JSON.parse(wsim(["replay", ...HOTSET, "-f", "json"]).out);
    const jsP = JSON.parse(wsim(["replay", ...HOTSET, "-f", "json", "--plugin", "examples/plugins/kpromoted.mjs"]).out);
    expect(JSON.stringify(jsP.vmstat)).toBe(JSON.stringify(js.vmstat));
    expect(JSON.stringify(jsP.promotion)).toBe(JSON.stringify(js.promotion));
    expect(js.plugins).toBeUndefined();
    const sha = (spawnSync("sha256sum", [join(ROOT, "examples/plugins/kpromoted.mjs")], { encoding: "utf8" }).stdout || "").split(" ")[0];
    expect(jsP.plugins).toEqual([{ path: "examples/plugins/kpromoted.mjs", sha256: sha }]);
  });

  it("plugin counters: in vmstat, JSON, the text summary and every CSV sample; repeatable, in order", () => {
    const a = file("count.mjs", COUNT);
    const b = file("count2.mjs", COUNT.replace('"faults"', '"faults2"'));
    // traces/faults.csv: 400 page faults; pgfault 528, the 128 file reads among them counted
    // twice (VM_FAULT_RETRY); the plugin's fault hook sees each fault once
    const vm = wsim(["replay", "traces/faults.csv", "--plugin", a, "--plugin", b]);
    expect(vm.code).toBe(0);
    expect(vm.out).toMatch(/^pgfault 528\n/m);
    expect(vm.out).toMatch(/^pgmajfault 128\n/m);
    expect(vm.out.endsWith("wsim_plugin_faults 400\nwsim_plugin_faults2 400\n")).toBe(true);
    const js = JSON.parse(wsim(["replay", "traces/faults.csv", "--plugin", a, "-f", "json", "--interval", "100"]).out);
    expect(js.vmstat.wsim_plugin_faults).toBe(400);
    expect(js.series.at(-1).vmstat.wsim_plugin_faults).toBe(400);
    expect(js.plugins.map((p: { path: string }) => p.path)).toEqual([a]);
    const csv = wsim(["replay", "traces/faults.csv", "--plugin", a, "-f", "csv", "--interval", "100"]).out.trim().split("\n");
    const col = csv[0]!.split(",").indexOf("wsim_plugin_faults");
    expect(col).toBeGreaterThan(0);
    expect(csv.at(-1)!.split(",")[col]).toBe("400");
    expect(wsim(["replay", "traces/faults.csv", "--plugin", a, "-f", "text"]).out).toMatch(/wsim_plugin_faults\s*│\s*400/);
  });

  it("a JSON trace's plugins, relative to the trace's directory, load before --plugin's", () => {
    mkdirSync(join(tmp, "tr"), { recursive: true });
    writeFileSync(join(tmp, "tr", "c.mjs"), COUNT);
    const t = file("tr/t.json", JSON.stringify({ plugins: ["c.mjs"], events: [{ time_ms: 0, op: "mmap", pid: 1, addr: 0x100000, len: 8192 }, { time_ms: 1, op: "access", pid: 1, addr: 0x100000 }, { time_ms: 2, op: "access", pid: 1, addr: 0x101000 }] }));
    const r = wsim(["replay", t, "-f", "json", "--plugin", file("d.mjs", COUNT.replace('"faults"', '"more"'))]);
    expect(r.code).toBe(0);
    const js = JSON.parse(r.out);
    expect([js.vmstat.wsim_plugin_faults, js.vmstat.wsim_plugin_more]).toEqual([2, 2]);
    expect(js.plugins.map((p: { path: string }) => p.path)).toEqual([join(tmp, "tr", "c.mjs"), join(tmp, "d.mjs")]);
    const bad = file("tr/bad.json", '{"plugins": "c.mjs", "events": []}');
    expect(wsim(["replay", bad])).toMatchObject({ code: 3, err: `${bad}:1: "plugins" must be an array of module paths ["plugin.mjs", ...]\n` });
  });

  it("a sweep spec's plugins reach every job and its id", () => {
    const dir = join(tmp, "sw");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "faults.csv"), readFileSync(join(ROOT, "traces/faults.csv")));
    writeFileSync(join(dir, "count.mjs"), COUNT);
    writeFileSync(join(dir, "s.json"), JSON.stringify({ traces: ["faults.csv"], plugins: ["count.mjs"], grid: { "vm.swappiness": [10, 60] } }));
    writeFileSync(join(dir, "s0.json"), JSON.stringify({ traces: ["faults.csv"], grid: { "vm.swappiness": [10, 60] } }));
    const plan = wsim(["sweep", "plan", "s.json"], dir);
    expect(plan.code).toBe(0);
    const lines = plan.out.trim().split("\n");
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/ --plugin count\.mjs -f json$/);
    // the ids differ from the same spec without plugins (their outputs differ)
    const ids = (out: string) => out.trim().split("\n").map((l) => l.split("\t")[0]);
    const without = ids(wsim(["sweep", "plan", "s0.json"], dir).out);
    expect(ids(plan.out).some((id) => without.includes(id))).toBe(false);
    // plan -f json names the plugins (what to copy beside the spec for --emit k8s)
    const pj = JSON.parse(wsim(["sweep", "plan", "s.json", "-f", "json"], dir).out) as { plugins?: string[] }[];
    expect(pj.map((j) => j.plugins)).toEqual([["count.mjs"], ["count.mjs"]]);
    expect((JSON.parse(wsim(["sweep", "plan", "s0.json", "-f", "json"], dir).out) as object[])[0]).not.toHaveProperty("plugins");
    const run = wsim(["sweep", "run", "s.json", "--out", "out"], dir);
    expect(run.code).toBe(0);
    for (const id of ids(plan.out)) {
      const js = JSON.parse(readFileSync(join(dir, "out", `${id}.json`), "utf8"));
      expect(js.vmstat.wsim_plugin_faults).toBe(400);
      expect(js.plugins[0].path).toBe("count.mjs");
    }
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ traces: ["faults.csv"], plugins: ["nope.mjs"] }));
    expect(wsim(["sweep", "plan", "bad.json"], dir)).toMatchObject({ code: 3, err: 'bad.json:1: plugin "nope.mjs": no file beside the spec: no such file or directory (ENOENT)\n' });
  });

  it("diff replays traces with --plugin; with two outputs it is a usage error", () => {
    const a = file("count3.mjs", COUNT);
    const r = wsim(["diff", "traces/faults.csv", "traces/faults.csv", "--plugin", a, "--only", "wsim_plugin_*", "-f", "json"]);
    expect(r.code).toBe(0);
    // both sides replayed with the plugin: its one counter compared, and equal
    expect(JSON.parse(r.out)).toEqual({ within: true, compared: 1, rows: [] });
    const o = file("o.json", wsim(["replay", "traces/faults.csv", "-f", "json"]).out);
    expect(wsim(["diff", o, o, "--plugin", a])).toMatchObject({ code: 2, err: "wsim: --plugin only applies to a trace given as A or B; both are outputs: drop it\n" });
  });
});

describe("stat --replay TRACE --plugin", () => {
  it("loads the plugin for the replay; without --replay it is a usage error", () => {
    const TP = "test/fixtures/ktrace/trace_pipe.txt";
    const csv = join(tmp, "tp.csv");
    expect(wsim(["convert", TP, csv, "-q"]).code).toBe(0);
    expect(wsim(["stat", TP, "--replay", csv, "--plugin", file("ok.mjs", COUNT)]).code).toBe(0);
    // a plugin that fails at the first allocation shows it ran in the replay
    const boom = file("boom.mjs", 'export function register(api) { api.on("alloc", () => { throw new Error("alloc seen"); }); }\n');
    expect(wsim(["stat", TP, "--replay", csv, "--plugin", boom])).toEqual({ code: 3, out: "", err: `plugin ${boom}: alloc seen\n` });
    expect(wsim(["stat", TP, "--plugin", boom])).toMatchObject({ code: 2, err: "wsim: --plugin is for --replay TRACE (a plugin it is replayed with); stat reads a trace without replaying it\n" });
  });
});

describe("errors: plugin FILE: message, exit 3, no stack trace", () => {
  const cases: [string, string | null, string][] = [
    ["missing.mjs", null, "no such file"],
    ["noreg.mjs", "export const x = 1;\n", "exports no register(api) function (export function register(api) { ... })"],
    ["syntax.mjs", "export function register(api) {\n", "cannot be loaded as an ES module: SyntaxError: Unexpected end of input"],
    ["top.mjs", 'throw new Error("at load");\nexport function register() {}\n', "cannot be loaded as an ES module: Error: at load"],
    ["reg.mjs", 'export function register(api) { throw new Error("bad register"); }\n', "bad register"],
    ["hook.mjs", 'export function register(api) { api.on("fault", (f) => { if (f.vpn > 0x10010) throw new RangeError("too far: " + f.vpn); }); }\n', "too far: 65553"],
  ];
  for (const [name, text, msg] of cases)
    it(name, () => {
      const p = text === null ? join(tmp, "nowhere", name) : file(name, text);
      const out = join(tmp, `${name}.json`);
      const r = wsim(["replay", "traces/faults.csv", "--plugin", p, "-o", out]);
      expect(r).toEqual({ code: 3, out: "", err: `plugin ${p}: ${msg}\n` });
      expect(existsSync(out)).toBe(false); // -o: whole or nothing
    });

  it("Math.random inside a hook: refused under --check, allowed (and nondeterministic) without", () => {
    // --check is O(pages) per event: a 128 MiB machine keeps it quick
    const p = file("rnd.mjs", 'export function register(api) { const c = api.defineCounter("r"); api.on("fault", () => c.set(Math.floor(Math.random() * 2))); }\n');
    expect(wsim(["replay", "traces/faults.csv", "-m", SMALL, "--plugin", p, "--check"])).toEqual({ code: 3, out: "", err: `plugin ${p}: Math.random is not deterministic; use api.random()\n` });
    expect(wsim(["replay", "traces/faults.csv", "--plugin", p]).code).toBe(0);
    // api.random is allowed under --check, and the same every run
    const q = file("rnd2.mjs", 'export function register(api) { const c = api.defineCounter("r"); api.on("fault", () => c.add(Math.floor(api.random() * 2))); }\n');
    const one = wsim(["replay", "traces/faults.csv", "-m", SMALL, "--plugin", q, "--check"]);
    expect(one.code).toBe(0);
    expect(wsim(["replay", "traces/faults.csv", "-m", SMALL, "--plugin", q]).out).toBe(one.out);
    const n = Number(/^wsim_plugin_r (\d+)$/m.exec(one.out)![1]);
    expect(n > 100 && n < 300).toBe(true); // about half of 400 faults
  });
});

describe("the examples", () => {
  it("thp-fallback-trigger compacts after THP fallbacks where the score test would not", () => {
    const base = ["replay", "traces/thp-defrag.csv.gz", "--drain", "1000"];
    const r = wsim([...base, "--plugin", "examples/plugins/thp-fallback-trigger.mjs"]);
    expect(r.code).toBe(0);
    // timeouts every 500 ms from 500 (the trace ends at 6160, the drain at 7160); fallbacks
    // happen at the end, so exactly one look, at 6500, sees new ones. The pass it asks for
    // lowers small128's fragmentation score (the THP faults' direct reclaim freed a batch of 32
    // pages each time: pswpout 960), so kcompactd does not defer its next look
    // (500 << COMPACT_MAX_DEFER_SHIFT after a pass that did not): a look every 500 ms, 14
    // (500 .. 7000)
    expect(r.out).toMatch(/^wsim_plugin_thp_trigger_fired 1\nwsim_plugin_thp_trigger_checks 14\n$/m);
    // with a longer drain, the same: every 500 ms to 46000, 92 looks, one pass
    const long = wsim(["replay", "traces/thp-defrag.csv.gz", "--drain", "40000", "--plugin", "examples/plugins/thp-fallback-trigger.mjs"]);
    expect(long.out).toMatch(/^wsim_plugin_thp_trigger_fired 1\nwsim_plugin_thp_trigger_checks 92\n$/m);
  });
});

describe("README: Write your own policy", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("## Write your own policy\n");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 10));
  const blocks = (lang: string) => [...section.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);

  it("its code is the examples' code", () => {
    const code = (s: string) => s.split("\n").filter((l) => l.trim() && !/^\s*(\/\/|\/\*\*)/.test(l)).join("\n");
    const js = blocks("js");
    expect(js).toHaveLength(2);
    expect(code(readFileSync(join(ROOT, "examples/plugins/kpromoted.mjs"), "utf8"))).toBe(code(js[0]!));
    expect(code(readFileSync(join(ROOT, "examples/plugins/recency.mjs"), "utf8"))).toBe(code(js[1]!));
  });

  it("its commands print what it shows", () => {
    const cons = blocks("console");
    expect(cons.length).toBeGreaterThanOrEqual(4);
    for (const b of cons) {
      const [cmd, ...out] = b.trimEnd().split("\n");
      expect(cmd!.startsWith("$ wsim ") || cmd!.startsWith("$ cmp ")).toBe(true);
      const r = spawnSync("bash", ["-c", `wsim() { "${process.execPath}" "${BIN}" "$@"; }; set -o pipefail; ${cmd!.slice(2)}`], { cwd: ROOT, encoding: "utf8" });
      expect({ cmd, out: r.stdout, code: r.status }).toEqual({ cmd, out: out.join("\n") + "\n", code: 0 });
    }
  });
});
