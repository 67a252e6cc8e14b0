#!/usr/bin/env node
/**
 * Fits the cost.profile=tcg defaults (docs/costs.md) from saved QEMU TCG guest runs.
 *
 *   node scripts/fit-tcg-costs.mjs [DIR]     # DIR: docs/compare-runs (default), *.json.gz
 *
 * Each saved run (`kernel_runs[]` of a compare-table save) has the guest's counter changes
 * over the replay (`vmstat`), the guest's clock over it (`kernel.guest_ms`), the time the
 * helper slept through the trace's gaps (`kernel.slept_ms`) and the trace's event count
 * (`trace.events`). worked = guest_ms - slept_ms is modelled as
 *
 *   worked_ns = event_ns * events + sum_k cost_k * count_k(vmstat)
 *
 * and the costs are fitted by non-negative least squares (Lawson-Hanson) over the runs.
 * A cost is reported as identified when its column is non-zero in at least MIN_RUNS runs, the
 * fit leaves it above zero and its standard error (from the unconstrained least squares over
 * the costs the fit kept) is below the estimate; the others keep the guess (GUESS below).
 * Prints the table (markdown), the per-run residuals and the identified flags.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";

/** The unknowns: name, the cost.* tunable it sets (null: the per-event constant), its column. */
export const COLUMNS = [
  { name: "event", tunable: null, col: (v, r) => r.events },
  // Each time the trace's clock moves on, the helper sleeps to the next event's time; a guest
  // timer under TCG wakes late, and guest_ms counts the overshoot (slept_ms does not).
  { name: "sleep", tunable: null, col: (v, r) => r.sleeps },
  // Every minor fault in these traces is a first touch of anon memory, so the fault's fixed
  // part and clear_page always come together: one column, split below (zero_page kept).
  { name: "fault+zero_page", tunable: "fault", col: (v) => (v.pgfault ?? 0) - (v.pgmajfault ?? 0) - (v.thp_fault_alloc ?? 0) },
  { name: "zero_thp", tunable: "zero_thp", col: (v) => v.thp_fault_alloc ?? 0 },
  { name: "compact_scan", tunable: "compact_scan", col: (v) => (v.compact_migrate_scanned ?? 0) + (v.compact_free_scanned ?? 0) },
  { name: "migrate", tunable: "migrate", col: (v) => v.pgmigrate_success ?? 0 },
  { name: "reclaim_scan", tunable: "reclaim_scan", col: (v) => (v.pgscan_direct ?? 0) + (v.pgscan_kswapd ?? 0) },
  { name: "reclaim_page", tunable: "reclaim_page", col: (v) => (v.pgsteal_direct ?? 0) + (v.pgsteal_kswapd ?? 0) },
  { name: "io_read", tunable: "io_read", col: (v) => v.pswpin ?? 0 },
  { name: "io_write", tunable: "io_write", col: (v) => v.pswpout ?? 0 },
];

/** The guess the tcg profile had before this fit (ns), kept for what the data cannot identify. */
export const GUESS = { fault: 8000, zero_page: 1900, zero_thp: 970000, io_read: 200000, reclaim_scan: 1500,
  reclaim_page: 15000, io_write: 200000, compact_scan: 400, migrate: 20000 };

export const MIN_RUNS = 3;

/** The guest helper's shortest sleep, ms (src/kernel/kernel.ts: ScriptBuilder's minSleepMs). */
export const MIN_SLEEP_MS = 10;

/**
 * How many sleeps the guest helper makes for a trace: as ScriptBuilder.advance
 * (src/kernel/script.ts), a gap since the last sleep shorter than MIN_SLEEP_MS accumulates,
 * one that reaches it is one sleep. file: a .csv, .csv.gz or .json trace; only time_ms read.
 */
export function countSleeps(file) {
  let text = fs.readFileSync(file);
  if (file.endsWith(".gz")) text = zlib.gunzipSync(text);
  text = text.toString();
  let times;
  if (file.endsWith(".json") || file.endsWith(".json.gz")) times = JSON.parse(text).events.map((e) => Number(e.time_ms));
  else times = text.split("\n").filter((l) => l && !l.startsWith("#") && !l.startsWith("time_ms")).map((l) => Number(l.slice(0, l.indexOf(","))));
  let n = 0, covered = times[0];
  for (const t of times) if (t - covered >= MIN_SLEEP_MS) { n++; covered = t; }
  return n;
}

/**
 * Non-negative least squares, min ||A x - b|| with x >= 0 (Lawson & Hanson 1974, ch. 23).
 * A: rows of numbers (m x n), b: m numbers. Returns x (n numbers). Columns are scaled to unit
 * norm inside, so counts of very different size (events vs. pages scanned) do not matter.
 */
