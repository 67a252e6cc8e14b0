/**
 * Memory cgroups as paths (`/`, `/a`, `/a/b`). A memcg is created, on every node, by the
 * first event that names it (the root at t = 0), with its ancestors; each has one lruvec per
 * node and, per node, the workingset report's settings and state (RFC v3's memcg files).
 * Iteration is mem_cgroup_iter's pre-order: a memcg, then its children in creation order.
 */
import type { LruGen, Lruvec } from "./lru-gen.js";
import { UNEVICTABLE_LI } from "./lru-gen.js";

/** PAGE_COUNTER_MAX: a limit of `max` (pages) */
export const PAGE_COUNTER_MAX = Infinity;
/** memory.events in 6.1's order (enum memcg_memory_event: MEMCG_LOW ... MEMCG_OOM_GROUP_KILL) */
export const MEMCG_EVENTS = ["low", "high", "max", "oom", "oom_kill", "oom_group_kill"] as const;
export const MEMCG_LOW = 0;
export const MEMCG_HIGH = 1;
export const MEMCG_MAX = 2;
export const MEMCG_OOM = 3;
export const MEMCG_OOM_KILL = 4;
/** memory.swap.events (MEMCG_SWAP_HIGH, MEMCG_SWAP_MAX, MEMCG_SWAP_FAIL) */
export const MEMCG_SWAP_EVENTS = ["high", "max", "fail"] as const;
export const MEMCG_SWAP_MAX = 1;
export const MEMCG_SWAP_FAIL = 2;
/** per-memcg vm events wsim counts (memory.stat): indexes into Memcg.vmev */
export const MEMCG_VMEV = ["pgscan_kswapd", "pgscan_direct", "pgsteal_kswapd", "pgsteal_direct"] as const;

/** The workingset report of one memcg on one node (struct wsr_state). */
export class WsrState {
  /** page_age_intervals in ms (empty: no report) */
  intervals: number[] = [];
  reaccessIntervals: number[] = [];
  /** ms; 0 = never refresh */
  refreshInterval = 0;
  /** the page_age histogram: pages per bin (intervals.length + 1 bins), anon and file */
  pageAgeAnon: number[] = [];
  pageAgeFile: number[] = [];
  /** jiffies of the last aggregation; null = never made */
  timestamp: number | null = null;
  /** the reaccess histogram (pages) */
  reaccessAnon: number[] = [];
  reaccessFile: number[] = [];

  /** page_age exists (the RFC allocates it with a non-zero refresh_interval; wsim: intervals set) */
  get hasPageAge(): boolean {
    return this.intervals.length > 0;
  }

  /** kagingd refreshes this one */
  get configured(): boolean {
    return this.refreshInterval > 0 && this.intervals.length > 0;
  }

  setIntervals(v: number[]): void {
    this.intervals = v;
    this.pageAgeAnon = new Array<number>(v.length + 1).fill(0);
    this.pageAgeFile = new Array<number>(v.length + 1).fill(0);
    this.timestamp = null;
  }

  setReaccessIntervals(v: number[]): void {
    this.reaccessIntervals = v;
    this.reaccessAnon = new Array<number>(v.length + 1).fill(0);
    this.reaccessFile = new Array<number>(v.length + 1).fill(0);
  }
}

