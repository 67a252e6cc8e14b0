/**
 * Importers for real trace formats (`wsim convert`): each is given its format line by line
 * (gzip and zlib handled by the caller, src/convert/input.ts), emits wsim trace rows as it
 * reads (so a conversion streams), and counts what it kept and skipped. Each states how it
 * maps time and addresses; flags change that. One that recognises no line of its format is a
 * data error naming the first line it could not read (checkRecognised).
 *
 *   lackey       valgrind --tool=lackey --trace-mem=yes logs: ` L addr,size` (load), ` S` (store),
 *                ` M` (modify), `I  addr,size` (instruction fetch); `==PID==` lines skipped. One
 *                process (pid 1); each data reference touches the pages of [addr, addr+size);
 *                time = reference number / refs_per_ms; instruction fetches skipped unless
 *                `instructions` is set.
 *   ucsd         the UCSD / SPEC CPU2000 address traces: `l|s 0xADDR N` (N: instructions since
 *                the previous reference); time = instructions so far / instr_per_ms.
 *   lirs         the LIRS page traces: one block number a line, block n as page n; time =
 *                reference number / refs_per_ms.
 *   damon        a DAMON record (damo's JSON, zlib-compressed): each region's sampled accesses
 *                spread evenly over its pages and over its snapshot's time span (ns to ms, from
 *                the first snapshot), one process (pid 1).
 *   libcachesim  libCacheSim's CSV: a header naming a time column (time, timestamp) and an
 *                object column (obj_id, id, key, object, lbn); object n as page n; time in `time_unit`.
 *   ftrace       the kmem page events of ftrace, trace-cmd report and perf script text, as
 *                alloc and free rows keyed by pfn (src/convert/ktrace.ts).
 *   perf-mem     perf samples with a data address (perf mem / perf record -d, as perf script
 *                or perf mem report -D text): a sample = an access of its pid at its address's
 *                page; sampled, each row standing for its period (src/convert/perf-samples.ts).
 */
import { DataError, quoteInput } from "../errors.js";
import { plural } from "../report/words.js";
import type { Row } from "../generate/generators.js";
import { FTRACE_COUNTED_ONE, FTRACE_SKIP_ONE, looksLikeKernelTrace, type KmemStat } from "./ktrace.js";
import { looksLikePerfSamples, PERF_COUNTED_ONE, PERF_SKIP_ONE } from "./perf-samples.js";

export interface ImportStats {
  /** what the importer says of its mapping */
  mapping: string;
  /** accesses written */
  kept: number;
  /** (lackey, ucsd, damon) 2 MiB mmaps written before the first access into each range */
  mapped?: number;
  /** why -> how many lines (or regions) were left out */
  skipped: Record<string, number>;
  /** lines (records) that were of the format, whether kept or skipped on purpose */
  recognised: number;
  /** lines that were not blank or comments */
  lines: number;
  /** the first line the importer could not read, and its number */
  firstUnread: { no: number; text: string } | null;
  /** (ftrace) lines per event name, replayed or not */
  events?: Record<string, number>;
  /** (ftrace) the alloc and free rows written (kept = alloc + free) */
  rows?: { alloc: number; free: number };
  /** (ftrace) what was counted beside the rows, not skipped: why -> how many */
  counted?: Record<string, number>;
  /** the first lines it could not read (UNREAD_NAMED), and why (empty why: not a line of the format; ftrace and perf-mem name malformed events) */
  unread?: { no: number; text: string; why: string }[];
  /** (ftrace) the ring buffer's lost-events marks: events lost (the counts summed), marks, marks without a count, and the first */
  lost?: { events: number; markers: number; uncounted: number; first: { file: string; no: number; text: string } };
  /** notes on the input as a whole, one a line (convert's stderr, stat's text) */
  notes?: string[];
  /** (ftrace, for wsim stat) perf kmem stat --page's summary */
  kmem?: KmemStat;
  /** (perf-mem) what the rows are, for a comment at the top of a CSV OUT */
  header?: string;
  /** (perf-mem) what each row stands for (the samples' periods): a comment at the end of a CSV OUT, and on stderr */
  sampled?: string;
}

