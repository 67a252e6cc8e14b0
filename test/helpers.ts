import { Readable } from "node:stream";
import { DataError } from "../src/errors.js";
import { Engine, type EngineOptions } from "../src/engine/engine.js";
import type { Machine } from "../src/machine/machine.js";
import { Settings } from "../src/machine/settings.js";
import { RowBuilder } from "../src/trace/fields.js";
import { EventBatch } from "../src/trace/types.js";
import { readCsv } from "../src/trace/csv.js";
import { V } from "../src/stats/counters.js";

/**
 * Engines built by engineFor and quietEngine have no page-table pages (wsim.page_tables=0) and
 * no VMA slab (wsim.slab=0): the hand-computed figures of the subsystem tests count the trace's
 * own pages; page-tables.test.ts, vma-slab.test.ts, the goldens and the CLI tests cover them. A
 * test sets "wsim.page_tables": "1" or "wsim.slab": "1" to have them.
 */
const NO_PAGE_TABLES = { "wsim.page_tables": "0", "wsim.slab": "0" };
/**
 * Likewise no per-cpu page lists (wsim.pcp=0): frees reach the buddy lists at once, as the
 * hand-computed buddy, compaction and reclaim figures assume; pcp.test.ts, the goldens and the
 * CLI tests cover the lists. A test sets "wsim.pcp": "1" to have them.
 */
const NO_PCP = { "wsim.pcp": "0" };
/**
 * Likewise no khugepaged (wsim.khugepaged=0): a huge fault that falls back would otherwise
 * wake it to collapse the range at once, an allocation the hand-computed fault, compaction and
 * reclaim figures do not count; khugepaged.test.ts, the goldens and the CLI tests cover it. A
 * test sets "wsim.khugepaged": "1" to have it.
 */
const NO_KHUGEPAGED = { "wsim.khugepaged": "0" };

export function smallMachine(mem: number | string = "16M", nodes = 1, tier = (i: number) => 0): Machine {
  return {
    name: "test",
    nodes: Array.from({ length: nodes }, (_, i) => ({ id: i, mem: typeof mem === "number" ? mem : parseMem(mem), tier: tier(i), cpus: true })),
    tunables: {},
  };
}

function parseMem(s: string): number {
  const m = /^(\d+)([MG])$/.exec(s)!;
  return (Number(m[1]) * (m[2] === "G" ? 1024 : 1) * 1024 * 1024) / 4096;
}

/** A tiered machine of pages: node 0 DRAM with CPUs (tier 0), node 1 CXL without CPUs (tier 1). */
export function tiered(dram = 2048, cxl = 4096): Machine {
  return {
    name: "t",
    nodes: [
      { id: 0, mem: dram, tier: 0, cpus: true },
      { id: 1, mem: cxl, tier: 1, cpus: false },
    ],
    tunables: {},
  };
}

/** The engine's counters of those names, now: {name: value}. */
export function counters(e: Engine, names: string[]): Record<string, number> {
  const v = e.mem.vmstat();
  return Object.fromEntries(names.map((n) => [n, v[V[n as keyof typeof V]]!]));
}

export function engineFor(machine: Machine, opts: EngineOptions = {}, sets: Record<string, string> = {}): Engine {
  const s = new Settings(machine);
  for (const [k, v] of Object.entries({ ...NO_PAGE_TABLES, ...NO_PCP, ...NO_KHUGEPAGED, ...sets })) s.set(k, v);
  return new Engine(s, opts);
}

/** No watermarks, boost, THP or proactive compaction: quietEngine's tunables (every compaction pass is the trace's). */
export const QUIET_TUNABLES: Readonly<Record<string, string>> = {
  "vm.min_free_kbytes": "0",
  "vm.watermark_scale_factor": "1",
  "vm.watermark_boost_factor": "0",
  "transparent_hugepage.enabled": "never",
  "vm.compaction_proactiveness": "0",
};

/**
 * A one-node machine of `pages` pages with QUIET_TUNABLES (compaction tests: every pass is the
 * trace's), `extra` tunables on top.
 */
