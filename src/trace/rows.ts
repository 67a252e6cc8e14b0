/** Events of a batch as trace rows (the inverse of the readers), for `wsim convert`. */
import type { Row } from "../generate/generators.js";
import { ADVICE_NAMES, GFP_NAMES, MT_NAMES, OPS, OP_ACCESS, OP_ALLOC, OP_MADVISE, OP_MLOCK, OP_MMAP, OP_MUNLOCK, OP_MUNMAP, OP_FREAD, OP_FWRITE, OP_FTRUNCATE, type EventBatch } from "./types.js";

export function* batchRows(b: EventBatch): Generator<Row> {
  for (let i = 0; i < b.n; i++) {
    const op = b.op[i]!;
    const r: Row = { time_ms: b.time[i]!, op: OPS[op]! };
    if (b.pid[i]! >= 0) r.pid = b.pid[i]!;
    if (b.addr[i]! >= 0) r.addr = "0x" + b.addr[i]!.toString(16);
    if ((op === OP_MMAP || op === OP_MUNMAP || op === OP_MADVISE || op === OP_MLOCK || op === OP_MUNLOCK) && b.len[i] !== 4096) r.len = b.len[i]!;
    if ((op === OP_FREAD || op === OP_FWRITE) && b.len[i] !== 4096) r.len = b.len[i]!;
    if (op === OP_FTRUNCATE) r.len = b.len[i]!;
    if (b.fname[i]! >= 0) r.file = b.strs[b.fname[i]!]!;
    if (b.off[i] !== 0) r.off = b.off[i]!;
    if (op === OP_MADVISE && b.advice[i]) r.advice = ADVICE_NAMES[b.advice[i]! - 1]!;
    if (op === OP_ACCESS) r.rw = b.write[i] ? "w" : "r";
    if (b.node[i]! >= 0) r.node = b.node[i]!;
    if (b.cpu[i]! >= 0) r.cpu = b.cpu[i]!;
    if (b.child[i]! >= 0) r.child = b.child[i]!;
    if (op === OP_MMAP && b.file[i]) r.kind = "file";
    if (op === OP_MMAP && b.thp[i]) r.thp = 1;
    const s = (k: number) => (k >= 0 ? b.strs[k] : undefined);
    if (s(b.cg[i]!) !== undefined) r.cg = s(b.cg[i]!)!;
    if (s(b.id[i]!) !== undefined) r.id = s(b.id[i]!)!;
    if (op === OP_ALLOC) {
      r.order = b.order[i]!;
      r.mt = MT_NAMES[b.mt[i]!]!;
      if (b.gfp[i]) r.gfp = GFP_NAMES[b.gfp[i]!]!;
    }
    if (s(b.key[i]!) !== undefined) r.key = s(b.key[i]!)!;
    if (s(b.value[i]!) !== undefined) r.value = s(b.value[i]!)!;
    yield r;
  }
}
