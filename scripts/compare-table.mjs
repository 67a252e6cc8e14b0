#!/usr/bin/env node
/**
 * The README's table of wsim against a real kernel, regenerated (issue 13 item 6): every case
 * of scripts/compare-cases.mjs runs `bin/wsim compare TRACE ARGS --runs N --format json`
 * (QEMU boots of the default kernel, Debian's 6.1 cloud build), and the table of the chosen
 * counters (wsim's value, the kernel's range over the boots) goes into README.md between the
 * markers `<!-- compare-table:begin -->` and `<!-- compare-table:end -->`, headed by the kernel
 * release the guests reported (/proc/sys/kernel/osrelease).
 *
 * Each row's "why they differ" is the case's explanation, with `{wsim:NAME}` and
 * `{kernel:NAME}` filled in from the run (the kernel's as its range; NAME any counter of the
 * compare, not only the row's); a row whose counters
 * are all inside the kernel's range says so instead (and adds its `inRange` note if it has
 * one). A row outside the range without an explanation is an error: the script prints the
 * numbers, writes nothing and exits 1, so no difference goes into the README unexplained.
 *
 *   node scripts/compare-table.mjs                    # every case, 3 boots each, README.md updated
 *   node scripts/compare-table.mjs --runs 1 --out -   # quicker, the table on standard output
 *   node scripts/compare-table.mjs --case overcommit  # one case (repeatable), on standard output
 *   node scripts/compare-table.mjs --reuse            # no QEMU: the guest runs saved in docs/compare-runs,
 *                                                     # wsim replayed again (after a model change)
 *
 * Each case's guest runs are saved (kernel runs only, gzipped) as docs/compare-runs/NAME.json.gz
 * (`--save DIR` elsewhere, `--no-save` not at all); `--reuse [DIR]` reads them back through
 * `wsim compare --kernel-runs`, so the table can be regenerated, and checked by a test, without
 * booting anything.
 *
 * Needs `npm run build` and what `wsim compare` needs (qemu-system-x86_64, gcc; the kernel is
 * fetched once with apt-get). Exit status: 0 written, 1 a run failed or a row is unexplained,
 * 2 usage.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CASES, NOTES } from "./compare-cases.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const BEGIN = "<!-- compare-table:begin -->";
export const END = "<!-- compare-table:end -->";
/** where the guests' runs are kept (one NAME.json.gz per case) */
export const RUNS_DIR = join(ROOT, "docs", "compare-runs");

/** "a – b", or "a" when the runs agree */
const span = (lo, hi) => (lo === hi ? String(lo) : `${lo} – ${hi}`);

/**
 * The values of one compare output for `counters`: {counter: {wsim, kernelMin, kernelMax,
 * inRange}}, from its `rows` (a counter that moved on neither side is 0 on both; one wsim does
 * not model is wsim null). Throws Error naming a counter the kernel's vmstat lacks.
 */
export function valuesOf(compare, counters) {
  const out = {};
  for (const c of counters) {
    const r = compare.rows.find((x) => x.counter === c);
    if (r) out[c] = { wsim: r.wsim, kernelMin: r.kernel_min, kernelMax: r.kernel_max, inRange: r.wsim !== null && r.wsim >= r.kernel_min && r.wsim <= r.kernel_max };
    else if (c in (compare.kernel?.vmstat ?? {})) out[c] = { wsim: 0, kernelMin: 0, kernelMax: 0, inRange: true };
    else throw new Error(`${c}: not a counter of the kernel's /proc/vmstat`);
  }
  return out;
}

/**
 * `text` with {wsim:NAME} and {kernel:NAME} replaced by the run's values, and {note:ID} by the
 * title of note ID of `notes` ([{id, title, text}], printed once below the table: renderTable),
 * whose id is added to `used`. Throws Error for an unknown counter or note.
 */
