/**
 * What the model tells plugins that observe it (issue 22): plain numbers, at the points the
 * hooks document (src/plugin/api.ts HookMap). The model holds an MmObserver or null; with no
 * plugin observing it is null and each point costs one null check.
 */
export interface MmObserver {
  /** a fault mapped pfn (order 0 or 9) at vpn of pid, from node nid, on a CPU of cpuNid */
  fault(pid: number, vpn: number, pfn: number, order: number, nid: number, cpuNid: number, write: boolean, file: boolean, major: boolean): void;
  /** the buddy allocator handed out a block */
  alloc(pfn: number, order: number, nid: number): void;
  /** a block went back to the buddy allocator */
  free(pfn: number, order: number, nid: number): void;
  /** one shrink_node ran */
  reclaim(nid: number, requested: number, reclaimed: number, kswapd: boolean): void;
  /** the shared migration path moved src to dst */
  migrate(src: number, dst: number, fromNid: number, toNid: number): void;
  /** a promotion (lower tier to the top) succeeded */
  promote(src: number, dst: number, fromNid: number, toNid: number, by: string): void;
}
