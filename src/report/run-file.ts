/**
 * Reading the inputs of `wsim report` and `wsim plot`: a run (`wsim replay --format json`
 * output, optionally gzipped) or a `wsim compare --format json` output. Everything that is not
 * one of them is bad data (DataError, exit 3), `file:line: what` where a line is known.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { DataError, describeErrno, describeValue } from "../errors.js";
import type { RunResult } from "../engine/result.js";
import type { CompareRow } from "./compare.js";
import { jsonErrorLine, lineOf, locateJson } from "../trace/json-locate.js";
import { identify, traceFormat } from "../trace/sniff.js";
import type { PageblockMap } from "./pageblock-map.js";

/**
 * A run as the report reads it: the JSON of `wsim replay`, with the pageblock map at the end
 * when it was kept (`--pageblock-map`) and earlier ones (`--pageblock-map-at`).
 */
export type ReportRun = RunResult & { pageblock_map?: PageblockMap; pageblock_snapshots?: PageblockMap[] };

/** `wsim compare --format json`: `{wsim, kernel, rows, pageblock_changes}` (only `rows` is drawn). */
export interface CompareDoc {
  rows: CompareRow[];
  wsim?: unknown;
  kernel?: unknown;
}

export type InputDoc = { kind: "run"; path: string; run: ReportRun } | { kind: "compare"; path: string; compare: CompareDoc };

/**
 * Reads and checks one input file. A run needs `schema` 1, `vmstat` (counter → number),
 * `nodes[]` and `series[]` (possibly empty); a compare output needs `rows[]` of
 * `{counter, wsim, kernel_min, kernel_max}`. Throws DataError: unreadable, not JSON (with the
 * line of the syntax error), larger than `maxBytes` (MAX_INPUT_BYTES), a wsim trace (CSV,
 * NDJSON or a JSON document: saying to replay it first), another file sniff.ts knows (a
 * machine file, /proc/vmstat, a lackey log...: saying what it looks like), or neither shape (naming the first key
 * missing or wrong). `data`, when given, is the file's bytes already read
 * (standard input for `-`); `path` then only names it in messages.
 */
/**
 * A whole output file's bytes (`data` when given: standard input already read), gunzipped when
 * it starts with gzip's magic. Throws DataError (path, line 0): unreadable, or a gzip file that
 * does not decompress. readInput's first step; `wsim compare --kernel-runs` reads with it too.
 */
export function readBytes(path: string, data?: Buffer): Buffer {
  let raw: Buffer;
  if (data) raw = data;
  else
    try {
      raw = readFileSync(path);
    } catch (e) {
      throw new DataError(path, 0, `cannot read: ${describeErrno(e)}`);
    }
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (e) {
      throw new DataError(path, 0, `not a valid gzip file: ${(e as Error).message}`);
    }
  }
  return raw;
}

/** Largest input read (bytes, after gunzip): V8 cannot hold a longer string (about 2^29 characters). */
export const MAX_INPUT_BYTES = 512 * 2 ** 20;