export function fill(text, values, notes = [], used = new Set()) {
  return text
    .replace(/\{(wsim|kernel):(\w+)\}/g, (m, side, name) => {
      const v = values[name];
      if (!v) throw new Error(`${m}: ${name} is not a counter of the compare (its rows or the guest's vmstat)`);
      return side === "wsim" ? String(v.wsim) : span(v.kernelMin, v.kernelMax);
    })
    .replace(/\{note:([\w-]+)\}/g, (m, id) => {
      const n = notes.find((x) => x.id === id);
      if (!n) throw new Error(`${m}: no such note (notes: ${notes.map((x) => x.id).join(", ") || "none"})`);
      used.add(id);
      return `(note *${n.title}*)`;
    });
}

const wsimCell = (vals) => vals.map((x) => (x.wsim === null ? "not modelled" : String(x.wsim))).join(" / ");

/**
 * The markdown rows of one case from its compare output: [label, counters, wsim, kernel,
 * why] per row, the label only on the case's first row; {note:ID} in a text names a note of
 * `notes` and adds ID to `used` (fill). Returns {rows, unexplained}: the rows outside the
 * kernel's range that have no `why`.
 */
export function caseRows(kase, compare, notes = [], used = new Set()) {
  const rows = [];
  const unexplained = [];
  kase.rows.forEach((row, i) => {
    // the row's counters, and those its texts name ({wsim:NAME}, {kernel:NAME})
    const named = [...`${row.why ?? ""} ${row.inRange ?? ""}`.matchAll(/\{(?:wsim|kernel):(\w+)\}/g)].map((m) => m[1]);
    const v = valuesOf(compare, [...new Set([...row.counters, ...named])]);
    const vals = row.counters.map((c) => v[c]);
    const inRange = vals.every((x) => x.inRange);
    let why;
    if (inRange) why = row.inRange ? `in range; ${fill(row.inRange, v, notes, used)}` : "in range";
    else if (row.why) why = fill(row.why, v, notes, used);
    else {
      why = "";
      unexplained.push(`${kase.name}: ${row.counters.join(" / ")}: wsim ${wsimCell(vals)}, kernel ${vals.map((x) => span(x.kernelMin, x.kernelMax)).join(" / ")}`);
    }
    rows.push([
      i === 0 ? kase.label : "",
      row.counters.join(" / "),
      wsimCell(vals),
      vals.map((x) => span(x.kernelMin, x.kernelMax)).join(" / "),
      why,
    ]);
  });
  return { rows, unexplained };
}

/**
 * The block between the markers: the releases the guests reported, the number of boots, the
 * table, and below it the notes (`notes`, default compare-cases.mjs's NOTES) its explanations
 * refer to, in their order there. `results` is [{kase, compare}] in case order.
 */
export function renderTable(results, notes = NOTES) {
  const runs = Math.min(...results.map(({ compare }) => (compare.kernel_runs ?? [compare.kernel]).length));
  const releases = [...new Set(results.flatMap(({ compare }) => (compare.kernel_runs ?? [compare.kernel]).map((k) => k.kernel.release ?? "unknown")))];
  const lines = [
    `Measured on Linux ${releases.join(", ")} (Debian's cloud kernel, the \`wsim kernel\` default), ${runs} ${runs === 1 ? "boot" : "boots"} per case,`,
    `with \`wsim compare TRACE ARGS --runs ${runs}\` (wsim starts from the first boot's state, \`--start boot\`, and runs the trace as the guest does: at its pace, in the root memcg, \`--pace guest --memcgs root\`); regenerate with`,
    "`node scripts/compare-table.mjs` (the cases and their explanations are in `scripts/compare-cases.mjs`; the guests' runs are",
    "kept in `docs/compare-runs/`, and `--reuse` replays wsim against them again without QEMU). Counters are changes during",
    "the replay; the kernel column is the range over the boots.",
    "",
    "| trace, setting | counter | wsim | kernel | why they differ |",
    "|---|---|---|---|---|",
  ];
  const used = new Set();
  for (const { kase, compare } of results) for (const r of caseRows(kase, compare, notes, used).rows) lines.push(`| ${r.join(" | ")} |`);
  const shown = notes.filter((n) => used.has(n.id));
  if (shown.length) {
    lines.push("", "Notes the explanations refer to:", "");
    for (const n of shown) lines.push(`- *${n.title}*: ${n.text}`);
  }
  return lines.join("\n");
}

