#!/usr/bin/env node
/**
 * The README's comparison of issue 15's generators with a real kernel: for every case of
 * scripts/compare-generator-cases.mjs it runs `bin/wsim generate KIND OPTS` (small sizes), then
 * `bin/wsim compare TRACE ARGS --runs N --format json` on it (QEMU boots of the default kernel,
 * Debian's 6.1 cloud build), and writes the table of the chosen counters (wsim's value, the
 * kernel's range over the boots, why they differ) into README.md between the markers
 * `<!-- compare-generators:begin -->` and `<!-- compare-generators:end -->`, headed by the kernel
 * release the guests reported and each case's commands. Rows and explanations work as in
 * scripts/compare-table.mjs (whose functions this uses): a row outside the kernel's range
 * without an explanation is an error, the script prints the numbers, writes nothing and exits 1.
 *
 *   node scripts/compare-generators.mjs                      # every case, 3 boots each, README.md updated
 *   node scripts/compare-generators.mjs --runs 1 --out -     # one boot each, the block on standard output
 *   node scripts/compare-generators.mjs --case filecache     # one case (repeatable), on standard output
 *   node scripts/compare-generators.mjs --keep DIR           # also keep each case's trace and compare JSON in DIR
 *   node scripts/compare-generators.mjs --from DIR           # no QEMU: the block from the JSON a --keep run left
 *
 * Needs `npm run build` and what `wsim compare` needs (qemu-system-x86_64, gcc, mke2fs for the
 * filecache case's data disk; the kernel is fetched once with apt-get). Exit status: 0 written,
 * 1 a run failed or a row is unexplained, 2 usage.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GEN_CASES } from "./compare-generator-cases.mjs";
import { caseRows } from "./compare-table.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const BEGIN = "<!-- compare-generators:begin -->";
export const END = "<!-- compare-generators:end -->";

/**
 * The block between the markers: the releases the guests reported, the boots, each case's
 * commands, and the table. `results` is [{kase, compare}] in case order.
 */
export function renderGenerators(results, runs) {
  const releases = [...new Set(results.flatMap(({ compare }) => (compare.kernel_runs ?? [compare.kernel]).map((k) => k.kernel.release ?? "unknown")))];
  const lines = [
    `Measured on Linux ${releases.join(", ")} (Debian's cloud kernel, the \`wsim kernel\` default), ${runs} ${runs === 1 ? "boot" : "boots"} per case`,
    "(wsim's side at the guest's pace, in the root memcg: `wsim compare`'s defaults `--pace guest --memcgs root`);",
    "regenerate with `node scripts/compare-generators.mjs` (the cases and their explanations are in",
    "`scripts/compare-generator-cases.mjs`). Counters are changes during the replay; the kernel column is the range over",
    "the boots. The traces:",
    "",
  ];
  for (const { kase } of results) lines.push(`- ${kase.name}: \`wsim generate ${kase.generate.join(" ")} > t.csv; wsim compare t.csv ${kase.args.join(" ")}\``);
  lines.push("", "| trace | counter | wsim | kernel | why they differ |", "|---|---|---|---|---|");
  for (const { kase, compare } of results) for (const r of caseRows(kase, compare).rows) lines.push(`| ${r.join(" | ")} |`);
  return lines.join("\n");
}

/** README text with the block between this script's markers replaced. Throws Error when a marker is missing. */
export function spliceGenerators(readme, block) {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md lacks the markers ${BEGIN} … ${END}`);
  return readme.slice(0, a + BEGIN.length) + "\n" + block + "\n" + readme.slice(b);
}

function wsim(args, what) {
  process.stderr.write(`compare-generators: ${what}: wsim ${args.join(" ")}\n`);
  const r = spawnSync(join(ROOT, "bin", "wsim"), args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`${what}: wsim ${args[0]} exited ${r.status ?? r.signal}`);
}

function runCase(kase, runs, dir, from) {
  const trace = join(dir, `${kase.name}.csv`);
  const out = join(from ?? dir, `${kase.name}.json`);
  if (from) return JSON.parse(readFileSync(out, "utf8"));
  wsim(["generate", ...kase.generate, "-o", trace], kase.name);
  wsim(["compare", trace, ...kase.args, "--runs", String(runs), "--format", "json", "-o", out], kase.name);
  return JSON.parse(readFileSync(out, "utf8"));
}

const USAGE = "usage: node scripts/compare-generators.mjs [--runs N] [--case NAME]... [--out README.md|-] [--keep DIR | --from DIR]";

function main(argv) {
  let runs = 3;
  const only = [];
  let out = null;
  let keep = null;
  let from = null;
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--runs") {
      runs = Number(val());
      if (!Number.isInteger(runs) || runs < 1 || runs > 20) usage("--runs must be an integer 1..20");
    } else if (a === "--case") only.push(val());
    else if (a === "--out") out = val();
    else if (a === "--keep") keep = val();
    else if (a === "--from") from = val();
    else if (a === "-h" || a === "--help") {
      process.stdout.write(USAGE + "\n");
      return 0;
    } else usage(`unknown argument ${JSON.stringify(a)}`);
  }
  for (const n of only) if (!GEN_CASES.some((c) => c.name === n)) usage(`unknown case ${JSON.stringify(n)} (cases: ${GEN_CASES.map((c) => c.name).join(", ")})`);
  if (keep && from) usage("--keep and --from exclude each other");
  out ??= only.length ? "-" : join(ROOT, "README.md");
  const cases = only.length ? GEN_CASES.filter((c) => only.includes(c.name)) : GEN_CASES;
  if (keep) mkdirSync(keep, { recursive: true });
  const dir = keep ?? mkdtempSync(join(tmpdir(), "wsim-compare-generators-"));
  try {
    const results = [];
    const unexplained = [];
    for (const kase of cases) {
      const compare = runCase(kase, runs, dir, from);
      if (from) runs = (compare.kernel_runs ?? [compare.kernel]).length;
      results.push({ kase, compare });
      unexplained.push(...caseRows(kase, compare).unexplained);
    }
    if (unexplained.length) {
      process.stderr.write(`compare-generators: outside the kernel's range with no explanation (add a \`why\` in scripts/compare-generator-cases.mjs):\n  ${unexplained.join("\n  ")}\n`);
      return 1;
    }
    const block = renderGenerators(results, runs);
    if (out === "-") process.stdout.write(block + "\n");
    else {
      writeFileSync(out, spliceGenerators(readFileSync(out, "utf8"), block));
      process.stderr.write(`compare-generators: ${out} updated (${results.length} cases)\n`);
    }
    return 0;
  } catch (e) {
    process.stderr.write(`compare-generators: ${e.message}\n`);
    return 1;
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

function usage(msg) {
  process.stderr.write(`compare-generators: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv);
