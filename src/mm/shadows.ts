/**
 * Swap entries and shadow entries: what a page-table entry keeps after reclaim took its page.
 * An anon page goes to the machine's swap device (its slot: `swapUsed` of `swapTotal` pages,
 * get_nr_swap_pages() = the difference); a file page is dropped and leaves a shadow. Either way the entry remembers the lruvec and the eviction token (the
 * generation it was evicted from, MGLRU's min_seq) so that a refault can be recognised
 * (workingset_refault) and binned (the reaccess histogram). Slots are reused lowest-first
 * from a free stack, so runs stay deterministic; arrays grow by doubling.
 */
export class Shadows {
  lruvec = new Int32Array(1024);
  token = new Float64Array(1024);
  /** 0 anon (a swap slot), 1 file (a shadow of a dropped page cache page) */
  type = new Uint8Array(1024);
  private freeList: number[] = [];
  private used = 0;
  /** entries in use now */
  inUse = 0;
  /** swap slots in use now (anon entries, including those whose page is in the swap cache) */
  swapUsed = 0;
  /** the swap device's size in pages (total_swap_pages; 0: no swap) */
  swapTotal = 0;
  /** told of each swap slot taken (+1) or freed (-1) with the lruvec it was evicted from (the memcg swap counters) */
  onSwap: ((lruvecId: number, delta: number) => void) | null = null;

  /** get_nr_swap_pages(): free swap slots. */
  get nrSwapPages(): number {
    return this.swapTotal - this.swapUsed;
  }

  alloc(lruvecId: number, token: number, type: number): number {
    let s = this.freeList.pop();
    if (s === undefined) {
      s = this.used++;
      if (s >= this.token.length) this.grow();
    }
    this.lruvec[s] = lruvecId;
    this.token[s] = token;
    this.type[s] = type;
    this.inUse++;
    if (type === 0) {
      this.swapUsed++;
      if (this.onSwap !== null) this.onSwap(lruvecId, 1);
    }
    return s;
  }

  /**
   * swap_duplicate (copy_nonpresent_pte at fork, try_to_unmap of a page several mms map): one
   * more page table references the swap entry; free() drops one reference, the slot goes with
   * the last. Kept in a side table, for shared entries only.
   */
  dup(slot: number): void {
    this.dups.set(slot, (this.dups.get(slot) ?? 0) + 1);
    this.dupRefs++;
  }

  /** swap counts above one, by slot (swap_map's count less one) */
  private readonly dups = new Map<number, number>();
  /** the sum of dups: page-table references beyond the first to the entries in use */
  dupRefs = 0;

  /** swap_free / a shadow dropped: one reference goes; the entry with its last (an anon one frees its swap slot). */
  free(slot: number): void {
    if (this.dupRefs !== 0) {
      const d = this.dups.get(slot);
      if (d !== undefined) {
        if (d === 1) this.dups.delete(slot);
        else this.dups.set(slot, d - 1);
        this.dupRefs--;
        return;
      }
    }
    this.freeList.push(slot);
    this.inUse--;
    if (this.type[slot] === 0) {
      this.swapUsed--;
      if (this.onSwap !== null) this.onSwap(this.lruvec[slot]!, -1);
    }
  }

  private grow(): void {
    const n = this.token.length * 2;
    const l = new Int32Array(n);
    l.set(this.lruvec);
    this.lruvec = l;
    const t = new Float64Array(n);
    t.set(this.token);
    this.token = t;
    const y = new Uint8Array(n);
    y.set(this.type);
    this.type = y;
  }
}
