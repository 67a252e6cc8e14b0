/**
 * Memory cgroups as paths (`/`, `/a`, `/a/b`). A memcg is created, on every node, by the
 * first event that names it (the root at t = 0), with its ancestors; each has one lruvec per
 * node and, per node, the workingset report's settings and state (RFC v3's memcg files).
 * Iteration is mem_cgroup_iter's pre-order: a memcg, then its children in creation order.
 */
import type { LruGen, Lruvec } from "./lru-gen.js";

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