export function readInput(path: string, maxBytes = MAX_INPUT_BYTES, data?: Buffer): InputDoc {
  const raw = readBytes(path, data);
  if (raw.length > maxBytes)
    throw new DataError(
      path,
      0,
      `${(raw.length / 2 ** 20).toFixed(1)} MiB is more than wsim report reads (${(maxBytes / 2 ** 20).toFixed(1)} MiB): replay with --report FILE.html instead (it keeps samples compactly), or with a longer --interval`,
    );
  const text = raw.toString("utf8").replace(/^\uFEFF/, "");
  if (!text.trim()) throw new DataError(path, 0, "is empty: expected a run's JSON (wsim replay --format json) or wsim compare --format json");
  const tf = traceFormat(raw.subarray(0, 65536));
  if (tf) {
    const t = path === "-" ? "-" : path;
    throw new DataError(path, 0, `is a wsim trace (${tf.toUpperCase()}), not a run: replay it first, wsim replay ${t} --interval MS -o run.json, then wsim report run.json (or wsim replay ${t} --interval MS --report report.html)`);
  }
  const foreign = identify(raw.subarray(0, 65536));
  if (foreign && foreign.kind !== "wsim-json")
    throw new DataError(path, 0, `this looks like ${foreign.what}, not a run: wsim report and plot read wsim replay --format json output (wsim replay TRACE --interval MS -o run.json)`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new DataError(path, jsonErrorLine(text, e), `not JSON: ${(e as Error).message.replace(/^.*?:\s*/, "")} (expected a run's JSON: wsim replay --format json)`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    throw new DataError(path, 1, `expected a JSON object (a run of wsim replay --format json), got ${describeValue(doc)}`);
  const d = doc as Record<string, unknown>;
  const at = (p: string) => lineOf(locateJson(text, 3), p);
  if ("rows" in d && !("vmstat" in d)) {
    if (!Array.isArray(d.rows)) throw new DataError(path, at("/rows"), `"rows": expected an array of compare rows, got ${describeValue(d.rows)}`);
    d.rows.forEach((r, i) => {
      const row = r as Record<string, unknown>;
      if (row === null || typeof row !== "object" || typeof row.counter !== "string" || typeof row.kernel_min !== "number" || typeof row.kernel_max !== "number" || !(row.wsim === null || typeof row.wsim === "number"))
        throw new DataError(path, at(`/rows/${i}`), `rows[${i}]: expected {counter, wsim, kernel_min, kernel_max} as wsim compare --format json writes`);
    });
    return { kind: "compare", path, compare: d as unknown as CompareDoc };
  }
  const notRun = (what: string, key: string) =>
    new DataError(path, key in d ? at(`/${key}`) : 1, `not a wsim run: ${what} (make one with wsim replay TRACE --format json -o run.json)`);
  const bad = (where: string, what: string) => new DataError(path, at(where), `${where.slice(1).replace(/\//g, ".")}: ${what}`);
  if (d.schema !== 1) throw notRun(`"schema" is ${"schema" in d ? describeValue(d.schema) : "missing"}, expected 1`, "schema");
  if (!isObject(d.vmstat)) throw notRun(`"vmstat" is ${"vmstat" in d ? describeValue(d.vmstat) : "missing"}, expected an object`, "vmstat");
  for (const [k, v] of Object.entries(d.vmstat))
    if (!isNum(v)) throw new DataError(path, at(`/vmstat/${k}`), `vmstat "${k}": expected a number, got ${describeValue(v)}`);
  if (!Array.isArray(d.nodes)) throw notRun(`"nodes" is ${"nodes" in d ? describeValue(d.nodes) : "missing"}, expected an array`, "nodes");
  for (const [i, n] of (d.nodes as unknown[]).entries()) {
    const z = (n as { zones?: { buddyinfo?: unknown }[] })?.zones;
    if (!isNum((n as { id?: unknown })?.id) || !Array.isArray(z) || !z.length || !z.every((x) => isObject(x) && numbers(x.buddyinfo, 11)))
      throw new DataError(path, at(`/nodes/${i}`), `nodes[${i}]: expected {id, zones: [{buddyinfo: [11 numbers], ...}]}`);
  }
  if (!Array.isArray(d.series)) throw notRun(`"series" is ${"series" in d ? describeValue(d.series) : "missing"}, expected an array`, "series");
  for (const [i, s] of (d.series as unknown[]).entries()) {
    const smp = s as { time_ms?: unknown; vmstat?: unknown; buddyinfo?: unknown };
    if (!isObject(smp) || !isNum(smp.time_ms) || !isObject(smp.vmstat) || !Array.isArray(smp.buddyinfo) || !smp.buddyinfo.every((b) => numbers(b, 11)))
      throw new DataError(path, at(`/series/${i}`), `series[${i}]: expected {time_ms, vmstat, buddyinfo: [[11 numbers] per node], ...} as --interval writes`);
    for (const [k, v] of Object.entries(smp.vmstat)) if (!isNum(v)) throw new DataError(path, at(`/series/${i}`), `series[${i}].vmstat "${k}": expected a number, got ${describeValue(v)}`);
    const pr = (smp as { promotion?: unknown }).promotion;
    if (pr !== undefined && (!isObject(pr) || !isNum(pr.truly_hot) || !isNum(pr.promoted_hot)))
      throw new DataError(path, at(`/series/${i}`), `series[${i}].promotion: expected {truly_hot, promoted_hot}, got ${describeValue(pr)}`);
  }
  const m = d.machine as { nodes?: unknown } | undefined;
  if (!isObject(m) || !Array.isArray(m.nodes) || !m.nodes.every((n) => isObject(n) && isNum(n.id) && isNum(n.mem) && isNum(n.tier)))
    throw notRun(`"machine" is ${"machine" in d ? describeValue(d.machine) : "missing"}, expected {name, nodes: [{id, mem, tier, cpus}]}`, "machine");
  if (d.workingset === undefined) d.workingset = {};
  if (!isObject(d.workingset)) throw bad("/workingset", `expected {memcg: {node: report}}, got ${describeValue(d.workingset)}`);
  for (const [cg, nodes] of Object.entries(d.workingset)) {
    if (!isObject(nodes)) throw bad(`/workingset/${cg}`, `expected {node: report}, got ${describeValue(nodes)}`);
    for (const [nid, w] of Object.entries(nodes)) {
      const where = `/workingset/${cg}/${nid}`;
      if (!isObject(w) || !bins(w.page_age, "anon", "file") || !bins(w.page_age_exact, "anon", "file") || (w.page_age as unknown[]).length !== (w.page_age_exact as unknown[]).length || !isNum(w.misplaced_share))
        throw new DataError(path, at(where), `workingset ${cg} node ${nid}: expected {page_age, page_age_exact: [{le_ms, anon, file}] of one length, misplaced_share}`);
    }
  }
  if (d.promotion !== undefined) {
    const p = d.promotion as Record<string, unknown>;
    if (!isObject(p) || !isNum(p.truly_hot) || !isNum(p.promoted_hot) || !isObject(p.by) || !Object.values(p.by).every((b) => isObject(b) && bins(b.latency, "count")))
      throw bad("/promotion", "expected {truly_hot, promoted_hot, by: {promoter: {latency: [{le_ms, count}]}}, ...}");
  }
  if (d.pageblock_map !== undefined && !pageblockMapOk(d.pageblock_map)) throw bad("/pageblock_map", "expected {time_ms, zones: [{node, zone, start_pfn, mt: [...], free: [...] of one length}]}");
  if (d.pageblock_snapshots !== undefined && !(Array.isArray(d.pageblock_snapshots) && d.pageblock_snapshots.every(pageblockMapOk)))
    throw bad("/pageblock_snapshots", "expected [{time_ms, zones: [{node, zone, start_pfn, mt: [...], free: [...]}]}]");
  return { kind: "run", path, run: d as unknown as ReportRun };
}

// --- internal ---

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
/** an array of finite numbers (of `len` of them when given) */
const numbers = (v: unknown, len?: number) => Array.isArray(v) && (len === undefined || v.length === len) && v.every(isNum);
/** histogram bins: `[{le_ms: number | null, <each of keys>: number}]` */
const bins = (v: unknown, ...keys: string[]) =>
  Array.isArray(v) && v.every((b) => isObject(b) && (b.le_ms === null || isNum(b.le_ms)) && keys.every((k) => isNum(b[k])));

function pageblockMapOk(m: unknown): boolean {
  if (!isObject(m) || !isNum(m.time_ms) || !Array.isArray(m.zones)) return false;
  return m.zones.every(
    (z) => isObject(z) && isNum(z.node) && typeof z.zone === "string" && isNum(z.start_pfn) && numbers(z.mt) && numbers(z.free) && (z.mt as unknown[]).length === (z.free as unknown[]).length,
  );
}
