/** The list_head operations the buddy free lists and lru_gen share, on one list of 8 items. */
import { describe, expect, it } from "vitest";
import { listAdd, listAddBefore, listAddTail, listDel, listNext, listPrev, listReplace, listRotateToFront } from "../../../src/mm/list.js";
import { PageArrays } from "../../../src/mm/pages.js";
import { quietEngine } from "../../helpers.js";

function fixture() {
  const l = { next: new Int32Array(8), prev: new Int32Array(8), shift: 0 };
  const head = new Int32Array([-1, -1]);
  const tail = new Int32Array([-1, -1]);
  /** list 1, both ways: forward order, and backward order reversed (they must agree) */
  const items = () => {
    const fwd: number[] = [];
    for (let i = head[1]!; i >= 0; i = l.next[i]!) fwd.push(i);
    const back: number[] = [];
    for (let i = tail[1]!; i >= 0; i = l.prev[i]!) back.unshift(i);
    expect(back).toEqual(fwd);
    return fwd;
  };
  return { l, head, tail, items };
}

describe("intrusive lists", () => {
  it("add at the head or tail, before an item, delete, replace", () => {
    const { l, head, tail, items } = fixture();
    listAdd(l, head, tail, 1, 3);
    listAdd(l, head, tail, 1, 2);
    listAddTail(l, head, tail, 1, 5);
    expect(items()).toEqual([2, 3, 5]);
    listAddBefore(l, head, 1, 2, 0); // before the head: becomes the head
    listAddBefore(l, head, 1, 5, 4);
    expect(items()).toEqual([0, 2, 3, 4, 5]);
    listDel(l, head, tail, 1, 0);
    listDel(l, head, tail, 1, 5);
    listDel(l, head, tail, 1, 3);
    expect(items()).toEqual([2, 4]);
    listReplace(l, head, tail, 1, 2, 7);
    listReplace(l, head, tail, 1, 4, 6);
    expect(items()).toEqual([7, 6]);
    listDel(l, head, tail, 1, 7);
    listDel(l, head, tail, 1, 6);
    expect(items()).toEqual([]);
    expect([head[0], tail[0]]).toEqual([-1, -1]); // the other list was never touched
  });

  it("rotates the items before one to the tail, keeping their order", () => {
    const { l, head, tail, items } = fixture();
    for (const i of [0, 1, 2, 3, 4]) listAddTail(l, head, tail, 1, i);
    listRotateToFront(l, head, tail, 1, 3);
    expect(items()).toEqual([3, 4, 0, 1, 2]);
    listRotateToFront(l, head, tail, 1, 3); // already the head
    expect(items()).toEqual([3, 4, 0, 1, 2]);
  });

  it("items aligned to 2^shift keep their links at item >> shift", () => {
    // items 0, 1024, 3072 (order-10 pfns) in arrays of 4: links at 0, 1, 3
    const l = { next: new Int32Array(4).fill(7), prev: new Int32Array(4).fill(7), shift: 10 };
    const head = new Int32Array([-1]);
    const tail = new Int32Array([-1]);
    listAddTail(l, head, tail, 0, 1024);
    listAdd(l, head, tail, 0, 0);
    listAddTail(l, head, tail, 0, 3072);
    expect([...l.next]).toEqual([1024, 3072, 7, -1]);
    expect([...l.prev]).toEqual([-1, 0, 7, 1024]);
    expect([head[0], tail[0]]).toEqual([0, 3072]);
    expect(listNext(l, 1024)).toBe(3072);
    expect(listPrev(l, 1024)).toBe(0);
    listDel(l, head, tail, 0, 1024);
    expect(listNext(l, 0)).toBe(3072);
    expect(listPrev(l, 3072)).toBe(0);
    listRotateToFront(l, head, tail, 0, 3072);
    expect([head[0], tail[0], listNext(l, 3072), listNext(l, 0)]).toEqual([3072, 0, 0, -1]);
  });

  it("a machine of free order-10 blocks writes no per-pfn link or list migratetype (PageArrays.linksOf)", () => {
    const p = new PageArrays(5000);
    // ceil(5000 / 1024) = 5 blocks' links
    expect(p.top.next.length).toBe(5);
    expect(p.linksOf(10)).toBe(p.top);
    expect(p.linksOf(9)).toBe(p);
    p.setListMt(2048, 10, 2);
    p.setListMt(2048, 9, 1);
    expect([p.topMt[2], p.listMt[2048], p.listMtOf(2048, 10), p.listMtOf(2048, 9)]).toEqual([2, 1, 2, 1]);
    // 64 MiB, one node: its zones' free memory is order-10 blocks but for the zone edges
    const e = quietEngine(16384);
    const pages = e.mem.buddy.pages;
    const written = (a: Int32Array | Uint8Array) => a.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
    let low = 0;
    for (const z of e.mem.buddy.zones) for (let o = 0; o < 10; o++) low += z.nrFree[o]!;
    // only blocks below order 10 (the zone edges' and the boot allocations' remainders) link through next/prev
    expect(written(pages.next) + written(pages.prev)).toBeLessThanOrEqual(2 * low);
    expect(written(pages.top.next) + written(pages.top.prev)).toBeGreaterThan(0);
  });
});
