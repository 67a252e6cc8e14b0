/**
 * Intrusive doubly linked lists in typed arrays, as include/linux/list.h's list_head: an
 * item's links are next[i] and prev[i], a list's ends head[li] and tail[li], -1 for none.
 * The buddy free lists (pfns of free blocks) and the lru_gen generation lists (pfns of pages)
 * both use them. An item's own links are left as they were by listDel.
 */
export interface ListLinks {
  readonly next: Int32Array;
  readonly prev: Int32Array;
}

/** list_add: i becomes the head of list li. */
export function listAdd(l: ListLinks, head: Int32Array, tail: Int32Array, li: number, i: number): void {
  const h = head[li]!;
  l.next[i] = h;
  l.prev[i] = -1;
  if (h < 0) tail[li] = i;
  else l.prev[h] = i;
  head[li] = i;
}

/** list_add_tail: i becomes the tail of list li. */
export function listAddTail(l: ListLinks, head: Int32Array, tail: Int32Array, li: number, i: number): void {
  const t = tail[li]!;
  l.prev[i] = t;
  l.next[i] = -1;
  if (t < 0) head[li] = i;
  else l.next[t] = i;
  tail[li] = i;
}

/** list_add_tail(new, pos): i goes just before pos, which is on list li. */
export function listAddBefore(l: ListLinks, head: Int32Array, li: number, pos: number, i: number): void {
  const pv = l.prev[pos]!;
  l.prev[i] = pv;
  l.next[i] = pos;
  l.prev[pos] = i;
  if (pv < 0) head[li] = i;
  else l.next[pv] = i;
}

/** list_del: takes i off list li. */
export function listDel(l: ListLinks, head: Int32Array, tail: Int32Array, li: number, i: number): void {
  const nx = l.next[i]!;
  const pv = l.prev[i]!;
  if (pv < 0) head[li] = nx;
  else l.next[pv] = nx;
  if (nx < 0) tail[li] = pv;
  else l.prev[nx] = pv;
}

/** list_replace: i takes old's place on list li. */
export function listReplace(l: ListLinks, head: Int32Array, tail: Int32Array, li: number, old: number, i: number): void {
  const nx = l.next[old]!;
  const pv = l.prev[old]!;
  l.next[i] = nx;
  l.prev[i] = pv;
  if (pv < 0) head[li] = i;
  else l.next[pv] = i;
  if (nx < 0) tail[li] = i;
  else l.prev[nx] = i;
}

/** list_rotate_to_front: the items before `first`, in order, move to the tail of list li. */
export function listRotateToFront(l: ListLinks, head: Int32Array, tail: Int32Array, li: number, first: number): void {
  const h = head[li]!;
  if (h === first || h < 0) return;
  const last = l.prev[first]!; // the end of the moved prefix
  const t = tail[li]!;
  // detach [h..last], attach after t
  l.prev[first] = -1;
  head[li] = first;
  l.next[t] = h;
  l.prev[h] = t;
  l.next[last] = -1;
  tail[li] = last;
}
