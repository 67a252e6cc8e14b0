/**
 * A small SLUB (mm/slub.c, 6.1) for the kernel objects a process's address space costs: the
 * vm_area_struct of every VMA, the anon_vma and anon_vma_chain objects of anonymous ones, and
 * the maple_node objects of the mm's VMA tree. Each cache packs objects of its size into slabs
 * of 2^order pages (calculate_order), allocated through the real page allocator as unmovable
 * GFP_KERNEL pages on the allocating CPU's node (allocate_slab), so they take memory and sit
 * among movable pages as the kernel's do. nr_slab_unreclaimable counts their pages (none of
 * these caches is SLAB_RECLAIM_ACCOUNT).
 *
 * What is mirrored: a CPU slab per CPU node (c->slab) that allocations fill first; partial
 * slabs per node (n->partial), the local node's first, then the other nodes' (get_partial,
 * get_any_partial); a new slab when none has room (new_slab); a free into a full slab puts it
 * on its node's partial list, a free that empties a slab other than a CPU slab discards it
 * (discard_slab) once the node keeps min_partial partial slabs (__slab_free's
 * `!new.inuse && n->nr_partial >= s->min_partial`). What is not: per-CPU partial lists
 * (CONFIG_SLUB_CPU_PARTIAL keeps a few more empty slabs), RCU-delayed frees (maple nodes,
 * SLAB_TYPESAFE_BY_RCU anon_vmas are freed at once here), cache merging (it changes no count)
 * and the memcg obj_cgroup vectors of SLAB_ACCOUNT caches.
 */
import { GFP_DIRECT_RECLAIM, GFP_KERNEL, GFP_KSWAPD_RECLAIM, GFP_NORETRY, MT_UNMOVABLE, PAGE_SIZE } from "./constants.js";
import type { PageAllocator } from "./page-alloc.js";
import { PG_ALLOC, PG_LRU } from "./pages.js";

/** slub_max_order (PAGE_ALLOC_COSTLY_ORDER) */
export const SLUB_MAX_ORDER = 3;
/** MIN_PARTIAL / MAX_PARTIAL (mm/slub.c) */
const MIN_PARTIAL = 5;
const MAX_PARTIAL = 10;

/**
 * The object sizes (s->size, bytes) of the caches wsim models, 6.1 on x86-64 as Debian builds
 * it (SWAP, NUMA, USERFAULTFD, ANON_VMA_NAME; no slub_debug):
 * - vm_area_struct: 152 (include/linux/mm_types.h: vm_start, vm_end, vm_mm, vm_page_prot,
 *   vm_flags 40; the shared/anon_name union 32; anon_vma_chain 16; anon_vma, vm_ops, vm_pgoff,
 *   vm_file, vm_private_data 40; swap_readahead_info, vm_policy, vm_userfaultfd_ctx 24),
 *   KMEM_CACHE(vm_area_struct, SLAB_PANIC|SLAB_ACCOUNT): the free pointer inside the object;
 * - anon_vma: 96 + 8 = 104 (include/linux/rmap.h: root 8, rwsem 40, refcount 4 + 4, num_children,
 *   num_active_vmas, parent 24, rb_root 16; SLAB_TYPESAFE_BY_RCU and a ctor put the free pointer
 *   after the object: calculate_sizes);
 * - anon_vma_chain: 64 (vma, anon_vma, same_vma 16, rb 24, rb_subtree_last 8);
 * - maple_node: 256, aligned to 256 (lib/maple_tree.c maple_tree_init).
 */
export const VM_AREA_STRUCT_SIZE = 152;
export const ANON_VMA_SIZE = 104;
export const ANON_VMA_CHAIN_SIZE = 64;
export const MAPLE_NODE_SIZE = 256;

/** fls: the position of the highest set bit, 1-based (0 for 0). */
function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

/** get_order: the smallest order whose block holds `bytes`. */
function getOrder(bytes: number): number {
  let o = 0;
  while (PAGE_SIZE << o < bytes) o++;
  return o;
}

/** calc_slab_order (slub_min_order 0): the first order from min_objects' with at most 1/fract of it left over. */
function calcSlabOrder(size: number, minObjects: number, maxOrder: number, fract: number): number {
  let order = getOrder(minObjects * size);
  for (; order <= maxOrder; order++) {
    const slabSize = PAGE_SIZE << order;
    if (slabSize % size <= slabSize / fract) break;
  }
  return order;
}

