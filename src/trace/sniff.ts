/**
 * Foreign files: what a file that is not a wsim trace (or machine file) looks like, and
 * which wsim command reads it, so that `wsim replay buddyinfo` says "this looks like
 * /proc/buddyinfo" instead of `unknown column "Node 0"`. Only the first bytes are looked
 * at; a file whose first line is a wsim CSV header or a JSON object with wsim's keys is
 * never called foreign (its own errors are better). Known: the importers' formats
 * (lackey, ucsd, lirs, damon, libcachesim, ftrace, perf-mem: src/convert/importers.ts), /proc/vmstat,
 * buddyinfo, pagetypeinfo, zoneinfo, extfrag_index / unusable_index, ftrace / trace_pipe
 * text, `perf script` text, wsim's own JSON output and machine files.
 */
import { sniffImport } from "../convert/importers.js";
import { COLUMNS } from "./types.js";

export interface Foreign {
  /** what the file looks like, e.g. "/proc/buddyinfo (free blocks per order)" */
  what: string;
  /** which wsim command reads it, or that none does, with `FILE` standing for the file */
  use: string;
  /** a short name for tests and callers: "buddyinfo", "lackey", ... */
  kind: string;
}

const NOT_READ = "no wsim command reads it as input";

/** Lines of the first 64 KiB, a BOM dropped, without the last one if the data goes on. */
function headLines(first: Buffer): string[] {
  const text = first.toString("utf8", 0, Math.min(first.length, 65536)).replace(/^\uFEFF/, "");
  const lines = text.split(/\r?\n/);
  if (first.length > 65536) lines.pop();
  return lines;
}

const IMPORT_NAMES: Record<string, string> = {
  lackey: "a valgrind lackey log (valgrind --tool=lackey --trace-mem=yes)",
  ucsd: "a UCSD address trace",
  lirs: "a LIRS page trace (one page number a line)",
  damon: "a DAMON record (damo's JSON)",
  libcachesim: "a libCacheSim CSV",
  "perf-mem": "perf mem samples with data addresses (perf script or perf mem report -D text)",
};