export interface ImportOptions {
  refs_per_ms: number;
  instr_per_ms: number;
  instructions: boolean;
  pid: number;
  time_unit: "s" | "ms" | "us" | "ns";
}

export const DEFAULT_IMPORT: ImportOptions = { refs_per_ms: 1000, instr_per_ms: 1000, instructions: false, pid: 1, time_unit: "s" };

/** Each row the importer makes, as it makes it; the row object is reused: copy it to keep it. */
export type Emit = (r: Row) => void;

/**
 * A line-format importer: `line` for every line in order (numbered from 1), then `end`. It
 * calls `emit` for each access and counts in its stats; it throws DataError for a line that
 * makes the rest unreadable (libcachesim's header).
 */
export interface LineImporter {
  line(text: string, no: number): void;
  /** the same for a line given as the bytes [start, end) of `buf` (no `\n`; a trailing `\r` kept), when the importer reads bytes */
  bytes?(buf: Buffer, start: number, end: number, no: number): void;
  end(): void;
}

export function newStats(): ImportStats {
  return { mapping: "", kept: 0, skipped: {}, recognised: 0, lines: 0, firstUnread: null };
}

/** The highest address a trace holds (SPEC §2: below 2^53). */
const MAX_ADDR = Number.MAX_SAFE_INTEGER;
/** time_ms is written as a plain decimal: beyond this it would print with an exponent */
const MAX_TIME_MS = 1e15;

const hex = (n: number) => "0x" + n.toString(16);
const ms = (x: number) => Math.round(x * 1000) / 1000;

function skip(st: ImportStats, why: string): void {
  st.skipped[why] = (st.skipped[why] ?? 0) + 1;
}

/** What libcachesim() counts beside its rows (ImportStats.counted): written, not skipped. */
const CLAMPED = "rows going back in time (written at the time of the row before: time_ms never decreases)";

/** Each skip reason (the key in ImportStats.skipped, plural) with its singular, for a count of 1. */
const SKIP_ONE: Record<string, string> = {
  "unrecognised lines": "unrecognised line",
  "valgrind lines (==PID==)": "valgrind line (==PID==)",
  "instruction fetches (--instructions to keep them)": "instruction fetch (--instructions to keep it)",
  "references at or above 2^53": "reference at or above 2^53",
  "blocks at or above 2^41 (addresses at or above 2^53)": "block at or above 2^41 (address at or above 2^53)",
  "regions without accesses": "region without accesses",
  "samples with a bad address or time": "sample with a bad address or time",
  "rows with a bad time or object id": "row with a bad time or object id",
  "objects at or above 2^41 (addresses at or above 2^53)": "object at or above 2^41 (address at or above 2^53)",
  [CLAMPED]: "row going back in time (written at the time of the row before: time_ms never decreases)",
  ...FTRACE_SKIP_ONE,
  ...FTRACE_COUNTED_ONE,
  ...PERF_SKIP_ONE,
  ...PERF_COUNTED_ONE,
};

/**
 * What an importer skipped, as convert prints it: "1 instruction fetch (...), 3 unrecognised
 * lines", each count with its noun in the right number (src/report/words.ts plural).
 */
export function describeSkipped(st: ImportStats): string[] {
  return Object.entries(st.skipped).map(([why, k]) => plural(k, SKIP_ONE[why] ?? why, why));
}

/** What an importer counted beside its rows (ImportStats.counted), as describeSkipped words it. */
export function describeCounted(st: ImportStats): string[] {
  return Object.entries(st.counted ?? {}).map(([why, k]) => plural(k, SKIP_ONE[why] ?? why, why));
}

/** How many lines an importer could not read are named on stderr (as ktrace.ts UNREAD_NAMED). */
const UNREAD_NAMED = 3;

