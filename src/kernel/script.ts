/**
 * A trace as a script for the guest helper (src/kernel/guest.c): what maps onto a real
 * kernel from user space, and a count of what does not.
 *
 * One process in the guest stands for every pid of the trace. Each region gets its own
 * place in the helper's address space, congruent to the trace's address modulo 2 MiB (so a
 * THP-eligible range stays eligible) with a 2 MiB gap after it (so regions never merge into
 * one VMA). An access outside any region maps that one 4 KiB page, as wsim does, with
 * MADV_NOHUGEPAGE (a one-page VMA cannot hold a huge page; neighbours may merge). mmap has
 * MAP_FIXED semantics, as in wsim: the range is unmapped first. Time gaps become sleeps.
 *
 * `fork` is a real fork(2): the process holding the parent pid (the helper itself, or a worker it
 * forked earlier) forks a worker that holds the child pid; `@ N` routes the following per-process
 * commands to worker N (0: the helper) and `X` ends a worker at its pid's exit. Before the helper
 * forks, the regions of its other pids get MADV_DONTFORK (undone after), so the child copies the
 * parent pid's regions only (and the helper's own few pages, whose copy-on-write faults are noise
 * of the comparison). Up to MAX_WORKERS forked processes live at once; a fork beyond is skipped
 * (counted).
 *
 * Buffered file I/O (`fread`, `fwrite`, `fsync`, `ftruncate`, `fdelete`) runs on files of an ext4
 * disk the helper mounts at DATA_DIR (ScriptOptions.dataDevice), so the guest's page cache is a
 * block device's, on the file LRU, as wsim's: each trace file is DATA_DIR/fN (N: its order of
 * first appearance). wsim's files hold data wherever they are read; the guest's hold what the
 * disk was made with: `files()` says which files the host puts on the disk, and how large (every
 * byte a `fread` reaches before the file is first written, truncated or deleted). Readahead is
 * turned off on the disk (read_ahead_kb 0): wsim reads no page ahead. File commands run in the
 * helper whatever pid issues them (the guest has no memory cgroups to charge).
 *
 * A `kind=file` mmap maps a file of its own on the same disk (DATA_DIR/mN, as long as the region,
 * made full of data on the host) MAP_SHARED, when there is a data disk: its first touches are
 * major faults reading one page each and its clean pages are dropped by reclaim and read again,
 * as wsim's file pages are; a write dirties the page cache page, written back before reclaim
 * frees it (wsim's dirty file page, nr_vmscan_write). Its reads stay reads (no zero page). The
 * file is unlinked when no region maps it any more, so its page cache goes with the mapping as
 * wsim's file pages do. Without a data disk the region is anonymous memory (counted).
 */
import { UsageError } from "../errors.js";
import { findRange } from "../mm/process.js";
import type { Settings } from "../machine/settings.js";
import {
  MADV_DONTNEED, MT_NAMES, OPS, OP_ACCESS, OP_ALLOC, OP_COMPACT, OP_EXIT, OP_FORK, OP_FREE, OP_MADVISE, OP_MLOCK, OP_MMAP, OP_MUNLOCK, OP_MUNMAP, OP_READ, OP_SET, OP_FREAD, OP_FWRITE, OP_FSYNC, OP_FTRUNCATE, OP_FDELETE,
  type EventBatch,
} from "../trace/types.js";

const PAGE = 4096;
/** forked processes the guest helper can hold at once (its MAXW less the helper itself) */
export const MAX_WORKERS = 15;
/** x86-64's MADV_DONTFORK / MADV_DOFORK */
const MADV_DONTFORK = 10;
const MADV_DOFORK = 11;
/**
 * x86-64's MADV_* numbers (include/uapi/asm-generic/mman-common.h) by the advice column's value
 * (1 + its ADVICE_NAMES index: dontneed, free, cold, pageout, willneed, hugepage, nohugepage,
 * collapse)
 */
export const GUEST_MADV = [0, 4, 8, 20, 21, 3, 14, 15, 25] as const;
const HPAGE = 2 * 1024 * 1024;
/** where the helper's regions start: above the helper's own mappings, below the stack */
const GUEST_BASE = 0x1000_0000_00;

