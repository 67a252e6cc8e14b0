/**
 * The bench's floors (issue 20): what this machine gives any replay, whatever its model.
 *
 * accessFloor: the least an access can cost here. For each access event of the batches: the
 * pid's page table from a Map, the vpn's 2 MiB leaf (a 514-slot Int32Array, as src/mm's
 * page tables) from a direct-mapped cache of 64 in front of a Map, the PTE (a new pfn on
 * first touch, no allocator), then the page's accessed/dirty byte and its last access time
 * in per-pfn typed arrays. No zones, no LRU, no fault accounting: the engine does all of
 * this and more, so it cannot run faster than this loop on the same batches. Its arrays are
 * fresh (first touched here), as the engine's are in a run.
 *
 * firstTouchMicros: the host's cost of a first write to a 4 KiB page of fresh memory, in µs
 * (64 MiB of a new ArrayBuffer, one byte per page). On a VM this includes the hypervisor's
 * fault; every page of per-pfn state, page table and heap a run touches first costs it once.
 */
import { OP_ACCESS, type EventBatch } from "../trace/types.js";

const LEAF = 512;
const LEAF_CACHE = 64;

interface FloorMm {
  pt: Map<number, Int32Array>;
  cacheIdx: Float64Array;
  cacheLeaf: (Int32Array | undefined)[];
}

/**
 * Runs the floor loop over `batches` (pre-parsed) for a machine of `nrPages` pages; returns
 * the seconds it took and the access events it ran (others are skipped).
 */
export function accessFloor(batches: EventBatch[], nrPages: number): { seconds: number; accesses: number } {
  const flags = new Uint8Array(nrPages);
  const last = new Float64Array(nrPages);
  const mms = new Map<number, FloorMm>();
  let nextPfn = 0;
  let accesses = 0;
  const t0 = process.hrtime.bigint();
  for (const b of batches) {
    const { n, op, pid, addr, write, time } = b;
    for (let i = 0; i < n; i++) {
      if (op[i] !== OP_ACCESS) continue;
      accesses++;
      const p = pid[i]!;
      let mm = mms.get(p);
      if (mm === undefined) {
        mm = { pt: new Map(), cacheIdx: new Float64Array(LEAF_CACHE).fill(-1), cacheLeaf: new Array<Int32Array | undefined>(LEAF_CACHE).fill(undefined) };
        mms.set(p, mm);
      }
      const vpn = Math.floor(addr[i]! / 4096);
      const li = Math.floor(vpn / LEAF);
      const h = li & (LEAF_CACHE - 1);
      let leaf = mm.cacheIdx[h] === li ? mm.cacheLeaf[h] : undefined;
      if (leaf === undefined) {
        leaf = mm.pt.get(li);
        if (leaf === undefined) {
          leaf = new Int32Array(LEAF + 2);
          mm.pt.set(li, leaf);
        }
        mm.cacheIdx[h] = li;
        mm.cacheLeaf[h] = leaf;
      }
      const slot = vpn - li * LEAF;
      let pte = leaf[slot]!;
      if (pte <= 0) pte = leaf[slot] = (nextPfn++ % nrPages) + 1;
      const pfn = pte - 1;
      flags[pfn]! |= write[i] === 1 ? 192 : 128;
      last[pfn] = time[i]!;
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (flags[0] === 255 && last[0] === -1) console.error("(unreachable: keeps the arrays live)");
  return { seconds, accesses };
}

/** µs per first write to a 4 KiB page of `mib` MiB of fresh memory (the median of 3 buffers). */
export function firstTouchMicros(mib = 64): number {
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    const a = new Uint8Array(mib << 20);
    for (let i = 0; i < a.length; i += 4096) a[i] = 1;
    runs.push(Number(process.hrtime.bigint() - t0) / 1e3 / (a.length / 4096));
  }
  return runs.sort((x, y) => x - y)[1]!;
}
