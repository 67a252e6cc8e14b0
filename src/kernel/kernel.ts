/**
 * `wsim kernel` as a library: replay a trace on a real Linux kernel in QEMU and return its
 * counters in the shape of `wsim replay`'s JSON (SPEC §5), so `wsim diff` compares them.
 * Counters are the difference between the final /proc/vmstat and a snapshot the helper takes
 * before the first event (SPEC §5); `kernel.boot` and `kernel.final` keep both raw.
 */
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvironmentError, UsageError } from "../errors.js";
import { nodeCpuCount, type Machine } from "../machine/machine.js";
import { ZONE_NAMES, type ExplicitZone } from "../machine/zones.js";
import { guestLru } from "./script.js";
import { resolveSettings } from "../replay.js";
import { openTrace } from "../trace/open.js";
import type { TraceFormat } from "../trace/types.js";
import { SCHEMA, WSIM_VERSION } from "../version.js";
import { buildInitramfs } from "./initramfs.js";
import { parseBuddyinfo, parseConsole, parsePageblockCounts, parseVmstat, type KernelZone } from "./guest-output.js";
import { eventEnablePath, ScriptBuilder, TRACEFS, type EventRecording, type Unsupported } from "./script.js";
import { writeSwapImage } from "./swap.js";
import { dataImageBytes, findMke2fs, writeDataImage } from "./datadisk.js";
import { buildHelper, buildKallocModule, defaultKernel, findQemu, kernelBuildTree } from "./toolchain.js";

/** where the initramfs holds wsim_kalloc.ko */
const KALLOC_PATH = "/wsim_kalloc.ko";

export interface KernelConfig {
  trace: string;
  /** with trace "-": where standard input comes from (a caller that reads the trace twice spools it) */
  stdin?: () => Readable;
  format?: TraceFormat;
  /** the trace's machine only supplies tunables here; the guest's memory is --mem/--numa */
  machine?: string | Machine;
  set?: readonly string[];
  /** bzImage; default Debian's cloud kernel, fetched once */
  kernel?: string;
  /** guest memory of node 0, MiB */
  memMiB: number;
  /** memory-only nodes, MiB each (tiering) */
  numaMiB: number[];
  timeoutS: number;
  maxGapMs: number;
  /** size of the guest's swap device (an emulated NVMe disk), MiB; 0: no swap */
  swapMiB?: number;
  /**
   * the guest's LRU: mglru turns MGLRU on, classic leaves it as booted; default: as the replay
   * (lru_gen.enabled: 1 mglru, 0 MGLRU turned off, "off")
   */
  lru?: "mglru" | "classic";
  /** make the trace's kernel allocations with wsim_kalloc.ko (default true; for the default kernel or a --kernel in its build tree) */
  kalloc?: boolean;
  /** take ZONE_DMA's free pages before the first snapshot (wsim_kalloc), so the node is balanced as wsim's one zone is */
  fillDma?: boolean;
  /** extra kernel command-line parameters (movablecore=, transparent_hugepage=, ...), after wsim's own */
  append?: readonly string[];
  /**
   * tracepoints to record during the replay (`wsim kernel --events`): enabled before the first
   * snapshot with tracing off, on from the first event to the last, and read from trace_pipe
   * after the final snapshot; the text goes to onEvents
   */
  events?: EventRecording;
  /** receives the guest's trace_pipe text when `events` is given */
  onEvents?: (text: string) => void;
  /** keep the work directory (initramfs, script, guest log); its path is returned */
  keep?: boolean;
  log?: (msg: string) => void;
}

export interface KernelSnapshot {
  vmstat: Record<string, number>;
  buddyinfo: string;
  pagetypeinfo: string;
  pageblocks: Record<string, number>;
  /** /proc/zoneinfo as printed (the boot snapshot only: the layout, watermarks and pagesets wsim's machine can start from) */
  zoneinfo?: string;
  /** /sys/kernel/debug/lru_gen as printed (the boot snapshot, multi-gen LRU on): the generations wsim's boot owner's pages start in */
  lru_gen?: string;
}

