/**
 * Importers for real trace formats (`wsim convert`): each reads its format line by line (gzip
 * and zlib handled by the caller), yields wsim trace rows, and counts what it kept and skipped.
 * Each states how it maps time and addresses; flags change that.
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
 *                object column (obj_id, id, key); object n as page n; time in `time_unit`.
 */
import type { Row } from "../generate/generators.js";

export interface ImportStats {
  /** what the importer says of its mapping */
  mapping: string;
  kept: number;
  skipped: Record<string, number>;
}

export interface ImportOptions {
  refs_per_ms: number;
  instr_per_ms: number;
  instructions: boolean;
  pid: number;
  time_unit: "s" | "ms" | "us" | "ns";
}

export const DEFAULT_IMPORT: ImportOptions = { refs_per_ms: 1000, instr_per_ms: 1000, instructions: false, pid: 1, time_unit: "s" };

const hex = (n: number) => "0x" + n.toString(16);
const ms = (x: number) => Math.round(x * 1000) / 1000;

function skip(st: ImportStats, why: string): void {
  st.skipped[why] = (st.skipped[why] ?? 0) + 1;
}

export function* lackey(lines: Iterable<string>, o: ImportOptions, st: ImportStats): Generator<Row> {
  st.mapping = `lackey: pid ${o.pid}; each data reference touches the pages of [addr, addr+size); time = reference / ${o.refs_per_ms} per ms${o.instructions ? "; instruction fetches kept as reads" : ""}`;
  let n = 0;
  for (const line of lines) {
    if (line.startsWith("==")) {
      skip(st, "valgrind lines (==PID==)");
      continue;
    }
    const m = /^(I | L| S| M) +([0-9a-fA-F]+),(\d+)\s*$/.exec(line);
    if (!m) {
      if (line.trim()) skip(st, "unrecognised lines");
      continue;
    }
    const kind = m[1]!.trim();
    if (kind === "I" && !o.instructions) {
      skip(st, "instruction fetches (--instructions to keep them)");
      continue;
    }
    const addr = parseInt(m[2]!, 16);
    const size = Math.max(1, Number(m[3]));
    const first = Math.floor(addr / 4096);
    const last = Math.floor((addr + size - 1) / 4096);
    const t = ms(n++ / o.refs_per_ms);
    for (let p = first; p <= last; p++) {
      st.kept++;
      yield { time_ms: t, op: "access", pid: o.pid, addr: hex(p * 4096), rw: kind === "S" || kind === "M" ? "w" : "r" };
    }
  }
}

export function* ucsd(lines: Iterable<string>, o: ImportOptions, st: ImportStats): Generator<Row> {
  st.mapping = `ucsd: pid ${o.pid}; page = addr >> 12; l = read, s = write; time = instructions so far / ${o.instr_per_ms} per ms`;
  let instr = 0;
  for (const line of lines) {
    const m = /^\s*([lsLS])\s+(0x[0-9a-fA-F]+|\d+)\s+(\d+)\s*$/.exec(line);
    if (!m) {
      if (line.trim()) skip(st, "unrecognised lines");
      continue;
    }
    instr += Number(m[3]);
    const addr = Number(m[2]);
    st.kept++;
    yield { time_ms: ms(instr / o.instr_per_ms), op: "access", pid: o.pid, addr: hex(Math.floor(addr / 4096) * 4096), rw: m[1]!.toLowerCase() === "s" ? "w" : "r" };
  }
}

export function* lirs(lines: Iterable<string>, o: ImportOptions, st: ImportStats): Generator<Row> {
  st.mapping = `lirs: pid ${o.pid}; block n = page n (addr n * 4096); time = reference / ${o.refs_per_ms} per ms`;
  let n = 0;
  for (const line of lines) {
    const t = line.trim();
    if (!/^\d+$/.test(t)) {
      if (t) skip(st, "unrecognised lines");
      continue;
    }
    st.kept++;
    yield { time_ms: ms(n++ / o.refs_per_ms), op: "access", pid: o.pid, addr: hex(Number(t) * 4096), rw: "r" };
  }
}

const num = (s: unknown) => Number(String(s).replace(/,/g, ""));

