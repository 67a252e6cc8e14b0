/**
 * The kernel's kmem page events as text (`wsim convert --from ftrace`): ftrace's `trace` and
 * `trace_pipe` (with or without the irq-info latency column `d..1.`, with or without
 * record-tgid), `trace-cmd report` and `perf script`, one line at a time, whatever layout each
 * line has (KERNEL-REFERENCE-2 §12.2). A line is `PREFIX SECS.FRAC: [SYSTEM:]EVENT: FIELDS`;
 * only the fields after the event name matter, and of those `pfn=`, `order=`, `migratetype=`
 * and `gfp_flags=` (`page=` is a hashed or raw pointer, or whatever libtraceevent makes of
 * `pfn_to_page()`: ignored).
 *
 * The mapping (include/trace/events/kmem.h and its call sites in mm/page_alloc.c, 6.1):
 *   mm_page_alloc          (end of __alloc_pages) an `alloc` of handle `p0x<pfn>`, its order
 *                          and migratetype (0 unmovable, 1 movable, 2 reclaimable: ac.migratetype,
 *                          which gfp_migratetype() derived from the GFP flags). A failure
 *                          (`page=0000000000000000 pfn=0x0`) is counted, not written.
 *   mm_page_free           (free_pages_prepare: every freed page or block) a `free` of the
 *                          handle of its pfn; a pfn no mm_page_alloc of the trace allocated was
 *                          allocated before the trace began: counted and skipped. Pages inside
 *                          a block of the trace (split_page() then page by page: the block's
 *                          first pages of a lower order, or pages after its first) are counted
 *                          and the block's `free` written with its last page (the replay holds
 *                          the whole block until then: wsim frees a block whole).
 *   mm_page_free_batched   (free_unref_page_list's commit pass) emitted *in addition to*
 *                          mm_page_free for the same page, after it: counted as a duplicate when
 *                          mm_page_free freed that pfn already; an order-0 free when the page is
 *                          still allocated (mm_page_free was not recorded).
 *   everything else        mm_page_alloc_zone_locked, mm_page_pcpu_drain,
 *                          mm_page_alloc_extfrag (fallbacks), compaction, vmscan, ...: counted
 *                          per event name (ImportStats.events), not replayed.
 * An mm_page_alloc of a pfn still allocated (its free was lost, or not recorded) writes a
 * `free` of the old handle first, and is counted. A free skipped as of a page from before the trace
 * whose pfn is then allocated by an event stamped earlier (CPUs out of order in the file) is
 * paired: its `free` written right after that alloc, counted. `CPU:N [LOST K EVENTS]` marks
 * (and trace-cmd's `[K EVENTS DROPPED]`) are summed in `st.lost`; a trace with allocations and
 * no free gets a note; the latency-format layout is a DataError at its first line. time_ms = time since the first event, to the
 * precision of the timestamps (µs: three decimals; ns with `trace-cmd report -t`: six).
 */
import { DataError, quoteInput } from "../errors.js";
import { plural } from "../report/words.js";
import type { Row } from "../generate/generators.js";
import { MAX_ORDER } from "../mm/constants.js";
import { MT_NAMES } from "../trace/types.js";
import { perfLine } from "./perf-samples.js";
import type { Emit, ImportOptions, ImportStats, LineImporter } from "./importers.js";

/** the highest order a 6.1 allocation has (MAX_ORDER is exclusive) */
const TOP_ORDER = MAX_ORDER - 1;
/** the handles ftrace() keeps made (a power of two) */
const ID_CACHE = 1 << 12;
/** how many lines the importer could not read are kept to be named */
export const UNREAD_NAMED = 3;

/**
 * What `wsim stat` tells of a kernel trace beside ImportStats (perf kmem stat --page's
 * summary): counted when ftrace() is given `detail`.
 */
