/**
 * `--format text`: a summary for people: the run, the counters that moved (cli-table3), each
 * node's watermarks and free memory, and /proc/buddyinfo drawn as bars of free pages per
 * order. Colour only when the caller says so (a TTY without NO_COLOR).
 */
import { Chalk } from "chalk";
import Table from "cli-table3";
import type { RunResult } from "../engine/result.js";
import { formatPages } from "../machine/size.js";
import { formatBuddyinfo, formatUnusableIndex } from "../procfs/procfs.js";
import { plural } from "./words.js";

export interface TextOptions {
  color: boolean;
  /** terminal width for the bars */
  width?: number;
}

const SUMMARY = [
  "pgfault", "pgmajfault", "pgalloc_normal", "pgfree", "numa_hit", "numa_miss", "numa_local", "numa_other",
  "pgscan_kswapd", "pgsteal_kswapd", "pgscan_direct", "pgsteal_direct", "allocstall_normal", "pswpout", "pswpin",
  "workingset_refault_anon", "workingset_refault_file", "compact_stall", "compact_success", "compact_fail",
  "compact_daemon_wake", "compact_migrate_scanned", "compact_free_scanned", "pgmigrate_success", "pgmigrate_fail",
  "thp_fault_alloc", "thp_fault_fallback", "oom_kill", "wsim_alloc_fail", "nr_free_pages", "nr_anon_pages",
  "nr_file_pages", "nr_anon_transparent_hugepages", "wsim_kernel_pages",
];

function formatBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(1)}G`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)}M`;
  if (b >= 2 ** 10) return `${(b / 2 ** 10).toFixed(0)}K`;
  return `${b}`;
}

export function renderText(r: RunResult, opts: TextOptions): string {
  const c = new Chalk({ level: opts.color ? 1 : 0 });
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

  // counters: the summary ones, then every other non-zero counter
  const rows: [string, number][] = [];
  const shown = new Set<string>();
  for (const n of SUMMARY) {
    rows.push([n, r.vmstat[n] ?? 0]);
    shown.add(n);
  }
  for (const [n, v] of Object.entries(r.vmstat)) if (!shown.has(n) && v) rows.push([n, v]);
  const ct = new Table({ head: ["counter", "value", "counter", "value"], style, colAligns: ["left", "right", "left", "right"] });
  const half = Math.ceil(rows.length / 2);
  for (let i = 0; i < half; i++) {
    const a = rows[i]!;
    const b = rows[i + half];
    ct.push([a[0], String(a[1]), b?.[0] ?? "", b ? String(b[1]) : ""]);
  }
  out.push(ct.toString());
  out.push("");

  const nt = new Table({
    head: ["node", "tier", "cpus", "managed", "free", "min", "low", "high", "boost"],
    style,
    colAligns: ["right", "right", "left", "right", "right", "right", "right", "right", "right"],
  });
  for (const n of r.nodes) {
    const z = n.zones[0]!;
    nt.push([n.id, n.tier, n.cpus ? "yes" : "no", z.managed, z.free, z.watermarks.min, z.watermarks.low, z.watermarks.high, z.watermarks.boost].map(String));
  }
  out.push(nt.toString());
  out.push("");

  out.push(c.bold("/proc/buddyinfo"));
  const views = r.nodes.map((n) => ({ nid: n.id, name: "Normal", nrFree: n.zones[0]!.buddyinfo }));
  out.push(formatBuddyinfo(views).trimEnd());
  out.push("");
  out.push(c.bold("fragmentation") + c.dim(" (unusable free index per order, as /sys/kernel/debug/extfrag/unusable_index)"));
  out.push(formatUnusableIndex(r.nodes.map((n) => ({ nid: n.id, name: "Normal", nrFree: n.zones[0]!.buddyinfo }))).trimEnd());
  out.push("");
  const anyReported = r.nodes.some((n) => n.zones[0]!.reported.some((x) => x > 0));
  out.push(
    c.bold("free pages by order") +
      c.dim(anyReported ? " (bar = pages in blocks of that order; ░ = reported to the host)" : " (bar = pages in blocks of that order)"),
  );
  const barWidth = Math.max(10, Math.min(60, (opts.width ?? 100) - 40));
  for (const n of r.nodes) {
    const z = n.zones[0]!;
    const bi = z.buddyinfo;
    const pages = bi.map((b, o) => b * 2 ** o);
    const max = Math.max(1, ...pages);
    out.push(`node ${n.id}`);
    pages.forEach((p, o) => {
      const len = p ? Math.max(1, Math.round((p / max) * barWidth)) : 0;
      const rep = p ? Math.round((len * z.reported[o]!) / bi[o]!) : 0;
      const raw = "█".repeat(len - rep);
      const color = o >= 9 ? c.green : o >= 4 ? c.yellow : c.red;
      const tail = anyReported ? ` ${String(z.reported[o]).padStart(6)} rep` : "";
      out.push(
        `  order ${String(o).padStart(2)} ${String(bi[o]).padStart(8)} blk ${String(p).padStart(9)} pg${tail} ${color(raw)}${c.cyan("░".repeat(rep))}`,
      );
    });
  }
  const ws = Object.entries(r.workingset);
  if (ws.length) {
    out.push("");
    out.push(c.bold("workingset page_age") + c.dim(" (kernel view | exact, anon+file bytes per bin)"));
    const half = Math.max(8, Math.floor((barWidth - 4) / 2));
    for (const [cg, nodes] of ws) {
      for (const [nid, w] of Object.entries(nodes)) {
        if (!w.page_age.length) continue;
        out.push(`${cg} node ${nid}: misplaced ${(w.misplaced_share * 100).toFixed(1)}% of bytes`);
        const tot = (b: { anon: number; file: number }) => b.anon + b.file;
        const max = Math.max(1, ...w.page_age.map(tot), ...w.page_age_exact.map(tot));
        const bar = (v: number) => "█".repeat(v ? Math.max(1, Math.round((v / max) * half)) : 0).padEnd(half);
        w.page_age.forEach((b, k) => {
          const e = w.page_age_exact[k]!;
          const label = b.le_ms === null ? "older" : `<${b.le_ms}ms`;
          out.push(`  ${label.padStart(10)} ${c.cyan(bar(tot(b)))} | ${c.magenta(bar(tot(e)))} ${formatBytes(tot(b))} | ${formatBytes(tot(e))}`);
        });
      }
    }
  }
  if (r.reads.length) {
    out.push("");
    out.push(`${r.reads.length} read event(s) recorded: see --format json, key "reads"`);
  }
  return out.join("\n") + "\n";
}