/**
 * A line the importer could not read: counted under `why`, and the first UNREAD_NAMED kept
 * (st.unread), so convert's stderr names them as `FILE:LINE: "text"`, as it does a kernel trace's.
 */
function unread(st: ImportStats, text: string, no: number, why = "unrecognised lines"): void {
  skip(st, why);
  if (!st.firstUnread) st.firstUnread = { no, text };
  const list = (st.unread ??= []);
  if (list.length < UNREAD_NAMED) list.push({ no, text, why: "" });
}

const MAPPED = "each 2 MiB-aligned range is mmapped (anon) at its first access, so THP can back it";

/** 2 MiB: the range an address trace's pages are mapped in (a PMD, so a THP can back it) */
export const MAP_CHUNK = 2 * 1024 * 1024;

/**
 * Where an address trace gives no mappings (lackey, UCSD, DAMON), the importer maps what it
 * sees: before the first access into a 2 MiB-aligned range it emits an anonymous `mmap` of that
 * range, at the access's time. Neighbouring ranges make one contiguous mapping, as the
 * kernel's vma_merge makes one VMA of adjacent anonymous mmaps, so a THP can back any 2 MiB the
 * program touched (transparent_hugepage.enabled=always). Returns the emit to use for accesses.
 */
function mappingEmit(o: ImportOptions, st: ImportStats, emit: Emit): Emit {
  const seen = new Set<number>();
  let last = -1;
  const m: Row = { time_ms: 0, op: "mmap", pid: o.pid, addr: "", len: MAP_CHUNK };
  return (r) => {
    const chunk = Math.floor(parseInt(r.addr as string, 16) / MAP_CHUNK);
    if (chunk !== last) {
      last = chunk;
      if (!seen.has(chunk)) {
        seen.add(chunk);
        m.time_ms = r.time_ms!;
        m.addr = hex(chunk * MAP_CHUNK);
        st.mapped = (st.mapped ?? 0) + 1;
        emit(m);
      }
    }
    emit(r);
  };
}

/** the access row each importer reuses */
function accessRow(o: ImportOptions): Row {
  return { time_ms: 0, op: "access", pid: o.pid, addr: "", rw: "r" };
}

