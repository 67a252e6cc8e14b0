/**
 * `perf mem` / `perf record -d` samples with a data address, as text (`wsim convert --from
 * perf-mem`): each sample becomes one `access` of its process at the page of its data address.
 * The result is SAMPLED, not complete: a sample stands for `period` events of its kind (loads
 * above the latency threshold, stores, ...), so counts are scaled by the period; the periods
 * are summarised in the output (ImportStats.sampled) and on standard error.
 *
 * Two layouts, written as perf prints them (Linux tools/perf, 6.1 and later; the layouts have
 * not changed in the fields read here):
 *
 *   perf script    builtin-script.c process_event(): perf_sample__fprintf_start() prints
 *                  `COMM` (%16s, may hold blanks), `PID/TID` (`%7d/%-7d`) or one of them
 *                  (`%7d`; the default is the tid), `[CPU]` (`[%03d]`), `SECS.USECS: ` (or
 *                  nanoseconds with --ns); then the period (`%10u `), the event name (`%*s: `),
 *                  and for a sample with PERF_SAMPLE_ADDR the address first
 *                  (perf_sample__fprintf_addr: `%16lx`, no 0x), then data_src__fprintf(): the
 *                  raw data_src (`%16lx`) and perf_script__meminfo_scnprintf()'s decoding
 *                  `|OP LOAD|LVL L1 hit|SNP None|TLB L1 or L2 hit|LCK No|BLK  N/A`
 *                  (util/mem-events.c perf_mem__op_scnprintf: N/A, LOAD, STORE, PFETCH, EXEC
 *                  or No), then the weight, the ip, symbol and dso. The default fields of a
 *                  raw PMU event (cpu/mem-loads,ldlat=30/P, cpu/mem-stores/P, ibs_op//, an
 *                  arm_spe memory event) include all of these; `-F` picks some, in that same
 *                  order. Read: the pid (the number before `[CPU]` and the time; `pid/tid`
 *                  gives the pid), the time, the period (the number between the time and the
 *                  event, when printed), the event name, the data address (the first field
 *                  after the event name: before the raw data_src when data_src is printed),
 *                  and the `|OP ...|` of data_src. Lines of perf's side-band records
 *                  (`PERF_RECORD_*`), callchain lines (`-g`) and tracepoint events
 *                  (`system:event`) are counted, not read.
 *   perf mem report -D   builtin-mem.c report_raw_events() / dump_raw_samples(): a header
 *                  `# PID, TID, IP, ADDR, [PHYS ADDR, ][DATA PAGE SIZE, ]LOCAL WEIGHT, DSRC,
 *                  SYMBOL` and a row a sample. Without -x the first row is padded (`%5d %5d
 *                  0x%016lx 0x016%lx %5lu 0x%06lx`: the ADDR format has a long-standing slip,
 *                  `0x016` then the address unpadded, so a leading `0x016` is dropped; %lx never
 *                  prints one otherwise) and sets the separator to " ", so every later row is
 *                  printed as with -x " " (`%d %d 0x%lx 0x%lx %lu 0x%lx`); with -x SEP, every
 *                  row is joined by SEP.
 *                  DSRC is the raw data_src: its mem_op bits (include/uapi/linux/perf_event.h:
 *                  bits 0-4, NA 0x01, LOAD 0x02, STORE 0x04, PFETCH 0x08, EXEC 0x10) give the op.
 *                  No time and no period: time = sample number / refs_per_ms.
 *
 * The mapping: write when the op is STORE, read when it is LOAD, PFETCH or EXEC; when data_src
 * says no op (N/A, No) or is not printed, write when the event name holds `store`
 * (mem-stores), read otherwise. A data address of 0 (or none printed: recorded without -d) and
 * kernel addresses (the upper half, 0x8000000000000000 and up: 0xffff800000000000 and above on
 * x86-64) are counted and skipped, and so are addresses at or above 2^53, beyond wsim's. time_ms
 * = time since the first sample, to the precision of the timestamps (µs: three decimals).
 */
import { DataError } from "../errors.js";
import type { Row } from "../generate/generators.js";
import type { Emit, ImportOptions, ImportStats, LineImporter } from "./importers.js";
import { UNREAD_NAMED } from "./ktrace.js";

/** the skip of a kmem page event (perf script's `kmem:mm_page_alloc:`) among perf mem samples */
const KMEM_IN_PERF = "kmem page events (the file is read as perf mem samples, its first kind: convert the events apart with --from ftrace)";

