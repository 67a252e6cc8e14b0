/**
 * The engine: a virtual clock in ms, the timer queue, the daemons, and the dispatch of
 * trace events to the memory model (SPEC §4.1). A timer due at or before an event's time
 * fires before the event, in (due, creation) order. Same events + same machine + same
 * tunables = the same state, on any machine: no wall clock, one seeded PRNG.
 */
import { DataError, InternalError } from "../errors.js";
import type { Machine } from "../machine/machine.js";
import type { Settings } from "../machine/settings.js";
import { TUNABLE_BY_KEY } from "../machine/tunables.js";
import { checkInvariants } from "../mm/check.js";
import { PAGE_SIZE } from "../mm/constants.js";
import { Memory, type KernelAlloc } from "../mm/memory.js";
import type { Mm } from "../mm/process.js";
import {
  formatBuddyinfo, formatExtfragIndex, formatPagetypeinfo, formatUnusableIndex, formatVmstat, type ZoneView,
} from "../procfs/procfs.js";
import { V } from "../stats/counters.js";
import {
  EventBatch, OPS, OP_ACCESS, OP_ALLOC, OP_COMPACT, OP_EXIT, OP_FREE, OP_MMAP, OP_MUNMAP, OP_READ, OP_SET,
} from "../trace/types.js";
import type { Daemon, EngineContext } from "./daemon.js";
import { TimerQueue, type Timer } from "./event-queue.js";
import { Rng } from "./rng.js";

export interface EngineOptions {
  /** stop at this time, ignoring later events */
  until?: number;
  /** let daemons run this long after the last event */
  drain?: number;
  seed?: number;
  /** run the invariant checker after every event */
  check?: boolean;
  /** count and skip frees of unknown or failed handles instead of failing */
  lenient?: boolean;
  /** extra daemons, booted after the built-in ones (tests) */
  daemons?: Daemon[];
}

export interface ReadRecord {
  time_ms: number;
  key: string;
  cg: string | null;
  node: number | null;
  value: string;
}

/** Files a `read` event can read besides tunables. */
export const READ_FILES = ["vmstat", "buddyinfo", "pagetypeinfo", "extfrag_index", "unusable_index"] as const;
const NOT_YET = ["memory.workingset.page_age", "memory.workingset.reaccess"];

export class Engine implements EngineContext {
  readonly machine: Machine;
  readonly settings: Settings;
  readonly mem: Memory;
  readonly rng: Rng;
  readonly reads: ReadRecord[] = [];
  readonly memcgs = new Set<string>(["/"]);
  private readonly timers = new TimerQueue();
  private nextDue = Infinity;
  private clock = 0;
  private lastEventMs = 0;
  private stopped = false;
  private readonly opts: EngineOptions;
  private file = "";
  private readonly defaultCpu: number;
  private lastMm: Mm | undefined;

  constructor(settings: Settings, opts: EngineOptions = {}) {
    this.machine = settings.machine;
    this.settings = settings;
    this.opts = opts;
    this.rng = new Rng(opts.seed ?? 1);
    this.mem = new Memory(this.machine);
    this.defaultCpu = this.mem.cpuNodes[0]!;
    this.applyWatermarkTunables();
    settings.onChange = (key) => this.tunableChanged(key);
    for (const d of opts.daemons ?? []) d.start(this);
  }

  // --- EngineContext ---

  now(): number {
    return this.clock;
  }

  schedule(delayMs: number, fn: () => void): Timer {
    if (!(delayMs >= 0)) throw new InternalError(`timer scheduled with delay ${delayMs}`);
    const t = this.timers.push(this.clock + delayMs, fn);
    if (t.due < this.nextDue) this.nextDue = t.due;
    return t;
  }

  cancel(t: Timer): void {
    t.cancelled = true;
    this.nextDue = this.timers.peekDue();
  }

  /** Fire every timer due at or before t, then set the clock to t. */
  advanceTo(t: number): void {
    while (this.nextDue <= t) {
      const timer = this.timers.pop()!;
      this.clock = timer.due;
      this.nextDue = this.timers.peekDue();
      timer.fn();
      this.nextDue = this.timers.peekDue();
    }
    if (t > this.clock) this.clock = t;
  }

  // --- tunables with effects ---

  private applyWatermarkTunables(): void {
    const s = this.settings;
    const scale = s.num("vm.watermark_scale_factor");
    const thp = s.str("transparent_hugepage.enabled") !== "never";
    s.setDerived("vm.min_free_kbytes", this.mem.defaultMinFreeKbytes(thp, scale));
    this.mem.setWatermarks(s.num("vm.min_free_kbytes"), scale);
    this.mem.buddy.watermarkBoostFactor = s.num("vm.watermark_boost_factor");
  }