export function* damon(doc: unknown, o: ImportOptions, st: ImportStats): Generator<Row> {
  st.mapping = `damon: pid ${o.pid}; each region's sampled accesses spread evenly over its pages and its snapshot's time span (ns to ms from the first snapshot)`;
  const targets = Array.isArray(doc) ? doc : [];
  const snaps: { start: number; end: number; regions: { start: number; end: number; samples: number }[] }[] = [];
  for (const t of targets as { snapshots?: unknown[] }[])
    for (const s of (t.snapshots ?? []) as Record<string, unknown>[]) {
      snaps.push({
        start: num(s.start_time),
        end: num(s.end_time),
        regions: ((s.regions ?? []) as Record<string, unknown>[]).map((r) => ({
          start: num(r.start),
          end: num(r.end),
          samples: num((r.nr_accesses as { samples?: unknown })?.samples ?? 0),
        })),
      });
    }
  snaps.sort((a, b) => a.start - b.start);
  const t0 = snaps.length ? snaps[0]!.start : 0;
  for (const s of snaps) {
    const out: { t: number; addr: number }[] = [];
    for (const r of s.regions) {
      if (!(r.samples > 0)) {
        skip(st, "regions without accesses");
        continue;
      }
      const first = Math.floor(r.start / 4096);
      const pages = Math.max(1, Math.floor((r.end - r.start) / 4096));
      for (let k = 0; k < r.samples; k++) {
        const page = first + Math.floor(((k + 0.5) * pages) / r.samples);
        out.push({ t: ms((s.start - t0 + ((k + 0.5) * (s.end - s.start)) / r.samples) / 1e6), addr: page * 4096 });
      }
    }
    out.sort((a, b) => a.t - b.t || a.addr - b.addr);
    for (const e of out) {
      st.kept++;
      yield { time_ms: e.t, op: "access", pid: o.pid, addr: hex(e.addr), rw: "r" };
    }
  }
}

const UNIT_MS = { s: 1000, ms: 1, us: 0.001, ns: 0.000001 };

export function* libcachesim(lines: Iterable<string>, o: ImportOptions, st: ImportStats): Generator<Row> {
  st.mapping = `libcachesim: pid ${o.pid}; object n = page n (addr n * 4096); time in ${o.time_unit}, from the first row`;
  let cols: string[] | null = null;
  let ti = -1;
  let oi = -1;
  let t0 = NaN;
  let last = 0;
  for (const line of lines) {
    if (!line.trim() || line.startsWith("#")) continue;
    const f = line.split(",").map((x) => x.trim());
    if (!cols) {
      cols = f.map((x) => x.toLowerCase());
      ti = cols.findIndex((c) => c === "time" || c === "timestamp" || c === "clock_time");
      oi = cols.findIndex((c) => c === "obj_id" || c === "id" || c === "key" || c === "object");
      if (ti < 0 || oi < 0) throw new Error("libcachesim: the header must name a time column (time, timestamp) and an object column (obj_id, id, key)");
      continue;
    }
    const tv = Number(f[ti]);
    const id = Number(f[oi]);
    if (!Number.isFinite(tv) || !Number.isSafeInteger(id) || id < 0 || id * 4096 > Number.MAX_SAFE_INTEGER) {
      skip(st, "rows with a bad time or object id");
      continue;
    }
    if (Number.isNaN(t0)) t0 = tv;
    let t = ms((tv - t0) * UNIT_MS[o.time_unit]);
    if (t < last) {
      skip(st, "rows going back in time (clamped)");
      t = last;
    }
    last = t;
    st.kept++;
    yield { time_ms: t, op: "access", pid: o.pid, addr: hex(id * 4096), rw: "r" };
  }
}

/** A format from the first bytes of a file: lackey, ucsd, lirs, damon, or null (a wsim trace). */
export function sniffImport(first: Buffer): string | null {
  if (first[0] === 0x78 && [0x01, 0x5e, 0x9c, 0xda].includes(first[1]!)) return "damon";
  const text = first.toString("utf8", 0, Math.min(first.length, 8192));
  const lines = text.split("\n").filter((l) => l.trim()).slice(0, 20);
  if (!lines.length) return null;
  if (lines.some((l) => l.startsWith("==")) || lines.every((l) => /^(I | L| S| M|==)/.test(l))) return "lackey";
  if (lines.every((l) => /^\s*[lsLS]\s+0x[0-9a-fA-F]+\s+\d+\s*$/.test(l))) return "ucsd";
  if (lines.every((l) => /^\s*\d+\s*$/.test(l))) return "lirs";
  if (text.trimStart().startsWith("[") && text.includes("snapshots")) return "damon";
  return null;
}