export class Memcg {
  readonly children: Memcg[] = [];
  readonly lruvecs: Lruvec[];
  readonly wsr: WsrState[];
  /** cgroup v2 limits in pages (memory.max, .high, .low, .min, .swap.max; PAGE_COUNTER_MAX = `max`) */
  max = PAGE_COUNTER_MAX;
  high = PAGE_COUNTER_MAX;
  low = 0;
  min = 0;
  swapMax = PAGE_COUNTER_MAX;
  /** memory.events (hierarchical) and memory.events.local, MEMCG_EVENTS order */
  readonly events = new Float64Array(MEMCG_EVENTS.length);
  readonly eventsLocal = new Float64Array(MEMCG_EVENTS.length);
  /** memory.swap.events (hierarchical), MEMCG_SWAP_EVENTS order */
  readonly swapEvents = new Float64Array(MEMCG_SWAP_EVENTS.length);
  /** pages pre-charged to this memcg in per-cpu stocks (memcg_stock_pcp), counted in its usage */
  stock = 0;
  /** swap slots charged to this memcg itself (its page_counter swap, without descendants) */
  swapLocal = 0;
  /** memcg vm events of this memcg itself (MEMCG_VMEV order; memory.stat sums the subtree) */
  readonly vmev = new Float64Array(MEMCG_VMEV.length);
  /** memory.peak: the largest memory.current seen at a charge (pages) */
  peak = 0;
  /** effective protection (pages) of the last reclaim walk (mem_cgroup_calculate_protection) */
  emin = 0;
  elow = 0;
  constructor(
    readonly id: number,
    readonly path: string,
    readonly parent: Memcg | null,
    lru: LruGen,
    nrNodes: number,
    now: number,
  ) {
    this.lruvecs = Array.from({ length: nrNodes }, (_, nid) => lru.newLruvec(nid, this, now));
    this.wsr = Array.from({ length: nrNodes }, () => new WsrState());
  }

  /** this memcg and its descendants, pre-order */
  subtree(out: Memcg[] = []): Memcg[] {
    out.push(this);
    for (const c of this.children) c.subtree(out);
    return out;
  }

  /** pages on this memcg's own lruvecs (every node, the unevictable lists included) */
  localPages(): number {
    let n = 0;
    for (const lv of this.lruvecs) n += lv.total[0]! + lv.total[1]! + lv.count[UNEVICTABLE_LI]!;
    return n;
  }

  /**
   * page_counter_read(&memcg->memory): pages charged to this memcg and its descendants: the
   * pages on the subtree's lruvecs and the pages pre-charged in per-cpu stocks.
   */
  usage(): number {
    let n = this.localPages() + this.stock;
    for (const c of this.children) n += c.usage();
    return n;
  }

  /** page_counter_read(&memcg->swap): swap slots charged to this memcg and its descendants */
  swapUsage(): number {
    let n = this.swapLocal;
    for (const c of this.children) n += c.swapUsage();
    return n;
  }

  /** memcg_memory_event: the local counter, then the hierarchical one of it and each ancestor up to (not including) the root */
  event(e: number): void {
    this.eventsLocal[e]!++;
    for (let m: Memcg | null = this; m !== null && m.parent !== null; m = m.parent) m.events[e]!++;
  }

  /** memcg_memory_event for the swap events (MEMCG_SWAP_*), hierarchical */
  swapEvent(e: number): void {
    for (let m: Memcg | null = this; m !== null && m.parent !== null; m = m.parent) m.swapEvents[e]!++;
  }

  /** this memcg and its ancestors up to the root */
  *ancestry(): Generator<Memcg> {
    for (let m: Memcg | null = this; m; m = m.parent) yield m;
  }
}

export class MemcgTree {
  readonly byPath = new Map<string, Memcg>();
  readonly all: Memcg[] = [];
  /** every memcg's lruvec on each node, in creation order */
  readonly lruvecsByNode: Lruvec[][];
  readonly root: Memcg;

  constructor(
    private readonly lru: LruGen,
    private readonly nrNodes: number,
  ) {
    this.lruvecsByNode = Array.from({ length: nrNodes }, () => []);
    this.root = this.make("/", null, 0);
  }

  private make(path: string, parent: Memcg | null, now: number): Memcg {
    const m = new Memcg(this.all.length, path, parent, this.lru, this.nrNodes, now);
    this.all.push(m);
    m.lruvecs.forEach((lv, nid) => this.lruvecsByNode[nid]!.push(lv));
    this.byPath.set(path, m);
    parent?.children.push(m);
    return m;
  }

  /** The memcg at path, created (with its ancestors) at `now` if new. */
  ensure(path: string, now: number): Memcg {
    const got = this.byPath.get(path);
    if (got) return got;
    const cut = path.lastIndexOf("/");
    const parent = this.ensure(cut === 0 ? "/" : path.slice(0, cut), now);
    return this.make(path, parent, now);
  }

  get(path: string): Memcg | undefined {
    return this.byPath.get(path);
  }
}
