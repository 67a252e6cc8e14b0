/**
 * The simulated machine (SPEC §3): a list of NUMA nodes, each with one zone, Normal.
 * Node ids are 0..n-1 in order; pfns are global, node i's zone starting at the sum of the
 * sizes of the nodes before it. Tier 0 is the top tier. A machine may carry tunable
 * defaults of its own (the `vm` preset turns free page reporting on).
 */
import { readFileSync, statSync } from "node:fs";
import { totalmem } from "node:os";
import { DataError, describeErrno, describeValue, quoteInput, UsageError } from "../errors.js";
import { duplicateKeyMessage, jsonErrorLine, lineOf, locateJson } from "../trace/json-locate.js";
import { decodeJsonText } from "../trace/json.js";
import { foreignMachineMessage, identify } from "../trace/sniff.js";
import { machineFromZoneinfo } from "./zoneinfo-machine.js";
import { parseSizePages } from "./size.js";
import { machineZones, MAX_NR_ZONES, parseCoreParam, type ExplicitZone } from "./zones.js";

export interface NodeSpec {
  id: number;
  /** size in 4 KiB pages */
  mem: number;
  tier: number;
  /** the node has CPUs */
  cpus: boolean;
  /**
   * how many CPUs it has when the machine file gave a count (`"cpus": 2`); absent: a node with
   * CPUs has PRESET_CPUS (nodeCpuCount)
   */
  ncpus?: number;
}

/**
 * CPUs of a node with CPUs whose machine gives no count (`"cpus": true`, every preset): one, as
 * the guest `wsim kernel` boots (-smp 1), so the per-cpu page lists compare alike.
 */
export const PRESET_CPUS = 1;
/** the most CPUs a node may have */
export const MAX_NODE_CPUS = 1024;

/** CPUs of node n: its count, PRESET_CPUS for `true`, 0 without CPUs. */
export function nodeCpuCount(n: NodeSpec): number {
  return n.cpus ? (n.ncpus ?? PRESET_CPUS) : 0;
}

export interface Machine {
  name: string;
  nodes: NodeSpec[];
  /** tunable defaults this machine sets (applied under --set and the trace's own) */
  tunables: Record<string, string | number>;
  /**
   * The zone layout (SPEC §3 [next: zones]): "flat", one Normal zone per node from pfn 0 (the
   * default of a machine file without `zones` or a preset), or "x86", the zones a QEMU x86-64
   * guest of the same node sizes has (every preset's) (src/machine/zones.ts machineZoneLayout), or an explicit
   * list of zones (explicitZones)
   */
  zones?: ZonesKind | ExplicitZone[];
  /** `kernelcore=` / `movablecore=` as the boot parameter is written ("512M", "25%"); x86 only */
  kernelcore?: string;
  movablecore?: string;
  /**
   * The swap device's size in pages (SPEC §3: `"swap": "4G"` or a page count; 0 = no swap).
   * Absent: twice the machine's memory (swapPages), as `wsim kernel` gives its guest by default.
   */
  swap?: number;
  /** the file and line of each tunable of a machine file or a trace's machine (not enumerable) */
  readonly tunableAt?: { file: string; line: (key: string) => number };
}

const G = 262144; // pages per GiB

/** The zone layouts a machine may ask for. */
export const ZONES_KINDS = ["flat", "x86"] as const;
export type ZonesKind = (typeof ZONES_KINDS)[number];

export const PRESETS: Record<string, Machine> = {
  default: { name: "default", nodes: [{ id: 0, mem: 4 * G, tier: 0, cpus: true }], tunables: {}, zones: "x86" },
  tiered: {
    name: "tiered",
    zones: "x86",
    nodes: [
      { id: 0, mem: 4 * G, tier: 0, cpus: true },
      { id: 1, mem: 8 * G, tier: 1, cpus: false },
    ],
    tunables: {},
  },
  numa2: {
    name: "numa2",
    zones: "x86",
    nodes: [
      { id: 0, mem: 4 * G, tier: 0, cpus: true },
      { id: 1, mem: 4 * G, tier: 0, cpus: true },
    ],
    tunables: {},
  },
  vm: {
    name: "vm",
    zones: "x86",
    nodes: [{ id: 0, mem: 2 * G, tier: 0, cpus: true }],
    tunables: { "page_reporting.enabled": 1 },
  },
};