export interface KmemStat {
  /** allocations served, per order (0..10) and migratetype (unmovable, movable, reclaimable) */
  blocks: number[][];
  /** pages of the allocations served */
  allocPages: number;
  /** pages freed by the frees written (implicit ones included): the replay's pgfree (a split block's when its free is written) */
  freePages: number;
  /** pages of split blocks the kernel freed that the replay still holds at the end (their blocks' last pages were not freed) */
  splitHeld: number;
  /** allocation requests (failures included) per gfp_flags= text */
  gfp: Record<string, number>;
  /** blocks and pages still allocated after the last line, as the replay holds them (a split block whole until its free is written) */
  liveBlocks: number;
  livePages: number;
  /** the input's name, for FILE:LINE */
  file: string;
  /** time_ms of the last event (of any name) stamped latest: from the first alloc or free */
  lastMs: number;
}

/** What head() found on a line: where the event name and the fields are, and the time. */
interface Head {
  /** seconds and nanoseconds of the timestamp */
  secs: number;
  ns: number;
  /** the event without its system (`mm_page_alloc` of `kmem:mm_page_alloc`) */
  event: string;
  /** where the fields start */
  fields: number;
  /** (scanHead) where the event name starts */
  eventAt?: number;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isWord = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === 95;
const isBlank = (c: number) => c === 32 || c === 9 || c === 13;

/**
 * The timestamp and event of a kernel trace line (`… 1523.123456: mm_page_alloc: …`, `…
 * 1523.123456: kmem:mm_page_alloc: …`), or null when the line is not one: the first `: ` that
 * follows `DIGITS.DIGITS` (1 to 9 fractional digits) preceded by a blank and some prefix (the
 * task and pid, the CPU, the latency flags), then a word (`system:` allowed) ending in `:`.
 * `fields` is where the fields start, in UTF-8 bytes (the line's characters for ASCII).
 */
export function head(line: string): Head | null {
  const buf = Buffer.from(line, "utf8");
  const h: Head = { secs: 0, ns: 0, event: "", fields: 0 };
  if (!scanHead(buf, 0, buf.length, h)) return null;
  h.event = buf.toString("latin1", h.eventAt, h.fields - 1);
  delete (h as Partial<Head>).eventAt;
  return h;
}

/**
 * head() on the bytes [start, end) of `b`, into `h` (reused: no object a line), the event's
 * place in `h.eventAt` and not decoded; false when it is not a trace line. Bytes, not a
 * string: a kernel trace is ASCII but for task names, and decoding each line cost more than
 * reading it.
 */
function scanHead(b: Buffer, start: number, end: number, h: Head): boolean {
  for (let p = colonSpace(b, start, end); p > start; p = colonSpace(b, p + 1, end)) {
    let i = p - 1;
    let ns = 0;
    let scale = 1;
    while (i >= start && isDigit(b[i]!)) {
      ns += (b[i]! - 48) * scale;
      scale *= 10;
      i--;
    }
    const fracDigits = p - 1 - i;
    if (fracDigits < 1 || fracDigits > 9 || i < start || b[i] !== 46) continue;
    const dot = i--;
    while (i >= start && isDigit(b[i]!)) i--;
    if (dot - i - 1 < 1 || dot - i - 1 > 12 || i < start + 1 || !isBlank(b[i]!)) continue;
    let task = start;
    while (task < i && isBlank(b[task]!)) task++;
    if (task === i) return false; // no task before the time
    let secs = 0;
    for (let k = i + 1; k < dot; k++) secs = secs * 10 + b[k]! - 48;
    for (let k = fracDigits; k < 9; k++) ns *= 10;
    // the event: word[:word]:
    let e = p + 2;
    while (e < end && isBlank(b[e]!)) e++;
    const s = e;
    let sys = -1;
    for (;;) {
      while (e < end && isWord(b[e]!)) e++;
      if (e === s || e >= end || b[e] !== 58) return false;
      if (e + 1 < end && isWord(b[e + 1]!) && sys < 0) {
        sys = e++;
        continue;
      }
      break;
    }
    if (e + 1 < end && !isBlank(b[e + 1]!)) return false;
    h.secs = secs;
    h.ns = ns;
    h.eventAt = sys < 0 ? s : sys + 1;
    h.fields = e + 1;
    return true;
  }
  return false;
}

/** where `: ` is in [from, end), or -1 */
function colonSpace(b: Buffer, from: number, end: number): number {
  for (let i = from; i < end - 1; i++) if (b[i] === 58 && b[i + 1] === 32) return i;
  return -1;
}

/** `name=` (as bytes) in [from, end), at `from` or after a blank or a comma: where its value starts, or -1 */
function field(b: Buffer, name: Buffer, from: number, end: number): number {
  const n0 = name[0]!;
  const len = name.length;
  outer: for (let k = from; k <= end - len; k++) {
    if (b[k] !== n0) continue;
    if (k !== from && !isBlank(b[k - 1]!) && b[k - 1] !== 44) continue;
    for (let j = 1; j < len; j++) if (b[k + j] !== name[j]) continue outer;
    return k + len;
  }
  return -1;
}

/** the decimal integer at `i` (up to a blank or `end`), or -1 */
function decAt(b: Buffer, i: number, end: number): number {
  if (i < 0) return -1;
  let v = 0;
  const s = i;
  for (; i < end && isDigit(b[i]!); i++) v = v * 10 + b[i]! - 48;
  return i === s || i - s > 9 || (i < end && !isBlank(b[i]!)) ? -1 : v;
}

/** the `0x` hex integer at `i` (up to a blank or `end`): its value, -2 for all ones (-1UL), or -1 */
function hexAt(b: Buffer, i: number, end: number): number {
  if (i < 0 || i + 2 > end || b[i] !== 48 || (b[i + 1]! | 0x20) !== 120) return -1;
  i += 2;
  const s = i;
  let v = 0;
  let ones = true;
  for (; i < end; i++) {
    const c = b[i]! | 0x20;
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) break;
    if (d !== 15) ones = false;
    v = v * 16 + d;
  }
  if (i === s || (i < end && !isBlank(b[i]!))) return -1;
  if (i - s === 16 && ones) return -2;
  return i - s > 13 ? -1 : v;
}

