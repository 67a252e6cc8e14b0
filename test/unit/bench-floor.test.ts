/** The bench's floors (src/bench/floor.ts): the model-free access loop and the first-touch probe. */
import { describe, expect, it } from "vitest";
import { accessFloor, firstTouchMicros } from "../../src/bench/floor.js";
import { readCsv } from "../../src/trace/csv.js";
import { EventBatch } from "../../src/trace/types.js";
import { chunksOf } from "../helpers.js";

async function batchesOf(text: string): Promise<EventBatch[]> {
  const out: EventBatch[] = [];
  for await (const b of readCsv(chunksOf(text), "t.csv")) out.push(new EventBatch(b.buffer.slice(0), b.n, [...b.strs]));
  return out;
}

describe("bench floor", () => {
  it("runs the access events only, across batches, whatever the pids and addresses", async () => {
    // 3 accesses of two pids (one page twice, one beyond 2^32), an mmap and an exit: 3 accesses;
    // then 5000 more (a second batch), cycling over 8 pages of a machine of 4 pages (pfns wrap)
    let text = "time_ms,op,pid,addr,rw\n0,mmap,1,0x1000,\n0,access,1,0x1000,r\n1,access,1,0x1000,w\n1,access,2,0x7fff00001000,r\n2,exit,2,,\n";
    for (let i = 0; i < 5000; i++) text += `3,access,3,${(i % 8) * 4096},r\n`;
    const batches = await batchesOf(text);
    expect(batches.length).toBe(2);
    const r = accessFloor(batches, 4);
    expect(r.accesses).toBe(5003);
    expect(r.seconds).toBeGreaterThan(0);
  });

  it("measures a first touch of fresh memory in µs a page", () => {
    const us = firstTouchMicros(4);
    expect(us).toBeGreaterThan(0);
    expect(us).toBeLessThan(10_000);
  });
});