  private tunableChanged(key: string): void {
    switch (key) {
      case "vm.min_free_kbytes":
      case "vm.watermark_scale_factor":
      case "vm.watermark_boost_factor":
      case "transparent_hugepage.enabled":
        this.applyWatermarkTunables();
        break;
    }
  }

  // --- events ---

  get stoppedEarly(): boolean {
    return this.stopped;
  }

  /** Replays a batch. Returns false once an event lies beyond --until (the rest is ignored). */
  processBatch(b: EventBatch, file: string): boolean {
    this.file = file;
    const until = this.opts.until ?? Infinity;
    const check = this.opts.check === true;
    const ev = this.mem.ev;
    for (let i = 0; i < b.n; i++) {
      const t = b.time[i]!;
      if (t > until) {
        this.stopped = true;
        return false;
      }
      if (t >= this.nextDue) this.advanceTo(t);
      else if (t > this.clock) this.clock = t;
      this.lastEventMs = t;
      ev[V.wsim_events]!++;
      if (b.op[i] === OP_ACCESS) this.access(b, i);
      else this.other(b, i);
      if (check) {
        const bad = checkInvariants(this.mem.buddy);
        if (bad) throw new InternalError(`${file}:${b.line[i]}: after this ${OPS[b.op[i]!]} event: invariant broken: ${bad}`);
      }
    }
    return true;
  }

  /** End of the run: timers up to the last event's time (+ --drain, capped by --until). */
  finish(): void {
    let end = this.lastEventMs + (this.opts.drain ?? 0);
    if (this.stopped) end = this.opts.until!;
    else if (this.opts.until !== undefined) end = Math.min(end, this.opts.until);
    this.advanceTo(end);
  }

  private fail(b: EventBatch, i: number, what: string): never {
    throw new DataError(this.file, b.line[i]!, what);
  }

  private access(b: EventBatch, i: number): void {
    const last = this.lastMm;
    const mm = last !== undefined && last.pid === b.pid[i] && b.cg[i]! < 0 && this.mem.procs.get(last.pid) === last ? last : this.mmOf(b, i);
    let cpu = b.node[i]!;
    if (cpu < 0) cpu = this.defaultCpu;
    else this.checkCpuNode(b, i, cpu);
    const vpn = Math.floor(b.addr[i]! / PAGE_SIZE);
    this.mem.procs.access(mm, vpn, b.write[i] === 1, cpu);
  }

  private checkCpuNode(b: EventBatch, i: number, nid: number): void {
    const n = this.machine.nodes[nid];
    if (!n) this.fail(b, i, `node ${nid} does not exist (nodes 0..${this.machine.nodes.length - 1})`);
    if (!n.cpus) this.fail(b, i, `node ${nid} has no CPUs, so no access can come from it`);
  }

  private checkNode(b: EventBatch, i: number): number {
    const nid = b.node[i]!;
    if (nid >= this.machine.nodes.length) this.fail(b, i, `node ${nid} does not exist (nodes 0..${this.machine.nodes.length - 1})`);
    return nid;
  }

  private cgOf(b: EventBatch, i: number): string | null {
    const c = b.cg[i]!;
    if (c < 0) return null;
    const cg = b.strs[c]!;
    if (!this.memcgs.has(cg)) {
      // a memcg is created, with its ancestors, by the first event that names it
      const parts = cg.split("/").filter(Boolean);
      for (let k = 1; k <= parts.length; k++) this.memcgs.add("/" + parts.slice(0, k).join("/"));
    }
    return cg;
  }

  private mmOf(b: EventBatch, i: number): Mm {
    const pid = b.pid[i]!;
    const cg = this.cgOf(b, i);
    let mm = this.mem.procs.get(pid);
    if (!mm) mm = this.mem.procs.create(pid, cg ?? "/");
    else if (cg !== null && cg !== mm.cg)
      this.fail(b, i, `pid ${pid} is in memcg ${mm.cg} since its first event; it cannot move to ${cg}`);
    this.lastMm = mm;
    return mm;
  }

  private pageRange(b: EventBatch, i: number): [number, number] {
    const addr = b.addr[i]!;
    if (addr % PAGE_SIZE !== 0) this.fail(b, i, `${OPS[b.op[i]!]} addr ${addr} is not page-aligned (4096)`);
    return [addr / PAGE_SIZE, Math.ceil(b.len[i]! / PAGE_SIZE)];
  }