/** sysctl/sysfs file of each tunable that Linux 6.1 has (the others cannot be set in the guest) */
export const KERNEL_PATHS: Record<string, string> = {
  "vm.min_free_kbytes": "/proc/sys/vm/min_free_kbytes",
  "vm.watermark_scale_factor": "/proc/sys/vm/watermark_scale_factor",
  "vm.watermark_boost_factor": "/proc/sys/vm/watermark_boost_factor",
  "vm.extfrag_threshold": "/proc/sys/vm/extfrag_threshold",
  "vm.compaction_proactiveness": "/proc/sys/vm/compaction_proactiveness",
  "vm.swappiness": "/proc/sys/vm/swappiness",
  "vm.page-cluster": "/proc/sys/vm/page-cluster",
  "vm.dirty_ratio": "/proc/sys/vm/dirty_ratio",
  "vm.dirty_background_ratio": "/proc/sys/vm/dirty_background_ratio",
  "vm.dirty_expire_centisecs": "/proc/sys/vm/dirty_expire_centisecs",
  "vm.dirty_writeback_centisecs": "/proc/sys/vm/dirty_writeback_centisecs",
  "transparent_hugepage.enabled": "/sys/kernel/mm/transparent_hugepage/enabled",
  "transparent_hugepage.defrag": "/sys/kernel/mm/transparent_hugepage/defrag",
  "numa.demotion_enabled": "/sys/kernel/mm/numa/demotion_enabled",
  "kernel.numa_balancing": "/proc/sys/kernel/numa_balancing",
  "kernel.numa_balancing_promote_rate_limit_MBps": "/proc/sys/kernel/numa_balancing_promote_rate_limit_MBps",
  // 6.1 keeps the scan knobs in debugfs (CONFIG_SCHED_DEBUG; debugfs is mounted in the guest)
  "numa_balancing.scan_delay_ms": "/sys/kernel/debug/sched/numa_balancing/scan_delay_ms",
  "numa_balancing.scan_period_min_ms": "/sys/kernel/debug/sched/numa_balancing/scan_period_min_ms",
  "numa_balancing.scan_period_max_ms": "/sys/kernel/debug/sched/numa_balancing/scan_period_max_ms",
  "numa_balancing.scan_size_mb": "/sys/kernel/debug/sched/numa_balancing/scan_size_mb",
  "numa_balancing.hot_threshold_ms": "/sys/kernel/debug/sched/numa_balancing/hot_threshold_ms",
};

/** Files a `read` event can name that the guest has. */
export const READ_PATHS: Record<string, string> = {
  vmstat: "/proc/vmstat",
  lru_gen: "/sys/kernel/debug/lru_gen",
  buddyinfo: "/proc/buddyinfo",
  pagetypeinfo: "/proc/pagetypeinfo",
  zoneinfo: "/proc/zoneinfo",
  extfrag_index: "/sys/kernel/debug/extfrag/extfrag_index",
  unusable_index: "/sys/kernel/debug/extfrag/unusable_index",
  ...KERNEL_PATHS,
};

/**
 * Tunables written before the trace starts: those set explicitly (machine, trace header,
 * --set), and THP's two, whose kernel defaults depend on the guest (a guest under 512 MiB
 * boots with THP off) while wsim's follow Linux 6.1's built-in defaults.
 */
const ALWAYS_WRITTEN = ["transparent_hugepage.enabled", "transparent_hugepage.defrag"];

export interface ScriptOptions {
  /** longest sleep for one gap between events, ms; the rest is skipped and reported */
  maxGapMs: number;
  /** gaps shorter than this accumulate until they reach it (sleeping per 50 µs gap costs more than it models) */
  minSleepMs: number;
  /**
   * the guest's LRU: "mglru" (default) turns on multi-gen LRU, which wsim models (Debian's 6.1
   * builds it but leaves it off), before the first snapshot; "off" turns it off (lru_gen.enabled=0,
   * the two-list LRU); "classic" leaves the kernel's choice
   */
  lru?: "mglru" | "classic" | "off";
  /** a swap device to swapon before the first snapshot (wsim always has swap) */
  swapDevice?: string;
  /**
   * the block device of an ext4 disk for the trace's files, mounted at DATA_DIR before the first
   * snapshot when the trace has file I/O (`usedFiles`: the caller attaches the disk then); without
   * it file I/O is counted as not replayed
   */
  dataDevice?: string;
  /**
   * false: `kind=file` regions are anonymous memory even with a data disk (the host has no
   * mke2fs to make one holding their files; a trace's buffered file I/O still asks for it)
   */
  mapFiles?: boolean;
  /** where the guest finds wsim_kalloc.ko: alloc/free events become its commands */
  kallocModule?: string;
  /** why alloc/free cannot be replayed when there is no module (counted with this reason) */
  kallocSkip?: string;
  /** before the first snapshot, have wsim_kalloc take ZONE_DMA's free pages (needs kallocModule) */
  fillDma?: boolean;
  /** tracepoints to record during the replay (`wsim kernel --events`), read from trace_pipe at the end */
  events?: EventRecording;
  /**
   * CPUs per guest node, numbered node by node (kernel.ts guestNodeCpus; default one on node 0).
   * With more than one CPU the helper pins itself (`c CPU`, sched_setaffinity) to the CPU wsim
   * runs each event on: the trace's `cpu`, else the first CPU of the event's `node`, else CPU 0
   * (the first node with CPUs), so the same per-cpu lists fill and drain on both sides.
   */
  nodeCpus?: readonly number[];
}