const PFN = Buffer.from("pfn=");
const ORDER = Buffer.from("order=");
const MIGRATETYPE = Buffer.from("migratetype=");
const GFP = Buffer.from("gfp_flags=");
const EV_ALLOC = Buffer.from("mm_page_alloc");
const EV_FREE = Buffer.from("mm_page_free");
const EV_BATCHED = Buffer.from("mm_page_free_batched");

/** true when b[at, at + name.length) is `name` */
function bytesAt(b: Buffer, at: number, name: Buffer): boolean {
  for (let j = 0; j < name.length; j++) if (b[at + j] !== name[j]) return false;
  return true;
}

/** The skip reasons of this importer, with their singular (for describeSkipped). */
export const FTRACE_SKIP_ONE: Record<string, string> = {
  "frees of pages allocated before the trace began": "free of a page allocated before the trace began",
  "mm_page_free_batched of pages mm_page_free freed (not counted twice)": "mm_page_free_batched of a page mm_page_free freed (not counted twice)",
  "failed allocations (page=0 pfn=0x0)": "failed allocation (page=0 pfn=0x0)",
  "malformed kmem events": "malformed kmem event",
  "events stamped by a clock that does not count time (no fraction)": "event stamped by a clock that does not count time (no fraction)",
  "trace-cmd header lines": "trace-cmd header line",
  "perf mem samples (the file is read as kernel trace text, its first kind: convert the samples apart with --from perf-mem)": "perf mem sample (the file is read as kernel trace text, its first kind: convert the samples apart with --from perf-mem)",
};

/** the skip of a perf mem sample in kernel trace text */
const PERF_IN_KTRACE = "perf mem samples (the file is read as kernel trace text, its first kind: convert the samples apart with --from perf-mem)";

