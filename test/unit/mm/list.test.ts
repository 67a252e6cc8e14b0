/** The list_head operations the buddy free lists and lru_gen share, on one list of 8 items. */
import { describe, expect, it } from "vitest";
import { listAdd, listAddBefore, listAddTail, listDel, listReplace, listRotateToFront } from "../../../src/mm/list.js";

function fixture() {
  const l = { next: new Int32Array(8), prev: new Int32Array(8) };
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
});