/** A line as perfLine() reads it. */
export type PerfLine =
  | {
      kind: "sample";
      /** the process (the tid when perf printed only that); -1 when the line has none */
      pid: number;
      /** (perf script) true when the line has one number where a `pid/tid` pair could be: a tid, or a pid */
      lone?: boolean;
      /** the timestamp as seconds and nanoseconds; secs -1 when the line has none (perf mem report -D) */
      secs: number;
      ns: number;
      /** the sample's period, -1 when not printed */
      period: number;
      /** the event name ("" in perf mem report -D) */
      event: string;
      /** the data address's hex digits (no 0x), or null when the line has none */
      addr: string | null;
      /** data_src's op (LOAD, STORE, PFETCH, EXEC, N/A, No), or null when not printed */
      op: string | null;
    }
  | { kind: "record" | "callchain" | "tracepoint" | "header" }
  | { kind: "bad"; why: string };

/** perf mem report -D's columns without -p or --data-page-size */
const REPORT_COLUMNS = ["PID", "TID", "IP", "ADDR", "LOCAL WEIGHT", "DSRC", "SYMBOL"];
const REPORT_HEADER = /^#\s*PID,\s*TID,\s*IP,\s*ADDR,/;
/** `SECS.FRAC:` preceded by a blank (or the line's start) and followed by one */
const TIME = /(?:^|\s)(\d{1,12})\.(\d{1,9}):(?=\s|$)/;
const HEX = /^(?:0x)?[0-9a-fA-F]+$/;
/** event modifiers after a colon (`mem-loads:pp`), as against a tracepoint's `system:event` */
const MODIFIERS = /^[ukhIGHpPSDWebR]*$/;
/** perf mem report -D, blank separated: PID TID 0xIP 0xADDR */
const REPORT_ROW = /^\s*\d+\s+\d+\s+0x[0-9a-fA-F]+\s+0x[0-9a-fA-F]+(\s|$)/;
/** perf mem report -D -x SEP: PID SEP TID SEP 0xIP SEP 0xADDR */
const REPORT_ROW_SEP = /^\s*\d+([^\d\s][^\d]*?)\d+\1(0x[0-9a-fA-F]+)\1(0x[0-9a-fA-F]+)(\1|$)/;

/** data_src's mem_op bits as perf_mem__op_scnprintf names them (the first that is set, in its order) */
function opOfDataSrc(hex: string): string {
  const op = parseInt(hex.slice(-2), 16) & 0x1f;
  if (op & 0x01) return "N/A";
  if (op & 0x02) return "LOAD";
  if (op & 0x04) return "STORE";
  if (op & 0x08) return "PFETCH";
  if (op & 0x10) return "EXEC";
  return "No";
}

/** A `perf script` line: a sample, a side-band record, a tracepoint, or not a perf script line (null). */
function scriptLine(line: string): PerfLine | null {
  const m = TIME.exec(line);
  if (!m) {
    // a callchain line (-g): `\t    7f0a12345678 func+0x12 (/lib/libc.so.6)`
    return /^\s+[0-9a-f]+\s+\S/.test(line) && /\(.*\)\s*$/.test(line) ? { kind: "callchain" } : null;
  }
  const prefix = line.slice(0, m.index).trim().split(/\s+/).filter(Boolean);
  let rest = line.slice(m.index + m[0].length);
  if (/^\s*PERF_RECORD_/.test(rest)) return { kind: "record" };
  let period = -1;
  const pm = /^\s*(\d+)\s+/.exec(rest);
  if (pm) {
    period = Number(pm[1]);
    rest = rest.slice(pm[0].length);
  }
  const em = /^\s*(\S+):(?=\s|$)/.exec(rest);
  if (!em) return { kind: "bad", why: "a line with a time but no event name (perf script -F must include event)" };
  const event = em[1]!;
  const colon = event.lastIndexOf(":");
  if (colon >= 0 && !MODIFIERS.test(event.slice(colon + 1))) return { kind: "tracepoint" };
  // the process: the number before [CPU] (pid/tid: the pid)
  if (prefix.length && /^\[\d+\]$/.test(prefix[prefix.length - 1]!)) prefix.pop();
  const pidm = /^(\d+)(\/\d+)?$/.exec(prefix[prefix.length - 1] ?? "");
  const pid = pidm ? Number(pidm[1]) : -1;
  rest = rest.slice(em.index + em[0].length);
  let addr: string | null = null;
  let op: string | null = null;
  const opAt = rest.indexOf("|OP ");
  if (opAt >= 0) {
    // [ADDR] DATA_SRC |OP ...: the address is there when two fields come before the decoding;
    // one field is data_src when its mem_op bits decode to the |OP shown, else it is the
    // address with the raw data_src left out (an 8-byte-aligned address decodes to No, PFETCH
    // or EXEC, never to LOAD or STORE)
    const before = rest.slice(0, opAt).trim().split(/\s+/).filter(Boolean);
    op = /^\|OP ([^|\s]+)/.exec(rest.slice(opAt))?.[1] ?? "No";
    if (before.length >= 2) addr = before[0]!;
    else if (before.length === 1 && HEX.test(before[0]!) && opOfDataSrc(before[0]!.replace(/^0x/, "")) !== op) addr = before[0]!;
  } else {
    // no data_src: the first field is the address unless it is an ip followed by its symbol
    // (`IP SYM+OFF (DSO)`: the sample has no address, recorded without -d)
    const t = rest.trim().split(/\s+/, 3).filter(Boolean);
    if (t.length && HEX.test(t[0]!) && !(t.length >= 2 && (!HEX.test(t[1]!) || t[2]?.startsWith("(")))) addr = t[0]!;
  }
  if (addr !== null && !HEX.test(addr)) return { kind: "bad", why: `the field after the event name is not a hex data address (perf script -F must include addr)` };
  return { kind: "sample", pid, lone: pidm !== null && pidm[2] === undefined, secs: Number(m[1]), ns: Number(m[2]!.padEnd(9, "0")), period, event, addr: addr?.replace(/^0x/, "") ?? null, op };
}