export interface KernelResult {
  schema: number;
  wsim_version: string;
  source: "kernel";
  trace: { path: string; format: string; events: number; first_ms: number | null; last_ms: number | null };
  /** what the guest had free at the start, per node, as a wsim machine (what `wsim compare` simulates) */
  machine: Machine;
  /** tunables written to the guest's sysctl/sysfs files */
  tunables: Record<string, string>;
  vmstat: Record<string, number>;
  nodes: { id: number; zones: KernelZone[] }[];
  reads: { time_ms: number; key: string; cg: string | null; node: number | null; value: string }[];
  series: never[];
  kernel: {
    image: string;
    mem_mib: number;
    numa_mib: number[];
    /** the guest's kernel release (/proc/sys/kernel/osrelease, `uname -r`), null if it printed none */
    release: string | null;
    /** the guest's kernel command line */
    cmdline: string;
    /** the guest's swap device, MiB (0: none) */
    swap_mib: number;
    /** the guest's ext4 data disk for the trace's files (src/kernel/datadisk.ts), MiB (0: none, the trace has no file I/O) */
    data_mib: number;
    /** mglru: the helper turned multi-gen LRU on before the first snapshot; off: turned it off (lru_gen.enabled=0); classic: left as booted */
    lru: "mglru" | "classic" | "off";
    wall_ms: number;
    /**
     * the replay on the guest's own clock: sleeps plus the time the guest spent working, which
     * under TCG can be far more than the trace gives it (its daemons' timers run on this clock)
     */
    guest_ms: number | null;
    slept_ms: number;
    /** trace time not slept because a gap exceeded --max-gap */
    skipped_ms: number;
    unsupported: Unsupported;
    /** the trace's kernel allocations made by wsim_kalloc, and how many failed (wsim: wsim_alloc_fail) */
    kalloc: { module: string | null; allocs: number; failed: number };
    /** pages of ZONE_DMA wsim_kalloc took before the first snapshot (--fill-dma), else null */
    dma_filled: number | null;
    /**
     * `--events`: the tracepoints enabled, the ring buffer per CPU (KiB), the event lines read
     * from trace_pipe, and what the ring buffer's stats (per_cpu/cpu0/stats) say it dropped
     * because it was full (the newest events: overwrite is off); null without --events
     */
    events: { enabled: string[]; buffer_kb: number; lines: number; dropped: number; overrun: number } | null;
    /** the helper's errors (a failed mmap, a sysctl the kernel refused) */
    errors: string[];
    /**
     * the snapshots around the replay; `pageblocks`: pagetypeinfo's block counts by type, summed
     * over zones. `boot` is taken right before the first event, after the tunables are written
     * (runs recorded before 2026-12-01 took it before the tunables: their watermarks are the
     * boot's, not the replay's)
     */
    boot: KernelSnapshot;
    final: KernelSnapshot;
    workdir: string | null;
  };
}

/** wsim's part of the guest's command line: a serial console, no noise, no random free lists */
const APPEND = "console=ttyS0 quiet loglevel=1 panic=-1 page_alloc.shuffle=0";

/** The guest's kernel command line: wsim's parameters, then the user's (the kernel takes the last of a repeated one). */
export function guestCmdline(append: readonly string[] = []): string {
  return [APPEND, ...append.map((a) => a.trim()).filter((a) => a !== "")].join(" ");
}

function snapshot(vmstat: Record<string, number>, buddyinfo: string, pagetypeinfo: string): KernelSnapshot {
  return { vmstat, buddyinfo, pagetypeinfo, pageblocks: parsePageblockCounts(pagetypeinfo) };
}