/**
 * calculate_order (mm/slub.c, 6.1) for objects of `size` bytes on a machine of `nrCpus` CPUs
 * (num_present_cpus, or nr_cpu_ids when that is 1): min_objects = 4 * (fls(nr_cpus) + 1),
 * then the lowest order leaving at most 1/16, 1/8, 1/4 of the slab unused, with fewer objects
 * if need be. 152-byte VMAs on up to 16 CPUs: order 0 (26 objects); on 32: order 1.
 */
export function calculateOrder(size: number, nrCpus: number): number {
  const maxObjects = Math.floor((PAGE_SIZE << SLUB_MAX_ORDER) / size);
  let minObjects = Math.min(4 * (fls(Math.max(1, nrCpus)) + 1), maxObjects);
  while (minObjects > 1) {
    for (let fraction = 16; fraction >= 4; fraction /= 2) {
      const order = calcSlabOrder(size, minObjects, SLUB_MAX_ORDER, fraction);
      if (order <= SLUB_MAX_ORDER) return order;
    }
    minObjects--;
  }
  return Math.min(calcSlabOrder(size, 1, SLUB_MAX_ORDER, 1), SLUB_MAX_ORDER);
}

/** A slab: 2^order pages holding `inuse` of the cache's objects. */
export class Slab {
  prev: Slab | null = null;
  next: Slab | null = null;
  inuse = 0;
  onPartial = false;
  /** c->slab of the CPU node it was taken by (frozen: never discarded) */
  cpu = false;
  constructor(
    readonly cache: KmemCache,
    readonly pfn: number,
    readonly nid: number,
    /** the block's order (the minimal fallback order may differ from the cache's) */
    readonly order: number,
  ) {}
}

/** One kmem_cache: its geometry, per-node partial lists and CPU slabs. */
export class KmemCache {
  /** oo_order(s->oo) */
  readonly order: number;
  /** oo_objects(s->oo): objects per slab */
  readonly objects: number;
  /** set_min_partial(s, ilog2(s->size) / 2), clamped to [MIN_PARTIAL, MAX_PARTIAL] */
  readonly minPartial: number;
  /** get_order(size): the fallback order when the preferred one cannot be had (s->min) */
  readonly minOrder: number;
  readonly partialHead: (Slab | null)[];
  readonly partialTail: (Slab | null)[];
  readonly nrPartial: Int32Array;
  /** the CPU slab of each CPU node (null: none yet) */
  readonly cpuSlab: (Slab | null)[];
  /** every slab of the cache (for --check and the counts) */
  readonly slabs = new Set<Slab>();
  /** objects allocated */
  inuse = 0;

  constructor(
    readonly name: string,
    readonly size: number,
    nrNodes: number,
    nrCpus: number,
  ) {
    this.order = calculateOrder(size, nrCpus);
    this.objects = Math.floor((PAGE_SIZE << this.order) / size);
    this.minOrder = getOrder(size);
    this.minPartial = Math.max(MIN_PARTIAL, Math.min(MAX_PARTIAL, Math.floor(Math.log2(size) / 2)));
    this.partialHead = new Array<Slab | null>(nrNodes).fill(null);
    this.partialTail = new Array<Slab | null>(nrNodes).fill(null);
    this.nrPartial = new Int32Array(nrNodes);
    this.cpuSlab = new Array<Slab | null>(nrNodes).fill(null);
  }

  /** add_partial(n, slab, DEACTIVATE_TO_TAIL) */
  addPartial(s: Slab): void {
    const n = s.nid;
    s.prev = this.partialTail[n]!;
    s.next = null;
    if (s.prev) s.prev.next = s;
    else this.partialHead[n] = s;
    this.partialTail[n] = s;
    s.onPartial = true;
    this.nrPartial[n]!++;
  }

  /** remove_partial */
  removePartial(s: Slab): void {
    const n = s.nid;
    if (s.prev) s.prev.next = s.next;
    else this.partialHead[n] = s.next;
    if (s.next) s.next.prev = s.prev;
    else this.partialTail[n] = s.prev;
    s.prev = s.next = null;
    s.onPartial = false;
    this.nrPartial[n]!--;
  }
}

/**
 * The slab allocator: the four caches and the pages they hold. alloc returns the slab an
 * object went to (the caller keeps it to free the object), or null when no page could be had.
 */