/** A `perf mem report -D` row with the columns `cols`, or null when the line is not one. */
function reportLine(line: string, cols: readonly string[]): PerfLine | null {
  let f: string[];
  let blanks = false;
  if (REPORT_ROW.test(line)) {
    f = line.trim().split(/\s+/);
    blanks = true;
  } else {
    const m = REPORT_ROW_SEP.exec(line);
    if (!m) return null;
    f = line.trim().split(m[1]!);
  }
  const pid = Number(f[cols.indexOf("PID")]);
  let a = f[cols.indexOf("ADDR")] ?? "";
  const dsrc = f[cols.indexOf("DSRC")] ?? "";
  if (!/^0x[0-9a-fA-F]+$/.test(a)) return { kind: "bad", why: "perf mem report -D row without a 0x… ADDR" };
  // dump_raw_samples() prints the address as "0x016%lx" without -x: 0x016 and the address
  if (blanks && a.startsWith("0x016") && a.length > 5) a = "0x" + a.slice(5);
  const op = /^0x[0-9a-fA-F]+$/.test(dsrc) ? opOfDataSrc(dsrc) : null;
  return { kind: "sample", pid, secs: -1, ns: 0, period: -1, event: "", addr: a.slice(2), op };
}

/** A line of perf script or perf mem report -D text (`cols`: the -D header's columns), or null when it is neither. */
export function perfLine(line: string, cols: readonly string[] = REPORT_COLUMNS): PerfLine | null {
  if (REPORT_HEADER.test(line)) return { kind: "header" };
  return reportLine(line, cols) ?? scriptLine(line);
}

/**
 * True when the lines (a file's first, comments included) hold a perf mem report -D header, or
 * when one of the first 20 that are not blank or comments is a blank-separated -D row or a perf script sample
 * with a data address that is a memory sample: data_src's `|OP ...|`, or an event named like
 * one (mem-loads, mem-stores, ibs_op, arm_spe). A kmem tracepoint's perf script is not one.
 */
export function looksLikePerfSamples(lines: readonly string[]): boolean {
  if (lines.some((l) => REPORT_HEADER.test(l))) return true;
  return lines
    .filter((l) => l.trim() && !l.trimStart().startsWith("#"))
    .slice(0, 20)
    .some((l) => {
      // a -x row (`4242,4242,0x401136,0x7ffd...`) only under its header: a CSV could read as one
      if (!REPORT_ROW.test(l) && REPORT_ROW_SEP.test(l)) return false;
      const p = perfLine(l);
      return p?.kind === "sample" && p.addr !== null && (p.op !== null || p.event === "" || /mem|load|store|ibs_op|spe/i.test(p.event));
    });
}

