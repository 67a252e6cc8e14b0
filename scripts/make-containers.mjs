#!/usr/bin/env node
/**
 * Writes traces/containers.csv (issue 14 item 5's bundled example): a 32 MiB Kubernetes node
 * (traces/containers.machine.json: 32 MiB swap, THP madvise) with three pods under /kubepods
 * and a backup job under /system.slice:
 *  - /kubepods/burstable/pod-web: memory.max 10M, memory.high 8M, memory.swap.max 0; its heap
 *    grows to 9 MiB: over high, reclaim on return to user space finds nothing it may take, so
 *    each 64-page charge is throttled (calculate_high_delay, up to 2 s);
 *  - /kubepods/burstable/pod-db: memory.low 8M; 6 MiB of data, read again at the end;
 *  - /kubepods/besteffort/pod-leak: memory.max 4M, memory.swap.max 0 (a pod that may not
 *    swap); it leaks a page a millisecond until the memcg OOM killer kills it;
 *  - /system.slice/backup.service: reads a 16 MiB file through a mapping: the node runs out of
 *    memory and global reclaim must find pages, but not pod-db's (protected by memory.low).
 * /kubepods has memory.max 28M (the node's allocatable memory); /kubepods and
 * /kubepods/burstable have memory.low 8M as well, since a memcg's protection is capped by its
 * parent's effective protection (effective_protection). The workloads take turns (none
 * overlaps another), so on the one CPU the trace uses each fills its per-cpu charge stock
 * without another memcg's fault draining it between two of its own (a CSV converted by
 * `wsim convert` cannot carry a cpu column yet).
 * The leak's events stop at the access that gets it killed (found by replaying: KILL_AT below);
 * a later event of a killed pid would be a data error.
 *
 *   node scripts/make-containers.mjs
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MB = 256; // pages
const hex = (n) => "0x" + n.toString(16);
const fmt = (ms) => Math.round(ms * 1000) / 1000;
/** the leak's access that the memcg OOM killer answers (its last event) */
const KILL_AT = 3024;

const ev = []; // [time, line]
const add = (t, s) => ev.push([fmt(t), `${fmt(t)},${s}`]);
const WEB = 0x10000000, DB = 0x20000000, LEAK = 0x30000000, FILE = 0x40000000;

add(0, "set,,,,,,/kubepods,memory.max,28M");
add(0, "set,,,,,,/kubepods/burstable/pod-web,memory.max,10M");
add(0, "set,,,,,,/kubepods/burstable/pod-web,memory.high,8M");
add(0, "set,,,,,,/kubepods/burstable/pod-web,memory.swap.max,0");
// protection reaches a memcg only through its ancestors' (effective_protection): as kubelet does
// for memory.min with MemoryQoS, the QoS level and /kubepods grant it too
add(0, "set,,,,,,/kubepods,memory.low,8M");
add(0, "set,,,,,,/kubepods/burstable,memory.low,8M");
add(0, "set,,,,,,/kubepods/burstable/pod-db,memory.low,8M");
add(0, "set,,,,,,/kubepods/besteffort/pod-leak,memory.max,4M");
add(0, "set,,,,,,/kubepods/besteffort/pod-leak,memory.swap.max,0");
add(0, `mmap,10,${hex(DB)},${8 * MB * 4096},,,/kubepods/burstable/pod-db,,`);
add(0, `mmap,20,${hex(WEB)},${16 * MB * 4096},,,/kubepods/burstable/pod-web,,`);
add(0, `mmap,30,${hex(LEAK)},${16 * MB * 4096},,,/kubepods/besteffort/pod-leak,,`);
add(0, `mmap,40,${hex(FILE)},${24 * MB * 4096},,file,/system.slice/backup.service,,`);
// pod-db: 6 MiB of data written in the first 1.5 s (a page a 0.25 ms)
for (let k = 0; k < 6 * MB; k++) add(1 + k * 0.25, `access,10,${hex(DB + k * 4096)},,w,,,,`);
// pod-leak: a page a ms from 2 s, until it is killed
for (let k = 0; k < 16 * MB && 2000 + k <= KILL_AT; k++) add(2000 + k, `access,30,${hex(LEAK + k * 4096)},,w,,,,`);
// pod-web: the heap grows a page a ms from 4 s to 9 MiB (over memory.high at 8 MiB)
for (let k = 0; k < 9 * MB; k++) add(4000 + k, `access,20,${hex(WEB + k * 4096)},,w,,,,`);
// backup: reads its 24 MiB file from 7 s, a page a 0.5 ms
for (let k = 0; k < 24 * MB; k++) add(7000 + k * 0.5, `access,40,${hex(FILE + k * 4096)},,r,,,,`);
// pod-db reads its data again at 20 s: still resident, no major fault
for (let k = 0; k < 6 * MB; k++) add(20000 + k * 0.25, `access,10,${hex(DB + k * 4096)},,r,,,,`);
for (const cg of ["/kubepods/burstable/pod-web", "/kubepods/burstable/pod-db", "/kubepods/besteffort/pod-leak"]) {
  add(22000, `read,,,,,,${cg},memory.events,`);
  add(22000, `read,,,,,,${cg},memory.current,`);
}
add(22000, "read,,,,,,/kubepods,memory.events,");
add(22000, "read,,,,,,/kubepods/burstable/pod-web,memory.stat,");
add(22000, "read,,,,,,/kubepods/burstable/pod-web,memory.pressure,");
add(22000, "read,,,,,,,vmstat,");

ev.sort((a, b) => a[0] - b[0]); // stable: same-time events keep their order
const head = [
  "# wsim: machine=containers.machine.json",
  "# containers.csv: a 32 MiB Kubernetes node (traces/containers.machine.json) with cgroup v2 limits.",
  "# pod-web (memory.max 10M, memory.high 8M, no swap) grows its heap to 9 MiB: throttled over",
  "# high; pod-db (memory.low 8M) keeps its 6 MiB while a backup job's file reads push the node",
  "# into reclaim; pod-leak (memory.max 4M, memory.swap.max 0) leaks until the memcg OOM killer",
  "# kills it. Reads of memory.events, memory.current, memory.stat and memory.pressure at the end.",
  "# Written by scripts/make-containers.mjs.",
  "time_ms,op,pid,addr,len,rw,kind,cg,key,value",
];
writeFileSync(ROOT + "traces/containers.csv", head.join("\n") + "\n" + ev.map((e) => e[1]).join("\n") + "\n");