/** What the first bytes of a file look like, when they are one of the known foreign formats. */
export function identify(first: Buffer): Foreign | null {
  const all = headLines(first);
  const lines = all.filter((l) => l.trim() !== "");
  if (!lines.length) return null;
  const content = lines.filter((l) => !l.trimStart().startsWith("#"));
  const every = (re: RegExp, ls = content) => ls.length > 0 && ls.every((l) => re.test(l));
  const head = content[0] ?? "";

  // kernel text files
  if (lines.some((l) => /^# tracer: /.test(l)) || content.slice(0, 20).some((l) => /^\s*\S.*-\d+\s+(\(\s*[\d-]+\)\s+)?\[\d{3}\]\s+\S*\s*\d+\.\d+:\s+[\w:]+:/.test(l)))
    return {
      kind: "ftrace",
      what: "ftrace / trace_pipe text (`task-pid [cpu] flags timestamp: event: ...`)",
      use: "import its kmem page events (mm_page_alloc, mm_page_free) with `wsim convert FILE trace.csv`, then replay trace.csv",
    };
  if (content.slice(0, 20).some((l) => /^\s*\S+\s+\d+(\/\d+)?\s+(\[\d+\]\s+)?\d+\.\d+:\s+(\d+\s+)?[\w:.-]+(\/[\w=,.-]+\/\w*)?:/.test(l)))
    return sniffImport(first) === "perf-mem"
      ? {
          kind: "perf-mem",
          what: "`perf script` samples with data addresses (perf mem: `comm pid [cpu] timestamp: period event: addr data_src ...`)",
          use: "import them as sampled accesses with `wsim convert FILE trace.csv`, then replay trace.csv",
        }
      : sniffImport(first) === "ftrace"
      ? {
          kind: "perf-script",
          what: "`perf script` text of tracepoints (`comm pid [cpu] timestamp: system:event: ...`)",
          use: "import its kmem page events (kmem:mm_page_alloc, kmem:mm_page_free) with `wsim convert FILE trace.csv`, then replay trace.csv",
        }
      : {
          kind: "perf-script",
          what: "`perf script` text (`comm pid [cpu] timestamp: event: ...`)",
          use: `${NOT_READ}; write its samples as trace rows (a memory access as time_ms,op=access,pid,addr)`,
        };
  if (/^Page block order: \d+/.test(head) || content.some((l) => l.startsWith("Free pages count per migrate type")))
    return {
      kind: "pagetypeinfo",
      what: "/proc/pagetypeinfo (free blocks per migratetype and order)",
      use: "replay from the state it shows: copy it as pagetypeinfo, with buddyinfo (and zoneinfo), into a directory DIR and run `wsim replay TRACE --start-state DIR`; a trace's `read` event with key=pagetypeinfo prints one",
    };
  if (/^Node \d+, zone\s+\w+\s*$/.test(head) && content.slice(1, 4).some((l) => /^\s+(per-node stats|pages free)/.test(l)))
    return {
      kind: "zoneinfo",
      what: "/proc/zoneinfo",
      use: "replay on the machine it describes (zones, watermarks, CPUs) by giving it as the machine file: `wsim replay TRACE --machine FILE`; or put it beside buddyinfo and pagetypeinfo in a directory for `--start-state DIR`",
    };
  if (every(/^Node \d+, zone\s+\w+(\s+\d+){1,11}\s*$/))
    return {
      kind: "buddyinfo",
      what: "/proc/buddyinfo (free blocks per order)",
      use: "replay from the state it shows: copy it as buddyinfo, with pagetypeinfo (and zoneinfo), into a directory DIR and run `wsim replay TRACE --start-state DIR`; a trace's `read` event with key=buddyinfo prints one",
    };
  if (every(/^Node \d+, zone\s+\w+(\s+-?\d+\.\d+){1,11}\s*$/))
    return {
      kind: "fragmentation-index",
      what: "/sys/kernel/debug/extfrag/extfrag_index or unusable_index",
      use: `${NOT_READ}; a trace's \`read\` event with key=extfrag_index or unusable_index prints one`,
    };
  if (every(/^[a-z0-9_]+ -?\d+\s*$/))
    return {
      kind: "vmstat",
      what: "/proc/vmstat counters (or `wsim replay --format vmstat` output)",
      use: "compare two of them with `wsim diff A B` (two snapshots of one kernel: their change, `wsim diff --delta BEFORE AFTER [REPLAY]`), or a run with one: `wsim replay TRACE --expect FILE`",
    };

  // wsim's own JSON files
  if (head.trimStart().startsWith("{")) {
    const start = all.join("\n").slice(0, 4096);
    if (/"schema"\s*:/.test(start) && /"(wsim_version|vmstat)"\s*:/.test(start))
      return { kind: "wsim-json", what: "wsim's --format json output (a run's counters)", use: "compare it with `wsim diff A B` or `wsim replay TRACE --expect FILE`" };
    if (/^\s*\{\s*"(nodes|preset)"\s*:/.test(start) || (/^\s*\{\s*"name"\s*:/.test(start) && /"nodes"\s*:/.test(start)))
      return { kind: "machine", what: "a wsim machine file", use: "pass it with `--machine FILE` and give the trace as TRACE" };
  }

  // the importers' formats
  const imp = sniffImport(first);
  if (imp === "libcachesim") return { kind: imp, what: `${IMPORT_NAMES[imp]} (header ${head.trim().slice(0, 60)})`, use: "import it with `wsim convert FILE trace.csv`, then replay trace.csv" };
  if (imp && IMPORT_NAMES[imp]) return { kind: imp, what: IMPORT_NAMES[imp]!, use: "import it with `wsim convert FILE trace.csv`, then replay trace.csv" };
  return null;
}

/** The first line that is not blank and not a `#` comment, BOM and spaces dropped. */
function firstContent(first: Buffer): string | null {
  for (const l of headLines(first)) {
    const t = l.trim();
    if (t && !t.startsWith("#")) return t;
  }
  return null;
}

/** True when the first content line is what a wsim trace starts with: a header of wsim's columns, or a JSON object. */
function looksLikeTrace(first: Buffer): boolean {
  const head = firstContent(first);
  if (head === null) return true; // empty: a trace with no events
  if (head.startsWith("{")) return true; // NDJSON or a document: its keys are checked as it is read
  const cols = head.split(",").map((c) => c.trim().replace(/^"(.*)"$/, "$1"));
  return cols.every((c) => (COLUMNS as readonly string[]).includes(c));
}

/**
 * Which wsim trace format the first bytes of a file are, when they are one: "csv" (a first
 * content line that is a header of wsim's columns, with `op`), "ndjson" (one of the first
 * five lines, all JSON objects, has an "op"), "json" (a document with an "events" array and no "schema", which
 * a run's output has); null otherwise (an empty file too).
 */
export function traceFormat(first: Buffer): "csv" | "ndjson" | "json" | null {
  const head = firstContent(first);
  if (head === null) return null;
  if (!head.startsWith("{")) {
    const cols = head.split(",").map((c) => c.trim().replace(/^"(.*)"$/, "$1"));
    return cols.includes("op") && cols.every((c) => (COLUMNS as readonly string[]).includes(c)) ? "csv" : null;
  }
  // NDJSON: one of the first lines (after a {"machine": ...} header, say) an event
  const lines = headLines(first).map((l) => l.trim()).filter((l) => l && !l.startsWith("#")).slice(0, 5);
  for (const l of lines)
    try {
      const o = JSON.parse(l) as unknown;
      if (o !== null && typeof o === "object" && !Array.isArray(o) && "op" in o) return "ndjson";
    } catch {
      break; // a document over several lines: looked at below
    }
  const start = headLines(first).join("\n").slice(0, 4096);
  return /"events"\s*:\s*\[/.test(start) && !/"schema"\s*:/.test(start) ? "json" : null;
}

/**
 * For a file given as a trace: null when it may be a wsim trace, else the message to fail
 * with ("this looks like X, not a wsim trace: how to read it"). `name` is put in the advice.
 */
export function foreignTraceMessage(first: Buffer, name: string): string | null {
  if (looksLikeTrace(first) && !looksLikeOurJson(first)) return null;
  const f = identify(first);
  if (!f) return null;
  return `this looks like ${f.what}, not a wsim trace: ${f.use.replace(/\bFILE\b/g, name)}`;
}

/** wsim's JSON output or a machine file start with `{` too: tell them from a trace. */
function looksLikeOurJson(first: Buffer): boolean {
  const f = firstContent(first);
  if (!f?.startsWith("{")) return false;
  const k = identify(first)?.kind;
  return k === "wsim-json" || k === "machine";
}

/**
 * For a file given to --machine: null when it may be a machine file (JSON), else the
 * message ("this looks like X, not a machine file ...").
 */
export function foreignMachineMessage(raw: Buffer, name: string): string | null {
  const head = firstContent(raw);
  if (head === null || head.startsWith("{") || head.startsWith("[")) {
    if (head?.startsWith("{") && /^\s*\{\s*"(events|machine)"\s*:/.test(raw.toString("utf8", 0, 4096).replace(/^\uFEFF/, "")))
      return 'this looks like a JSON trace document, not a machine file: replay it as TRACE (its "machine" is used when --machine is not given)';
    const f = head?.startsWith("{") ? identify(raw) : null;
    if (f?.kind === "wsim-json") return `this looks like ${f.what}, not a machine file: ${f.use.replace(/\bFILE\b/g, name)}`;
    return null;
  }
  const f = identify(raw);
  if (f) return `this looks like ${f.what}, not a machine file (JSON like {"nodes": [{"id": 0, "mem": "4G"}]}): ${f.use.replace(/\bFILE\b/g, name)}`;
  if (looksLikeTrace(raw)) return 'this looks like a wsim CSV trace, not a machine file (JSON like {"nodes": [{"id": 0, "mem": "4G"}]}): replay it as TRACE';
  return null;
}