/** The skip reasons of this importer, with their singular (for describeSkipped). */
export const PERF_SKIP_ONE: Record<string, string> = {
  "samples without a data address (addr 0, or none: record with -d)": "sample without a data address (addr 0, or none: record with -d)",
  "samples at kernel addresses": "sample at a kernel address",
  "samples at or above 2^53 (beyond wsim's addresses)": "sample at or above 2^53 (beyond wsim's addresses)",
  "malformed perf samples": "malformed perf sample",
  "perf side-band records (PERF_RECORD_*)": "perf side-band record (PERF_RECORD_*)",
  "callchain lines": "callchain line",
  "tracepoint events (not memory samples)": "tracepoint event (not a memory sample)",
  "kmem page events (the file is read as perf mem samples, its first kind: convert the events apart with --from ftrace)": "kmem page event (the file is read as perf mem samples, its first kind: convert the events apart with --from ftrace)",
};

/** What the importer counts beside what it skips, with their singular. */
export const PERF_COUNTED_ONE: Record<string, string> = {
  "samples whose data_src has no op (load or store told by the event name)": "sample whose data_src has no op (load or store told by the event name)",
  "prefetch and exec samples (written as reads)": "prefetch or exec sample (written as a read)",
  "samples going back in time (written at the time of the sample before: time_ms never decreases)": "sample going back in time (written at the time of the sample before: time_ms never decreases)",
};

const MAX_ADDR = Number.MAX_SAFE_INTEGER;
const MAX_TIME_MS = 1e15;

/**
 * The samples of a perf script or perf mem report -D text as `access` rows (see the file's
 * comment). Sets `st.header` (what the rows are, for the top of a CSV) and, after the last
 * line, `st.sampled` (the periods: what each row stands for); names the first UNREAD_NAMED
 * lines it could not read in `st.unread`. Memory: constant, whatever the input's length.
 */
