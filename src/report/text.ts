/**
 * `--format text`: a summary for people: the run, the counters that moved (non-zero) grouped
 * as the kernel groups them with sizes beside page counts (cli-table3), each node's
 * watermarks and free memory, /proc/buddyinfo drawn as bars of free pages per order on a log
 * scale with sizes beside, the workingset report as columns (kernel view beside exact, bins
 * under their bars), and each `read` event's text. Colour only when the caller
 * says so (a TTY without NO_COLOR).
 */
import { nodeCpuCount } from "../machine/machine.js";
import { painter, type Painter } from "./paint.js";
import type { WorkingsetBin } from "../engine/engine.js";
import Table from "cli-table3";
import type { RunResult } from "../engine/result.js";
import { formatPages } from "../machine/size.js";
import { formatBuddyinfo, formatUnusableIndex } from "../procfs/procfs.js";
import { plural } from "./words.js";
import { STALL_KINDS, type StallKind } from "../mm/stall.js";

export interface TextOptions {
  /** ANSI colours, once src/report/paint.ts loadColor() has run (else plain text) */
  color: boolean;
  /** terminal width for the bars */
  width?: number;
}

/**
 * The groups of the text summary, in the order vmstat.c's vm_event_item / node_stat_item
 * keep related counters together: a counter goes in the first group whose test it passes.
 */
export const COUNTER_GROUPS: readonly { name: string; has: (n: string) => boolean }[] = [
  { name: "allocation", has: (n) => /^(pgalloc_|pgfree$|pgfault$|pgmajfault$|pgpgin$|pgpgout$|pgreuse$|oom_kill$|allocstall_|wsim_alloc_fail$|wsim_kernel_pages$|wsim_processes$|wsim_implicit_maps$)/.test(n) },
  { name: "reclaim", has: (n) => /^(pgscan_|pgsteal_|pgdemote_|pgrefill$|pgactivate$|pgdeactivate$|pglazyfree|pgrotated$|pginodesteal$|slabs_scanned$|kswapd_|pageoutrun$|drop_|pswpin$|pswpout$|wsim_swap_entries$|wsim_lru_gen_agings$)/.test(n) },
  { name: "compaction", has: (n) => n.startsWith("compact_") || n === "wsim_extfrag_fallbacks" },
  { name: "THP", has: (n) => n.startsWith("thp_") || n === "nr_anon_transparent_hugepages" },
  { name: "migration", has: (n) => n.startsWith("pgmigrate_") },
  { name: "NUMA", has: (n) => /^(numa_|pgpromote_|kpromoted_|nr_kmmscand_)/.test(n) },
  { name: "workingset", has: (n) => /^(workingset_|wsim_kagingd_|wsim_wsr_)/.test(n) },
  { name: "free page reporting", has: (n) => /^wsim_(reporting_|reported_|nr_reported_)/.test(n) },
  { name: "memory", has: (n) => n.startsWith("nr_") },
  { name: "other", has: () => true },
];

/**
 * Counters that count pages (6.1's PAGES-unit node stats and the page events): shown with a
 * size beside. Not numa_hit and friends: 6.1's rmqueue() counts them once per allocation
 * (zone_statistics(preferred_zone, zone, 1)), whatever its order.
 */
export function countsPages(n: string): boolean {
  if (n === "nr_anon_transparent_hugepages") return false; // counts huge pages
  if (/^nr_(kmmscand_|vmscan_|dirty_|written$|zspages$|mlock$|unstable$|free_cma$)/.test(n)) return /^nr_(mlock|unstable|free_cma|dirty_|written)/.test(n) && !/_threshold$/.test(n);
  if (n.startsWith("nr_")) return !/(_events$|_ptes$|_threshold$)/.test(n);
  return /^(pgalloc_|pgfree$|pgscan_|pgsteal_|pgdemote_|pgpromote_|pgmigrate_(success|fail)$|pswpin$|pswpout$|numa_pages_migrated$|workingset_(refault|activate|restore)_|compact_(migrate|free)_scanned$|compact_isolated$|pgrefill$|pgactivate$|pgdeactivate$|wsim_kernel_pages$|wsim_reported_pages$|wsim_reported_reallocated$|wsim_nr_reported_pages$)/.test(n);
}

/**
 * Counters whose unit is not a 4 KiB page nor an event, as MiB per unit: 6.1's /proc/vmstat
 * shows pgpgin/pgpgout in KiB (vm_events, `* PAGE_SIZE / 1024` in the block layer's
 * accounting), nr_vmscan_write and nr_vmscan_immediate_reclaim in pages (node stats that
 * countsPages's nr_vmscan_ rule leaves out), and the THP node stats divided by HPAGE_PMD_NR
 * (vmstat_item_print_in_thp): huge pages of 2 MiB.
 */