export const MAX_NODES = 64;

/** Whether path names an existing regular file (following symlinks). */
export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * A machine by preset name or JSON file path (UTF-8, a BOM allowed). Unknown preset = usage
 * error (2); bad file = data error (3). `named` says where a name came from when it was not
 * the command line (a trace's `# wsim: machine=` line): then an unknown preset is bad data
 * at that file and line, not a usage error; `named.ref` is the name the trace gave
 * (messages show it with the path it resolved to). A bare name that is no preset but an
 * existing file is read as that file.
 */
export function loadMachine(nameOrPath: string, named?: { file: string; line: number; ref?: string }): Machine {
  const preset = PRESETS[nameOrPath];
  if (preset) return structuredClone(preset);
  // a bare name that is no preset but an existing file is read as a file (issue 12 review A9)
  if (!/[./]/.test(nameOrPath) && !isFile(nameOrPath)) {
    const what = `unknown machine ${quoteInput(nameOrPath)}: use one of ${Object.keys(PRESETS).join(", ")}, or a JSON file`;
    if (named) throw new DataError(named.file, named.line, what);
    throw new UsageError(what);
  }
  let raw: Buffer;
  try {
    raw = readFileSync(nameOrPath);
  } catch (e) {
    const why = `cannot read machine file: ${describeErrno(e)}`;
    // the name the trace gave, and the path it resolved to when they differ
    const ref = named?.ref ?? nameOrPath;
    const shown = ref === nameOrPath ? quoteInput(ref) : `${quoteInput(ref)} (${quoteInput(nameOrPath)})`;
    if (named) throw new DataError(named.file, named.line, `machine ${shown}: ${why}`);
    throw new DataError(nameOrPath, 0, why);
  }
  // a saved /proc/zoneinfo: the layout of a real machine (zoneinfo-machine.ts)
  if (identify(raw)?.kind === "zoneinfo") return machineFromZoneinfo(decodeJsonText(raw, nameOrPath), nameOrPath);
  const foreign = foreignMachineMessage(raw, nameOrPath);
  if (foreign) throw new DataError(nameOrPath, 1, foreign);
  const text = decodeJsonText(raw, nameOrPath);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new DataError(nameOrPath, jsonErrorLine(text, e), `invalid JSON: ${(e as Error).message}`);
  }
  const dups: { path: string; key: string; line: number }[] = [];
  const where = locateJson(text, 4, dups);
  // a key twice: JSON.parse would keep the last one silently
  if (dups.length) throw new DataError(nameOrPath, dups[0]!.line, duplicateKeyMessage(dups[0]!, "the machine"));
  return parseMachine(doc, nameOrPath, (p) => lineOf(where, p));
}

/**
 * Validates a machine object (from a machine file or a JSON trace's "machine").
 * `at(path)` gives the line of a JSON path for error messages; `base` prefixes paths.
 */
