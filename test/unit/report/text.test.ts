/**
 * Issue 19 item 3, the text output: sizes beside the free pages of each order, and page_age
 * drawn as columns with each bin under its bars. Worked out by hand.
 */
import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import { buildResult } from "../../../src/engine/result.js";
import { pageAgeColumns, renderText } from "../../../src/report/text.js";
import { engineFor, runCsv, smallMachine } from "../../helpers.js";

const plain = new Chalk({ level: 0 });
const K = 1024;

describe("page_age as columns", () => {
  it("heights linear in bytes (tallest bin 8 rows), a non-empty bin at least one row, bins and sizes under", () => {
    // kernel view 8M, 0, 1M; exact 2M, 4M, 3M: the max is 8M, so heights 8,0,1 and 2,4,3
    const M = 1024 * K;
    const kernel = [{ le_ms: 1000, anon: 8 * M, file: 0 }, { le_ms: 5000, anon: 0, file: 0 }, { le_ms: null, anon: 0, file: M }];
    const exact = [{ le_ms: 1000, anon: 2 * M, file: 0 }, { le_ms: 5000, anon: 3 * M, file: M }, { le_ms: null, anon: 3 * M, file: 0 }];
    const lines = pageAgeColumns(kernel, exact, plain);
    expect(lines).toHaveLength(10);
    // columns 11 wide: the longest text under a bar, "8.0M|2.0M", is 9, + 2
    const col = (k: boolean, e: boolean) => (k ? "██" : "  ") + " " + (e ? "▒▒" : "  ") + " ".repeat(6);
    const row = (...cells: [boolean, boolean][]) => ("  " + cells.map(([k, e]) => col(k, e)).join("")).trimEnd();
    expect(lines).toEqual([
      row([true, false]),
      row([true, false]),
      row([true, false]),
      row([true, false]),
      row([true, false], [false, true]), // exact 4M: 4 rows
      row([true, false], [false, true], [false, true]), // exact 3M: 3 rows
      row([true, true], [false, true], [false, true]), // exact 2M: 2 rows
      row([true, true], [false, true], [true, true]), // kernel 1M: 1 row (8 * 1/8)
      "  <1000ms    <5000ms    older",
      "  8.0M|2.0M  0|4.0M     1.0M|3.0M",
    ]);
  });
});

describe("free pages by order", () => {
  it("a size beside each order's pages: 3 order-10 blocks of a 16 MiB machine = 3072 pages = 12.0 MiB", async () => {
    // (no page-table pages: the one fault's page is the only allocation)
    const e = engineFor(smallMachine("16M"), {}, { "wsim.page_tables": "0" });
    await runCsv(e, "time_ms,op,pid,addr\n0,access,1,0x1000\n");
    const t = renderText(buildResult(e, { path: "t.csv", format: "csv", events: 1, firstMs: 0, lastMs: 0 }), { color: false, width: 100 });
    const row = (o: number) => t.split("\n").find((l) => l.startsWith(`  order ${String(o).padStart(2)} `))!;
    expect(row(10)).toMatch(/^ {2}order 10 +3 blk +3072 pg +12\.0 MiB █+$/);
    // order 0: one page = 4 KiB; order 9: 512 pages = 2.0 MiB
    expect(row(0)).toMatch(/ 1 pg +4 KiB █+$/);
    expect(row(9)).toMatch(/ 512 pg +2\.0 MiB █+$/);
  });
});
