#!/usr/bin/env node
/**
 * Writes traces/proactive.csv.gz (issue 16's proactive-compaction scenario, compared with a 6.1
 * guest in the README): on a 424 MiB machine, one process faults 80,000 pages (312.5 MiB, THP
 * off for it) and unmaps every other one (order-0 holes in every pageblock); after 2 s of
 * idling a second process faults 100 huge pages of a MADV_HUGEPAGE region, one every 100 ms,
 * with `transparent_hugepage.defrag=never` (no direct compaction, no kswapd wake-up): each THP
 * comes from what kcompactd's proactive compaction (vm.compaction_proactiveness 20, the
 * default) has made by then. `read vmstat` after the holes, before the THP faults and at the end.
 *
 *   node scripts/make-proactive.mjs
 */
import { writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const N = 80000;
const BASE = 0x100000000;
const THP_BASE = 0x4000000000;
const hex = (n) => "0x" + n.toString(16);
const out = [
  "# wsim: machine=proactive.machine.json",
  "# proactive.csv.gz: 80,000 faults, every other page unmapped, then 100 THP faults one per 100 ms with",
  "# defrag=never: the THPs are what proactive compaction (proactiveness 20) made. 424 MiB machine.",
  "# Made by scripts/make-proactive.mjs.",
  "time_ms,op,pid,addr,len,rw,thp,key,value",
  "0,set,,,,,,transparent_hugepage.enabled,madvise",
  "0,set,,,,,,transparent_hugepage.defrag,never",
  `0,mmap,1,${hex(BASE)},${N * 4096},,,,`,
];
let t = 1;
for (let i = 0; i < N; i++) {
  out.push(`${t},access,1,${hex(BASE + i * 4096)},,w,,,`);
  if (i % 100 === 99) t++;
}
for (let i = 1; i < N; i += 2) {
  out.push(`${t},munmap,1,${hex(BASE + i * 4096)},4096,,,,`);
  if (i % 200 === 199) t++;
}
out.push(`${t},read,,,,,,vmstat,`);
t += 2000;
out.push(`${t},read,,,,,,vmstat,`);
out.push(`${t},mmap,2,${hex(THP_BASE)},${100 * 2 * 2 ** 20},,1,,`);
for (let k = 0; k < 100; k++) {
  out.push(`${t},access,2,${hex(THP_BASE + k * 2 * 2 ** 20)},,w,,,`);
  t += 100;
}
out.push(`${t},read,,,,,,vmstat,`);
writeFileSync(
  `${ROOT}traces/proactive.machine.json`,
  JSON.stringify({ name: "proactive", zones: "x86", nodes: [{ id: 0, mem: "424M", tier: 0, cpus: true }] }, null, 2) + "\n",
);
writeFileSync(`${ROOT}traces/proactive.csv.gz`, gzipSync(out.join("\n") + "\n", { level: 9 }));