export function parseMachine(
  doc: unknown,
  file: string,
  at: (path: string) => number,
  base = "",
): Machine {
  const fail = (path: string, what: string): never => {
    throw new DataError(file, at(base + path), what);
  };
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) fail("", "machine must be a JSON object");
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!["name", "nodes", "tunables", "preset", "zones", "kernelcore", "movablecore", "swap"].includes(k))
      fail(`/${k}`, `unknown machine key ${quoteInput(k)} (known: name, preset, nodes, tunables, zones, kernelcore, movablecore, swap)`);
  }
  let nodesIn = o.nodes;
  let tunables: Record<string, string | number> = {};
  if (o.preset !== undefined) {
    const p = typeof o.preset === "string" ? PRESETS[o.preset] : undefined;
    if (!p) fail("/preset", `unknown preset ${describeValue(o.preset)} (known: ${Object.keys(PRESETS).join(", ")})`);
    nodesIn ??= p!.nodes;
    tunables = { ...p!.tunables };
  }
  if (!Array.isArray(nodesIn) || nodesIn.length === 0) fail("/nodes", "machine needs a non-empty \"nodes\" array");
  const arr = nodesIn as unknown[];
  if (arr.length > MAX_NODES) fail("/nodes", `at most ${MAX_NODES} nodes`);
  const nodes: NodeSpec[] = arr.map((raw, i) => {
    const p = `/nodes/${i}`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return fail(p, "a node must be an object like {\"id\":0,\"mem\":\"4G\",\"tier\":0,\"cpus\":true}");
    const n = raw as Record<string, unknown>;
    for (const k of Object.keys(n))
      if (!["id", "mem", "tier", "cpus", "ncpus"].includes(k)) fail(`${p}/${k}`, `unknown node key ${quoteInput(k)} (known: id, mem, tier, cpus)`);
    // a run's JSON "machine" writes a CPU count as "cpus": true, "ncpus": N (NodeSpec): read it back
    if (n.ncpus !== undefined) {
      if (n.cpus !== true || typeof n.ncpus !== "number" || !Number.isInteger(n.ncpus) || n.ncpus < 1 || n.ncpus > MAX_NODE_CPUS)
        fail(`${p}/ncpus`, `node ${i} ncpus (from a run's JSON) must come with "cpus": true and be a count 1..${MAX_NODE_CPUS}, got ${describeValue(n.ncpus)}`);
      n.cpus = n.ncpus;
    }
    const id = n.id ?? i;
    if (id !== i) fail(`${p}/id`, `node ids must be 0, 1, 2, ... in order: expected ${i}, got ${describeValue(id)}`);
    if (n.mem === undefined) fail(p, `node ${i} needs "mem" (a size like "4G" or a page count)`);
    if (typeof n.mem !== "string" && typeof n.mem !== "number")
      fail(`${p}/mem`, `node ${i} mem: expected a size like "4G" or a page count, got ${describeValue(n.mem)}`);
    let mem = 0;
    try {
      mem = parseSizePages(n.mem);
    } catch (e) {
      fail(`${p}/mem`, `node ${i} mem: ${(e as Error).message}`);
    }
    if (mem >= 2 ** 31) fail(`${p}/mem`, `node ${i} mem: at most 8T per machine`);
    const tier = n.tier ?? 0;
    if (typeof tier !== "number" || !Number.isInteger(tier) || tier < 0 || tier > 7)
      fail(`${p}/tier`, `node ${i} tier must be an integer 0..7, got ${describeValue(tier)}`);
    const cpus = n.cpus ?? true;
    if (typeof cpus === "number") {
      if (!Number.isInteger(cpus) || cpus < 0 || cpus > MAX_NODE_CPUS)
        fail(`${p}/cpus`, `node ${i} cpus must be true, false or a CPU count 0..${MAX_NODE_CPUS}, got ${describeValue(cpus)}`);
      return cpus > 0 ? { id: i, mem, tier: tier as number, cpus: true, ncpus: cpus } : { id: i, mem, tier: tier as number, cpus: false };
    }
    if (typeof cpus !== "boolean") fail(`${p}/cpus`, `node ${i} cpus must be true, false or a CPU count 0..${MAX_NODE_CPUS}, got ${describeValue(cpus)}`);
    return { id: i, mem, tier: tier as number, cpus: cpus as boolean };
  });
  const total = nodes.reduce((s, n) => s + n.mem, 0);
  if (total >= 2 ** 31) fail("/nodes", "total memory must be under 8 TiB (2^31 pages)");
  if (!nodes.some((n) => n.cpus)) fail("/nodes", "at least one node must have CPUs");
  if (o.tunables !== undefined) {
    if (typeof o.tunables !== "object" || o.tunables === null || Array.isArray(o.tunables))
      fail("/tunables", "machine tunables must be an object of key: value");
    for (const [k, v] of Object.entries(o.tunables as Record<string, unknown>))
      if (typeof v !== "string" && typeof v !== "number")
        fail(`/tunables/${k}`, `machine tunable ${quoteInput(k)}: expected a string or a number, got ${describeValue(v)}`);
    tunables = { ...tunables, ...(o.tunables as Record<string, string | number>) };
  }
  if (o.name !== undefined && typeof o.name !== "string") fail("/name", `machine name must be a string, got ${describeValue(o.name)}`);
  const name = o.name !== undefined ? (o.name as string) : o.preset !== undefined ? (o.preset as string) : file;
  const machine: Machine = { name, nodes, tunables };
  if (Array.isArray(o.zones)) {
    const list: ExplicitZone[] = (o.zones as unknown[]).map((raw, i) => {
      const p = `/zones/${i}`;
      if (typeof raw !== "object" || raw === null || Array.isArray(raw))
        return fail(p, `a zone must be an object like {"node": 0, "name": "DMA32", "start": 4096, "end": 1048576, "managed": 1040000}`);
      const z = raw as Record<string, unknown>;
      const keys = ["node", "name", "start", "end", "managed", "present", "min", "low", "high", "protection"];
      for (const k of Object.keys(z)) if (!keys.includes(k)) fail(`${p}/${k}`, `unknown zone key ${quoteInput(k)} (known: ${keys.join(", ")})`);
      for (const k of ["node", "start", "end", "managed", "present", "min", "low", "high"])
        if (z[k] !== undefined && (typeof z[k] !== "number" || !Number.isSafeInteger(z[k]) || (z[k] as number) < 0))
          fail(`${p}/${k}`, `zones[${i}].${k} must be a non-negative integer, got ${describeValue(z[k])}`);
      if (typeof z.name !== "string") fail(`${p}/name`, `zones[${i}].name must be DMA, DMA32, Normal or Movable, got ${describeValue(z.name)}`);
      const marks = [z.min, z.low, z.high];
      if (marks.some((v) => v !== undefined) && marks.some((v) => v === undefined)) fail(p, `zones[${i}]: give min, low and high together`);
      if (marks[0] !== undefined && !((z.min as number) <= (z.low as number) && (z.low as number) <= (z.high as number)))
        fail(p, `zones[${i}]: watermarks need min <= low <= high, got ${z.min}, ${z.low}, ${z.high}`);
      if (z.protection !== undefined && (!Array.isArray(z.protection) || z.protection.length !== MAX_NR_ZONES || !z.protection.every((v) => Number.isSafeInteger(v) && v >= 0)))
        fail(`${p}/protection`, `zones[${i}].protection must be ${MAX_NR_ZONES} non-negative integers (lowmem_reserve[]), got ${describeValue(z.protection)}`);
      const out: ExplicitZone = { node: (z.node ?? 0) as number, name: z.name as string, start: z.start as number, end: z.end as number, managed: z.managed as number | undefined };
      for (const k of ["present", "min", "low", "high"] as const) if (z[k] !== undefined) out[k] = z[k] as number;
      if (z.protection !== undefined) out.protection = [...(z.protection as number[])];
      return out;
    });
    machine.zones = list;
    try {
      machineZones(machine);
    } catch (e) {
      const m = /^zones\[(\d+)\]/.exec((e as Error).message);
      fail(m ? `/zones/${m[1]}` : "/zones", `machine ${(e as Error).message}`);
    }
  } else if (o.zones !== undefined) {
    if (typeof o.zones !== "string" || !(ZONES_KINDS as readonly string[]).includes(o.zones))
      fail("/zones", `machine zones must be one of ${ZONES_KINDS.map((k) => `"${k}"`).join(", ")} or a list of zones, got ${describeValue(o.zones)}`);
    machine.zones = o.zones as ZonesKind;
  }
  for (const key of ["kernelcore", "movablecore"] as const) {
    const v = o[key];
    if (v === undefined) continue;
    if (typeof v !== "string") fail(`/${key}`, `${key} must be a string like "1G" or "25%", got ${describeValue(v)}`);
    try {
      parseCoreParam(v as string);
    } catch (e) {
      fail(`/${key}`, `${key}: ${(e as Error).message}`);
    }
    if (machine.zones !== "x86") fail(`/${key}`, `${key} needs "zones": "x86" (a flat machine has no ZONE_MOVABLE)`);
    machine[key] = v as string;
  }
  if (o.swap !== undefined) {
    const v = o.swap;
    if (typeof v !== "string" && typeof v !== "number") fail("/swap", `swap must be a size like "4G", a page count, or 0 for none, got ${describeValue(v)}`);
    if (v === 0 || v === "0") machine.swap = 0;
    else {
      try {
        machine.swap = parseSizePages(v);
      } catch (e) {
        fail("/swap", `swap: ${(e as Error).message} (0 for no swap)`);
      }
      if (machine.swap! >= 2 ** 32) fail("/swap", "swap: at most 16T (2^32 pages)");
    }
  }
  if (machine.zones === "x86") {
    // the layout must exist (qemuPcMemoryMap wants 2 MiB per node, kernelcore must fit)
    try {
      machineZones(machine);
    } catch (e) {
      fail("/zones", `the x86 zone layout: ${(e as Error).message}`);
    }
  }
  // where a tunable's value was written, for errors met when it is applied (not enumerable:
  // the machine's JSON in outputs stays as it was)
  Object.defineProperty(machine, "tunableAt", { value: { file, line: (k: string) => at(`${base}/tunables/${k}`) }, enumerable: false });
  return machine;
}