/** `wsim kernel --events`: which tracepoints, and the ring buffer that holds them */
export interface EventRecording {
  /** `system:event`, or `system` for all of a system's events (tracefs events/SYSTEM/enable) */
  events: readonly string[];
  /** the ring buffer per CPU, KiB (tracefs buffer_size_kb) */
  bufferKb: number;
}

/** where the guest helper mounts the data disk of the trace's files */
export const DATA_DIR = "/data";

/** A trace file on the guest's data disk. */
export interface GuestFile {
  /** the trace's name for it */
  name: string;
  /** its path in the guest (DATA_DIR/fN) */
  path: string;
  /** bytes it holds when the disk is made: every byte a fread reached before its first write, truncate or delete */
  bytes: number;
  /** the largest end (off + len) of any fread, fwrite or ftruncate of it, bytes: what the disk must hold */
  maxBytes: number;
}

/** where the guest helper mounts tracefs */
export const TRACEFS = "/sys/kernel/tracing";

/** The tracefs enable file of one `system:event` or `system`. */
export function eventEnablePath(event: string): string {
  const [system, name] = event.split(":");
  return name === undefined ? `${TRACEFS}/events/${system}/enable` : `${TRACEFS}/events/${system}/${name}/enable`;
}

/** MGLRU's switch in 6.1 (CONFIG_LRU_GEN); "y" turns on every component, "0" turns it off */
export const LRU_GEN_ENABLED = "/sys/kernel/mm/lru_gen/enabled";

/**
 * The guest's LRU for a replay with lru_gen.enabled = `enabled` (0 or 1), given `--lru`
 * (`asked`, or undefined): the replay's by default ("mglru" for 1, "off" for 0: the two-list
 * LRU); "classic" leaves the kernel's boot choice. Throws a UsageError for --lru mglru with
 * lru_gen.enabled=0.
 */
export function guestLru(enabled: number, asked: "mglru" | "classic" | undefined): "mglru" | "classic" | "off" {
  if (enabled === 0 && asked === "mglru") throw new UsageError("--lru mglru conflicts with lru_gen.enabled=0 (the two-list LRU): drop one");
  return asked ?? (enabled === 0 ? "off" : "mglru");
}

interface Region {
  /** trace pages [start, end) */
  start: number;
  end: number;
  /** guest address of page `start` */
  guest: number;
  /** a `kind=file` region's file on the data disk (mappedFile), mapped shared */
  file?: string;
}

export interface ReadRequest {
  tag: string;
  time_ms: number;
  key: string;
  cg: string | null;
  node: number | null;
}

/** What the script could not do or did only approximately, by reason: never silently dropped. */
export type Unsupported = Record<string, number>;

export class ScriptBuilder {
  private readonly lines: string[] = [];
  private readonly regions = new Map<number, Region[]>();
  private bump = GUEST_BASE;
  private readonly windows = new Map<string, number>();
  private covered = -1;
  /** live kernel allocations: trace handle -> the module's ID */
  private readonly handles = new Map<string, number>();
  private nextHandle = 0;
  /** alloc/free events went to wsim_kalloc: the script loads it first */
  usedKalloc = false;
  /**
   * guest pages touched since they were mapped, per guest process (0: the helper, else a forked
   * worker): their first touch is written (no zero page, as in wsim)
   */
  private readonly touchedBy = new Map<number, Set<number>>();
  /** the guest process holding each pid (absent: 0, the helper) */
  private readonly owner = new Map<number, number>();
  /** worker numbers free for the next fork */
  private readonly freeWorkers = Array.from({ length: MAX_WORKERS }, (_, i) => MAX_WORKERS - i);
  /** the guest process the last `@` routed commands to */
  private target = 0;
  /** where finish() puts the data disk's mount: before the first snapshot */
  private readonly mountAt: number;
  /** the trace's files by name, and whether each is still as the disk was made (no write, truncate or delete yet) */
  private readonly fileMap = new Map<string, GuestFile & { pristine: boolean }>();
  /** `kind=file` regions given a file of their own on the data disk so far */
  private mappedFiles = 0;
  readonly reads: ReadRequest[] = [];
  readonly unsupported: Unsupported = {};
  /** tunables written at start and by set events: key -> last value */
  readonly written: Record<string, string> = {};
  sleptMs = 0;
  skippedMs = 0;
  events = 0;
  firstMs: number | null = null;
  lastMs: number | null = null;