export const MIB_PER_UNIT: Readonly<Record<string, number>> = {
  pgpgin: 1 / 1024,
  pgpgout: 1 / 1024,
  nr_vmscan_write: 1 / 256,
  nr_vmscan_immediate_reclaim: 1 / 256,
  nr_anon_transparent_hugepages: 2,
  nr_shmem_hugepages: 2,
  nr_shmem_pmdmapped: 2,
  nr_file_hugepages: 2,
  nr_file_pmdmapped: 2,
};

/**
 * MiB one unit of counter `n` is (MIB_PER_UNIT, else 1/256 for a counter of 4 KiB pages), or
 * null for a count of events (allocations, stalls, wake-ups...), which has no size.
 */
export function mibPerUnit(n: string): number | null {
  const f = MIB_PER_UNIT[n];
  if (f !== undefined) return f;
  return countsPages(n) ? 1 / 256 : null;
}

/** Pages as a size, like damo: "1.5 GiB", "12.0 MiB", "8 KiB". */
export function pagesSize(pages: number): string {
  const b = pages * 4096;
  if (b >= 2 ** 20) return bytesSize(b);
  return `${b / 2 ** 10} KiB`;
}

/** Bytes as a size: "1.5 GiB", "12.0 MiB", "8 KiB", "49.9 KiB", "100 B". */
export function bytesSize(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(1)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (b >= 2 ** 10) return b % 2 ** 10 === 0 ? `${b / 2 ** 10} KiB` : `${(b / 2 ** 10).toFixed(1)} KiB`;
  return `${b} B`;
}

function formatBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(1)}G`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)}M`;
  if (b >= 2 ** 10) return `${(b / 2 ** 10).toFixed(0)}K`;
  return `${b}`;
}

/** Rows of the page_age columns: PAGE_AGE_ROWS high, linear in bytes, the tallest bin full height. */
export const PAGE_AGE_ROWS = 8;

/**
 * A page_age histogram as columns, one per bin: the kernel view's bar (██) beside the exact
 * one (▒▒), their height linear in anon+file bytes (a non-empty bin is at least one row), and
 * under each column its bin (`<1000ms`, `older`) and both sizes (`16.0M|3.2M`).
 */
export function pageAgeColumns(kernel: readonly WorkingsetBin[], exact: readonly WorkingsetBin[], c: Painter): string[] {
  const tot = (b: WorkingsetBin | undefined) => (b ? b.anon + b.file : 0);
  const max = Math.max(1, ...kernel.map(tot), ...exact.map(tot));
  const height = (v: number) => (v ? Math.max(1, Math.round((v / max) * PAGE_AGE_ROWS)) : 0);
  const labels = kernel.map((b) => (b.le_ms === null ? "older" : `<${b.le_ms}ms`));
  const sizes = kernel.map((b, k) => `${formatBytes(tot(b))}|${formatBytes(tot(exact[k]))}`);
  const w = Math.max(6, ...labels.map((l) => l.length), ...sizes.map((x) => x.length)) + 2;
  const lines: string[] = [];
  for (let row = PAGE_AGE_ROWS; row >= 1; row--) {
    const cells = kernel.map((b, k) => c.cyan(height(tot(b)) >= row ? "██" : "  ") + " " + c.magenta(height(tot(exact[k])) >= row ? "▒▒" : "  ") + " ".repeat(w - 5));
    lines.push(("  " + cells.join("")).trimEnd());
  }
  lines.push("  " + labels.map((l) => l.padEnd(w)).join("").trimEnd());
  lines.push("  " + sizes.map((x) => x.padEnd(w)).join("").trimEnd());
  return lines;
}