/**
 * The machine's swap size in pages (total_swap_pages): its `swap`, else twice its memory, the
 * size `wsim kernel` gives its guest's swap disk by default (so a comparison swaps to a device
 * of the same size relative to RAM), and enough for the bundled traces never to fill it.
 */
export function swapPages(m: Machine): number {
  return m.swap ?? 2 * m.nodes.reduce((s, n) => s + n.mem, 0);
}

/**
 * The tail of an error about a node the trace needs and the machine lacks: which machine
 * was used and how to give another, e.g. `(machine "default": nodes 0..0); replay on
 * another with --machine ...`. `origin`: the trace's format, whether the trace named the
 * machine (`named`) or --machine overrode the trace's own (`overrode`: its name). `fits`:
 * what the trace needs of a machine; the presets that meet it are named (or none), and
 * "drop --machine" is offered only when the trace's own preset meets it.
 */
export function machineHint(
  m: Machine,
  origin: { format?: "csv" | "ndjson" | "json" | "wtrace"; overrode?: string; named?: boolean } = {},
  fits?: (m: Machine) => boolean,
): string {
  const cpus = cpuNodes(m);
  const fitting = Object.keys(PRESETS).filter((n) => !fits || fits(PRESETS[n]!));
  const presets = fits
    ? fitting.length
      ? `presets that would do: ${fitting.join(", ")}`
      : "no preset would do: give a machine file (README: Machines and tunables)"
    : `presets: ${Object.keys(PRESETS).join(", ")}`;
  const line =
    origin.format === "json"
      ? `"machine": "NAME" (or a machine object) in the JSON document`
      : origin.format === "ndjson"
        ? `a first line {"machine": "NAME"} in NDJSON`
        : origin.format === "csv"
          ? `a line "# wsim: machine=NAME" before the CSV header`
          : `a line "# wsim: machine=NAME" before a CSV header, a first line {"machine": "NAME"} in NDJSON, "machine" in a JSON document`;
  const given = origin.overrode !== undefined ? `, given by --machine over the trace's own ${quoteInput(origin.overrode)}` : origin.named ? ", named by the trace" : "";
  const own = origin.overrode !== undefined ? PRESETS[origin.overrode] : undefined;
  const how =
    origin.overrode !== undefined
      ? own && fits && !fits(own)
        ? `give another with --machine NAME|FILE (${presets}; the trace's own ${quoteInput(origin.overrode)} would not do either)`
        : `drop --machine to replay on the trace's own, or give another with --machine NAME|FILE (${presets})`
      : origin.named
        ? `give another with --machine NAME|FILE (${presets}), or change the trace's own (${line})`
        : `replay on another with --machine NAME|FILE (${presets}) or name it in the trace: ${line}`;
  return `(machine ${quoteInput(m.name)}${given}: nodes 0..${m.nodes.length - 1}, CPUs on ${cpus.join(", ")}); ${how}`;
}

