/**
 * /proc/zoneinfo as Linux 6.1 prints it (mm/vmstat.c: zoneinfo_show, walk_zones_in_node,
 * is_zone_first_populated, zoneinfo_show_print; KERNEL-REFERENCE-2 §1.7): a parser of a real
 * file into a typed structure, and a formatter from that structure back to the kernel's text,
 * byte for byte.
 *
 * Layout of the file: for every online node, every zone index in order (populated or not),
 * `Node N, zone %8s`; under the node's first populated zone only, `  per-node stats` and the
 * node's stat lines; for every zone `pages free`, boost, min, low, high, spanned, present,
 * managed, cma and `protection: (lowmem_reserve[0], ...)`; an unpopulated zone (no present
 * pages) stops there; a populated one goes on with its stat lines (zone items, then NUMA
 * items), `  pagesets` with count/high/batch and `vm stats threshold` per online CPU,
 * `node_unreclaimable` and `start_pfn`. Stat names are kept as the file lists them, in its
 * order (they depend on the kernel's config), so any 6.1 build round-trips.
 *
 * The kernel writes "\n"; a file captured through a serial console has "\r\n" (the sample
 * does): the parser accepts either, consistently, and remembers which, so formatting the
 * parse gives the file back. Bad input throws DataError `file:line: what is wrong`.
 */
import { DataError, quoteInput, ValueError } from "../errors.js";

/** One CPU's pcp of a zone, and the zone's vmstat threshold on that CPU. */
export interface ZoneinfoPageset {
  cpu: number;
  /** pcp->count: pages on this CPU's pcp lists (not in free pages) */
  count: number;
  /** pcp->high */
  high: number;
  /** pcp->batch */
  batch: number;
  /** per_cpu_zonestats stat_threshold (`vm stats threshold`; absent on non-SMP kernels) */
  statThreshold?: number;
}

/** One zone as zoneinfo_show_print prints it. Pages unless said otherwise. */
export interface ZoneinfoZone {
  /** zone->name: DMA, DMA32, Normal, Movable, Device on x86-64 */
  name: string;
  /** NR_FREE_PAGES (`pages free`) */
  freePages: number;
  /** watermark_boost */
  watermarkBoost: number;
  /** min_wmark_pages, low_wmark_pages, high_wmark_pages: boost included */
  min: number;
  low: number;
  high: number;
  spannedPages: number;
  presentPages: number;
  managedPages: number;
  cmaPages: number;
  /** lowmem_reserve[0..MAX_NR_ZONES-1] (`protection:`) */
  lowmemReserve: number[];
  /** populated zones only: the zone's vmstat items then NUMA items, in the file's order */
  stats?: Record<string, number>;
  /** populated zones only: one entry per online CPU */
  pagesets?: ZoneinfoPageset[];
  /** populated zones only: pgdat->kswapd_failures >= MAX_RECLAIM_RETRIES, 0 or 1 */
  nodeUnreclaimable?: number;
  /** populated zones only: zone_start_pfn */
  zoneStartPfn?: number;
}

/** One node (pgdat): its per-node stats (printed under its first populated zone) and zones. */
export interface ZoneinfoPgdat {
  nodeId: number;
  /** the node's vmstat items in the file's order; null for a node without a populated zone */
  nodeStats: Record<string, number> | null;
  zones: ZoneinfoZone[];
}

/** A whole /proc/zoneinfo. */
export interface Zoneinfo {
  pgdats: ZoneinfoPgdat[];
  /** "\n" as the kernel writes it (the default), or "\r\n" as a serial console captures it */
  lineEnding?: "\n" | "\r\n";
}

/** populated_zone(): the kernel prints a zone's stats, pagesets and start_pfn only when it has present pages. */
export function populatedZone(z: Pick<ZoneinfoZone, "presentPages">): boolean {
  return z.presentPages > 0;
}

/** The fixed lines after `pages free`, in order: the word and the field it fills. */
const WMARK_LINES: readonly [string, keyof ZoneinfoZone][] = [
  ["boost", "watermarkBoost"],
  ["min", "min"],
  ["low", "low"],
  ["high", "high"],
  ["spanned", "spannedPages"],
  ["present", "presentPages"],
  ["managed", "managedPages"],
  ["cma", "cmaPages"],
];

/** seq_printf "\n      %-12s %lu" */
const statLine = (name: string, v: number) => `      ${name.padEnd(12)} ${v}`;

/**
 * The text of `info` as 6.1's zoneinfo_show prints it: every node and zone in the order
 * given, per-node stats under the node's first populated zone, the populated-zone block for
 * zones with present pages. Lines end with `opts.lineEnding`, else `info.lineEnding`, else
 * "\n". Throws ValueError when a populated zone lacks its stats, pagesets, node_unreclaimable
 * or start_pfn.
 */
