/**
 * Intrusive doubly linked lists in typed arrays, as include/linux/list.h's list_head: an
 * item's links are next[i >> shift] and prev[i >> shift], a list's ends head[li] and tail[li],
 * -1 for none. Items are pfns. The buddy free lists (pfns of free blocks) and the lru_gen
 * generation lists (pfns of pages) both use them. `shift` lets every item of a list whose items
 * are aligned to 2^shift pfns keep its links in arrays 2^shift times shorter: the free lists of
 * MAX_ORDER - 1 blocks (PageArrays.linksOf), so a machine of wholly free order-10 blocks writes
 * no per-pfn link (issue 20 item 4: the host commits a per-pfn array's memory only where it is
 * written). An item's own links are left as they were by listDel.
 */
export interface ListLinks {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** items are multiples of 2^shift; their links are at item >> shift */
  readonly shift: number;
}

/** list_add: i becomes the head of list li. */
export function listAdd(l: ListLinks, head: Int32Array, tail: Int32Array, li: number, i: number): void {
  const s = l.shift;
  const h = head[li]!;
  l.next[i >> s] = h;
  l.prev[i >> s] = -1;
  if (h < 0) tail[li] = i;
  else l.prev[h >> s] = i;
  head[li] = i;
}

/** list_add_tail: i becomes the tail of list li. */
export function listAddTail(l: ListLinks, head: Int32Array, tail: Int32Array, li: number, i: number): void {
  const s = l.shift;
  const t = tail[li]!;
  l.prev[i >> s] = t;
  l.next[i >> s] = -1;
  if (t < 0) head[li] = i;
  else l.next[t >> s] = i;
  tail[li] = i;
}

/** list_add_tail(new, pos): i goes just before pos, which is on list li. */
export function listAddBefore(l: ListLinks, head: Int32Array, li: number, pos: number, i: number): void {
  const s = l.shift;
  const pv = l.prev[pos >> s]!;
  l.prev[i >> s] = pv;
  l.next[i >> s] = pos;
  l.prev[pos >> s] = i;
  if (pv < 0) head[li] = i;
  else l.next[pv >> s] = i;
}

/** list_del: takes i off list li. */
export function listDel(l: ListLinks, head: Int32Array, tail: Int32Array, li: number, i: number): void {
  const s = l.shift;
  const nx = l.next[i >> s]!;
  const pv = l.prev[i >> s]!;
  if (pv < 0) head[li] = nx;
  else l.next[pv >> s] = nx;
  if (nx < 0) tail[li] = pv;
  else l.prev[nx >> s] = pv;
}

/** list_replace: i takes old's place on list li. */
export function listReplace(l: ListLinks, head: Int32Array, tail: Int32Array, li: number, old: number, i: number): void {
  const s = l.shift;
  const nx = l.next[old >> s]!;
  const pv = l.prev[old >> s]!;
  l.next[i >> s] = nx;
  l.prev[i >> s] = pv;
  if (pv < 0) head[li] = i;
  else l.next[pv >> s] = i;
  if (nx < 0) tail[li] = i;
  else l.prev[nx >> s] = i;
}

/** list_rotate_to_front: the items before `first`, in order, move to the tail of list li. */
export function listRotateToFront(l: ListLinks, head: Int32Array, tail: Int32Array, li: number, first: number): void {
  const s = l.shift;
  const h = head[li]!;
  if (h === first || h < 0) return;
  const last = l.prev[first >> s]!; // the end of the moved prefix
  const t = tail[li]!;
  // detach [h..last], attach after t
  l.prev[first >> s] = -1;
  head[li] = first;
  l.next[t >> s] = h;
  l.prev[h >> s] = t;
  l.next[last >> s] = -1;
  tail[li] = last;
}

/** The item after i on its list (-1: none). */
export function listNext(l: ListLinks, i: number): number {
  return l.next[i >> l.shift]!;
}

/** The item before i on its list (-1: none). */
export function listPrev(l: ListLinks, i: number): number {
  return l.prev[i >> l.shift]!;
}