/** Nodes with CPUs, ascending. */
export function cpuNodes(m: Machine): number[] {
  return m.nodes.filter((n) => n.cpus).map((n) => n.id);
}

/**
 * Zonelist of node `nid` (SPEC §4.2): itself, the other nodes of its tier by ascending id,
 * then the lower tiers (tier+1, tier+2, ...), then the higher tiers from the nearest
 * (tier-1 down to 0), each by ascending id.
 */
export function zonelist(m: Machine, nid: number): number[] {
  const self = m.nodes[nid]!;
  const out = [nid];
  const byTier = (t: number) => m.nodes.filter((n) => n.tier === t && n.id !== nid).map((n) => n.id);
  out.push(...byTier(self.tier));
  const maxTier = Math.max(...m.nodes.map((n) => n.tier));
  for (let t = self.tier + 1; t <= maxTier; t++) out.push(...byTier(t));
  for (let t = self.tier - 1; t >= 0; t--) out.push(...byTier(t));
  return out;
}

/**
 * Bytes of host memory per simulated 4 KiB page at worst (every page used), from the per-pfn
 * typed arrays the model reserves up front, which the host commits only where they are written:
 * struct page's fields (src/mm/pages.ts: next, prev Int32; order Int8; flags, mflags, listMt
 * Uint8 = 12; the links and list migratetype of free order-10 blocks, 9 bytes per 1024 pages,
 * are left out), the reverse map and access times (src/mm/memory.ts: ownerMm
 * Int32, ownerVpn and lastAccess Float64 = 20) and the MGLRU lists (src/mm/lru-gen.ts: next,
 * prev, lruvecOf Int32; slot Uint8 = 13) and the swap cache's slots (src/mm/process.ts
 * swapSlot Int32 = 4, made at a run's first swap readahead; the swap writeback flags of
 * src/mm/swap-writeback.ts, 1 byte more made at a run's first swap readahead or write, are left
 * out of the estimate). Machines with a lower tier add the promotion
 * ground truth (src/mm/hot-truth.ts: counts Uint32, hotSince Float64, touched Int32, listed
 * Uint8 = 17).
 */
