/**
 * A machine read from a saved /proc/zoneinfo (issue 13 item 5: `--machine path/to/zoneinfo`,
 * recognised by its content). What the file gives and the machine keeps exactly, zone by zone:
 * start_pfn, spanned, present and managed pages, the watermarks min/low/high (boost taken off:
 * the file prints them with it) and protection (lowmem_reserve[]), which are set at boot from
 * the file instead of being computed from vm.min_free_kbytes (a later write of a watermark
 * tunable recomputes them, as the kernel does); and the number of online CPUs (the pagesets).
 * What it cannot give, and the rule used instead: where a zone's holes lie (present <
 * spanned: below 1 MiB for a zone that starts there, x86's legacy hole, else at the top of
 * the span), which pages are reserved (present - managed: the first MiB, then the top of the
 * zone), and which node a CPU is on (zoneinfo lists every online CPU under every zone: they
 * are dealt out evenly over the nodes, node 0 first). Every node is tier 0.
 */
import { DataError, ValueError } from "../errors.js";
import { parseZoneinfo } from "../procfs/zoneinfo.js";
import { layoutFromZoneinfo } from "./zone-setup.js";
import type { Machine, NodeSpec } from "./machine.js";
import { explicitZones, ZONE_DEVICE, type ExplicitZone } from "./zones.js";

/** The 1-based line of `Node N, zone NAME` in text, or 1. */
function headerLine(text: string, nid: number, zone?: string): number {
  const lines = text.split("\n");
  const re = new RegExp(`^Node ${nid}, zone\\s+${zone ?? "\\w+"}\\s*$`);
  const i = lines.findIndex((l) => re.test(l.replace(/\r$/, "")));
  return i < 0 ? 1 : i + 1;
}

/**
 * The machine a /proc/zoneinfo describes (see the file comment for what is exact and what is
 * assumed). `file` names the file in errors. Throws DataError `file:line: what` for a file
 * that does not parse, a layout x86-64 6.1 cannot have, a node without memory or a zone in
 * ZONE_DEVICE with memory.
 */
export function machineFromZoneinfo(text: string, file: string): Machine {
  const info = parseZoneinfo(text, file);
  let cpus: number[];
  try {
    cpus = layoutFromZoneinfo(info).cpus;
  } catch (e) {
    if (!(e instanceof ValueError)) throw e;
    const m = /node (\d+)(?: zone (\w+))?/.exec(e.message);
    throw new DataError(file, m ? headerLine(text, Number(m[1]), m[2]) : 1, e.message);
  }
  const zones: ExplicitZone[] = [];
  const mem: number[] = [];
  for (const p of info.pgdats) {
    let present = 0;
    p.zones.forEach((z, idx) => {
      if (z.presentPages === 0) return;
      if (idx === ZONE_DEVICE) throw new DataError(file, headerLine(text, p.nodeId, z.name), `node ${p.nodeId} zone Device has memory: wsim machines have none there`);
      const b = z.watermarkBoost;
      zones.push({
        node: p.nodeId,
        name: z.name,
        start: z.zoneStartPfn!,
        end: z.zoneStartPfn! + z.spannedPages,
        present: z.presentPages,
        managed: z.managedPages,
        min: z.min - b,
        low: z.low - b,
        high: z.high - b,
        protection: [...z.lowmemReserve],
      });
      present += z.presentPages;
    });
    if (!present) throw new DataError(file, headerLine(text, p.nodeId), `node ${p.nodeId} has no memory: every node of a wsim machine needs some`);
    mem.push(present);
  }
  const n = mem.length;
  const nodes: NodeSpec[] = mem.map((pages, id) => {
    const c = Math.floor(cpus.length / n) + (id < cpus.length % n ? 1 : 0);
    return c > 0 ? { id, mem: pages, tier: 0, cpus: true, ncpus: c } : { id, mem: pages, tier: 0, cpus: false };
  });
  try {
    explicitZones(mem, zones);
  } catch (e) {
    if (!(e instanceof ValueError)) throw e;
    throw new DataError(file, 1, `the zones of this zoneinfo do not make a machine: ${e.message}`);
  }
  return { name: file, nodes, tunables: {}, zones };
}