  /** first CPU of each guest node (-1: none), when the guest has more than one CPU; else null */
  private readonly firstCpu: number[] | null;
  /** the CPU the helper is pinned to (-1: not pinned yet) */
  private cpu = -1;

  constructor(private readonly opts: ScriptOptions) {
    const counts = opts.nodeCpus ?? [1];
    let next = 0;
    const first = counts.map((n) => (n > 0 ? (next += n) - n : -1));
    this.firstCpu = next > 1 ? first : null;
    // before the snapshot: switching moves the boot's pages between LRU lists, not the replay's
    if ((opts.lru ?? "mglru") === "mglru") this.lines.push(`s ${LRU_GEN_ENABLED} y`);
    else if (opts.lru === "off") this.lines.push(`s ${LRU_GEN_ENABLED} 0`); // lru_gen.enabled=0: the two-list LRU
    if (opts.swapDevice) this.lines.push(`W ${opts.swapDevice}`);
    this.mountAt = this.lines.length; // the data disk's mount goes here when the trace has file I/O (finish)
    if (opts.fillDma && opts.kallocModule) {
      this.lines.push("k D", "p dma-fill /proc/wsim_kalloc");
      this.usedKalloc = true;
    }
    const ev = opts.events;
    if (ev) {
      // before the snapshot: the ring buffer's pages are boot's. overwrite 0: a full buffer
      // drops the newest events (counted in per_cpu/cpu0/stats), so the trace keeps its start,
      // whose allocations the later frees pair with
      this.lines.push(`s ${TRACEFS}/tracing_on 0`, `s ${TRACEFS}/options/overwrite 0`, `s ${TRACEFS}/buffer_size_kb ${ev.bufferKb}`);
      for (const e of ev.events) this.lines.push(`s ${eventEnablePath(e)} 1`);
    }
    this.lines.push("p release /proc/sys/kernel/osrelease");
  }

  /** the start snapshot is in the script (the first event, or finish, puts it there) */
  private snapped = false;

  /**
   * The snapshot the replay starts from ("boot-*": vmstat, the counters' baseline; buddyinfo,
   * pagetypeinfo, zoneinfo and, under multi-gen LRU, lru_gen: wsim's start state in `wsim
   * compare`), then tracing on. It comes
   * after the tunables are written, right before the first event: a tunable can move the
   * watermarks (THP's `enabled` going from the small guest's boot `never` to `always` makes
   * khugepaged's set_recommended_min_free_kbytes raise min_free_kbytes: a 96 MiB guest's high
   * watermarks go from 336 to 1,114 pages), and wsim takes its watermarks from this zoneinfo.
   */
  private snapshot(): void {
    if (this.snapped) return;
    this.snapped = true;
    this.lines.push("p boot-vmstat /proc/vmstat", "p boot-buddyinfo /proc/buddyinfo", "p boot-pagetypeinfo /proc/pagetypeinfo", "p boot-zoneinfo /proc/zoneinfo");
    // the generations of the boot's LRU pages (multi-gen LRU only): wsim's start places them alike
    if ((this.opts.lru ?? "mglru") === "mglru") this.lines.push(`p boot-lru_gen ${READ_PATHS.lru_gen}`);
    if (this.opts.events) this.lines.push(`s ${TRACEFS}/tracing_on 1`);
  }

  /** Writes the tunables wsim would start with, for those the kernel has: before the first event (add). */
  startTunables(settings: Settings): void {
    if (this.snapped) throw new Error("ScriptBuilder.startTunables after the start snapshot");
    for (const key of Object.keys(KERNEL_PATHS)) {
      if (!ALWAYS_WRITTEN.includes(key) && !settings.isExplicit(key)) continue;
      this.set(key, String(settings.get(key)));
    }
    for (const key of Object.keys(settings.resolved())) {
      // lru_gen.enabled is the `lru` option's (written before the first snapshot)
      if (settings.isExplicit(key) && !(key in KERNEL_PATHS) && !key.startsWith("memory.") && key !== "lru_gen.enabled")
        this.skip(`tunable ${key} (no kernel file)`);
    }
  }