export const HOST_BYTES_PER_PAGE = 12 + 20 + 13 + 4;
export const HOST_BYTES_PER_PAGE_TIERED = 17;
/** node itself, the trace reader's buffers and the rest that does not grow with memory */
export const HOST_BYTES_FIXED = 256 * 2 ** 20;

/** Host memory (bytes) a replay of machine m needs before any event: page state plus a fixed part. */
export function hostBytesNeeded(m: Machine): number {
  const pages = m.nodes.reduce((s, n) => s + n.mem, 0);
  const tiered = new Set(m.nodes.map((n) => n.tier)).size > 1;
  return HOST_BYTES_FIXED + pages * (HOST_BYTES_PER_PAGE + (tiered ? HOST_BYTES_PER_PAGE_TIERED : 0));
}

/** The memory this process may use: the host's RAM, or a smaller cgroup v2 limit. */
export function hostMemoryLimit(): number {
  let limit = totalmem();
  try {
    const raw = readFileSync("/sys/fs/cgroup/memory.max", "utf8").trim();
    if (/^\d+$/.test(raw)) limit = Math.min(limit, Number(raw));
  } catch {
    /* no cgroup v2 limit */
  }
  return limit;
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

/**
 * Refuses (usage error, exit 2) a machine whose page state would not fit in `limit` bytes,
 * before anything is allocated (else: "Array buffer allocation failed" or the OOM killer).
 */
export function checkHostMemory(m: Machine, limit = hostMemoryLimit()): void {
  const need = hostBytesNeeded(m);
  if (need > limit) {
    const pages = m.nodes.reduce((s, n) => s + n.mem, 0);
    throw new UsageError(
      `machine ${m.name}: ${gib(pages * 4096)} of simulated memory needs about ${gib(need)} of host memory ` +
        `(${HOST_BYTES_PER_PAGE}${new Set(m.nodes.map((n) => n.tier)).size > 1 ? ` + ${HOST_BYTES_PER_PAGE_TIERED}` : ""} bytes per 4 KiB page), ` +
        `and this host has ${gib(limit)}: use a smaller machine`,
    );
  }
}
