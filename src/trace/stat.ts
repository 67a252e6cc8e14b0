/**
 * `wsim stat`: what a trace holds, in one streaming pass: events per op, processes, duration,
 * distinct pages, the footprint (distinct pages touched so far) at tenths of the duration, and
 * a reuse summary (accesses to a page touched before, and the time since its previous access).
 * Pages are counted per process (pid, page): a child's access to a page it shares with its
 * parent after fork counts again. File I/O (fread, fwrite) gets its own summary: bytes and the
 * distinct pages of each file it touched (the page cache the replay would hold at most).
 */
import { MT_NAMES, OPS, OP_ACCESS, OP_ALLOC, OP_FDELETE, OP_FREAD, OP_FREE, OP_FTRUNCATE, OP_FWRITE, type EventBatch } from "./types.js";

const PAGE = 4096;
/** pages of a file wsim tracks (64 GiB: the replay refuses a file op beyond it) */
const MAX_FILE_PAGES = (64 * 2 ** 30) / PAGE;

export const REUSE_BOUNDS_MS = [1, 10, 100, 1000, 10000];

export interface TraceStat {
  events: number;
  ops: Record<string, number>;
  processes: number;
  first_ms: number | null;
  last_ms: number | null;
  distinct_pages: number;
  /** [time_ms, distinct pages touched by then] at each tenth of the duration */
  footprint: [number, number][];
  reuse: { accesses: number; reaccesses: number; share: number; since_previous: { le_ms: number | null; count: number }[] };
  /**
   * the kernel allocations (`alloc` / `free` rows, as `wsim convert` writes a kernel trace's
   * kmem events), when the trace has any: what `wsim stat` of the kernel text says of them
   */
  kernel?: KernelStat;
  /** fread / fwrite rows, when the trace has any */
  file_io?: FileIoStat;
}

/** What a trace's fread and fwrite rows touch (src/mm/pagecache.ts replays them). */
export interface FileIoStat {
  reads: number;
  writes: number;
  bytes_read: number;
  bytes_written: number;
  /** distinct file names read or written */
  files: number;
  /**
   * distinct (file, page index) pairs read or written: 4 KiB pages, offsets rounded down and
   * ends rounded up. A page of a file written again after ftruncate or fdelete counts once.
   */
  distinct_pages: number;
}

export interface KernelStat {
  allocs: number;
  alloc_pages: number;
  frees: number;
  free_pages: number;
  /** frees of a handle not allocated at that time (replay: an error, or skipped with --lenient) */
  frees_unknown: number;
  still_allocated_blocks: number;
  still_allocated_pages: number;
  /** allocations per order: {unmovable, movable, reclaimable} */
  by_order: Record<string, Record<string, number>>;
}

export class StatCollector {
  private events = 0;
  private readonly ops = new Array<number>(OPS.length).fill(0);
  private readonly pids = new Set<number>();
  private first = -1;
  private last = 0;
  /** pid -> vpn -> time of the last access */
  private readonly pages = new Map<number, Map<number, number>>();
  private distinct = 0;
  private accesses = 0;
  private reaccesses = 0;
  private readonly reuse = new Array<number>(REUSE_BOUNDS_MS.length + 1).fill(0);
  /** (time, distinct) whenever the distinct count grows, thinned to at most ~4096 points */
  private points: [number, number][] = [];
  private stride = 1;
  /** handle -> order of the kernel allocations not freed */
  private readonly live = new Map<string, number>();
  private readonly kernel = { allocs: 0, alloc_pages: 0, frees: 0, free_pages: 0, frees_unknown: 0 };
  /** allocations per order x migratetype */
  private readonly blocks: number[][] = [];
  private readonly io = { reads: 0, writes: 0, bytes_read: 0, bytes_written: 0 };
  /** file name -> a bitmap of the page indexes touched (grown by doubling) */
  private readonly filePages = new Map<string, Uint8Array>();
  private fileDistinct = 0;

  add(b: EventBatch): void {
    for (let i = 0; i < b.n; i++) {
      const t = b.time[i]!;
      if (this.first < 0) this.first = t;
      this.last = t;
      this.events++;
      const op = b.op[i]!;
      this.ops[op]!++;
      const pid = b.pid[i]!;
      if (pid >= 0) this.pids.add(pid);
      if (op === OP_ALLOC || op === OP_FREE) {
        this.allocFree(b, i, op);
        continue;
      }
      if (op === OP_FREAD || op === OP_FWRITE) {
        this.fileIo(b, i, op);
        continue;
      }
      if (op !== OP_ACCESS) continue;
      this.accesses++;
      let m = this.pages.get(pid);
      if (!m) this.pages.set(pid, (m = new Map()));
      const vpn = Math.floor(b.addr[i]! / 4096);
      const prev = m.get(vpn);
      if (prev === undefined) {
        this.distinct++;
        if (this.distinct % this.stride === 0) this.point(t);
      } else {
        this.reaccesses++;
        const d = t - prev;
        let k = 0;
        while (k < REUSE_BOUNDS_MS.length && d >= REUSE_BOUNDS_MS[k]!) k++;
        this.reuse[k]!++;
      }
      m.set(vpn, t);
    }
  }