export class Slub {
  readonly vmAreaStruct: KmemCache;
  readonly anonVma: KmemCache;
  readonly anonVmaChain: KmemCache;
  readonly mapleNode: KmemCache;
  readonly caches: readonly KmemCache[];
  /** pages held by slabs: nr_slab_unreclaimable */
  pages = 0;

  /**
   * @param alloc the page allocator slabs come from
   * @param nrNodes nodes of the machine (partial lists per node)
   * @param nrCpus CPUs of the machine (calculate_order's min_objects)
   */
  constructor(
    private readonly alloc: PageAllocator,
    nrNodes: number,
    nrCpus: number,
  ) {
    this.vmAreaStruct = new KmemCache("vm_area_struct", VM_AREA_STRUCT_SIZE, nrNodes, nrCpus);
    this.anonVma = new KmemCache("anon_vma", ANON_VMA_SIZE, nrNodes, nrCpus);
    this.anonVmaChain = new KmemCache("anon_vma_chain", ANON_VMA_CHAIN_SIZE, nrNodes, nrCpus);
    this.mapleNode = new KmemCache("maple_node", MAPLE_NODE_SIZE, nrNodes, nrCpus);
    this.caches = [this.vmAreaStruct, this.anonVma, this.anonVmaChain, this.mapleNode];
  }

  /**
   * kmem_cache_alloc(c, GFP_KERNEL) from a CPU of node cpuNid (slab_alloc_node ->
   * ___slab_alloc): the CPU slab, else a partial slab (that node's first, then the others by
   * id), else a new slab. Returns the object's slab, or null (no page: the object is not made).
   */
  allocObject(c: KmemCache, cpuNid: number): Slab | null {
    let s: Slab | null = c.cpuSlab[cpuNid]!;
    if (s === null || s.inuse >= c.objects) {
      // the full CPU slab is left on no list (a full slab); take a partial one or a new one
      if (s !== null) s.cpu = false;
      s = this.getPartial(c, cpuNid) ?? this.newSlab(c, cpuNid);
      c.cpuSlab[cpuNid] = s;
      if (s === null) return null;
      s.cpu = true;
    }
    s.inuse++;
    c.inuse++;
    return s;
  }

  /** get_partial_node of the local node, then get_any_partial: the first partial slab, off its list. */
  private getPartial(c: KmemCache, cpuNid: number): Slab | null {
    const n = c.nrPartial.length;
    for (let k = 0; k < n; k++) {
      const nid = k === 0 ? cpuNid : k <= cpuNid ? k - 1 : k;
      const s = c.partialHead[nid]!;
      if (s !== null) {
        c.removePartial(s);
        return s;
      }
    }
    return null;
  }

  /**
   * allocate_slab: 2^order unmovable pages from the CPU's node; a higher order is tried
   * without reclaim (__GFP_NORETRY, reclaim bits cleared) and the minimal order with GFP_KERNEL.
   */
  private newSlab(c: KmemCache, cpuNid: number): Slab | null {
    let order = c.order;
    let pfn = -1;
    if (order > c.minOrder) pfn = this.alloc.allocPages(order, MT_UNMOVABLE, (GFP_KERNEL & ~(GFP_DIRECT_RECLAIM | GFP_KSWAPD_RECLAIM)) | GFP_NORETRY, cpuNid, cpuNid);
    if (pfn < 0) {
      order = c.minOrder;
      pfn = this.alloc.allocPages(order, MT_UNMOVABLE, GFP_KERNEL, cpuNid, cpuNid);
    }
    if (pfn < 0) return null;
    const s = new Slab(c, pfn, this.alloc.lastZone!.nid, order);
    c.slabs.add(s);
    this.pages += 1 << order;
    return s;
  }

  /**
   * kmem_cache_free of an object of slab s (__slab_free): a full slab goes on its node's
   * partial list; an emptied slab that is not a CPU slab is discarded when the node already
   * keeps min_partial partial slabs.
   */
  freeObject(s: Slab): void {
    const c = s.cache;
    const wasFull = s.inuse === c.objects;
    s.inuse--;
    c.inuse--;
    if (s.cpu) return;
    if (wasFull && !s.onPartial) c.addPartial(s);
    if (s.inuse === 0 && c.nrPartial[s.nid]! >= c.minPartial) {
      c.removePartial(s);
      this.discardSlab(s);
    }
  }

