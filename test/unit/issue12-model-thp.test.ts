/**
 * Issue 12, item 1: wherever the model counts LRU entries, records or hits where the kernel
 * counts pages, a huge page weighs 512: page_age_exact (and the text report built on it),
 * the reaccess histogram, the promotion ground truth and kmmscand's scan counts.
 */
import { describe, expect, it } from "vitest";
import { buildResult } from "../../src/engine/result.js";
import { renderText } from "../../src/report/text.js";
import { V } from "../../src/stats/counters.js";
import { engineFor, runCsv, smallMachine } from "../helpers.js";

const ISSUE_TRACE = `time_ms,op,pid,addr,len,cg,key,value
0,set,,,,/,memory.workingset.page_age_intervals,"N0=1000,5000"
0,mmap,1,0x40000000,4194304,,,
1,access,1,0x40000000,,,,
2,access,1,0x40200000,,,,
3000,access,1,0x40000000,,,,
`;

const sum = (bins: { anon: number; file: number }[]) => bins.reduce((s, b) => s + b.anon + b.file, 0);

describe("a huge page weighs 512 pages (item 1)", () => {
  it("page_age_exact: the issue's trace adds up to nr_anon_pages, each page by its own last access", async () => {
    const e = engineFor(smallMachine("64M"));
    await runCsv(e, ISSUE_TRACE);
    const w = e.workingsetResult()["/"]!["0"]!;
    // two huge pages (1024 pages, 4 MiB): at 3000 ms the first page of the first was touched
    // 0 ms ago (bin < 1000), its other 511 pages 2999 ms ago and the second's 512 pages
    // 2998 ms ago (bin < 5000)
    expect(e.mem.vmstat()[V.nr_anon_pages]).toBe(1024);
    expect(w.page_age_exact.map((b) => b.anon)).toEqual([4096, 1023 * 4096, 0]);
    expect(sum(w.page_age_exact)).toBe(1024 * 4096);
  });

  it("page_age_exact with THP off: the two faulted pages, as before", async () => {
    const e = engineFor(smallMachine("64M"), {}, { "transparent_hugepage.enabled": "never" });
    await runCsv(e, ISSUE_TRACE);
    const w = e.workingsetResult()["/"]!["0"]!;
    expect(e.mem.vmstat()[V.nr_anon_pages]).toBe(2);
    expect(w.page_age_exact.map((b) => b.anon)).toEqual([4096, 4096, 0]);
  });

  it("the kernel view and the exact view hold the same bytes; the text report's misplaced share", async () => {
    const e = engineFor(smallMachine("64M"));
    await runCsv(e, ISSUE_TRACE.replace("0,mmap", '0,set,,,,/,memory.workingset.refresh_interval,"N0=1000"\n0,mmap'));
    const w = e.workingsetResult()["/"]!["0"]!;
    expect(sum(w.page_age)).toBe(1024 * 4096);
    expect(sum(w.page_age_exact)).toBe(1024 * 4096);
    // the refresh at 3000 ms ages the one generation born at 0 (both huge pages in it) and
    // bins it by the RFC's arithmetic: its part below 1000 ms is floor(1024 / 3000) * 1000 =
    // 0 pages, so all 1024 pages go to the 5000 ms bin, where 1023 truly are: the one page
    // touched at 3000 is misplaced, 4096 of 4 MiB = 0.000977 (not 99.9% as when the exact
    // view counted each huge page as one 4 KiB page)
    expect(w.page_age.map((b) => b.anon)).toEqual([0, 1024 * 4096, 0]);
    expect(w.misplaced_share).toBe(0.000977);
    const text = renderText(buildResult(e, { path: "t.csv", format: "csv", events: 7, firstMs: 0, lastMs: 3000 }, 1), { color: false });
    expect(text).toContain(`misplaced ${(w.misplaced_share * 100).toFixed(1)}% of bytes`);
    expect(text).not.toContain("misplaced 99.");
  });

  it("reaccess: a huge page moved to the youngest generation counts 512 pages", async () => {
    const e = engineFor(smallMachine("64M"));
    const csv = `time_ms,op,pid,addr,len,cg,key,value
0,set,,,,/,memory.workingset.page_age_intervals,"N0=1000,5000"
0,set,,,,/,memory.workingset.refresh_interval,"N0=1000"
0,set,,,,/,memory.workingset.reaccess_intervals,"N0=1000,5000"
0,mmap,1,0x40000000,2097152,,,
1,access,1,0x40000000,,,,
1500,read,,,,/,memory.workingset.page_age,
2000,access,1,0x40001000,,,,
3000,read,,,,/,memory.workingset.page_age,
3500,access,1,0x40001000,,,,
4500,read,,,,/,memory.workingset.page_age,
`;
    await runCsv(e, csv);
    // the refreshes age the lruvec; once the huge page sits in an older generation and was
    // touched, the walk moves it to the youngest: one reaccess, of its 512 pages (the RFC's
    // walk deltas are folio_nr_pages), binned < 5000 ms
    const w = e.workingsetResult()["/"]!["0"]!;
    expect(w.reaccess.map((b) => b.anon)).toEqual([0, 512, 0]);
  });

  it("kmmscand: a huge page on the lower tier touched once is 512 accessed PTEs (the split PMD's young bit)", async () => {
    const e = engineFor(smallMachine("32M", 2, (i) => i), {}, { "kmmscand.enabled": "1" });
    // a 2 MiB THP region bound to node 1 (lower tier), one page touched; the first scan comes
    // 1000 ms after the process's first event, on the 16 ms tick at 1008
    await runCsv(e, "time_ms,op,pid,addr,len,node\n0,mmap,1,0x40000000,2097152,1\n1,access,1,0x40000000,,0\n1100,read,,,,\n".replace("1100,read,,,,", "1100,access,1,0x40000000,,0"));
    expect(e.mem.vmstat()[V.thp_fault_alloc]).toBe(1);
    expect(e.mem.ev[V.nr_kmmscand_mm_scans]).toBe(1);
    expect(e.mem.ev[V.nr_kmmscand_slowtier]).toBe(512);
    expect(e.mem.ev[V.nr_kmmscand_idlepage]).toBe(0);
    expect(e.mem.ev[V.nr_kmmscand_toptier]).toBe(0);
    expect(e.mem.ev[V.nr_kmmscand_migadded]).toBe(0); // huge pages are not queued
  });

  it("promotion ground truth: a hot huge page on the lower tier is 512 truly hot pages", async () => {
    const e = engineFor(smallMachine("32M", 2, (i) => i));
    // one THP on node 1 hammered on one page, a second THP touched twice, one order-0 page (a
    // THP-less region) touched once; a huge page's faulting access is not counted: at the 5 s
    // window's end the counts are [huge page: 19 x 512 pages, huge page: 1 x 512, small page:
    // 1]; of the 1025 counts the decile's is the one at index floor(1025 / 10) = 102 of the
    // sorted counts, 19, and the median (index 512) is 1, so the hot huge page's 512 pages are
    // truly hot (19 >= 19 and 19 > 1), the others not. (Without the second THP the hammered
    // page would be 512 of 513 pages, the median 19: hot is relative, so none would be hot.)
    const rows = ["time_ms,op,pid,addr,len,node,thp", "0,mmap,1,0x40000000,2097152,1,", "0,mmap,1,0x50000000,4096,1,", "0,mmap,1,0x60000000,2097152,1,"];
    for (let k = 0; k < 20; k++) rows.push(`${1 + k},access,1,0x40000000,,0,`);
    rows.push("30,access,1,0x50000000,,0,");
    rows.push("31,access,1,0x60000000,,0,", "32,access,1,0x60000000,,0,");
    rows.push("5001,access,1,0x50000000,,0,");
    await runCsv(e, rows.join("\n") + "\n");
    expect(e.mem.vmstat()[V.thp_fault_alloc]).toBe(2);
    expect(e.mem.hotTruth!.result().truly_hot).toBe(512);
  });
});
