#!/usr/bin/env node
/**
 * Writes traces/tiered-spill.csv.gz (issue 17's bundled comparison): on machine `tiered`, kernel
 * allocations fill DRAM, so a process's 64 MiB heap, faulted with the default (local) policy,
 * spills to the CXL node; 256 MiB of DRAM is then freed, and an 8 MiB hot set is hammered for
 * 15 s, then moves for 15 s more. Unlike traces/tiered-hotset.csv.gz (whose heap is placed with
 * `mmap node=1`, an mbind MPOL_PREFERRED region that NUMA balancing skips as 6.1 does), every
 * promoter can work on this heap: NUMA balancing's tiering mode, kpromoted with hardware hints,
 * kmmscand.
 *
 *   npm run build && node scripts/make-tiered-spill.mjs
 *
 * Deterministic: a seeded PRNG (wsim's own), times with three decimals.
 */
import { writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { Rng } from "../dist/engine/rng.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MB = 2 ** 20;
const BASE = 0x7f0000000000;
const HEAP = (64 * MB) / 4096;
const HOT = (8 * MB) / 4096;
const FILL = 1024; // 4 MiB kernel blocks: DRAM's 4 GiB (the last spill to CXL)
const FREE = 64; // 256 MiB of DRAM freed after the heap is faulted
const RATE = 2.5; // accesses per ms
const PHASE = 15000;
const hex = (n) => "0x" + n.toString(16);
const fmt = (ms) => Math.round(ms * 1000) / 1000;

const rng = new Rng(17);
const out = [
  "# wsim: machine=tiered",
  "# tiered-spill.csv: on the tiered machine (node 0: 4 GiB DRAM, node 1: 8 GiB CXL), kernel allocations",
  "# fill DRAM, so a process's 64 MiB heap (default policy) spills to CXL; 256 MiB of DRAM is then freed",
  "# and an 8 MiB hot set is hammered for 15 s, then moves for 15 s. Written by scripts/make-tiered-spill.mjs;",
  "# scripts/numab-table.mjs replays it under NUMA balancing (kernel.numa_balancing=2), kpromoted with",
  "# hardware hints, kmmscand and none, for the README's table.",
];
out.push("time_ms,op,pid,addr,len,rw,id,order,key,value", "0,set,,,,,,,transparent_hugepage.enabled,never");
for (let k = 0; k < FILL; k++) out.push(`0,alloc,,,,,f${k},10,,`);
out.push(`0,mmap,7,${hex(BASE)},${HEAP * 4096},,,,,`);
let t = 0;
for (let i = 0; i < HEAP; i++) {
  out.push(`${fmt(t)},access,7,${hex(BASE + i * 4096)},,w,,,,`);
  t += 0.01;
}
t = Math.ceil(t) + 10;
for (let k = 0; k < FREE; k++) out.push(`${t},free,,,,,f${k},,,`);
const t0 = t + 10;
let start = rng.int(HEAP - HOT);
for (let at = 0; at < 2 * PHASE; at += 1 / RATE) {
  if (at >= PHASE && at - 1 / RATE < PHASE) start = rng.int(HEAP - HOT);
  out.push(`${fmt(t0 + at)},access,7,${hex(BASE + (start + rng.int(HOT)) * 4096)},,r,,,,`);
}
writeFileSync(`${ROOT}/traces/tiered-spill.csv.gz`, gzipSync(out.join("\n") + "\n", { level: 9 }));
console.log(`traces/tiered-spill.csv.gz: ${out.length} lines`);