  /** discard_slab -> free_slab: the pages go back to the allocator. */
  private discardSlab(s: Slab): void {
    const order = s.order;
    s.cache.slabs.delete(s);
    this.pages -= 1 << order;
    this.alloc.freePages(s.pfn, order);
  }

  /**
   * --check: every slab's pages are allocated and on no LRU, objects within [0, objects], the
   * partial lists hold exactly the listed slabs, the page count is the slabs', and each cache's
   * object count is what its slabs hold and what the owners hold (`held`: per cache name).
   * Returns what is wrong, or null.
   */
  check(flags: Uint8Array, ownerMm: Int32Array, held: ReadonlyMap<string, number>): string | null {
    let pages = 0;
    for (const c of this.caches) {
      let inuse = 0;
      let onLists = 0;
      for (let nid = 0; nid < c.nrPartial.length; nid++) {
        let n = 0;
        for (let s: Slab | null = c.partialHead[nid]!; s !== null; s = s.next) {
          if (!c.slabs.has(s) || !s.onPartial || s.nid !== nid) return `${c.name}: a slab at pfn ${s.pfn} on node ${nid}'s partial list is not one of the cache's partial slabs there`;
          n++;
        }
        if (n !== c.nrPartial[nid]) return `${c.name}: node ${nid} counts ${c.nrPartial[nid]} partial slabs but lists ${n}`;
        onLists += n;
      }
      let flagged = 0;
      for (const s of c.slabs) {
        const order = s.order;
        for (let p = s.pfn; p < s.pfn + (1 << order); p++)
          if (!(flags[p]! & PG_ALLOC) || flags[p]! & PG_LRU || ownerMm[p]) return `${c.name}: the slab page at pfn ${p} is not an allocated kernel page`;
        if (s.inuse < 0 || s.inuse > c.objects) return `${c.name}: the slab at pfn ${s.pfn} holds ${s.inuse} objects of ${c.objects}`;
        if (s.onPartial) flagged++;
        if (s.onPartial && (s.inuse === c.objects || s.cpu)) return `${c.name}: the slab at pfn ${s.pfn} is on a partial list but is ${s.cpu ? "a CPU slab" : "full"}`;
        inuse += s.inuse;
        pages += 1 << order;
      }
      if (flagged !== onLists) return `${c.name}: ${flagged} slabs say they are partial but the lists hold ${onLists}`;
      if (inuse !== c.inuse) return `${c.name}: counts ${c.inuse} objects but its slabs hold ${inuse}`;
      const h = held.get(c.name) ?? 0;
      if (h !== inuse) return `${c.name}: the slabs hold ${inuse} objects but the processes own ${h}`;
    }
    if (pages !== this.pages) return `nr_slab_unreclaimable is ${this.pages} but the caches hold ${pages} slab pages`;
    return null;
  }
}

/** mt_slots[maple_leaf_64] - 1: a leaf filled by mas_push_data holds split + 1 = 15 entries */
export const MAPLE_LEAF_FILL = 15;
/** MAPLE_ARANGE64_SLOTS (10) - 1: a pushed-into internal node holds 9 children */
export const MAPLE_ARANGE_FILL = 9;

/**
 * The maple_node objects of an mm's VMA tree (MT_FLAGS_ALLOC_RANGE: maple_range_64 leaves of
 * 16 slots, maple_arange_64 internal nodes of 10) holding `entries` ranges (its VMAs and the
 * gaps between them, the last one up to ULONG_MAX). A tree of one to 16 ranges is one leaf.
 * Larger trees are counted as mas_split leaves them when ranges are added in address order (a
 * full node first pushes into its left sibling, which then holds mt_slots - 2 + 1 entries:
 * mas_push_data; mab_calc_split halves otherwise): leaves of 15 ranges, internal nodes of 9
 * children. A tree built in another order has emptier nodes; wsim does not follow that.
 */
export function mapleNodes(entries: number): number {
  if (entries === 0) return 0;
  if (entries <= 16) return 1;
  let n = Math.ceil(entries / MAPLE_LEAF_FILL);
  let total = n;
  while (n > 1) {
    n = n <= 10 ? 1 : Math.ceil(n / MAPLE_ARANGE_FILL);
    total += n;
  }
  return total;
}