/** What the importer counts beside what it skips, with their singular. */
export const FTRACE_COUNTED_ONE: Record<string, string> = {
  "allocations of a pfn still allocated (a free written first)": "allocation of a pfn still allocated (a free written first)",
  "frees of another order than their allocation (the whole block freed)": "free of another order than its allocation (the whole block freed)",
  "order-0 frees from mm_page_free_batched alone": "order-0 free from mm_page_free_batched alone",
  "events stamped earlier than the event before (written at the time of the event before: time_ms never decreases)": "event stamped earlier than the event before (written at the time of the event before: time_ms never decreases)",
  "frees of pages of a split block (the block freed with its last page)": "free of pages of a split block (the block freed with its last page)",
  "allocations of the first page of a split block still held (the block's free written first)": "allocation of the first page of a split block still held (the block's free written first)",
  "pages of a split block freed early because its first pfn was allocated again (the kernel still held them)": "page of a split block freed early because its first pfn was allocated again (the kernel still held it)",
  "frees before their alloc in the file but after it in time (events out of order across CPUs: written after the alloc)": "free before its alloc in the file but after it in time (events out of order across CPUs: written after the alloc)",
};

const BEFORE = "frees of pages allocated before the trace began";
/** the count of the frees paired with an alloc that follows them in the file */
const OUT_OF_ORDER =
  "frees before their alloc in the file but after it in time (events out of order across CPUs: written after the alloc)";

/** the count of the pages a split block's early free takes from the kernel's hold */
const EARLY = "pages of a split block freed early because its first pfn was allocated again (the kernel still held them)";

/**
 * The kmem page events of an ftrace / trace-cmd / perf script text as `alloc` and `free` rows
 * (see the file's comment for the mapping). Counts each event name in `st.events`, the rows
 * in `st.rows`, and names the first UNREAD_NAMED lines it could not read in `st.unread`.
 * Memory: one entry per page allocated and not yet freed, and per page freed and not yet
 * reallocated, at most the pages of the machine traced; never the input's length.
 */