  /**
   * Pins the helper to the CPU wsim runs event i on (ScriptOptions.nodeCpus), when the guest has
   * several; true when the event's node has no CPU in the guest (the caller counts it skipped).
   */
  private pin(b: EventBatch, i: number): boolean {
    const node = b.node[i]!;
    if (!this.firstCpu) return node > 0;
    const want = b.cpu[i]! >= 0 ? b.cpu[i]! : node >= 0 ? (this.firstCpu[node] ?? -1) : this.firstCpu.find((c) => c >= 0)!;
    if (want < 0) return true;
    if (want !== this.cpu) this.lines.push(`c ${(this.cpu = want)}`);
    return false;
  }

  private skip(reason: string): void {
    this.unsupported[reason] = (this.unsupported[reason] ?? 0) + 1;
  }

  private set(key: string, value: string): void {
    this.lines.push(`s ${KERNEL_PATHS[key]} ${value}`);
    this.written[key] = value;
  }

  /** Sleeps to catch the guest up with trace time `t`. */
  private advance(t: number): void {
    if (this.covered < 0) this.covered = t;
    const gap = t - this.covered;
    if (gap < this.opts.minSleepMs) return;
    const ms = Math.floor(Math.min(gap, this.opts.maxGapMs));
    this.lines.push(`t ${ms}`);
    this.sleptMs += ms;
    this.skippedMs += gap - ms;
    this.covered = t;
  }

  /** Guest address for a region of pages [start, end): the next free one after the last region. */
  private fresh(start: number, end: number): number {
    const base = Math.ceil(this.bump / HPAGE) * HPAGE + ((start * PAGE) % HPAGE);
    this.bump = base + (end - start) * PAGE + HPAGE;
    return base;
  }

  /**
   * An implicitly mapped page: its place in a 2 MiB window kept for the pid's 2 MiB-aligned
   * chunk around it, so neighbouring implicit pages merge into one VMA (a real trace touches
   * more pages than vm.max_map_count allows VMAs).
   */
  private implicitAddr(pid: number, page: number): number {
    const key = `${pid}:${Math.floor(page / 512)}`;
    let w = this.windows.get(key);
    if (w === undefined) this.windows.set(key, (w = this.fresh(page - (page % 512), page - (page % 512) + 512)));
    return w + (page % 512) * PAGE;
  }

  private place(pid: number, start: number, end: number, flags: number, node: number, guest?: number, file?: string): void {
    const base = guest ?? this.fresh(start, end);
    const r: Region = file === undefined ? { start, end, guest: base } : { start, end, guest: base, file };
    const list = this.regions.get(pid) ?? [];
    let i = list.length;
    while (i > 0 && list[i - 1]!.start > start) i--;
    list.splice(i, 0, r);
    this.regions.set(pid, list);
    if (file !== undefined) this.lines.push(`f ${base.toString(16)} ${(end - start) * PAGE} ${file}`);
    else this.lines.push(`m ${base.toString(16)} ${(end - start) * PAGE} ${flags}${node >= 0 ? ` ${node}` : ""}`);
  }

  /**
   * A new file on the data disk for a `kind=file` region of `bytes` (DATA_DIR/mN, N counting
   * such regions), made full of data on the host: its pages are not in the guest's page cache
   * until touched, so each first touch reads one (a major fault, as wsim's first touch of a file
   * page; read_ahead_kb 0 makes filemap_fault read no neighbour, as wsim reads none).
   */
  private mappedFile(bytes: number): string {
    const path = `${DATA_DIR}/m${this.mappedFiles++}`;
    this.fileMap.set(`\0mmap ${path}`, { name: `(kind=file mapping ${this.mappedFiles})`, path, bytes, maxBytes: bytes, pristine: false });
    return path;
  }

  /**
   * Unlinks a mapped region's file once no region maps it any more: the inode goes with its page
   * cache when its last mapping does (iput -> evict), as wsim frees a file region's pages at
   * munmap and exit.
   */
  private dropFile(path: string | undefined): void {
    if (path === undefined) return;
    for (const list of this.regions.values()) for (const r of list) if (r.file === path) return;
    this.lines.push(`D ${path}`);
  }

  private touched(pid: number): Set<number> {
    const o = this.owner.get(pid) ?? 0;
    let t = this.touchedBy.get(o);
    if (t === undefined) this.touchedBy.set(o, (t = new Set()));
    return t;
  }

  /** Routes the next per-process commands to the guest process holding pid. */
  private at(pid: number): void {
    const o = this.owner.get(pid) ?? 0;
    if (o === this.target) return;
    this.lines.push(`@ ${o}`);
    this.target = o;
  }