export function nnls(A, b, maxIter = 500) {
  const m = A.length, n = A[0].length;
  const scale = Array.from({ length: n }, (_, j) => Math.sqrt(A.reduce((s, r) => s + r[j] * r[j], 0)) || 1);
  const S = A.map((r) => r.map((x, j) => x / scale[j]));
  const x = new Array(n).fill(0);
  const P = new Set();
  const grad = () => Array.from({ length: n }, (_, j) => { let s = 0; for (let i = 0; i < m; i++) { let ax = 0; for (let k = 0; k < n; k++) ax += S[i][k] * x[k]; s += S[i][j] * (b[i] - ax); } return s; });
  const tol = 1e-10 * Math.max(1, Math.sqrt(b.reduce((s, y) => s + y * y, 0)));
  for (let it = 0; it < maxIter; it++) {
    const w = grad();
    let t = -1, best = tol;
    for (let j = 0; j < n; j++) if (!P.has(j) && w[j] > best) { best = w[j]; t = j; }
    if (t < 0) break;
    P.add(t);
    for (;;) {
      const idx = [...P];
      const z = lstsq(S.map((r) => idx.map((j) => r[j])), b);
      if (idx.every((_, k) => z[k] > 0)) { idx.forEach((j, k) => { x[j] = z[k]; }); break; }
      let alpha = Infinity;
      idx.forEach((j, k) => { if (z[k] <= 0) alpha = Math.min(alpha, x[j] / (x[j] - z[k])); });
      idx.forEach((j, k) => { x[j] += alpha * (z[k] - x[j]); if (x[j] <= 1e-14) { x[j] = 0; P.delete(j); } });
    }
  }
  return x.map((v, j) => v / scale[j]);
}

/** Ordinary least squares by the normal equations (Gauss-Jordan with partial pivoting). */
export function lstsq(A, b) {
  const n = A[0]?.length ?? 0;
  const M = Array.from({ length: n }, (_, i) => [...Array.from({ length: n }, (_, j) => A.reduce((s, r) => s + r[i] * r[j], 0)), A.reduce((s, r, k) => s + r[i] * b[k], 0)]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    if (Math.abs(M[c][c]) < 1e-300) { M[c][c] = 1e-300; }
    for (let r = 0; r < n; r++) if (r !== c) { const f = M[r][c] / M[c][c]; for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k]; }
  }
  return M.map((row, i) => row[n] / row[i]);
}

/** (A^T A)^-1 for the standard errors. */
function inverseNormal(A) {
  const n = A[0].length;
  return Array.from({ length: n }, (_, j) => {
    // column j of the inverse: solve (A^T A) y = e_j
    const M = Array.from({ length: n }, (_, i) => [...Array.from({ length: n }, (_, k) => A.reduce((s, r) => s + r[i] * r[k], 0)), i === j ? 1 : 0]);
    for (let c = 0; c < n; c++) {
      let p = c;
      for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
      [M[c], M[p]] = [M[p], M[c]];
      for (let r = 0; r < n; r++) if (r !== c) { const f = M[r][c] / M[c][c]; for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k]; }
    }
    return M.map((row, i) => row[n] / row[i]);
  });
}

/**
 * Fits the costs. runs: [{label, events, sleeps, vmstat, workedMs}]; columns: a subset of
 * COLUMNS (default all). Returns {x (ns per unit, by column), se (ns; NaN for a column without
 * data), identified (booleans: at least MIN_RUNS runs have it, x > 0 and x >= 2 se),
 * nonzeroRuns, residuals [{label, workedMs, fittedMs}], rmsMs, confounded [[name, name, r]]:
 * pairs of columns whose correlation over the runs is 0.95 or more}.
 */
export function fitCosts(runs, columns = COLUMNS) {
  const A = runs.map((r) => columns.map((c) => c.col(r.vmstat, r)));
  const b = runs.map((r) => r.workedMs * 1e6);
  const x = nnls(A, b);
  const fitted = A.map((row) => row.reduce((s, a, j) => s + a * x[j], 0));
  const residuals = runs.map((r, i) => ({ label: r.label, workedMs: r.workedMs, fittedMs: fitted[i] / 1e6 }));
  const rss = b.reduce((s, y, i) => s + (y - fitted[i]) ** 2, 0);
  // standard errors from the unconstrained least squares over every column with data: a cost
  // whose column moves with another's (reclaim and swap do) gets a wide one, as it should
  const used = columns.map((_, j) => j).filter((j) => A.some((r) => r[j] !== 0));
  const se = new Array(columns.length).fill(NaN);
  const dof = runs.length - used.length;
  if (used.length && dof > 0) {
    const inv = inverseNormal(A.map((r) => used.map((j) => r[j])));
    used.forEach((j, k) => { se[j] = Math.sqrt((rss / dof) * Math.max(0, inv[k][k])); });
  }
  const nonzeroRuns = columns.map((_, j) => A.filter((r) => r[j] !== 0).length);
  const identified = x.map((v, j) => v > 0 && nonzeroRuns[j] >= MIN_RUNS && dof > 0 && v >= 2 * se[j]);
  const confounded = [];
  for (let i = 0; i < columns.length; i++) {
    for (let j = i + 1; j < columns.length; j++) {
      const r = correlation(A.map((row) => row[i]), A.map((row) => row[j]));
      if (r >= 0.95) confounded.push([columns[i].name, columns[j].name, r]);
    }
  }
  return { x, se, identified, nonzeroRuns, residuals, rmsMs: Math.sqrt(rss / runs.length) / 1e6, confounded };
}