export function ftrace(_o: ImportOptions, st: ImportStats, emit: Emit, _file = "", detail = false): LineImporter {
  st.mapping = "ftrace: kmem page events; mm_page_alloc = alloc of handle p0x<pfn> (order and migratetype from the event), mm_page_free = free of that handle; time from the first event";
  // the replayed events first, in this order; the others as they come (0 ones dropped at the end)
  const events: Record<string, number> = (st.events = { mm_page_alloc: 0, mm_page_free: 0, mm_page_free_batched: 0 });
  const h: Head = { secs: 0, ns: 0, event: "", fields: 0, eventAt: 0 };
  const k: KmemStat | null = detail ? (st.kmem = { blocks: Array.from({ length: MAX_ORDER }, () => [0, 0, 0]), allocPages: 0, freePages: 0, splitHeld: 0, gfp: {}, liveBlocks: 0, livePages: 0, file: _file, lastMs: 0 }) : null;
  let gfpName = "";
  let gfpBytes = Buffer.alloc(0);
  const rows = (st.rows = { alloc: 0, free: 0 });
  const counted: Record<string, number> = (st.counted = {});
  const unreadList: { no: number; text: string; why: string }[] = (st.unread = []);
  /** pfn -> order of the pages allocated and not freed */
  const live = new Map<number, number>();
  /**
   * first pfn -> the blocks of the trace some of whose pages were freed on their own (6.1's
   * split_page(): alloc_pages_exact, vmalloc, __free_pages of a shared non-compound page): the
   * pages not freed yet, and whether the block's free was written already (its first page was
   * allocated again). The replay holds the whole block until its last page is freed.
   */
  const split = new Map<number, { order: number; left: number; written: boolean }>();
  /**
   * pfn -> time (ms, as stamped) of the frees skipped as of pages allocated before the trace:
   * an alloc of that pfn stamped earlier comes later in the file only because the events are
   * out of order across CPUs (it is paired then: its free written right after it)
   */
  const early = new Map<number, number>();
  /** pfns mm_page_free freed whose mm_page_free_batched may follow */
  const freed = new Set<number>();
  const alloc: Row = { time_ms: 0, op: "alloc", id: "", order: 0, mt: "unmovable" };
  const free: Row = { time_ms: 0, op: "free", id: "" };
  let secs0 = -1;
  let ns0 = 0;
  /** the last event not replayed, as a name and as bytes */
  let otherName = "";
  let otherBytes = Buffer.alloc(0);
  let last = 0;
  /** (detail) the latest stamp of any event */
  let lastS = -1;
  let lastN = 0;
  /** the replayed events counted (into `events` at the end: a keyed count a line was a lookup) */
  let nAlloc = 0;
  let nFree = 0;
  let nBatched = 0;

  const skip = (why: string) => (st.skipped[why] = (st.skipped[why] ?? 0) + 1);
  const count = (why: string) => (counted[why] = (counted[why] ?? 0) + 1);
  const unread = (text: string, no: number, why: string, kind = why === "" ? "unrecognised lines" : "malformed kmem events") => {
    skip(kind);
    if (kind === "malformed kmem events") st.recognised--; // an event, but not one it can read: a file of only these is no trace (checkRecognised)
    if (!st.firstUnread && why === "") st.firstUnread = { no, text };
    if (unreadList.length < UNREAD_NAMED) unreadList.push({ no, text, why });
  };
  /**
   * `p0x<pfn>`, from a small direct-mapped cache of the last ones made: a free names the handle
   * its alloc made, and the kernel hands freed pages out again soon (per-CPU lists), so most
   * rows find theirs and no string is made (toString(16) a row was a tenth of the import)
   */
  const idPfn = new Float64Array(ID_CACHE).fill(-1);
  const idStr: string[] = new Array<string>(ID_CACHE).fill("");
  const handle = (pfn: number): string => {
    const slot = (pfn ^ (pfn >>> 12)) & (ID_CACHE - 1);
    if (idPfn[slot] === pfn) return idStr[slot]!;
    const id = "p0x" + pfn.toString(16);
    idPfn[slot] = pfn;
    idStr[slot] = id;
    return id;
  };
  const writeFree = (t: number, pfn: number) => {
    free.time_ms = t;
    free.id = handle(pfn);
    rows.free++;
    st.kept++;
    emit(free);
  };

  /** (detail) the event read stamped latest (not a malformed one: a line not read) */
  const stampLast = () => {
    if (h.secs > lastS || (h.secs === lastS && h.ns > lastN)) {
      lastS = h.secs;
      lastN = h.ns;
    }
  };

  /** one line: the bytes [start, end) of `buf`, numbered `no` */
  const bytes = (buf: Buffer, start: number, end: number, no: number): void => {
    let i = start;
    while (i < end && (isBlank(buf[i]!) || buf[i] === 11 || buf[i] === 12)) i++;
    if (i === end || buf[start] === 35) return; // blank lines, # comments (ftrace's header)
    st.lines++;
    if (!scanHead(buf, start, end, h)) {
      const line = buf.toString("utf8", start, end);
      // the ring buffer lost events there: counted (the pairing after it is incomplete)
      const lost = LOST.exec(line);
      if (lost) {
        const n = lost[1] ?? lost[2];
        const l = (st.lost ??= { events: 0, markers: 0, uncounted: 0, first: { file: _file, no, text: line.trim() } });
        l.markers++;
        if (n === undefined) l.uncounted++;
        else l.events += Number(n);
        return;
      }
      // trace-cmd report's header: `cpus=4`, `version = 6`, `CPU 3 is empty`
      if (/^(cpus=\d+|version = \d+|CPU \d+ is empty)\s*$/.test(line)) return void skip("trace-cmd header lines");
      if (LATENCY_FORMAT.test(line)) throw new DataError(_file, no, LATENCY_FORMAT_WHY);
      // a perf mem sample in a file read as kernel trace text (its first kind): named as what it is
      if (perfLine(line)?.kind === "sample") return unread(line, no, "", PERF_IN_KTRACE);
      if (COUNTER_CLOCK.test(line)) return unread(line, no, COUNTER_WHY, "events stamped by a clock that does not count time (no fraction)");
      return unread(line, no, "");
    }
    st.recognised++;
    // the replayed events are told by their length and bytes: no string a line for them
    const at = h.eventAt!;
    const len = h.fields - 1 - at;
    let ev: string;
    if (len === 13 && bytesAt(buf, at, EV_ALLOC)) ev = "mm_page_alloc";
    else if (len === 12 && bytesAt(buf, at, EV_FREE)) ev = "mm_page_free";
    else if (len === 20 && bytesAt(buf, at, EV_BATCHED)) ev = "mm_page_free_batched";
    else {
      // another event: named once per run of the same event (a run of mm_page_pcpu_drain, say)
      if (!(otherName.length === len && bytesAt(buf, at, otherBytes))) {
        otherName = buf.toString("latin1", at, at + len);
        otherBytes = Buffer.from(otherName, "latin1");
      }
      events[otherName] = (events[otherName] ?? 0) + 1;
      if (k !== null) stampLast();
      return;
    }
    const isAlloc = ev === "mm_page_alloc";
    if (isAlloc) nAlloc++;
    else if (ev === "mm_page_free") nFree++;
    else nBatched++;
    // time: ns since the first event (exact below 2^53 ns, 104 days), to ms
    if (secs0 < 0) {
      secs0 = h.secs;
      ns0 = h.ns;
    }
    let t = ((h.secs - secs0) * 1e9 + (h.ns - ns0)) / 1e6;
    const stamped = t;
    if (t < last) {
      // kept, not skipped: per-CPU clocks a little apart, or perf script's order
      count("events stamped earlier than the event before (written at the time of the event before: time_ms never decreases)");
      t = last;
    }
    last = t;
    const pfn = hexAt(buf, field(buf, PFN, h.fields, end), end);
    const order = decAt(buf, field(buf, ORDER, h.fields, end), end);
    if (pfn === -1) return unread(buf.toString("utf8", start, end), no, `${ev} without a pfn=0x… field`);
    if (order < 0 || order > TOP_ORDER) return unread(buf.toString("utf8", start, end), no, `${ev} without an order=0..${TOP_ORDER} field`);
    if (isAlloc) {
      const mt = decAt(buf, field(buf, MIGRATETYPE, h.fields, end), end);
      if (mt < 0 || mt > 2) return unread(buf.toString("utf8", start, end), no, `${ev} without a migratetype=0..2 field (unmovable, movable, reclaimable)`);
      if (k) {
        stampLast();
        // gfp_flags= up to a blank: named once per run of the same flags
        const g = field(buf, GFP, h.fields, end);
        let e = g;
        while (g >= 0 && e < end && !isBlank(buf[e]!)) e++;
        if (g < 0) gfpName = "(no gfp_flags)";
        else if (!(gfpBytes.length === e - g && bytesAt(buf, g, gfpBytes))) {
          gfpName = buf.toString("latin1", g, e);
          gfpBytes = Buffer.from(gfpName, "latin1");
        }
        k.gfp[gfpName] = (k.gfp[gfpName] ?? 0) + 1;
        k.lastMs = t;
        if (pfn > 0) {
          k.blocks[order]![mt]!++;
          k.allocPages += 1 << order;
        }
      }
      if (pfn <= 0) return void skip("failed allocations (page=0 pfn=0x0)");
      freed.delete(pfn);
      const still = live.get(pfn); // one lookup an alloc, not has() then get()
      if (still !== undefined) {
        count("allocations of a pfn still allocated (a free written first)");
        if (k) k.freePages += 1 << still;
        writeFree(t, pfn);
      } else if (split.size) {
        // the first page of a split block, freed and allocated again while the block's other
        // pages are not all freed: its handle is the block's, still allocated in the replay
        const s = split.get(pfn);
        if (s !== undefined && !s.written) {
          count("allocations of the first page of a split block still held (the block's free written first)");
          // the replay frees the whole block now: the pages the kernel still held go early
          counted[EARLY] = (counted[EARLY] ?? 0) + s.left;
          if (k) k.freePages += 1 << s.order;
          s.written = true;
          writeFree(t, pfn);
        }
      }
      alloc.time_ms = t;
      alloc.id = handle(pfn);
      alloc.order = order;
      alloc.mt = MT_NAMES[mt]!;
      rows.alloc++;
      st.kept++;
      if (early.size) {
        const ft = early.get(pfn);
        if (ft !== undefined) {
          early.delete(pfn);
          if (stamped < ft && still === undefined) {
            // its free came first in the file but is stamped after it: paired after all
            emit(alloc);
            st.skipped[BEFORE]!--;
            if (!st.skipped[BEFORE]) delete st.skipped[BEFORE];
            count(OUT_OF_ORDER);
            if (k) k.freePages += 1 << order;
            writeFree(t, pfn);
            return;
          }
        }
      }
      live.set(pfn, order);
      emit(alloc);
      return;
    }
    if (pfn < 0) return unread(buf.toString("utf8", start, end), no, `${ev} without a pfn=0x… field`);
    if (k !== null) stampLast();
    const had = live.get(pfn);
    const q = ev === "mm_page_free_batched" ? 0 : order; // mm_page_free_batched: an order-0 page (6.1 prints order=0)
    if (ev === "mm_page_free_batched") {
      if (had === undefined) {
        if (freed.delete(pfn)) return void skip("mm_page_free_batched of pages mm_page_free freed (not counted twice)");
        if (piece(t, pfn, 0)) return void count("order-0 frees from mm_page_free_batched alone");
        early.set(pfn, stamped);
        return void skip(BEFORE);
      }
      count("order-0 frees from mm_page_free_batched alone");
    } else {
      freed.add(pfn);
      if (had === undefined) {
        if (piece(t, pfn, q)) return;
        early.set(pfn, stamped);
        return void skip(BEFORE);
      }
    }
    if (q < had) return void splitOff(t, pfn, had, q); // its first pages: split_page(), then page by page
    if (q !== had) count("frees of another order than their allocation (the whole block freed)");
    live.delete(pfn);
    if (k) {
      k.freePages += 1 << had;
      k.lastMs = t;
    }
    writeFree(t, pfn);
  };

  /**
   * A free of the 2^q pages at `pfn` that lie inside a block of the trace (live, or split
   * already) starting below it: true when there is one (the piece is counted, and the block
   * freed once all its pages are), false when the pfn is no page of the trace's.
   */
  const piece = (t: number, pfn: number, q: number): boolean => {
    for (let o = q + 1; o <= TOP_ORDER; o++) {
      const base = pfn - (pfn % 2 ** o);
      // (a live block at pfn itself was looked up already)
      if (base !== pfn && live.get(base) === o) {
        splitOff(t, base, o, q);
        return true;
      }
      const s = split.get(base);
      if (s !== undefined && s.order === o) {
        freePiece(t, base, s, q);
        return true;
      }
    }
    return false;
  };

  /** the first piece of the live block (base, order) freed: the block is split from now on */
  const splitOff = (t: number, base: number, order: number, q: number): void => {
    live.delete(base);
    const s = { order, left: 1 << order, written: false };
    split.set(base, s);
    freePiece(t, base, s, q);
  };

  /** 2^q pages of the split block at `base` freed: the block's free written with its last page */
  const freePiece = (t: number, base: number, s: { order: number; left: number; written: boolean }, q: number): void => {
    count("frees of pages of a split block (the block freed with its last page)");
    s.left -= 1 << q;
    if (k) k.lastMs = t;
    if (s.left > 0) return;
    split.delete(base);
    if (s.written) return;
    if (k) k.freePages += 1 << s.order;
    writeFree(t, base);
  };

  return {
    line(line, no) {
      const buf = Buffer.from(line, "utf8");
      bytes(buf, 0, buf.length, no);
    },
    bytes,
    end() {
      events.mm_page_alloc = nAlloc;
      events.mm_page_free = nFree;
      events.mm_page_free_batched = nBatched;
      for (const e of ["mm_page_alloc", "mm_page_free", "mm_page_free_batched"]) if (!events[e]) delete events[e];
      if (nAlloc && !nFree && !nBatched) (st.notes ??= []).push(NO_FREES);
      if (k) {
        if (secs0 >= 0) k.lastMs = Math.max(k.lastMs, ((lastS - secs0) * 1e9 + (lastN - ns0)) / 1e6);
        // as the replay holds them: a split block whole until its free is written
        k.liveBlocks = live.size;
        for (const o of live.values()) k.livePages += 1 << o;
        for (const x of split.values())
          if (!x.written) {
            k.liveBlocks++;
            k.livePages += 1 << x.order;
            k.splitHeld += (1 << x.order) - x.left;
          }
      }
    },
  };
}

