/**
 * The simulated kernel's memory: the pages arrays, one zone per node, the buddy allocator,
 * the __alloc_pages path, processes, and kernel allocations by handle. It knows nothing of
 * time, traces or output; the engine drives it.
 */
import type { Machine } from "../machine/machine.js";
import { cpuNodes, zonelist } from "../machine/machine.js";
import { NR_COUNTERS, V } from "../stats/counters.js";
import { Buddy, FPI_TO_TAIL, Zone } from "./buddy.js";
import { GFP_KERNEL, MAX_ORDER } from "./constants.js";
import { PageAllocator } from "./page-alloc.js";
import { PageArrays } from "./pages.js";
import { ProcessTable } from "./process.js";
import { defaultMinFreeKbytes, setupZoneWatermarks } from "./watermarks.js";

export interface KernelAlloc {
  pfn: number; // -1 when the allocation failed
  order: number;
}

export class Memory {
  readonly machine: Machine;
  readonly pages: PageArrays;
  readonly zones: Zone[];
  readonly buddy: Buddy;
  readonly alloc: PageAllocator;
  readonly procs: ProcessTable;
  /** event counters, indexed by V.* */
  readonly ev = new Float64Array(NR_COUNTERS);
  readonly ownerMm: Int32Array;
  readonly ownerVpn: Float64Array;
  /** kernel allocations by handle */
  readonly kallocs = new Map<string, KernelAlloc>();
  kernelPages = 0;
  readonly cpuNodes: number[];
  /** a node's CPU node for allocations made "from" it: itself if it has CPUs, else the first CPU node */
  readonly localCpu: Int32Array;

  constructor(machine: Machine) {
    this.machine = machine;
    const total = machine.nodes.reduce((s, n) => s + n.mem, 0);
    this.pages = new PageArrays(total);
    let start = 0;
    this.zones = machine.nodes.map((n) => {
      const z = new Zone(n.id, start, n.mem);
      start += n.mem;
      return z;
    });
    this.buddy = new Buddy(this.pages, this.zones);
    const zl = machine.nodes.map((n) => zonelist(machine, n.id));
    this.alloc = new PageAllocator(this.buddy, zl, this.ev);
    this.ownerMm = new Int32Array(total);
    this.ownerVpn = new Float64Array(total);
    this.procs = new ProcessTable({ alloc: this.alloc, ev: this.ev, ownerMm: this.ownerMm, ownerVpn: this.ownerVpn });
    this.cpuNodes = cpuNodes(machine);
    this.localCpu = Int32Array.from(machine.nodes, (n) => (n.cpus ? n.id : this.cpuNodes[0]!));
    for (const z of this.zones) this.freeBootMemory(z);
  }

  /**
   * memblock_free_all -> __free_pages_memory: hand each node's range to the buddy allocator
   * in the largest aligned blocks, FPI_TO_TAIL, ascending pfn. Boot frees are not counted
   * in pgfree: counters start at zero after boot.
   */
  private freeBootMemory(z: Zone): void {
    let s = z.start;
    while (s < z.end) {
      let order = s === 0 ? MAX_ORDER - 1 : Math.min(MAX_ORDER - 1, ctz(s));
      while (s + (1 << order) > z.end) order--;
      this.buddy.freeOnePage(z, s, order, this.pages.pageblockMt(s), FPI_TO_TAIL);
      s += 1 << order;
    }
  }

  /** setup_per_zone_wmarks with min_free_kbytes and watermark_scale_factor. */
  setWatermarks(minFreeKbytes: number, scaleFactor: number): void {
    setupZoneWatermarks(this.zones, minFreeKbytes, scaleFactor);
  }

  defaultMinFreeKbytes(thpEnabled: boolean, scaleFactor: number): number {
    return defaultMinFreeKbytes(this.zones, thpEnabled, scaleFactor);
  }

  /** A kernel allocation (GFP_KERNEL with a migratetype) from a CPU of `cpuNid`. */
  kalloc(order: number, mt: number, prefNid: number): KernelAlloc {
    const pfn = this.alloc.allocPages(order, mt, GFP_KERNEL, prefNid, this.localCpu[prefNid]!);
    if (pfn < 0) this.ev[V.wsim_alloc_fail]!++;
    else this.kernelPages += 1 << order;
    return { pfn, order };
  }

  kfree(a: KernelAlloc): void {
    if (a.pfn < 0) return;
    this.alloc.freePages(a.pfn, a.order);
    this.kernelPages -= 1 << a.order;
  }

  freePages(): number {
    let s = 0;
    for (const z of this.zones) s += z.freePages;
    return s;
  }

  /** Counters with the gauges filled in from the current state, in COUNTER_NAMES order. */
  vmstat(): Float64Array {
    const v = Float64Array.from(this.ev);
    const anon = this.procs.nrAnon;
    const file = this.procs.nrFile;
    v[V.nr_free_pages] = this.freePages();
    v[V.nr_zone_inactive_anon] = anon;
    v[V.nr_zone_inactive_file] = file;
    v[V.nr_inactive_anon] = anon;
    v[V.nr_inactive_file] = file;
    v[V.nr_anon_pages] = anon;
    v[V.nr_mapped] = file;
    v[V.nr_file_pages] = file;
    v[V.wsim_kernel_pages] = this.kernelPages;
    return v;
  }
}

function ctz(x: number): number {
  let n = 0;
  while (x % 2 === 0 && n < 31) {
    x /= 2;
    n++;
  }
  return n;
}