export function perfMem(o: ImportOptions, st: ImportStats, emit: Emit, file = ""): LineImporter {
  st.mapping =
    "perf-mem: perf samples with a data address (perf script, perf mem report -D); a sample = an access of its pid at the page of its data address (addr >> 12); " +
    `write when data_src's op is STORE (or, without one, the event is a store), read otherwise; time from the first sample (perf mem report -D has none: sample / ${o.refs_per_ms} per ms)`;
  st.header = "sampled: a row a perf sample, not every access: each stands for about its sample's period of accesses (the periods are summarised at the end; scale counts by them)";
  const counted: Record<string, number> = (st.counted = {});
  const unreadList: { no: number; text: string; why: string }[] = (st.unread = []);
  const r: Row = { time_ms: 0, op: "access", pid: 0, addr: "", rw: "r" };
  let cols: readonly string[] = REPORT_COLUMNS;
  let secs0 = -1;
  let ns0 = 0;
  let last = 0;
  let dumped = 0;
  /** perf script samples with one number, not a pid/tid pair */
  let lone = 0;
  const per = { rows: 0, loads: 0, stores: 0, withPeriod: 0, min: Infinity, max: 0, sum: 0 };
  const skip = (why: string) => (st.skipped[why] = (st.skipped[why] ?? 0) + 1);
  const count = (why: string) => (counted[why] = (counted[why] ?? 0) + 1);
  const unread = (text: string, no: number, why: string) => {
    skip(why === "" ? "unrecognised lines" : "malformed perf samples");
    if (why !== "") st.recognised--; // a sample, but not one it can read: a file of only these is no trace (checkRecognised)
    if (!st.firstUnread && why === "") st.firstUnread = { no, text };
    if (unreadList.length < UNREAD_NAMED) unreadList.push({ no, text, why });
  };
  return {
    line(line, no) {
      const t = line.trim();
      if (!t) return;
      if (REPORT_HEADER.test(t)) {
        // perf mem report -D's header names its columns (-p and --data-page-size add some)
        cols = t.replace(/^#\s*/, "").split(",").map((c) => c.trim()).filter(Boolean);
        st.recognised++;
        return;
      }
      if (t.startsWith("#")) return; // perf script --header, comments
      st.lines++;
      const p = perfLine(line, cols);
      if (p === null) return unread(line, no, "");
      st.recognised++;
      if (p.kind === "bad") return unread(line, no, p.why);
      if (p.kind === "record") return void skip("perf side-band records (PERF_RECORD_*)");
      if (p.kind === "callchain") return void skip("callchain lines");
      if (p.kind === "tracepoint") return void skip(/\skmem:mm_page_/.test(line) ? KMEM_IN_PERF : "tracepoint events (not memory samples)");
      if (p.kind !== "sample") return; // a -D header given a cols argument: read above
      if (p.pid < 0) return unread(line, no, "a sample without a pid or tid before the time (perf script -F must include pid or tid)");
      if (p.lone) lone++;
      // time: ns since the first sample (exact below 2^53 ns), to ms; -D rows have none
      let tm: number;
      if (p.secs < 0) tm = Math.round((dumped++ / o.refs_per_ms) * 1000) / 1000;
      else {
        if (secs0 < 0) {
          secs0 = p.secs;
          ns0 = p.ns;
        }
        tm = ((p.secs - secs0) * 1e9 + (p.ns - ns0)) / 1e6;
      }
      if (tm < last) {
        // written at the time of the sample before: counted, not skipped
        count("samples going back in time (written at the time of the sample before: time_ms never decreases)");
        tm = last;
      }
      if (!(tm <= MAX_TIME_MS)) throw new DataError(file, no, `time_ms would be ${tm}, beyond ${MAX_TIME_MS}${p.secs < 0 ? ": raise --refs-per-ms" : ""}`);
      last = tm;
      const hex = p.addr === null ? "" : p.addr.replace(/^0+/, "");
      if (hex === "") return void skip("samples without a data address (addr 0, or none: record with -d)");
      if (hex.length > 16) return unread(line, no, "a data address wider than 64 bits");
      if (hex.length === 16 && parseInt(hex[0]!, 16) >= 8) return void skip("samples at kernel addresses");
      const addr = parseInt(hex, 16);
      if (!(addr <= MAX_ADDR)) return void skip("samples at or above 2^53 (beyond wsim's addresses)");
      let write: boolean;
      if (p.op === "STORE") write = true;
      else if (p.op === "LOAD") write = false;
      else if (p.op === "PFETCH" || p.op === "EXEC") {
        count("prefetch and exec samples (written as reads)");
        write = false;
      } else {
        if (p.op !== null) count("samples whose data_src has no op (load or store told by the event name)");
        write = /store/i.test(p.event);
      }
      per.rows++;
      if (write) per.stores++;
      else per.loads++;
      if (p.period >= 0) {
        per.withPeriod++;
        per.sum += p.period;
        per.min = Math.min(per.min, p.period);
        per.max = Math.max(per.max, p.period);
      }
      st.kept++;
      r.time_ms = tm;
      r.pid = p.pid;
      r.addr = "0x" + (Math.floor(addr / 4096) * 4096).toString(16);
      r.rw = write ? "w" : "r";
      emit(r);
    },
    end() {
      st.sampled = sampledNote(per);
      // --refs-per-ms times perf mem report -D's rows only (1000: DEFAULT_IMPORT's, not given or given as the default)
      if (dumped === 0 && o.refs_per_ms !== 1000 && per.rows > 0)
        (st.notes ??= []).push(`--refs-per-ms ${o.refs_per_ms} changed nothing: perf script samples carry their own times (it times perf mem report -D rows, which have none)`);
      if (lone) (st.notes ??= []).push(`${lone} ${lone === 1 ? "sample has" : "samples have"} one number where perf script prints pid/tid, read as the pid: plain perf script prints the tid there, making each thread a process of its own (perf script -F +pid keeps a process's threads together)`);
    },
  };
}

/** What the rows stand for, from the periods of the samples written. */
function sampledNote(p: { rows: number; loads: number; stores: number; withPeriod: number; min: number; max: number; sum: number }): string {
  const rows = `${p.rows} ${p.rows === 1 ? "row" : "rows"} (${p.loads} ${p.loads === 1 ? "load" : "loads"}, ${p.stores} ${p.stores === 1 ? "store" : "stores"})`;
  const none = "the recording's period stands for each (perf report --header-only or perf evlist -v: sample_period, or sample_freq)";
  if (p.rows === 0) return "sampled, not complete: no sample written";
  if (p.withPeriod === 0) return `sampled, not complete: ${rows} from perf samples without a period (perf mem report -D prints none, nor perf script without the period field): ${none}`;
  const without = p.withPeriod < p.rows ? `; ${p.rows - p.withPeriod} without a period` : "";
  if (p.min === p.max)
    return `sampled, not complete: ${rows} from perf samples of period ${p.min}: each row stands for ~${p.min} accesses (scale counts by ${p.min}; the periods sum to ${p.sum})${without}`;
  const mean = Math.round((p.sum / p.withPeriod) * 10) / 10;
  return `sampled, not complete: ${rows} from perf samples of periods ${p.min} to ${p.max} (mean ${mean}): each row stands for its sample's period, ~${mean} accesses on average (the periods sum to ${p.sum}, the accesses the rows stand for)${without}`;
}