export function formatZoneinfo(info: Zoneinfo, opts: { lineEnding?: "\n" | "\r\n" } = {}): string {
  const lines: string[] = [];
  for (const pgdat of info.pgdats) {
    const first = pgdat.zones.findIndex(populatedZone);
    pgdat.zones.forEach((z, i) => {
      lines.push(`Node ${pgdat.nodeId}, zone ${z.name.padStart(8)}`);
      if (i === first && pgdat.nodeStats) {
        lines.push("  per-node stats");
        for (const [k, v] of Object.entries(pgdat.nodeStats)) lines.push(statLine(k, v));
      }
      lines.push(`  pages free     ${z.freePages}`);
      for (const [word, key] of WMARK_LINES) lines.push(`        ${word.padEnd(9)}${z[key] as number}`);
      lines.push(`        protection: (${z.lowmemReserve.join(", ")})`);
      if (!populatedZone(z)) return;
      if (!z.stats || !z.pagesets || z.nodeUnreclaimable === undefined || z.zoneStartPfn === undefined)
        throw new ValueError(`node ${pgdat.nodeId} zone ${z.name} has present pages but lacks stats, pagesets, node_unreclaimable or start_pfn`);
      for (const [k, v] of Object.entries(z.stats)) lines.push(statLine(k, v));
      lines.push("  pagesets");
      for (const p of z.pagesets) {
        lines.push(`    cpu: ${p.cpu}`, `              count: ${p.count}`, `              high:  ${p.high}`, `              batch: ${p.batch}`);
        if (p.statThreshold !== undefined) lines.push(`  vm stats threshold: ${p.statThreshold}`);
      }
      lines.push(`  node_unreclaimable:  ${z.nodeUnreclaimable}`, `  start_pfn:           ${z.zoneStartPfn}`);
    });
  }
  const eol = opts.lineEnding ?? info.lineEnding ?? "\n";
  return lines.map((l) => l + eol).join("");
}

const HEADER = /^Node (\d+), zone +(\S+)$/;
const STAT = /^ +([A-Za-z0-9_]+) +(\d+)$/;
const INT = "(-?\\d+)";

/**
 * Parses a /proc/zoneinfo of Linux 6.1 (`file` names it in errors). Accepts "\n" or "\r\n"
 * line endings (one kind throughout), a UTF-8 BOM, a missing final newline and any run of
 * spaces where the kernel pads. Checks what the kernel guarantees: nodes in ascending order,
 * each zone name once per node, the same number of protection values as zones, per-node
 * stats under exactly the first populated zone, the populated-zone block exactly for zones
 * with present pages, at least one CPU in pagesets, values that are integers (at most 2^53).
 * Throws DataError(file, line, what) naming the line at fault.
 */