/**
 * A mark of events the ring buffer lost (overwritten or dropped before they were read), with
 * their count when it has one: tracefs' `trace` and `trace_pipe` print `CPU:%d [LOST %lu
 * EVENTS]` (or `CPU:%d [LOST EVENTS]`, count unknown) before the next event of that CPU
 * (kernel/trace/trace.c print_trace_line); trace-cmd report prints `CPU:%d [%lld EVENTS
 * DROPPED]` (or `CPU:%d [EVENTS DROPPED]`), and older versions the kernel's form.
 */
const LOST = /^\s*CPU:\s*\d+ \[(?:LOST (\d+) EVENTS|(\d+) EVENTS DROPPED|LOST EVENTS|EVENTS DROPPED)\]\s*$/;

/** What convert and stat say of the events the ring buffer lost, or "" when it lost none. */
export function describeLost(st: ImportStats): string {
  const l = st.lost;
  if (!l) return "";
  const n = l.uncounted ? `${l.events}+ events (${plural(l.uncounted, "mark")} without a count)` : plural(l.events, "event");
  const more = l.markers > 1 ? `, the first of ${l.markers} marks` : "";
  return `${n} lost by the ring buffer (${l.first.text} at ${l.first.file}:${l.first.no}${more}): pairing after it is incomplete (frees without their alloc, allocations never freed)`;
}