function runQemu(qemu: string, args: string[], timeoutS: number): Promise<{ out: string; timedOut: boolean; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(qemu, args, { stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let err = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutS * 1000);
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const out = Buffer.concat(chunks).toString("latin1");
      if (code !== 0 && !timedOut && !out.includes("@@wsim start"))
        reject(new EnvironmentError(`QEMU failed (exit ${code}): ${err.trim() || "no output"}`));
      else resolve({ out, timedOut, code });
    });
  });
}

/** where the guest finds the swap disk (NVMe is built into Debian's cloud kernel; virtio-blk is a module) */
export const SWAP_DEVICE = "/dev/nvme0n1";

/**
 * Where the guest finds the data disk of the trace's files (ext4, built into Debian's cloud
 * kernel): the NVMe controller's namespace after the swap disk's, if there is one (6.1 names a
 * controller's namespaces in the order it scans their IDs).
 */
export function dataDevice(swap: boolean): string {
  return swap ? "/dev/nvme0n2" : "/dev/nvme0n1";
}

/**
 * QEMU's arguments for a guest of `memMiB` on node 0 and `numaMiB` more nodes, with
 * `nodeCpus[i]` CPUs on node i (default one on node 0; missing entries 0): `-smp` their sum,
 * numbered node by node as wsim numbers a machine's CPUs, so the guest keeps as many per-cpu
 * page lists per zone as the replay (issue 13 item 6). A machine without any CPU still gets
 * one, on node 0 (a guest cannot boot without).
 */
export function qemuArgs(
  kernel: string,
  initrd: string,
  memMiB: number,
  numaMiB: readonly number[],
  cmdline = guestCmdline(),
  swapImage?: string,
  nodeCpus: readonly number[] = [1],
  dataImage?: string,
): string[] {
  const mibs = [memMiB, ...numaMiB];
  const cpus: number[] = mibs.map((_, i) => nodeCpus[i] ?? 0);
  if (!cpus.some((c) => c > 0)) cpus[0] = 1;
  const smp = cpus.reduce((a, b) => a + b, 0);
  const args = ["-accel", "tcg", "-cpu", "max", "-smp", String(smp), "-nodefaults", "-nographic", "-serial", "stdio", "-no-reboot"];
  const total = memMiB + numaMiB.reduce((s, m) => s + m, 0);
  args.push("-m", `${total}M`);
  if (numaMiB.length) {
    let first = 0;
    mibs.forEach((mib, i) => {
      const n = cpus[i]!;
      const range = n === 0 ? "" : n === 1 ? `,cpus=${first}` : `,cpus=${first}-${first + n - 1}`;
      first += n;
      args.push("-object", `memory-backend-ram,id=m${i},size=${mib}M`);
      args.push("-numa", `node,nodeid=${i},memdev=m${i}${range}`);
    });
  }
  // cache=unsafe: the images are scratch, thrown away with the run
  if (swapImage) args.push("-drive", `file=${swapImage},if=none,id=swap,format=raw,cache=unsafe`);
  if (dataImage) {
    // one controller, the swap disk's namespace first (dataDevice)
    args.push("-drive", `file=${dataImage},if=none,id=data,format=raw,cache=unsafe`);
    args.push("-device", "nvme,id=nvme0,serial=wsimswap");
    if (swapImage) args.push("-device", "nvme-ns,bus=nvme0,drive=swap,nsid=1");
    args.push("-device", `nvme-ns,bus=nvme0,drive=data,nsid=${swapImage ? 2 : 1}`);
  } else if (swapImage) args.push("-device", "nvme,serial=wsimswap,drive=swap");
  args.push("-kernel", kernel, "-initrd", initrd, "-append", cmdline);
  return args;
}

function diffVmstat(boot: Record<string, number>, final: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(final)) out[k] = v - (boot[k] ?? 0);
  return out;
}