  private lenient(b: EventBatch, i: number, what: string): void {
    if (!this.opts.lenient) this.fail(b, i, `${what} (use --lenient to count and skip such events)`);
    this.mem.ev[V.wsim_lenient_skipped]!++;
  }

  private other(b: EventBatch, i: number): void {
    const mem = this.mem;
    switch (b.op[i]) {
      case OP_MMAP: {
        const mm = this.mmOf(b, i);
        const [vpn, n] = this.pageRange(b, i);
        const node = b.node[i]! >= 0 ? this.checkNode(b, i) : -1;
        mem.procs.mmap(mm, vpn, n, b.file[i] === 1, b.thp[i] === 1, node);
        break;
      }
      case OP_MUNMAP: {
        const mm = this.mmOf(b, i);
        const [vpn, n] = this.pageRange(b, i);
        mem.procs.munmap(mm, vpn, n);
        break;
      }
      case OP_EXIT: {
        const mm = mem.procs.get(b.pid[i]!);
        if (!mm) {
          this.lenient(b, i, `exit of pid ${b.pid[i]}, which has no earlier event`);
          break;
        }
        this.cgOf(b, i);
        mem.procs.exit(mm);
        break;
      }
      case OP_ALLOC: {
        const id = b.strs[b.id[i]!]!;
        const prev = mem.kallocs.get(id);
        if (prev) {
          this.lenient(b, i, `handle "${id}" is still allocated; free it before reusing it`);
          break;
        }
        const nid = b.node[i]! >= 0 ? this.checkNode(b, i) : this.defaultCpu;
        mem.kallocs.set(id, mem.kalloc(b.order[i]!, b.mt[i]!, nid));
        break;
      }
      case OP_FREE: {
        const id = b.strs[b.id[i]!]!;
        const a: KernelAlloc | undefined = mem.kallocs.get(id);
        if (!a) this.lenient(b, i, `free of unknown handle "${id}"`);
        else if (a.pfn < 0) {
          mem.kallocs.delete(id);
          this.lenient(b, i, `free of handle "${id}", whose allocation failed`);
        } else {
          mem.kfree(a);
          mem.kallocs.delete(id);
        }
        break;
      }
      case OP_SET: {
        const key = b.strs[b.key[i]!]!;
        const value = b.strs[b.value[i]!]!;
        const cg = this.cgOf(b, i) ?? "/";
        try {
          this.settings.set(key, value, cg);
        } catch (e) {
          this.fail(b, i, (e as Error).message);
        }
        break;
      }
      case OP_READ:
        this.read(b, i);
        break;
      case OP_COMPACT:
        if (b.node[i]! >= 0) this.checkNode(b, i);
        mem.ev[V.wsim_unmodelled_events]!++;
        break;
    }
  }

  private read(b: EventBatch, i: number): void {
    const key = b.strs[b.key[i]!]!;
    const cg = this.cgOf(b, i);
    const node = b.node[i]! >= 0 ? this.checkNode(b, i) : null;
    let value: string;
    if (TUNABLE_BY_KEY.has(key)) value = this.settings.readText(key, cg ?? "/");
    else if (NOT_YET.includes(key)) this.fail(b, i, `read of ${key}: the workingset report is not modelled by this wsim version`);
    else value = this.readFile(key, node) ?? this.fail(b, i, `read: unknown file "${key}" (known: ${READ_FILES.join(", ")}, or a tunable's key)`);
    this.reads.push({ time_ms: this.clock, key, cg, node, value });
  }

  /** The text of a kernel file now, or undefined for an unknown name. */
  readFile(key: string, node: number | null = null): string | undefined {
    const zones = this.zoneViews().filter((z) => node === null || z.nid === node);
    switch (key) {
      case "vmstat":
        return formatVmstat(this.mem.vmstat(), true);
      case "buddyinfo":
        return formatBuddyinfo(zones);
      case "pagetypeinfo":
        return formatPagetypeinfo(zones);
      case "extfrag_index":
        return formatExtfragIndex(zones);
      case "unusable_index":
        return formatUnusableIndex(zones);
    }
    return undefined;
  }

  zoneViews(): ZoneView[] {
    return this.mem.zones.map((z) => ({
      nid: z.nid,
      name: "Normal",
      start: z.start,
      end: z.end,
      nrFree: z.nrFree,
      nrFreeMt: z.nrFreeMt,
      pbMt: this.mem.pages.pbMt,
    }));
  }

  get lastEventTime(): number {
    return this.lastEventMs;
  }
}