/** the note of a trace with allocations and no free */
export const NO_FREES =
  "no mm_page_free event in the trace: frees were not recorded? (recorded without kmem:mm_page_free, or the ring buffer dropped them): the replay frees nothing";

/** The first lines the importer could not read, as convert names them: `FILE:NO: "text"` (and why). */
export function describeUnread(st: ImportStats, file: string): string[] {
  return (st.unread ?? []).map((u) => `${file}:${u.no}: ${u.why ? u.why + ": " : ""}${quoteInput(u.text.trim(), 100)}`);
}

/**
 * A kernel trace line whose timestamp has no fraction (`… [000] 3056123456789: mm_page_alloc:
 * …`): tracefs (trace_print_context) and libtraceevent (trace-cmd report) print ` %12llu:` for
 * a trace_clock that is not in ns (counter: a count of events; uptime: jiffies; x86-tsc: cycles),
 * so it is no time wsim can read: named, with what to record instead.
 */
const COUNTER_CLOCK = /^\s*\S.*\s\d{1,20}: +(\w+:)?\w+: /;
const COUNTER_WHY =
  "a timestamp without a fraction: the trace_clock was counter, uptime or x86-tsc (a count, jiffies or cycles, not time); record with the default clock (echo local > trace_clock, trace-cmd record -C local, or perf)";

/**
 * A line of the `latency-format` trace option's layout (kernel/trace/trace_output.c
 * trace_print_lat_context, not verbose): `%8.8s-%-7d %3d` (comm-pid, CPU), the latency flags
 * (`d..2.`), then lat_print_timestamp's ` %4lldus%c: ` (µs since the buffer's start and a
 * delay mark: `1500us : `) and the event: `bash-1234    0d..2. 1500us : mm_page_alloc: …`.
 */
const LATENCY_FORMAT = /^\s*\S.*-\d+\s+\d+\s*[^\s]{3,6}\s+\d+us[ !#$%*+@]: +(\w+:)?\w+:(\s|$)/;
const LATENCY_FORMAT_WHY =
  "the latency-format layout (trace option latency-format) has no timestamps wsim can read: record without it (echo 0 > options/latency-format)";

/** True when the first lines hold a kernel trace line (or ftrace's `# tracer:` header), or one stamped by a counter clock or in the latency-format layout (to be named). */
export function looksLikeKernelTrace(lines: readonly string[]): boolean {
  return lines.some((l) => /^# tracer: /.test(l) || (!l.startsWith("#") && (head(l) !== null || COUNTER_CLOCK.test(l) || LATENCY_FORMAT.test(l))));
}