/** Pearson correlation of two equally long number arrays (0 when either is constant). */
function correlation(a, b) {
  const n = a.length, ma = a.reduce((s, x) => s + x, 0) / n, mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) ** 2; sbb += (b[i] - mb) ** 2; }
  return saa && sbb ? sab / Math.sqrt(saa * sbb) : 0;
}

/**
 * Reads every *.json.gz of dir into runs for fitCosts (label: file name and run number);
 * trace paths in the runs are relative to root (the repository).
 */
export function loadRuns(dir, root = process.cwd()) {
  const runs = [];
  const sleepCache = {};
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".json.gz")).sort()) {
    const j = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(dir, f))).toString());
    (j.kernel_runs ?? []).forEach((r, i) => {
      const events = r.trace?.events;
      if (typeof events !== "number" || !r.vmstat || typeof r.kernel?.guest_ms !== "number") return;
      const tp = r.trace?.path;
      const sleeps = tp ? (sleepCache[tp] ??= countSleeps(path.join(root, tp))) : 0;
      runs.push({ label: `${f.replace(/\.json\.gz$/, "")}#${i + 1}`, events, sleeps, vmstat: r.vmstat,
        workedMs: r.kernel.guest_ms - (r.kernel.slept_ms ?? 0) });
    });
  }
  return runs;
}

/** The tcg profile's figures from a fit: the fitted ones, the guess for the rest. */
export function profileFrom(fit) {
  const out = { ...GUESS };
  const byName = Object.fromEntries(COLUMNS.map((c, j) => [c.name, j]));
  for (const [j, c] of COLUMNS.entries()) {
    if (!c.tunable || !fit.identified[j]) continue;
    out[c.tunable] = Math.round(fit.x[j]);
  }
  // the fault column is fault + zero_page: keep zero_page's guess, the rest is the fault's
  const f = byName["fault+zero_page"];
  if (fit.identified[f]) out.fault = Math.max(0, Math.round(fit.x[f] - GUESS.zero_page));
  return out;
}

function main() {
  const dir = process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "docs", "compare-runs");
  const runs = loadRuns(dir, path.join(path.dirname(fileURLToPath(import.meta.url)), ".."));
  if (runs.length < COLUMNS.length) { console.error(`${dir}: ${runs.length} runs, need at least ${COLUMNS.length}`); process.exit(3); }
  const fit = fitCosts(runs);
  const prof = profileFrom(fit);
  console.log(`# TCG cost fit: ${runs.length} runs from ${dir}, NNLS of guest_ms - slept_ms\n`);
  console.log("| unknown | fitted ns | std. error ns | runs with it | identified | tcg default |");
  console.log("|---|---:|---:|---:|---|---:|");
  COLUMNS.forEach((c, j) => {
    const def = c.tunable ? prof[c.tunable] : "-";
    console.log(`| ${c.tunable ? `cost.${c.name}_ns`.replace("fault+zero_page_ns", "fault_ns + zero_page_ns") : `per ${c.name}`} | ${Math.round(fit.x[j])} | ${Number.isNaN(fit.se[j]) ? "-" : Math.round(fit.se[j])} | ${fit.nonzeroRuns[j]} | ${fit.identified[j] ? "yes" : "no (guess kept)"} | ${def} |`);
  });
  console.log(`\nrms residual ${fit.rmsMs.toFixed(0)} ms`);
  console.log(`\nconfounded (correlation >= 0.95 over the runs): ${fit.confounded.map(([a, b, r]) => `${a} ~ ${b} (${r.toFixed(3)})`).join(", ") || "none"}`);
  const guest = fitCosts(runs, COLUMNS.slice(0, 2));
  console.log(`\nthe guest's clock alone (per event and per sleep, no kernel counters): ${COLUMNS.slice(0, 2).map((c, j) => `${c.name} ${Math.round(guest.x[j])} ± ${Math.round(guest.se[j])} ns`).join(", ")}; rms residual ${guest.rmsMs.toFixed(0)} ms\n`);
  console.log("| run | worked ms | fitted ms | residual ms |");
  console.log("|---|---:|---:|---:|");
  for (const r of fit.residuals) console.log(`| ${r.label} | ${r.workedMs} | ${r.fittedMs.toFixed(0)} | ${(r.workedMs - r.fittedMs).toFixed(0)} |`);
  console.log(`\nprofile: ${JSON.stringify(prof)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