/**
 * The machine wsim should simulate: what each guest zone had free before the first event, as
 * zones of their own (issue 13 items 1 and 4: the guest's DMA zone, its lowmem_reserve and its
 * share of the watermarks take part on both sides, so `--fill-dma` is no longer needed). Each
 * zone of /proc/buddyinfo becomes an explicit zone of its free pages in whole pageblocks (a zone
 * with less than one pageblock free is left out), laid at ascending pfns node by node from pfn
 * 0; `nodeCpus[i]` CPUs on node i (the count the guest booted with; default one on node 0).
 * Node 0 is tier 0, the others tier 1 (`--numa` nodes are memory-only tiers).
 */
export function machineFromBuddyinfo(nodes: { id: number; zones: KernelZone[] }[], nodeCpus: readonly number[] = [1]): Machine {
  const zones: ExplicitZone[] = [];
  let pfn = 0;
  const specs = nodes.map((n) => {
    let mem = 0;
    for (const z of n.zones) {
      // whole pageblocks, as a wsim zone is
      const pages = Math.floor(z.free / 512) * 512;
      if (pages === 0 || !ZONE_NAMES.includes(z.name) || z.name === "Device") continue;
      zones.push({ node: n.id, name: z.name, start: pfn, end: pfn + pages });
      pfn += pages;
      mem += pages;
    }
    const ncpus = nodeCpus[n.id] ?? 0;
    return { id: n.id, mem, tier: n.id === 0 ? 0 : 1, cpus: ncpus > 0, ...(ncpus > 1 ? { ncpus } : {}) };
  });
  return { name: "guest", nodes: specs, tunables: {}, ...(zones.length ? { zones } : {}) };
}

/**
 * CPUs per guest node (node 0 and each `--numa` node) from the trace's machine: its nodes'
 * counts (machine.ts nodeCpuCount: a preset's node with CPUs has one), 0 for a guest node the
 * machine does not have.
 */
export function guestNodeCpus(machine: Machine, guestNodes: number): number[] {
  return Array.from({ length: guestNodes }, (_, i) => {
    const n = machine.nodes.find((x) => x.id === i);
    return n ? nodeCpuCount(n) : 0;
  });
}

/**
 * What `--events` recorded: trace_pipe's text (section "events") and the ring buffer's stats
 * (kernel/trace/trace.c:tracing_stats_read: "overrun: N", "dropped events: N", ...).
 * Errors: UsageError when the guest kernel has no such tracepoint (its enable file did not open),
 * EnvironmentError when tracefs could not be used at all.
 */
export function recordedEvents(
  ev: EventRecording,
  sections: Map<string, string>,
  errors: string[],
  release: string | null,
): { text: string; lines: number; dropped: number; overrun: number } {
  const on = `Linux ${release ?? "(release unknown)"}`;
  for (const e of ev.events) {
    const path = eventEnablePath(e);
    if (errors.some((m) => m.includes(`open ${path}:`)))
      throw new UsageError(`--events: the guest kernel (${on}) has no tracepoint ${e} (${path.slice(TRACEFS.length + 1)} did not open)`);
  }
  const text = sections.get("events");
  if (text === undefined || errors.some((m) => m.includes(`open ${TRACEFS}/tracing_on:`)))
    throw new EnvironmentError(`--events: the guest kernel (${on}) has no tracefs (CONFIG_TRACING), so nothing was recorded`);
  const stats = sections.get("events-stats") ?? "";
  const stat = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, "m").exec(stats)?.[1] ?? 0);
  const body = text === "\n" ? "" : text;
  let lines = 0;
  for (let i = body.indexOf("\n"); i >= 0; i = body.indexOf("\n", i + 1)) lines++;
  const dropped = stat("dropped events");
  // with overwrite off the ring buffer drops the newest events and trace_pipe says nothing of
  // them: the file ends with the marker trace_pipe prints for lost events (print_trace_line's
  // "CPU:%d [LOST %lu EVENTS]"), so a later convert or stat of the file knows its tail is missing
  const marker = dropped > 0 ? `CPU:0 [LOST ${dropped} EVENTS]\n` : "";
  return { text: body + marker, lines, dropped, overrun: stat("overrun") };
}