  private allocFree(b: EventBatch, i: number, op: number): void {
    const id = b.strs[b.id[i]!]!;
    const k = this.kernel;
    if (op === OP_ALLOC) {
      const order = Math.max(0, b.order[i]!);
      k.allocs++;
      k.alloc_pages += 2 ** order;
      this.live.set(id, order);
      const row = (this.blocks[order] ??= [0, 0, 0]);
      row[b.mt[i]!]!++;
      return;
    }
    const order = this.live.get(id);
    if (order === undefined) {
      k.frees_unknown++;
      return;
    }
    this.live.delete(id);
    k.frees++;
    k.free_pages += 2 ** order;
  }

  /** An fread or fwrite of [off, off + len) of a file: bytes, and the pages not touched before. */
  private fileIo(b: EventBatch, i: number, op: number): void {
    const len = b.len[i]!;
    if (op === OP_FREAD) {
      this.io.reads++;
      this.io.bytes_read += len;
    } else {
      this.io.writes++;
      this.io.bytes_written += len;
    }
    if (!(len > 0)) return;
    const name = b.strs[b.fname[i]!]!;
    const off = b.off[i]!;
    const first = Math.floor(off / PAGE);
    const end = Math.min(Math.ceil((off + len) / PAGE), MAX_FILE_PAGES);
    if (first >= end) return;
    let bits = this.filePages.get(name);
    if (bits === undefined || bits.length * 8 < end) {
      let size = bits === undefined ? 64 : bits.length;
      while (size * 8 < end) size *= 2;
      const grown = new Uint8Array(size);
      if (bits !== undefined) grown.set(bits);
      this.filePages.set(name, (bits = grown));
    }
    for (let p = first; p < end; p++) {
      const m = 1 << (p & 7);
      if ((bits[p >>> 3]! & m) === 0) {
        bits[p >>> 3]! |= m;
        this.fileDistinct++;
      }
    }
  }

  private point(t: number): void {
    this.points.push([t, this.distinct]);
    if (this.points.length > 4096) {
      this.points = this.points.filter((_, k) => k % 2 === 1);
      this.stride *= 2;
    }
  }

  result(): TraceStat {
    const ops: Record<string, number> = {};
    OPS.forEach((o, k) => (ops[o] = this.ops[k]!));
    const footprint: [number, number][] = [];
    if (this.events) {
      const pts = [...this.points, [this.last, this.distinct] as [number, number]];
      for (let k = 1; k <= 10; k++) {
        const at = this.first + ((this.last - this.first) * k) / 10;
        let n = 0;
        for (const [t, d] of pts) if (t <= at) n = d;
        footprint.push([Math.round(at * 1000) / 1000, n]);
      }
    }
    const k = this.kernel;
    let kernel: KernelStat | undefined;
    if (k.allocs || k.frees || k.frees_unknown) {
      let pages = 0;
      for (const o of this.live.values()) pages += 2 ** o;
      const byOrder: KernelStat["by_order"] = {};
      this.blocks.forEach((r, o) => {
        if (r) byOrder[o] = Object.fromEntries(MT_NAMES.map((m, j) => [m, r[j]!]));
      });
      kernel = { ...k, still_allocated_blocks: this.live.size, still_allocated_pages: pages, by_order: byOrder };
    }
    return {
      events: this.events,
      ops,
      processes: this.pids.size,
      first_ms: this.events ? this.first : null,
      last_ms: this.events ? this.last : null,
      distinct_pages: this.distinct,
      footprint,
      reuse: {
        accesses: this.accesses,
        reaccesses: this.reaccesses,
        share: this.accesses ? Math.round((this.reaccesses / this.accesses) * 1e4) / 1e4 : 0,
        since_previous: this.reuse.map((count, k) => ({ le_ms: k < REUSE_BOUNDS_MS.length ? REUSE_BOUNDS_MS[k]! : null, count })),
      },
      ...(kernel ? { kernel } : {}),
      ...(this.io.reads || this.io.writes || this.ops[OP_FTRUNCATE] || this.ops[OP_FDELETE]
        ? { file_io: { ...this.io, files: this.filePages.size, distinct_pages: this.fileDistinct } }
        : {}),
    };
  }
}
