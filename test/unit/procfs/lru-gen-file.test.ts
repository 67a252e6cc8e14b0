/**
 * /sys/kernel/debug/lru_gen (lru_gen_seq_show, mm/vmscan.c 6.1): the format against a file a
 * real 6.1 printed, and the engine's content on a small trace with hand-computed generations.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatLruGen } from "../../../src/procfs/procfs.js";
import { quietEngine, runCsv } from "../../helpers.js";

const sample = readFileSync(new URL("../../fixtures/kernel-samples/lru_gen.txt", import.meta.url), "utf8");

describe("formatLruGen", () => {
  it("prints a real 6.1 guest's file byte for byte from its numbers", () => {
    const gens = [
      { seq: 3, ageMs: 2952, anon: 3872, file: 0 },
      { seq: 4, ageMs: 660, anon: 0, file: 3 },
      { seq: 5, ageMs: 656, anon: 3099, file: 838 },
      { seq: 6, ageMs: 4, anon: 15, file: 0 },
    ];
    expect(formatLruGen([{ id: 1, path: "/", lruvecs: [{ nid: 0, gens }] }])).toBe(sample);
  });

  it("names a memcg once, on its first node, and every node after it", () => {
    const g = [{ seq: 0, ageMs: 1, anon: 2, file: 3 }];
    expect(formatLruGen([{ id: 2, path: "/a", lruvecs: [{ nid: 0, gens: g }, { nid: 1, gens: g }] }])).toBe(
      "memcg     2 /a\n node     0\n          0          1          2           3 \n node     1\n          0          1          2           3 \n",
    );
  });
});

describe("read lru_gen", () => {
  it("shows each memcg's generations: faulted pages in max_seq, ids in creation order, ages in virtual ms", async () => {
    // lru_gen_init_lruvec: max_seq = MIN_NR_GENS + 1 = 3, min_seq 0, all four born at the memcg's
    // creation; a page faulted in goes to max_seq (folio_add_lru sets it active in a fault)
    const e = quietEngine(4096);
    await runCsv(
      e,
      "time_ms,op,pid,addr,len,rw,cg,key\n" +
        "0,mmap,1,0x10000000,16384,,/a,\n" +
        "5,access,1,0x10000000,,w,,\n" +
        "5,access,1,0x10001000,,r,,\n" +
        "5,access,1,0x10002000,,w,,\n" +
        "12,read,,,,,,lru_gen\n",
    );
    const text = e.reads.find((x) => x.key === "lru_gen")!.value;
    const lines = text.split("\n");
    // the root (id 1, born at 0), then /a (id 2, born at its mmap at 0): four generations each
    expect(lines[0]).toBe("memcg     1 /");
    expect(lines[1]).toBe(" node     0");
    const a = lines.indexOf("memcg     2 /a");
    expect(a).toBe(6);
    expect(lines.slice(a + 1, a + 6)).toEqual([
      " node     0",
      "          0         12          0           0 ",
      "          1         12          0           0 ",
      "          2         12          0           0 ",
      "          3         12          3           0 ",
    ]);
  });
});
