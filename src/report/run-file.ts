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
 * line of the syntax error), or neither shape (naming the first key missing or wrong).
 */
export function readInput(path: string): InputDoc {
  let raw: Buffer;
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
  const text = raw.toString("utf8").replace(/^\uFEFF/, "");
  if (!text.trim()) throw new DataError(path, 0, "is empty: expected a run's JSON (wsim replay --format json) or wsim compare --format json");
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
  if (d.schema !== 1) throw notRun(`"schema" is ${"schema" in d ? describeValue(d.schema) : "missing"}, expected 1`, "schema");
  if (d.vmstat === null || typeof d.vmstat !== "object" || Array.isArray(d.vmstat)) throw notRun(`"vmstat" is ${"vmstat" in d ? describeValue(d.vmstat) : "missing"}, expected an object`, "vmstat");
  for (const [k, v] of Object.entries(d.vmstat as object))
    if (typeof v !== "number") throw new DataError(path, at(`/vmstat/${k}`), `vmstat "${k}": expected a number, got ${describeValue(v)}`);
  if (!Array.isArray(d.nodes)) throw notRun(`"nodes" is ${"nodes" in d ? describeValue(d.nodes) : "missing"}, expected an array`, "nodes");
  for (const [i, n] of (d.nodes as unknown[]).entries()) {
    const z = (n as { zones?: { buddyinfo?: unknown }[] })?.zones;
    if (!Array.isArray(z) || !z.every((x) => Array.isArray(x?.buddyinfo)))
      throw new DataError(path, at(`/nodes/${i}`), `nodes[${i}]: expected {id, zones: [{buddyinfo: [11 numbers], ...}]}`);
  }
  if (!Array.isArray(d.series)) throw notRun(`"series" is ${"series" in d ? describeValue(d.series) : "missing"}, expected an array`, "series");
  for (const [i, s] of (d.series as unknown[]).entries()) {
    const smp = s as { time_ms?: unknown; vmstat?: unknown; buddyinfo?: unknown };
    if (smp === null || typeof smp !== "object" || typeof smp.time_ms !== "number" || typeof smp.vmstat !== "object" || !Array.isArray(smp.buddyinfo))
      throw new DataError(path, at(`/series/${i}`), `series[${i}]: expected {time_ms, vmstat, buddyinfo, ...} as --interval writes`);
  }
  if (typeof d.workingset !== "object" || d.workingset === null) d.workingset = {};
  return { kind: "run", path, run: d as unknown as ReportRun };
}
