#!/usr/bin/env node
/**
 * Writes traces/munmap-vmas.csv.gz (issue 13 item 3's example: "a trace that makes 40,000
 * one-page munmaps must grow slab as the guest did"): one process maps 80,000 pages (312.5 MiB,
 * THP off so every page is its own), touches them all, then unmaps every other page: 40,000
 * one-page munmaps leave 40,000 VMAs of one page, each a vm_area_struct, an anon_vma_chain and a
 * share of the maple tree's nodes in unmovable slab pages (nr_slab_unreclaimable), beside the
 * page tables of 312.5 MiB of touched address space (nr_page_table_pages). `read vmstat` before
 * and after the munmaps. Compared with a 6.1 guest in the README (`wsim compare --mem 512M`).
 *
 *   node scripts/make-munmap-vmas.mjs
 */
import { writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const N = 80000;
const BASE = 0x100000000;
const hex = (n) => "0x" + n.toString(16);
const out = [
  "# munmap-vmas.csv.gz: one process maps 80,000 pages, touches them, then unmaps every other page:",
  "# 40,000 one-page munmaps leave 40,000 VMAs (VMA slab: nr_slab_unreclaimable; page tables:",
  "# nr_page_table_pages). Made by scripts/make-munmap-vmas.mjs.",
  "time_ms,op,pid,addr,len,rw,key,value",
  "0,set,,,,,transparent_hugepage.enabled,never",
  `0,mmap,1,${hex(BASE)},${N * 4096},,,`,
];
let t = 1;
for (let i = 0; i < N; i++) {
  out.push(`${t},access,1,${hex(BASE + i * 4096)},,w,,`);
  if (i % 1000 === 999) t++;
}
t += 10;
out.push(`${t},read,,,,,vmstat,`);
for (let i = 1; i < N; i += 2) {
  out.push(`${t},munmap,1,${hex(BASE + i * 4096)},4096,,,`);
  if (i % 2000 === 1999) t++;
}
t += 10;
out.push(`${t},read,,,,,vmstat,`);
writeFileSync(`${ROOT}traces/munmap-vmas.csv.gz`, gzipSync(out.join("\n") + "\n", { level: 9 }));