/** README text with the block between the markers replaced. Throws Error when a marker is missing. */
export function spliceReadme(readme, block) {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md lacks the markers ${BEGIN} … ${END}`);
  return readme.slice(0, a + BEGIN.length) + "\n" + block + "\n" + readme.slice(b);
}

/**
 * One case's `wsim compare --format json`: booting the guest `runs` times, or, with `reuse`
 * (a directory), taking its saved runs from reuse/NAME.json.gz (`--kernel-runs`). Exported for
 * the test that checks the README's table against the saved runs.
 */
export function runCase(kase, runs, dir, reuse = null) {
  const out = join(dir, `${kase.name}.json`);
  const guest = reuse ? ["--kernel-runs", join(reuse, `${kase.name}.json.gz`)] : ["--runs", String(runs)];
  const args = ["compare", kase.trace, ...kase.args, ...guest, "--format", "json", "-o", out];
  process.stderr.write(`compare-table: ${kase.name}: wsim ${args.join(" ")}\n`);
  const r = spawnSync(join(ROOT, "bin", "wsim"), args, { cwd: ROOT, stdio: ["ignore", "inherit", reuse ? "pipe" : "inherit"] });
  if (r.status !== 0) throw new Error(`${kase.name}: wsim compare exited ${r.status ?? r.signal}`);
  return JSON.parse(readFileSync(out, "utf8"));
}

const USAGE = "usage: node scripts/compare-table.mjs [--runs N | --reuse [DIR]] [--save DIR | --no-save] [--case NAME]... [--out README.md|-]";

function main(argv) {
  let runs = 3;
  const only = [];
  let out = null;
  let reuse = null;
  let save = RUNS_DIR;
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
    else if (a === "--reuse") reuse = i + 1 < argv.length && !argv[i + 1].startsWith("--") ? argv[++i] : RUNS_DIR;
    else if (a === "--save") save = val();
    else if (a === "--no-save") save = null;
    else if (a === "-h" || a === "--help") {
      process.stdout.write(USAGE + "\n");
      return 0;
    } else usage(`unknown argument ${JSON.stringify(a)}`);
  }
  for (const n of only) if (!CASES.some((c) => c.name === n)) usage(`unknown case ${JSON.stringify(n)} (cases: ${CASES.map((c) => c.name).join(", ")})`);
  out ??= only.length ? "-" : join(ROOT, "README.md");
  const cases = only.length ? CASES.filter((c) => only.includes(c.name)) : CASES;
  const dir = mkdtempSync(join(tmpdir(), "wsim-compare-table-"));
  try {
    const results = [];
    const unexplained = [];
    if (reuse) save = null; // the runs are already where they came from
    for (const kase of cases) {
      const compare = runCase(kase, runs, dir, reuse);
      if (save) {
        mkdirSync(save, { recursive: true });
        const kernel_runs = compare.kernel_runs ?? [compare.kernel];
        writeFileSync(join(save, `${kase.name}.json.gz`), gzipSync(JSON.stringify({ kernel_runs }) + "\n", { level: 9 }));
      }
      results.push({ kase, compare });
      unexplained.push(...caseRows(kase, compare, NOTES).unexplained);
    }
    if (unexplained.length) {
      process.stderr.write(`compare-table: outside the kernel's range with no explanation (add a \`why\` in scripts/compare-cases.mjs):\n  ${unexplained.join("\n  ")}\n`);
      return 1;
    }
    const block = renderTable(results);
    if (out === "-") process.stdout.write(block + "\n");
    else {
      // a README with the markers is updated in place; a new file gets the block alone
      writeFileSync(out, existsSync(out) ? spliceReadme(readFileSync(out, "utf8"), block) : block + "\n");
      process.stderr.write(`compare-table: ${out} updated (${results.length} cases)\n`);
    }
    return 0;
  } catch (e) {
    process.stderr.write(`compare-table: ${e.message}\n`);
    return 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function usage(msg) {
  process.stderr.write(`compare-table: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv);