export async function runKernel(cfg: KernelConfig): Promise<KernelResult> {
  const log = cfg.log ?? (() => {});
  const trace = await openTrace(cfg.trace, { format: cfg.format, stdin: cfg.stdin?.() });
  const settings = resolveSettings(trace, cfg.machine, cfg.set);
  const nodeCpus = guestNodeCpus(settings.machine, 1 + cfg.numaMiB.length);
  const lru = guestLru(settings.num("lru_gen.enabled"), cfg.lru);
  const swapMiB = cfg.swapMiB ?? 0;
  // the module builds against the default kernel's headers or a --kernel's own build tree
  const kalloc = cfg.kalloc !== false && (cfg.kernel === undefined || kernelBuildTree(cfg.kernel) !== null);
  const sb = new ScriptBuilder({
    maxGapMs: cfg.maxGapMs,
    minSleepMs: 10,
    lru,
    swapDevice: swapMiB > 0 ? SWAP_DEVICE : undefined,
    dataDevice: dataDevice(swapMiB > 0),
    // kind=file regions map files of the data disk when one can be made; else they are anonymous (counted)
    mapFiles: findMke2fs() !== null,
    kallocModule: kalloc ? KALLOC_PATH : undefined,
    kallocSkip: cfg.kalloc === false ? "--no-kalloc" : "wsim_kalloc builds against the default kernel or a --kernel in its build tree only",
    fillDma: cfg.fillDma,
    events: cfg.events,
    nodeCpus,
  });
  if (cfg.fillDma && !kalloc)
    throw new UsageError("--fill-dma needs wsim_kalloc: the default kernel or a --kernel in its build tree, without --no-kalloc");
  sb.startTunables(settings);
  for await (const b of trace.batches()) sb.add(b);
  const script = sb.finish();

  const qemu = findQemu(); // first: a missing QEMU is named before anything is built or fetched
  const helper = buildHelper(log);
  const image = cfg.kernel ?? defaultKernel(log);
  const module = sb.usedKalloc ? buildKallocModule(image, log) : null;
  const work = mkdtempSync(join(tmpdir(), "wsim-kernel-"));
  try {
    const initrd = join(work, "initramfs.cpio.gz");
    writeFileSync(
      initrd,
      buildInitramfs([
        { path: "proc" },
        { path: "sys" },
        { path: "dev" },
        { path: "init", data: readFileSync(helper), mode: 0o755 },
        { path: "script", data: Buffer.from(script), mode: 0o644 },
        ...(module ? [{ path: KALLOC_PATH.slice(1), data: readFileSync(module), mode: 0o644 }] : []),
      ]),
    );
    if (cfg.keep) writeFileSync(join(work, "script"), script);
    log(
      `wsim kernel: booting ${image} (${cfg.memMiB} MiB${cfg.numaMiB.length ? ` + nodes of ${cfg.numaMiB.join(", ")} MiB` : ""}` +
        `${swapMiB ? `, ${swapMiB} MiB swap` : ", no swap"}) under QEMU TCG`,
    );
    const swapImage = swapMiB > 0 ? join(work, "swap.img") : undefined;
    if (swapImage) writeSwapImage(swapImage, swapMiB * 2 ** 20);
    const dataImage = sb.usedFiles ? join(work, "data.img") : undefined;
    if (dataImage) {
      writeDataImage(dataImage, sb.files());
      log(`wsim kernel: an ext4 data disk of ${dataImageBytes(sb.files()) / 2 ** 20} MiB for the trace's ${sb.files().length} files`);
    }
    const cmdline = guestCmdline(cfg.append);
    if (cfg.append?.length) log(`wsim kernel: command line: ${cmdline}`);
    const t0 = Date.now();
    const { out, timedOut } = await runQemu(qemu, qemuArgs(image, initrd, cfg.memMiB, cfg.numaMiB, cmdline, swapImage, nodeCpus, dataImage), cfg.timeoutS);
    const wallMs = Date.now() - t0;
    if (cfg.keep) writeFileSync(join(work, "guest.log"), out);
    const { sections, errors, done, elapsedMs, kallocCounts } = parseConsole(out);
    const keepNote = cfg.keep ? ` (guest log: ${join(work, "guest.log")})` : " (--keep keeps the guest log)";
    if (timedOut) throw new EnvironmentError(`the guest did not finish within --timeout ${cfg.timeoutS} s${keepNote}`);
    const panic = /Kernel panic - not syncing: ([^\r\n]*)/.exec(out);
    if (panic && !done) {
      const hint = /memory/i.test(panic[1]!) ? " (the replay needs more memory than --mem and --swap give the guest)" : "";
      throw new EnvironmentError(`the guest kernel panicked: ${panic[1]!.trim()}${hint}${keepNote}`);
    }
    if (!done || !sections.has("final-vmstat"))
      throw new EnvironmentError(`the guest stopped before the end of the script${keepNote}:\n${out.split("\n").slice(-15).join("\n")}`);
    const events = cfg.events ? recordedEvents(cfg.events, sections, errors, sections.get("release")?.trim() ?? null) : null;
    if (events) cfg.onEvents?.(events.text);
    const bootVm = parseVmstat(sections.get("boot-vmstat")!);
    const finalVm = parseVmstat(sections.get("final-vmstat")!);
    const bootBuddy = sections.get("boot-buddyinfo") ?? "";
    const finalBuddy = sections.get("final-buddyinfo") ?? "";
    return {
      schema: SCHEMA,
      wsim_version: WSIM_VERSION,
      source: "kernel",
      trace: { path: cfg.trace, format: trace.format, events: sb.events, first_ms: sb.firstMs, last_ms: sb.lastMs },
      machine: machineFromBuddyinfo(parseBuddyinfo(bootBuddy), nodeCpus),
      tunables: sb.written,
      vmstat: diffVmstat(bootVm, finalVm),
      nodes: parseBuddyinfo(finalBuddy),
      reads: sb.reads.map((r) => ({ time_ms: r.time_ms, key: r.key, cg: r.cg, node: r.node, value: sections.get(r.tag) ?? "" })),
      series: [],
      kernel: {
        image,
        mem_mib: cfg.memMiB,
        numa_mib: cfg.numaMiB,
        release: sections.get("release")?.trim() || null,
        cmdline,
        swap_mib: swapMiB,
        data_mib: dataImage ? dataImageBytes(sb.files()) / 2 ** 20 : 0,
        lru,
        wall_ms: wallMs,
        guest_ms: elapsedMs,
        slept_ms: sb.sleptMs,
        skipped_ms: Math.round(sb.skippedMs),
        unsupported: sb.unsupported,
        kalloc: { module, allocs: kallocCounts?.[0] ?? 0, failed: kallocCounts?.[1] ?? 0 },
        events: events && { enabled: [...cfg.events!.events], buffer_kb: cfg.events!.bufferKb, lines: events.lines, dropped: events.dropped, overrun: events.overrun },
        dma_filled: cfg.fillDma ? Number(/^dma (\d+)/.exec(sections.get("dma-fill") ?? "")?.[1] ?? NaN) : null,
        errors,
        boot: { ...snapshot(bootVm, bootBuddy, sections.get("boot-pagetypeinfo") ?? ""), zoneinfo: sections.get("boot-zoneinfo") ?? "", lru_gen: sections.get("boot-lru_gen") ?? "" },
        final: snapshot(finalVm, finalBuddy, sections.get("final-pagetypeinfo") ?? ""),
        workdir: cfg.keep ? work : null,
      },
    };
  } finally {
    if (!cfg.keep) rmSync(work, { recursive: true, force: true });
  }
}
