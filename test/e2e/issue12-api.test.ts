/**
 * Issue 12, the API part, as users run it: `wsim diff` (its JSON names its list as the library
 * does; signs and plurals), `wsim tunables` on terminals of several widths and on a pipe,
 * help text without hard line breaks, and the package installed from `npm pack` elsewhere.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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

describe("the package installed elsewhere from npm pack (25)", () => {
  /** run a command, failing the test with its stderr when it fails */
  function run(cmd: string, args: string[], cwd: string) {
    const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", npm_config_update_notifier: "false" } });
    expect(r.status, `${cmd} ${args.join(" ")}: ${r.stderr}`).toBe(0);
    return r.stdout;
  }

  /**
   * The installed dependencies wsim needs (all of them, transitively), found as Node resolves
   * them from this checkout's node_modules: packed into tarballs, they let `npm install
   * --offline` work without the registry.
   */
  function dependencyDirs(): string[] {
    const out = new Set<string>();
    const visit = (fromDir: string, deps: Record<string, string>) => {
      for (const name of Object.keys(deps)) {
        let dir = fromDir;
        let found: string | null = null;
        for (;;) {
          const c = join(dir, "node_modules", name);
          if (existsSync(join(c, "package.json"))) {
            found = realpathSync(c);
            break;
          }
          if (dirname(dir) === dir) break;
          dir = dirname(dir);
        }
        if (found === null) continue; // an optional dependency not installed here
        if (out.has(found)) continue;
        out.add(found);
        const pj = JSON.parse(readFileSync(join(found, "package.json"), "utf8")) as Record<string, Record<string, string>>;
        visit(found, { ...pj.dependencies, ...pj.optionalDependencies });
      }
    };
    visit(ROOT, (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies);
    return [...out];
  }

  it("npm pack, npm install the tarball in a fresh directory (offline), import it from an .mjs and run its bin", () => {
    const work = mkdtempSync(join(tmpdir(), "wsim-pack-"));
    const packs = join(work, "packs");
    const app = join(work, "app");
    mkdirSync(packs);
    mkdirSync(app);
    try {
      packInstallUse(packs, app);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 180_000);

  function packInstallUse(packs: string, app: string): void {
    const work = dirname(packs);
    // dist is built before the e2e tests run (npm test); --ignore-scripts: nothing else to run
    run("npm", ["pack", "--ignore-scripts", "--pack-destination", packs, ROOT], work);
    run("npm", ["pack", "--ignore-scripts", "--pack-destination", packs, ...dependencyDirs()], work);
    const tarballs = readdirSync(packs).map((f) => join(packs, f));
    expect(tarballs.some((t) => /\/wsim-\d+\.\d+\.\d+\.tgz$/.test(t))).toBe(true);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }));
    run("npm", ["install", "--offline", "--ignore-scripts", "--no-audit", "--no-fund", ...tarballs], app);

    const golden = readFileSync(join(ROOT, "test/golden/__expected__/faults.csv.vmstat.txt"), "utf8");
    writeFileSync(
      join(app, "use.mjs"),
      `import { replay, renderVmstat, diffCounters, UsageError } from "wsim";
const r = await replay({ trace: "node_modules/wsim/traces/faults.csv" });
const e = await replay({}).catch((x) => x);
const d = diffCounters(r.vmstat, { ...r.vmstat, pgfault: r.vmstat.pgfault + 1 }, { only: ["pg*"] });
process.stdout.write(JSON.stringify({ vmstat: renderVmstat(r), usage: e instanceof UsageError, message: e.message, rows: d.rows.map((x) => x.counter) }));
`,
    );
    const used = JSON.parse(run(process.execPath, ["use.mjs"], app)) as { vmstat: string; usage: boolean; message: string; rows: string[] };
    expect(used.vmstat).toBe(golden);
    expect(used.usage).toBe(true);
    expect(used.message).toMatch(/^replay: config\.trace must be/);
    expect(used.rows).toEqual(["pgfault"]);

    // the README's library example, verbatim, where traces/ is the package's bundled traces
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const example = /### Library[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(example).toMatch(/from "wsim"/);
    writeFileSync(join(app, "readme.mjs"), example);
    run("ln", ["-s", "node_modules/wsim/traces", "traces"], app);
    expect(run(process.execPath, ["readme.mjs"], app)).toMatch(/^\d+ /);

    // the bin npm linked, run as a user would from that directory
    expect(run(join(app, "node_modules/.bin/wsim"), ["replay", "node_modules/wsim/traces/faults.csv", "--format", "vmstat"], app)).toBe(golden);
    expect(run(join(app, "node_modules/.bin/wsim"), ["--help"], app)).toMatch(/^Usage: wsim /);
  }
});