  /**
   * fork(2) of pid's guest process: `child` gets a worker holding copies of pid's regions (their
   * guest addresses and touched pages); the helper's other pids' regions are MADV_DONTFORK'd
   * around the fork. False when every worker is taken.
   */
  private fork(pid: number, child: number): boolean {
    const n = this.freeWorkers.pop();
    if (n === undefined) return false;
    this.at(pid);
    const o = this.owner.get(pid) ?? 0;
    const others: Region[] = [];
    if (o === 0) for (const [p, list] of this.regions) if (p !== pid && (this.owner.get(p) ?? 0) === 0) others.push(...list);
    for (const r of others) this.lines.push(`a ${r.guest.toString(16)} ${(r.end - r.start) * PAGE} ${MADV_DONTFORK}`);
    this.lines.push(`F ${n}`);
    for (const r of others) this.lines.push(`a ${r.guest.toString(16)} ${(r.end - r.start) * PAGE} ${MADV_DOFORK}`);
    this.owner.set(child, n);
    this.regions.set(child, (this.regions.get(pid) ?? []).map((r) => ({ ...r })));
    for (const [k, w] of [...this.windows]) if (k.startsWith(`${pid}:`)) this.windows.set(`${child}:${k.slice(k.indexOf(":") + 1)}`, w);
    this.touchedBy.set(n, new Set(this.touched(pid)));
    return true;
  }

  /** The guest file of trace file `name` (DATA_DIR/fN by first appearance). */
  private guestFile(name: string): GuestFile & { pristine: boolean } {
    let f = this.fileMap.get(name);
    if (f === undefined) this.fileMap.set(name, (f = { name, path: `${DATA_DIR}/f${this.fileMap.size}`, bytes: 0, maxBytes: 0, pristine: true }));
    return f;
  }

  /**
   * The files the data disk must be made with, in first-appearance order: `bytes` of data each
   * (0: the file is created by the replay's first write). `maxBytes` bounds what the replay makes
   * it hold.
   */
  files(): GuestFile[] {
    return [...this.fileMap.values()].map(({ name, path, bytes, maxBytes }) => ({ name, path, bytes, maxBytes }));
  }