export function parseZoneinfo(text: string, file: string): Zoneinfo {
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  if (text === "") throw new DataError(file, 0, 'empty: a /proc/zoneinfo starts with a line like "Node 0, zone      DMA"');
  const raw = text.split("\n");
  const unterminated = raw.pop()!; // "" when the text ends with a newline
  const crlf = (raw[0] ?? unterminated).endsWith("\r");
  const lines = raw.map((l, i) => {
    if (l.endsWith("\r") !== crlf)
      throw new DataError(file, i + 1, `mixed line endings: line 1 ends with ${crlf ? '"\\r\\n"' : '"\\n"'}, this one does not`);
    return crlf ? l.slice(0, -1) : l;
  });
  // a last line without its newline (a copy that lost it) may lack the "\r" too
  if (unterminated !== "") lines.push(crlf ? unterminated.replace(/\r$/, "") : unterminated);
  let i = 0; // index of the next line; its number is i + 1
  const fail = (what: string, at = i): never => {
    throw new DataError(file, at + 1, what);
  };
  const num = (s: string, at = i): number => {
    const v = Number(s);
    if (!Number.isSafeInteger(v)) fail(`value ${s} is too large to hold exactly (at most 2^53)`, at);
    return v;
  };
  const got = () => (i < lines.length ? `got ${quoteInput(lines[i]!)}` : "got the end of the file");
  const expectLine = (re: RegExp, what: string): RegExpExecArray => {
    const m = i < lines.length ? re.exec(lines[i]!) : null;
    if (!m) fail(`expected ${what}, ${got()}`, Math.min(i, lines.length - 1));
    i++;
    return m!;
  };
  const readStats = (stop: RegExp, where: string): Record<string, number> => {
    const out: Record<string, number> = {};
    while (i < lines.length && !stop.test(lines[i]!)) {
      const m = STAT.exec(lines[i]!);
      if (!m) fail(`expected a ${where} line "      name value", ${got()}`);
      if (m![1] === "__proto__") fail(`${where} ${quoteInput(m![1]!)} is no vmstat item`);
      if (Object.hasOwn(out, m![1]!)) fail(`${where} ${quoteInput(m![1]!)} appears twice`);
      out[m![1]!] = num(m![2]!);
      i++;
    }
    return out;
  };

  const pgdats: ZoneinfoPgdat[] = [];
  const protectionLine = new Map<ZoneinfoZone, number>();
  while (i < lines.length) {
    const headerAt = i;
    const h = expectLine(HEADER, '"Node N, zone NAME"');
    const nid = num(h[1]!, headerAt);
    const name = h[2]!;
    let pgdat = pgdats[pgdats.length - 1];
    if (!pgdat || pgdat.nodeId !== nid) {
      if (pgdat && nid < pgdat.nodeId) fail(`node ${nid} after node ${pgdat.nodeId}: zoneinfo lists nodes in ascending order`, headerAt);
      pgdat = { nodeId: nid, nodeStats: null, zones: [] };
      pgdats.push(pgdat);
    }
    if (pgdat.zones.some((z) => z.name === name)) fail(`zone ${name} of node ${nid} appears twice`, headerAt);
    let nodeStats: Record<string, number> | null = null;
    const nodeStatsAt = i;
    if (i < lines.length && /^ +per-node stats$/.test(lines[i]!)) {
      i++;
      nodeStats = readStats(/^ +pages free /, "per-node stat");
    }
    const zone = { name } as ZoneinfoZone;
    zone.freePages = num(expectLine(/^ +pages free +(\d+)$/, '"  pages free     N"')[1]!, i - 1);
    for (const [word, key] of WMARK_LINES)
      (zone[key] as number) = num(expectLine(new RegExp(`^ +${word} +(\\d+)$`), `"        ${word.padEnd(9)}N"`)[1]!, i - 1);
    const prot = expectLine(/^ +protection: \(([^)]*)\)$/, '"        protection: (N, N, ...)"');
    if (!/^-?\d+(, -?\d+)*$/.test(prot[1]!)) fail(`protection: expected numbers separated by ", ", got ${quoteInput(prot[1]!)}`, i - 1);
    zone.lowmemReserve = prot[1]!.split(", ").map((s) => num(s, i - 1));
    protectionLine.set(zone, i - 1);
    if (populatedZone(zone)) {
      zone.stats = readStats(/^ +pagesets$/, "zone stat");
      expectLine(/^ +pagesets$/, '"  pagesets"');
      zone.pagesets = [];
      while (i < lines.length && /^ +cpu: /.test(lines[i]!)) {
        const cpu = num(expectLine(/^ +cpu: (\d+)$/, '"    cpu: N"')[1]!, i - 1);
        const count = num(expectLine(new RegExp(`^ +count: ${INT}$`), '"              count: N"')[1]!, i - 1);
        const high = num(expectLine(new RegExp(`^ +high: +${INT}$`), '"              high:  N"')[1]!, i - 1);
        const batch = num(expectLine(new RegExp(`^ +batch: ${INT}$`), '"              batch: N"')[1]!, i - 1);
        const p: ZoneinfoPageset = { cpu, count, high, batch };
        if (i < lines.length && /^ +vm stats threshold:/.test(lines[i]!))
          p.statThreshold = num(expectLine(new RegExp(`^ +vm stats threshold: ${INT}$`), '"  vm stats threshold: N"')[1]!, i - 1);
        zone.pagesets.push(p);
      }
      if (zone.pagesets.length === 0) fail(`zone ${name} of node ${nid}: pagesets lists no CPU; ${got()}`);
      zone.nodeUnreclaimable = num(expectLine(/^ +node_unreclaimable: +(\d+)$/, '"  node_unreclaimable:  N"')[1]!, i - 1);
      zone.zoneStartPfn = num(expectLine(/^ +start_pfn: +(\d+)$/, '"  start_pfn:           N"')[1]!, i - 1);
    } else if (i < lines.length && !HEADER.test(lines[i]!)) {
      fail(`zone ${name} of node ${nid} has no present pages, so 6.1 ends it after protection; expected the next "Node N, zone NAME", ${got()}`);
    }
    const firstPopulated = !pgdat.zones.some(populatedZone) && populatedZone(zone);
    if (nodeStats && !firstPopulated)
      fail(`per-node stats under zone ${name} of node ${nid}: 6.1 prints them only under the node's first populated zone`, nodeStatsAt);
    if (!nodeStats && firstPopulated)
      fail(`zone ${name} is node ${nid}'s first populated zone, so 6.1 prints "  per-node stats" right after its header`, nodeStatsAt);
    if (nodeStats) pgdat.nodeStats = nodeStats;
    pgdat.zones.push(zone);
  }
  for (const pgdat of pgdats) {
    for (const z of pgdat.zones)
      if (z.lowmemReserve.length !== pgdat.zones.length)
        fail(
          `zone ${z.name} of node ${pgdat.nodeId}: protection has ${z.lowmemReserve.length} values, but the node has ${pgdat.zones.length} zones (one value per zone)`,
          protectionLine.get(z),
        );
  }
  return { pgdats, lineEnding: crlf ? "\r\n" : "\n" };
}