export function renderText(r: RunResult, opts: TextOptions): string {
  const c = painter(opts.color);
  const style = { head: opts.color ? ["cyan"] : [], border: opts.color ? ["grey"] : [], compact: true };
  const out: string[] = [];
  const t = r.trace;
  const mem = r.machine.nodes.reduce((s, n) => s + n.mem, 0);
  out.push(
    c.bold(`wsim ${r.wsim_version}`) +
      ` ${t.path} (${t.format}): ${plural(t.events, "event")}, ${t.first_ms ?? 0}..${t.last_ms ?? 0} ms, ended at ${r.end_ms} ms`,
  );
  out.push(`machine ${r.machine.name}: ${plural(r.machine.nodes.length, "node")}, ${formatPages(mem)}`);
  out.push("");

  // the counters that moved (non-zero), grouped; pages with their size beside
  const groups = new Map<string, [string, number][]>(COUNTER_GROUPS.map((g) => [g.name, []]));
  for (const [n, v] of Object.entries(r.vmstat)) {
    if (!v) continue;
    groups.get(COUNTER_GROUPS.find((g) => g.has(n))!.name)!.push([n, v]);
  }
  const moved = [...groups.values()].reduce((k, g) => k + g.length, 0);
  out.push(c.bold("counters that moved") + c.dim(` (${plural(moved, "counter")} not 0; --format vmstat lists all)`));
  for (const [name, rows] of groups) {
    if (!rows.length) continue;
    const ct = new Table({ head: [name, "value", "size"], style, colAligns: ["left", "right", "right"] });
    for (const [n, v] of rows) ct.push([n, String(v), mibPerUnit(n) === null ? "" : pagesSize(v * mibPerUnit(n)! * 256)]);
    out.push(ct.toString());
  }
  out.push("");

  // one row per zone; the zone column only when some node has several (a flat machine's table is as it was)
  const multiZone = r.nodes.some((n) => n.zones.length > 1);
  const nt = new Table({
    head: multiZone
      ? ["node", "zone", "tier", "cpus", "managed", "free", "pcp", "min", "low", "high", "boost"]
      : ["node", "tier", "cpus", "managed", "free", "pcp", "min", "low", "high", "boost"],
    style,
    colAligns: multiZone
      ? ["right", "left", "right", "right", "right", "right", "right", "right", "right", "right", "right"]
      : ["right", "right", "right", "right", "right", "right", "right", "right", "right", "right"],
  });
  for (const n of r.nodes)
    for (const z of n.zones) {
      // pcp: free pages on the per-cpu lists, outside `free` (NR_FREE_PAGES) and buddyinfo
      const cells = [z.managed, z.free, z.pcp ?? 0, z.watermarks.min, z.watermarks.low, z.watermarks.high, z.watermarks.boost];
      const spec = r.machine.nodes.find((m) => m.id === n.id);
      const cpus = spec ? nodeCpuCount(spec) : 0;
      nt.push((multiZone ? [n.id, z.name, n.tier, cpus, ...cells] : [n.id, n.tier, cpus, ...cells]).map(String));
    }
  out.push(nt.toString());
  out.push("");

  out.push(c.bold("/proc/buddyinfo"));
  const views = r.nodes.flatMap((n) => n.zones.map((z) => ({ nid: n.id, name: z.name, nrFree: z.buddyinfo })));
  out.push(formatBuddyinfo(views).trimEnd());
  out.push("");
  out.push(c.bold("fragmentation") + c.dim(" (unusable free index per order, as /sys/kernel/debug/extfrag/unusable_index)"));
  out.push(formatUnusableIndex(views).trimEnd());
  out.push("");
  const anyReported = r.nodes.some((n) => n.zones.some((z) => z.reported.some((x) => x > 0)));
  out.push(
    c.bold("free pages by order") +
      c.dim(anyReported ? " (bar = pages in blocks of that order, log scale; ░ = share reported to the host)" : " (bar = pages in blocks of that order, log scale)"),
  );
  const barWidth = Math.max(10, Math.min(60, (opts.width ?? 100) - 40));
  for (const n of r.nodes)
    for (const z of n.zones) {
      const bi = z.buddyinfo;
      const pages = bi.map((b, o) => b * 2 ** o);
      // a log scale (log2 of 1 + pages), so an order with 8 pages still shows beside one with 2^20
      const max = Math.log2(1 + Math.max(1, ...pages));
      out.push(multiZone ? `node ${n.id} zone ${z.name}` : `node ${n.id}`);
      pages.forEach((p, o) => {
        const len = p ? Math.max(1, Math.round((Math.log2(1 + p) / max) * barWidth)) : 0;
        const rep = p ? Math.round((len * z.reported[o]!) / bi[o]!) : 0;
        const raw = "█".repeat(len - rep);
        const color = o >= 9 ? c.green : o >= 4 ? c.yellow : c.red;
        const tail = anyReported ? ` ${String(z.reported[o]).padStart(6)} rep` : "";
        out.push(
          `  order ${String(o).padStart(2)} ${String(bi[o]).padStart(8)} blk ${String(p).padStart(9)} pg ${(p ? pagesSize(p) : "").padStart(9)}${tail} ${color(raw)}${c.cyan("░".repeat(rep))}`,
        );
      });
    }
  const ws = Object.entries(r.workingset);
  if (ws.length) {
    out.push("");
    out.push(c.bold("workingset page_age") + c.dim(" (anon+file bytes per age bin: ") + c.cyan("██") + c.dim(" kernel view, ") + c.magenta("▒▒") + c.dim(" exact; bins under their bars)"));
    for (const [cg, nodes] of ws) {
      for (const [nid, w] of Object.entries(nodes)) {
        if (!w.page_age.length) continue;
        out.push(`${cg} node ${nid}: misplaced ${(w.misplaced_share * 100).toFixed(1)}% of bytes`);
        out.push(...pageAgeColumns(w.page_age, w.page_age_exact, c));
      }
    }
  }
  // stall latency (SPEC §4.8): one row per kind that happened, then memory pressure
  const lat = STALL_KINDS.filter((k) => r.latency[k].count > 0);
  if (lat.length) {
    out.push("");
    out.push(c.bold("stall latency") + c.dim(" (virtual time from the cost.* tunables; p50/p99 are log2 bucket bounds; --format json has the histograms)"));
    const lt = new Table({ head: ["stall", "count", "total", "p50", "p99", "max"], style, colAligns: ["left", "right", "right", "right", "right", "right"] });
    const row = (label: string, h: (typeof r.latency)[StallKind]) =>
      lt.push([label, String(h.count), usText(h.total_us), upTo(h.p50_us), upTo(h.p99_us), usText(h.max_us)]);
    for (const k of lat) row(k, r.latency[k]);
    // per memcg when there are several
    const cgs = Object.entries(r.latency_by_memcg ?? {});
    if (cgs.length > 1) for (const [cg, hs] of cgs) for (const k of STALL_KINDS) if (hs[k].count > 0) row(`${k} ${cg}`, hs[k]);
    out.push(lt.toString());
    const sys = r.pressure["/"];
    if (sys) out.push(`/proc/pressure/memory: some avg10=${sys.some.avg10} total=${sys.some.total} us; full avg10=${sys.full.avg10} total=${sys.full.total} us`);
  }
  // cgroup v2 memcgs with limits (memcg-limits.ts): usage, limits and memory.events
  if (r.memcgs) {
    out.push("");
    out.push(c.bold("memcgs") + c.dim(" (memory.current, peak and limits; memory.events hierarchical; throttled = memory.high sleep)"));
    const lim = (v: number | null) => (v === null ? "max" : pagesSize(v / 4096));
    const mt = new Table({
      head: ["memcg", "current", "peak", "swap", "max", "high", "low", "min", "low ev", "high ev", "max ev", "oom", "oom_kill", "throttled"],
      style,
      colAligns: ["left", ...new Array<"right">(13).fill("right")],
    });
    for (const [cg, m] of Object.entries(r.memcgs))
      mt.push([
        cg, pagesSize(m.current / 4096), pagesSize(m.peak / 4096), pagesSize(m.swap / 4096), lim(m.max), lim(m.high), lim(m.low), lim(m.min),
        String(m.events.low), String(m.events.high), String(m.events.max), String(m.events.oom), String(m.events.oom_kill), `${m.wsim_throttle_ms} ms`,
      ]);
    out.push(mt.toString());
  }
  if (r.closed_loop) {
    const d = Object.entries(r.closed_loop.delay_ms);
    out.push(`closed loop: ${d.length ? d.map(([pid, ms]) => `pid ${pid} ${ms} ms`).join(", ") : "no pid stalled"} (total ${r.closed_loop.total_delay_ms} ms of delay)`);
  }
  if (r.reads.length) {
    out.push("");
    out.push(c.bold("read events") + c.dim(` (${plural(r.reads.length, "read")}; vmstat reads show their non-zero lines)`));
    for (const rd of r.reads) {
      const where = `${rd.cg !== null ? ` cg=${rd.cg}` : ""}${rd.node !== null ? ` node=${rd.node}` : ""}`;
      out.push(c.cyan(`t=${rd.time_ms} ms read ${rd.key}${where}`));
      let lines = rd.value.replace(/\n$/, "").split("\n");
      if (rd.key === "vmstat") lines = lines.filter((l) => !/ 0$/.test(l));
      for (const l of lines) out.push(`  ${l}`);
    }
  }
  return out.join("\n") + "\n";
}

/** a percentile's bucket bound: ≤850 us, or <1 us */
function upTo(us: number): string {
  return us === 0 ? "<1 us" : `≤${usText(us)}`;
}

/** µs with a unit that reads: <1 us, 850 us, 12.5 ms, 3.20 s */
function usText(us: number): string {
  if (us === 0) return "<1 us";
  if (us < 1000) return `${us} us`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(1)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}