export function quietEngine(pages: number, extra: Record<string, string> = {}, opts: EngineOptions = {}): Engine {
  return engineFor({ name: "t", nodes: [{ id: 0, mem: pages, tier: 0, cpus: true }], tunables: {} }, opts, { ...QUIET_TUNABLES, ...extra });
}

/**
 * The trace of compaction.test.ts's pinned 16 MiB node (4096 pages): pid 1's filler pinned
 * every 64 pages by non-LRU (kernel, movable) allocations, half of it then unmapped, so free
 * memory is plentiful but no order-9 block can form; then `faults` huge page faults by pid 2,
 * 100 ms apart from 100 ms, in a MADV_HUGEPAGE region.
 */
export function pinnedNodeCsv(faults: number): string {
  const lines = ["time_ms,op,pid,addr,len,thp,id,order,mt"];
  lines.push(`0,mmap,1,0x10000000,${16 * 1024 * 1024},0,,,`, `0,mmap,2,0x40000000,${32 * 1024 * 1024},1,,,`);
  let k = 0;
  for (let i = 0; i < 3900; i++) {
    lines.push(`0,access,1,${0x10000000 + i * 4096},,,,,`);
    if (i % 63 === 62) lines.push(`0,alloc,,,,,pin${k++},0,movable`);
  }
  for (let i = 0; i < 3900; i += 2) lines.push(`1,munmap,1,${0x10000000 + i * 4096},4096,,,,`);
  for (let f = 0; f < faults; f++) lines.push(`${100 + f * 100},access,2,${0x40000000 + f * 2097152},,,,,`);
  return lines.join("\n");
}

/** Runs CSV text through the engine, batch by batch. */
export async function runCsv(engine: Engine, csv: string, name = "t.csv"): Promise<void> {
  for await (const b of readCsv(chunksOf(csv), name)) if (!engine.processBatch(b, name)) break;
  engine.finish();
}

export async function* chunksOf(text: string, size = 1 << 20): AsyncGenerator<Buffer> {
  const buf = Buffer.from(text);
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

export function stdinOf(text: string): Readable {
  return Readable.from([Buffer.from(text)]);
}

/** Collects all events of a reader as plain objects (for comparing readers). */
export async function collect(batches: AsyncIterable<EventBatch>): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const b of batches) {
    for (let i = 0; i < b.n; i++) {
      const s = (k: number) => (k < 0 ? null : b.strs[k]);
      out.push({
        time: b.time[i], op: b.op[i], pid: b.pid[i], addr: b.addr[i], len: b.len[i], write: b.write[i], node: b.node[i],
        file: b.file[i], thp: b.thp[i], cg: s(b.cg[i]!), id: s(b.id[i]!), order: b.order[i], mt: b.mt[i],
        key: s(b.key[i]!), value: s(b.value[i]!), line: b.line[i],
      });
    }
  }
  return out;
}

export { RowBuilder };

/**
 * The message of the DataError a promise (or a function's result, awaited) rejects with, or
 * "(no error)"; any other error (a TypeError, a stack overflow) is rethrown and fails the test.
 */
export async function dataErrorOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    if (e instanceof DataError) return e.message;
    throw e;
  }
  return "(no error)";
}

/**
 * Every column of every event as one `|`-joined line (time|op|pid|addr|len|write|node|cpu|child|
 * file|thp|cg|id|order|mt|gfp|advice|key|value|fname|off|line), strings resolved (collect()
 * leaves some out): what the CSV and NDJSON fast-path tests compare.
 */
export async function allColumns(batches: AsyncIterable<EventBatch>): Promise<string[]> {
  const out: string[] = [];
  for await (const b of batches)
    for (let i = 0; i < b.n; i++) {
      const s = (k: number) => (k < 0 ? "-" : JSON.stringify(b.strs[k]));
      out.push(
        [b.time[i], b.op[i], b.pid[i], b.addr[i], b.len[i], b.write[i], b.node[i], b.cpu[i], b.child[i], b.file[i], b.thp[i], s(b.cg[i]!), s(b.id[i]!),
          b.order[i], b.mt[i], b.gfp[i], b.advice[i], s(b.key[i]!), s(b.value[i]!), s(b.fname[i]!), b.off[i], b.line[i]].join("|"),
      );
    }
  return out;
}