  private unmap(pid: number, start: number, end: number): void {
    const list = this.regions.get(pid);
    if (!list) return;
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      if (r.end <= start || r.start >= end) continue;
      const a = Math.max(r.start, start);
      const b = Math.min(r.end, end);
      this.lines.push(`u ${(r.guest + (a - r.start) * PAGE).toString(16)} ${(b - a) * PAGE}`);
      this.untouch(pid, r.guest / PAGE + (a - r.start), b - a);
      if (r.start < a && r.end > b) {
        list.splice(i + 1, 0, { ...r, start: b, guest: r.guest + (b - r.start) * PAGE });
        r.end = a;
        i++;
      } else if (r.start < a) r.end = a;
      else if (r.end > b) {
        r.guest += (b - r.start) * PAGE;
        r.start = b;
      } else {
        list.splice(i--, 1);
        this.dropFile(r.file);
      }
    }
  }

  /** Forgets guest pages [g, g + n): unmapped, so their next touch is a first touch again. */
  private untouch(pid: number, g: number, n: number): void {
    const t = this.touched(pid);
    if (n > t.size) {
      for (const p of t) if (p >= g && p < g + n) t.delete(p);
    } else for (let p = g; p < g + n; p++) t.delete(p);
  }

  private find(pid: number, page: number): Region | undefined {
    const list = this.regions.get(pid);
    return list && findRange(list, page);
  }

  add(b: EventBatch): void {
    if (b.n > 0) this.snapshot();
    for (let i = 0; i < b.n; i++) {
      const t = b.time[i]!;
      if (this.firstMs === null) this.firstMs = t;
      this.lastMs = t;
      this.events++;
      this.advance(t);
      const op = b.op[i]!;
      const pid = b.pid[i]!;
      const page = Math.floor(b.addr[i]! / PAGE);
      switch (op) {
        case OP_ACCESS: {
          this.at(pid);
          let r = this.find(pid, page);
          if (!r) {
            this.place(pid, page, page + 1, 2, -1, this.implicitAddr(pid, page));
            r = this.find(pid, page)!;
          }
          if (this.pin(b, i)) this.skip("access node (no CPU of that node in the guest)");
          const addr = r.guest + (page - r.start) * PAGE;
          // wsim allocates on every first touch (SPEC: no zero page); a read would map the
          // kernel's shared zero page (or huge zero page) and allocate nothing, so the guest writes
          // (a file region's read maps its page cache page: no zero page there)
          const touched = this.touched(pid);
          const first = !touched.has(addr / PAGE);
          if (first) touched.add(addr / PAGE);
          this.lines.push(`${b.write[i] || (first && r.file === undefined) ? "w" : "r"} ${addr.toString(16)}`);
          break;
        }
        case OP_MMAP: {
          this.at(pid);
          const n = Math.ceil(b.len[i]! / PAGE);
          this.unmap(pid, page, page + n);
          // a mapping of a page-cache file (`file`): not replayed as a shared mapping of /data/fN yet
          if (b.fname[i]! >= 0) this.skip("mmap of a named file (replayed as anonymous)");
          else if (b.file[i] && this.opts.dataDevice && this.opts.mapFiles !== false) {
            // wsim's file region: pages of a file of its own (no THP: wsim's file faults are 4 KiB,
            // and ext4's page cache has no large folios in 6.1); the page cache does not follow a
            // region's mbind policy
            if (b.node[i]! >= 0) this.skip("mmap node of a file mapping (the page cache ignores a region's policy)");
            this.place(pid, page, page + n, 0, -1, undefined, this.mappedFile(n * PAGE));
            break;
          }
          else if (b.file[i]) this.skip(`file mapping (replayed as anonymous: ${this.opts.dataDevice ? "no mke2fs on the host for a data disk" : "no data disk in the guest"})`);
          this.place(pid, page, page + n, b.thp[i] ? 1 : 0, b.node[i]!);
          break;
        }
        case OP_MUNMAP:
          this.at(pid);
          this.unmap(pid, page, page + Math.ceil(b.len[i]! / PAGE));
          break;
        case OP_MADVISE:
        case OP_MLOCK:
        case OP_MUNLOCK: {
          // one call per region the range overlaps (regions are apart in the guest)
          this.at(pid);
          const n = Math.ceil(b.len[i]! / PAGE);
          const cmd = op === OP_MADVISE ? `a` : op === OP_MLOCK ? "l" : "L";
          const tail = op === OP_MADVISE ? ` ${GUEST_MADV[b.advice[i]!]}` : "";
          for (const r of this.regions.get(pid) ?? []) {
            if (r.end <= page || r.start >= page + n) continue;
            const a = Math.max(r.start, page);
            const e = Math.min(r.end, page + n);
            const g = r.guest + (a - r.start) * PAGE;
            this.lines.push(`${cmd} ${g.toString(16)} ${(e - a) * PAGE}${tail}`);
            // zapped pages: the next touch allocates again (a write, as for a first touch)
            if (op === OP_MADVISE && b.advice[i] === MADV_DONTNEED) this.untouch(pid, g / PAGE, e - a);
          }
          break;
        }
        case OP_FORK:
          if (!this.fork(pid, b.child[i]!)) this.skip(`fork beyond ${MAX_WORKERS} forked processes alive`);
          break;
        case OP_EXIT: {
          const o = this.owner.get(pid);
          if (o !== undefined) {
            // a forked process: the worker exits (its mm goes as the kernel tears it down)
            this.at(pid);
            this.lines.push("X");
            this.owner.delete(pid);
            this.touchedBy.delete(o);
            this.freeWorkers.push(o);
            const gone = this.regions.get(pid) ?? [];
            this.regions.delete(pid);
            for (const r of gone) this.dropFile(r.file);
            for (const k of [...this.windows.keys()]) if (k.startsWith(`${pid}:`)) this.windows.delete(k);
            break;
          }
          this.at(pid);
          this.unmap(pid, 0, Number.MAX_SAFE_INTEGER);
          this.regions.delete(pid);
          for (const k of [...this.windows.keys()]) if (k.startsWith(`${pid}:`)) this.windows.delete(k);
          break;
        }
        case OP_ALLOC: {
          if (!this.opts.kallocModule) {
            this.skip(`alloc ${MT_NAMES[b.mt[i]!]} (${this.opts.kallocSkip ?? "no wsim_kalloc module"})`);
            break;
          }
          if (this.firstCpu) this.pin(b, i);
          const id = this.nextHandle++;
          this.handles.set(b.strs[b.id[i]!]!, id);
          this.lines.push(`k a ${id} ${b.order[i]} ${MT_NAMES[b.mt[i]!]![0]} ${b.node[i]! >= 0 ? b.node[i] : -1}`);
          this.usedKalloc = true;
          break;
        }
        case OP_FREE: {
          const key = b.strs[b.id[i]!]!;
          const id = this.handles.get(key);
          if (!this.opts.kallocModule || id === undefined) {
            this.skip(`free (${!this.opts.kallocModule ? (this.opts.kallocSkip ?? "no wsim_kalloc module") : "of a handle never allocated"})`);
            break;
          }
          this.handles.delete(key);
          this.lines.push(`k f ${id}`);
          break;
        }
        case OP_SET: {
          const key = b.strs[b.key[i]!]!;
          const cg = b.cg[i]! >= 0 ? b.strs[b.cg[i]!]! : "/";
          if (key in KERNEL_PATHS && cg === "/") this.set(key, b.strs[b.value[i]!]!);
          else if (key === "lru_gen.enabled" && cg === "/") {
            // wsim switches only before the first page is mapped; the guest's file switches at any time
            const v = b.strs[b.value[i]!]!.trim();
            this.lines.push(`s ${LRU_GEN_ENABLED} ${v === "0" ? "0" : "y"}`);
            this.written[key] = v;
          }
          else this.skip(`set ${key} (no kernel file)`);
          break;
        }
        case OP_READ: {
          const key = b.strs[b.key[i]!]!;
          const path = READ_PATHS[key];
          if (!path) {
            this.skip(`read ${key} (no such file in Linux 6.1)`);
            break;
          }
          const tag = `read-${this.reads.length}`;
          this.reads.push({
            tag,
            time_ms: t,
            key,
            cg: b.cg[i]! >= 0 ? b.strs[b.cg[i]!]! : null,
            node: b.node[i]! >= 0 ? b.node[i]! : null,
          });
          this.lines.push(`p ${tag} ${path}`);
          break;
        }
        case OP_COMPACT:
          this.lines.push(
            b.node[i]! >= 0
              ? `s /sys/devices/system/node/node${b.node[i]}/compact 1`
              : "s /proc/sys/vm/compact_memory 1",
          );
          break;
        case OP_FREAD:
        case OP_FWRITE:
        case OP_FSYNC:
        case OP_FTRUNCATE:
        case OP_FDELETE: {
          if (!this.opts.dataDevice) {
            // the guest's root is the initramfs's tmpfs, whose files are shmem (swap-backed, on
            // the anon LRU), not the file LRU wsim models
            this.skip(`${OPS[op]} (buffered file I/O: no data disk in the guest)`);
            break;
          }
          const f = this.guestFile(b.strs[b.fname[i]!]!);
          const off = b.off[i]!;
          const len = b.len[i]!; // the parser's default for fread/fwrite, as the engine takes it
          if (op === OP_FREAD || op === OP_FWRITE) {
            if (op === OP_FREAD && f.pristine) f.bytes = Math.max(f.bytes, off + len);
            else f.pristine = false;
            f.maxBytes = Math.max(f.maxBytes, off + len);
            this.lines.push(`${op === OP_FREAD ? "R" : "V"} ${f.path} ${off} ${len}`);
          } else if (op === OP_FSYNC) this.lines.push(`Y ${f.path}`);
          else if (op === OP_FTRUNCATE) {
            f.pristine = false;
            f.maxBytes = Math.max(f.maxBytes, len);
            this.lines.push(`T ${f.path} ${len}`);
          } else {
            f.pristine = false;
            this.lines.push(`D ${f.path}`);
          }
          break;
        }
        default:
          this.skip(`op ${OPS[op]}`);
      }
    }
  }

  /** The trace has file I/O the guest replays: the data disk must be attached (ScriptOptions.dataDevice). */
  get usedFiles(): boolean {
    return this.fileMap.size > 0;
  }

  /** The script, ending with the final snapshot. */
  finish(): string {
    this.snapshot();
    const dataDev = this.opts.dataDevice;
    if (dataDev && this.usedFiles && this.lines[this.mountAt]?.startsWith("M ") !== true) {
      const dev = dataDev.slice(dataDev.lastIndexOf("/") + 1);
      // before the snapshot: the mount's own metadata reads are boot's; wsim reads no page ahead
      this.lines.splice(this.mountAt, 0, `M ${dataDev} ${DATA_DIR}`, `s /sys/block/${dev}/queue/read_ahead_kb 0`);
    }
    // the module loads before the first snapshot: its own pages are boot's, not the replay's
    const load = this.usedKalloc ? [`K ${this.opts.kallocModule}`] : [];
    const final = ["p final-vmstat /proc/vmstat", "p final-buddyinfo /proc/buddyinfo", "p final-pagetypeinfo /proc/pagetypeinfo"];
    // tracing stops before the final snapshot (reading it would be traced), and what the ring
    // buffer holds is printed after it (printing allocates nothing the counters see)
    const ev = this.opts.events;
    const stop = ev ? [`s ${TRACEFS}/tracing_on 0`] : [];
    const drain = ev ? [`p events-stats ${TRACEFS}/per_cpu/cpu0/stats`, `P events ${TRACEFS}/trace_pipe`] : [];
    return [...load, ...this.lines, ...stop, ...final, ...drain, ""].join("\n");
  }
}