/** `t` (ms), or a DataError at line `no` when it is beyond MAX_TIME_MS; `advice`: what to change ("raise --refs-per-ms"). */
function timeOk(file: string, no: number, t: number, advice: string): number {
  if (!(t <= MAX_TIME_MS)) throw new DataError(file, no, `time_ms would be ${t}, beyond ${MAX_TIME_MS}: ${advice}`);
  return t;
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 13 || c === 11 || c === 12;

/** decimal digits from `i` (at most 16): their value, or -1; `end` gets where they stop */
function digits(line: string, i: number, end: (e: number) => void): number {
  let v = 0;
  const s = i;
  for (; i < line.length && i - s < 17; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  end(i);
  return i === s ? -1 : v;
}

/** valgrind's own lines in a lackey log: `==PID== ...` (a markdown heading's `=====` is none) */
const VALGRIND_LINE = /^==\d+==/;

/** valgrind lackey: one process; a data reference touches the pages of [addr, addr+size). */
export function lackey(o: ImportOptions, st: ImportStats, out: Emit, file = ""): LineImporter {
  st.mapping = `lackey: pid ${o.pid}; each data reference touches the pages of [addr, addr+size); time = reference / ${o.refs_per_ms} per ms${o.instructions ? "; instruction fetches kept as reads" : ""}; ${MAPPED}`;
  const emit = mappingEmit(o, st, out);
  const re = /^(I | L| S| M) +([0-9a-fA-F]+),(\d+)\s*$/;
  const r = accessRow(o);
  let n = 0;
  return {
    line(line, no) {
      if (!line.trim()) return;
      st.lines++;
      if (VALGRIND_LINE.test(line)) {
        st.recognised++;
        skip(st, "valgrind lines (==PID==)");
        return;
      }
      const m = re.exec(line);
      if (!m) return unread(st, line, no);
      st.recognised++;
      const kind = m[1]!.trim();
      if (kind === "I" && !o.instructions) return skip(st, "instruction fetches (--instructions to keep them)");
      const addr = parseInt(m[2]!, 16);
      const size = Math.max(1, Number(m[3]));
      if (!(addr + size - 1 <= MAX_ADDR)) return skip(st, "references at or above 2^53");
      const first = Math.floor(addr / 4096);
      const last = Math.floor((addr + size - 1) / 4096);
      r.time_ms = timeOk(file, no, ms(n++ / o.refs_per_ms), "raise --refs-per-ms");
      r.rw = kind === "S" || kind === "M" ? "w" : "r";
      for (let p = first; p <= last; p++) {
        st.kept++;
        r.addr = hex(p * 4096);
        emit(r);
      }
    },
    end() {},
  };
}

/** UCSD / SPEC CPU2000 address traces: `l|s 0xADDR N`. */
export function ucsd(o: ImportOptions, st: ImportStats, out: Emit, file = ""): LineImporter {
  st.mapping = `ucsd: pid ${o.pid}; page = addr >> 12; l = read, s = write; time = instructions so far / ${o.instr_per_ms} per ms; ${MAPPED}`;
  const emit = mappingEmit(o, st, out);
  const r = accessRow(o);
  let instr = 0;
  return {
    // `^\s*([lsLS])\s+(0x[0-9a-fA-F]+|\d+)\s+(\d+)\s*$`, scanned by hand: this is the
    // format of the long traces (the regex, trim and Number took most of convert's time)
    line(line, no) {
      const n = line.length;
      let i = 0;
      while (i < n && isSpace(line.charCodeAt(i))) i++;
      if (i === n) return;
      st.lines++;
      const kind = line.charCodeAt(i++) | 0x20; // l or s
      let j = i;
      while (j < n && isSpace(line.charCodeAt(j))) j++;
      let addr = -1;
      if ((kind === 0x6c || kind === 0x73) && j > i) {
        i = j;
        if (line.charCodeAt(i) === 48 && line.charCodeAt(i + 1) === 120) {
          addr = 0;
          for (i += 2, j = i; i < n && i - j < 16; i++) {
            const c = line.charCodeAt(i) | 0x20;
            const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
            if (d < 0) break;
            addr = addr * 16 + d;
          }
          if (i === j) addr = -1;
        } else addr = digits(line, i, (e) => (i = e));
      }
      let k = i;
      while (k < n && isSpace(line.charCodeAt(k))) k++;
      const count = addr >= 0 && k > i ? digits(line, k, (e) => (k = e)) : -1;
      while (k < n && isSpace(line.charCodeAt(k))) k++;
      if (count < 0 || k !== n) return unread(st, line, no);
      st.recognised++;
      instr += count;
      if (!(addr <= MAX_ADDR)) return skip(st, "references at or above 2^53");
      st.kept++;
      r.time_ms = timeOk(file, no, ms(instr / o.instr_per_ms), "raise --instr-per-ms");
      r.addr = hex(Math.floor(addr / 4096) * 4096);
      r.rw = kind === 0x73 ? "w" : "r";
      emit(r);
    },
    end() {},
  };
}

/** LIRS page traces: one block number a line, block n as page n. */
export function lirs(o: ImportOptions, st: ImportStats, emit: Emit, file = ""): LineImporter {
  st.mapping = `lirs: pid ${o.pid}; block n = page n (addr n * 4096); time = reference / ${o.refs_per_ms} per ms`;
  const r = accessRow(o);
  let n = 0;
  return {
    line(line, no) {
      const t = line.trim();
      if (!t) return;
      st.lines++;
      if (!/^\d+$/.test(t)) return unread(st, line, no);
      st.recognised++;
      const block = Number(t);
      if (!(block * 4096 <= MAX_ADDR)) return skip(st, "blocks at or above 2^41 (addresses at or above 2^53)");
      st.kept++;
      r.time_ms = timeOk(file, no, ms(n++ / o.refs_per_ms), "raise --refs-per-ms");
      r.addr = hex(block * 4096);
      emit(r);
    },
    end() {},
  };
}

const num = (s: unknown) => Number(String(s).replace(/,/g, ""));

/**
 * A DAMON record (damo's JSON, parsed whole like a JSON trace document): each region's sampled
 * accesses spread evenly over its pages and its snapshot's time span, one snapshot at a time;
 * `pause` after each snapshot lets the caller write out. Throws DataError when the record has
 * no snapshot with a region.
 */
export async function damon(doc: unknown, o: ImportOptions, st: ImportStats, out: Emit, file: string, pause: () => Promise<void> | void): Promise<void> {
  st.mapping = `damon: pid ${o.pid}; each region's sampled accesses spread evenly over its pages and its snapshot's time span (ns to ms from the first snapshot); ${MAPPED}`;
  const emit = mappingEmit(o, st, out);
  const targets = Array.isArray(doc) ? doc : [];
  const snaps: { start: number; end: number; regions: { start: number; end: number; samples: number }[] }[] = [];
  let t0 = Infinity;
  for (const t of targets as { snapshots?: unknown[] }[])
    for (const s of (Array.isArray(t?.snapshots) ? t.snapshots : []) as Record<string, unknown>[]) {
      // time counts from the first snapshot, with regions or not
      if (s && typeof s === "object") t0 = Math.min(t0, num(s.start_time));
      if (!Array.isArray(s?.regions) || !s.regions.length) continue;
      snaps.push({
        start: num(s.start_time),
        end: num(s.end_time),
        regions: (s.regions as Record<string, unknown>[]).map((r) => ({
          start: num(r?.start),
          end: num(r?.end),
          samples: num((r?.nr_accesses as { samples?: unknown })?.samples ?? 0),
        })),
      });
    }
  if (!snaps.length) throw new DataError(file, 0, 'damon: no snapshot with a region in the record (damo\'s JSON: [{"snapshots": [{"regions": ...}]}])');
  snaps.sort((a, b) => a.start - b.start);
  const r = accessRow(o);
  for (const s of snaps) {
    st.recognised++;
    const out: { t: number; addr: number }[] = [];
    for (const reg of s.regions) {
      if (!(reg.samples > 0)) {
        skip(st, "regions without accesses");
        continue;
      }
      const first = Math.floor(reg.start / 4096);
      const pages = Math.max(1, Math.floor((reg.end - reg.start) / 4096));
      for (let k = 0; k < reg.samples; k++) {
        const page = first + Math.floor(((k + 0.5) * pages) / reg.samples);
        out.push({ t: ms((s.start - t0 + ((k + 0.5) * (s.end - s.start)) / reg.samples) / 1e6), addr: page * 4096 });
      }
    }
    out.sort((a, b) => a.t - b.t || a.addr - b.addr);
    for (const e of out) {
      if (!(e.addr <= MAX_ADDR) || !(e.t >= 0 && e.t <= MAX_TIME_MS)) {
        skip(st, "samples with a bad address or time");
        continue;
      }
      st.kept++;
      r.time_ms = e.t;
      r.addr = hex(e.addr);
      emit(r);
    }
    await pause();
  }
}

const UNIT_MS = { s: 1000, ms: 1, us: 0.001, ns: 0.000001 };
/** What to do when libCacheSim's times read in `unit` go beyond MAX_TIME_MS: a finer unit, if there is one. */
const FINER_UNIT = {
  s: "is the time column in seconds (--time-unit, s by default)? give its unit: --time-unit ms, us or ns",
  ms: "is the time column in ms? give its unit: --time-unit us or ns",
  us: "is the time column in µs? give its unit: --time-unit ns",
  ns: "the times span more than 10^15 ms even in ns",
};

/** The names a libCacheSim CSV's time column may have. */
const TIME_COLUMNS = ["time", "timestamp", "clock_time"];
/** ... and its object column: `lbn` (a logical block number) is the one of libCacheSim's own sample, data/trace.csv (`version,time,op,size,lbn`). */
const OBJECT_COLUMNS = ["obj_id", "id", "key", "object", "lbn"];

/** libCacheSim's CSV: a header naming a time and an object column; object n as page n. */
export function libcachesim(o: ImportOptions, st: ImportStats, emit: Emit, file = ""): LineImporter {
  st.mapping = `libcachesim: pid ${o.pid}; object n = page n (addr n * 4096); time in ${o.time_unit}, from the first row`;
  const r = accessRow(o);
  let header = false;
  let ti = -1;
  let oi = -1;
  let t0 = NaN;
  let last = 0;
  let headerNo = 0;
  return {
    line(line, no) {
      if (!line.trim() || line.startsWith("#")) return;
      st.lines++;
      // a field may be quoted ("42"), as the sniffer's isLibCacheSimHeader allows of the header
      const f = line.split(",").map((x) => x.trim().replace(/^"(.*)"$/, "$1"));
      if (!header) {
        const cols = f.map((x) => x.toLowerCase());
        ti = cols.findIndex((c) => TIME_COLUMNS.includes(c));
        oi = cols.findIndex((c) => OBJECT_COLUMNS.includes(c));
        if (ti < 0 || oi < 0)
          throw new DataError(file, no, `libcachesim: the header must name a time column (${TIME_COLUMNS.join(", ")}) and an object column (${OBJECT_COLUMNS.join(", ")}); got ${quoteInput(line)}`);
        header = true;
        headerNo = no;
        st.lines--; // the header is not a record
        return;
      }
      const tv = Number(f[ti]);
      const id = Number(f[oi]);
      if (f[ti] === "" || f[oi] === "" || !Number.isFinite(tv) || !Number.isSafeInteger(id) || id < 0)
        return unread(st, line, no, "rows with a bad time or object id");
      st.recognised++;
      if (id * 4096 > MAX_ADDR) return skip(st, "objects at or above 2^41 (addresses at or above 2^53)");
      if (Number.isNaN(t0)) t0 = tv;
      let t = ms((tv - t0) * UNIT_MS[o.time_unit]);
      if (t < last) {
        // kept at the time of the row before, as ftrace() keeps its events: counted, not skipped
        const c = (st.counted ??= {});
        c[CLAMPED] = (c[CLAMPED] ?? 0) + 1;
        t = last;
      }
      last = t;
      st.kept++;
      // a finer unit makes the times smaller (the advice was "raise --time-unit")
      r.time_ms = timeOk(file, no, t, FINER_UNIT[o.time_unit]);
      r.addr = hex(id * 4096);
      emit(r);
    },
    end() {
      // a header and nothing under it: not "the input is empty" (checkRecognised), which it is not
      if (header && st.lines === 0)
        throw new DataError(file, headerNo, "libcachesim: the header names the columns, but no row follows it");
    },
  };
}


/** What a record of an importer's format looks like, for the error when no line is one. */
const RECORD_SHAPE: Record<string, string> = {
  lackey: "a record is ` L ADDR,SIZE` (load), ` S ADDR,SIZE` (store), ` M ADDR,SIZE` (modify) or `I  ADDR,SIZE` (instruction fetch), ADDR in hex, as valgrind --tool=lackey --trace-mem=yes prints them",
  ucsd: "a record is `l 0xADDR N` (load) or `s 0xADDR N` (store), N the instructions since the previous reference",
  lirs: "a record is one block number a line",
  libcachesim: "a record is a row with a number in the header's time column and an object id, an integer from 0, in its object column",
  ftrace: "a record is `TASK-PID [CPU] FLAGS SECONDS.MICROS: EVENT: FIELDS` as trace_pipe prints it, `TASK-PID [CPU] SECONDS: EVENT: FIELDS` as trace-cmd report does, or perf script's `TASK PID [CPU] SECONDS: EVENT: FIELDS`, with the kmem:mm_page_* events",
  "perf-mem": "a record is a perf script sample with its data address (`TASK PID [CPU] SECONDS: PERIOD EVENT: ADDR DATA_SRC |OP …`) or a `perf mem report -D` row",
};

/**
 * After the last line: an importer that read no record of its format is a data error naming
 * the first line it could not read (or saying the input is empty).
 */
export function checkRecognised(fmt: string, st: ImportStats, file: string): void {
  if (st.recognised > 0) return;
  // (ftrace) the first line not read may be an event without its fields: named with what is wrong
  const u = st.unread?.[0];
  const first = u ? { no: u.no, text: u.text.trim(), why: u.why } : st.firstUnread ? { ...st.firstUnread, why: "" } : null;
  if (first) {
    const why = first.why || RECORD_SHAPE[fmt] || "";
    const wsim = /^time_ms\s*,/.test(first.text) ? "; it is a wsim CSV trace, which every command reads as it is" : "";
    throw new DataError(file, first.no, `${fmt}: no line of the file is a ${fmt} record; the first it could not read is ${quoteInput(first.text)}${why ? ` (${why})` : ""}${wsim}`);
  }
  throw new DataError(file, 0, `${fmt}: the input is empty (no ${fmt} record)`);
}

/** The first line of a libCacheSim CSV: a time column and an object column (what libcachesim() reads). */
export function isLibCacheSimHeader(line: string): boolean {
  const cols = line.split(",").map((c) => c.trim().replace(/^"(.*)"$/, "$1").toLowerCase());
  return cols.length > 1 && cols.some((c) => TIME_COLUMNS.includes(c)) && cols.some((c) => OBJECT_COLUMNS.includes(c));
}

/**
 * True when `re` matches the first line and more than half of `lines`: a line of another kind
 * among the records (a LIRS `*` end mark, a program's output in a lackey log) leaves the file
 * the importer's, who counts and names it, where it made the file a wsim CSV, refused with
 * `unknown column "12"`. A wsim trace's first line (a header, `{`) is no record of these.
 */
function mostly(lines: readonly string[], re: RegExp): boolean {
  if (!re.test(lines[0]!)) return false;
  let n = 0;
  for (const l of lines) if (re.test(l)) n++;
  return n * 2 > lines.length;
}

/**
 * A format from the first bytes of a file: perf-mem, ftrace, lackey, ucsd, lirs, damon, libcachesim, or null (a
 * wsim trace). Both convert (without --from) and the foreign-file hints (src/trace/sniff.ts)
 * use it, so every format a hint names is one convert imports unasked.
 */
export function sniffImport(first: Buffer): string | null {
  if (first[0] === 0x78 && [0x01, 0x5e, 0x9c, 0xda].includes(first[1]!)) return "damon";
  const text = first.toString("utf8", 0, Math.min(first.length, 8192));
  const lines = text.split("\n").filter((l) => l.trim()).slice(0, 20);
  if (!lines.length) return null;
  // perf mem samples before kernel trace text: an arm_spe `memory:` event without a period reads as a trace line too
  if (looksLikePerfSamples(text.split("\n"))) return "perf-mem";
  if (looksLikeKernelTrace(lines)) return "ftrace";
  if (lines.some((l) => VALGRIND_LINE.test(l)) || mostly(lines, /^(I | L| S| M|==\d+==)/)) return "lackey";
  if (mostly(lines, /^\s*[lsLS]\s+0x[0-9a-fA-F]+\s+\d+\s*$/)) return "ucsd";
  if (mostly(lines, /^\s*\d+\s*$/)) return "lirs";
  if (text.trimStart().startsWith("[") && text.includes("snapshots")) return "damon";
  const head = lines.find((l) => !l.startsWith("#"));
  if (head !== undefined && isLibCacheSimHeader(head.replace(/^\uFEFF/, ""))) return "libcachesim";
  return null;
}
