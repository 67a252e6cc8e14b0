#!/usr/bin/env node
/**
 * The random-ops robustness campaign (issue 12): from a seed, generate a random trace and a
 * small machine (32–64 MiB, one or two nodes, tiers, CPUs or not, page reporting on or off),
 * replay it as a user would (`bin/wsim replay T --machine M --check --lenient --format json`)
 * under a time bound (CPU time, see runWsim), and classify what went wrong:
 *
 *   internal          exit 70: an internal error or a broken invariant under --check
 *   hang              the run used more than --timeout of CPU time (a daemon looping at one
 *                     virtual time, idle time that costs, ...)
 *   rejected          exit 3 on a trace the generator means to be valid (a generator bug or
 *                     wsim rejecting valid data: read the message)
 *   crash             any other exit code or a signal (out of memory, abort)
 *   nondeterministic  the same run twice gave different bytes (checked on a sample)
 *   jump-mismatch     skipping idle time (the engine's idle jumps) gave other bytes than
 *                     ticking through it (--no-idle-jumps), on the same sample with every gap
 *                     between events cut to at most JUMP_CHECK_GAP_MS so that ticking ends
 *
 * Every trace is deterministic per seed (the project's own PRNG, src/engine/rng.ts, from
 * dist/), so a seed is a complete reproduction. Needs `npm run build` first.
 *
 *   node scripts/campaign.mjs --runs 200 --out /tmp/camp          # seeds 1..200
 *   node scripts/campaign.mjs --minutes 30 --jobs 1 --seed-start 1000
 *   node scripts/campaign.mjs --shrink 17 --out /tmp/camp          # minimise seed 17's failure
 *   node scripts/campaign.mjs --shrink-trace t.csv --machine m.json
 *
 * Exit status: 0 when every run passed, 1 when any failed, 2 on a usage error.
 * The module also exports generateCase, runCase, runCampaign and shrink for the tests.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "../dist/engine/rng.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "bin", "wsim");
const MIB_PAGES = 256;

/** Features the generator can leave out (--exclude), for exploring past known bugs only. */
export const EXCLUDABLE = {
  aeration: "never switch page_reporting.mode to aeration (issue 12 item 11)",
  "reporting-order": "never write page_reporting.order in the trace (issue 12 item 12)",
  "far-future": "time jumps stay below 1e6 ms, no epoch-scale times (issue 12 item 13)",
  "kpromoted-tick": "kpromoted.delay_ms >= 100: each idle wake-up walks every bucket (item 13's kind)",
};

const COLUMNS = ["time_ms", "op", "pid", "addr", "len", "rw", "node", "kind", "thp", "cg", "id", "order", "mt", "key", "value"];
const MTS = ["unmovable", "movable", "reclaimable"];
const CGS = ["/", "/a", "/a/b", "/c", "/svc"];
const READ_KEYS = ["vmstat", "buddyinfo", "pagetypeinfo", "extfrag_index", "unusable_index", "memory.workingset.page_age", "memory.workingset.reaccess"];
const REGION_BASE = 0x4000_0000;
const REGION_SLOT = 0x100_0000; // 16 MiB of address space per region slot
const SLOTS = 12;

// --- the generator ---------------------------------------------------------------------

/** A tiny helper around the project's Rng. */
class Pick {
  constructor(seed) {
    this.r = new Rng(seed);
  }
  /** integer in [lo, hi] */
  int(lo, hi) {
    return lo + this.r.int(hi - lo + 1);
  }
  chance(p) {
    return this.r.next() < p;
  }
  of(arr) {
    return arr[this.r.int(arr.length)];
  }
  /** log-uniform integer in [lo, hi] */
  log(lo, hi) {
    return Math.floor(Math.exp(Math.log(lo) + this.r.next() * (Math.log(hi) - Math.log(lo))));
  }
  /** index by weights */
  weighted(weights) {
    let total = 0;
    for (const w of Object.values(weights)) total += w;
    let x = this.r.next() * total;
    for (const [k, w] of Object.entries(weights)) {
      x -= w;
      if (x < 0) return k;
    }
    return Object.keys(weights)[0];
  }
}

function machineFor(p, seed) {
  const total = p.int(32, 64); // MiB
  const nodes = [];
  if (p.chance(0.5)) {
    nodes.push({ id: 0, mem: `${total}M`, tier: 0, cpus: true });
  } else {
    const first = p.int(8, total - 8);
    const tiered = p.chance(0.5);
    const cpus1 = tiered ? p.chance(0.3) : p.chance(0.7);
    // usually node 0 has the CPUs; sometimes only node 1 does
    const cpus0 = cpus1 ? p.chance(0.8) : true;
    nodes.push({ id: 0, mem: p.chance(0.15) ? first * MIB_PAGES + p.int(1, 255) : `${first}M`, tier: 0, cpus: cpus0 });
    nodes.push({ id: 1, mem: `${total - first}M`, tier: tiered ? 1 : 0, cpus: cpus1 });
  }
  const tunables = {};
  if (p.chance(0.5)) tunables["page_reporting.enabled"] = 1;
  return { name: `campaign-${seed}`, nodes, tunables };
}

/** The value of a `set` of `key`, valid for the machine. */
function tunableValue(p, key, m, exclude) {
  const nn = m.nodes.length;
  const nodeIntervals = (refresh) => {
    const nid = p.int(0, nn - 1);
    if (refresh) return `N${nid}=${p.chance(0.3) ? 0 : p.log(1, 20000)}`;
    const n = p.chance(0.05) ? 31 : p.int(1, 5);
    const v = [];
    let x = 0;
    for (let i = 0; i < n; i++) v.push((x += p.log(1, 5000)));
    return `N${nid}=${v.join(",")}`;
  };
  switch (key) {
    case "vm.min_free_kbytes": return p.chance(0.1) ? p.of([0, 65536, 2147483647]) : p.log(64, 8192);
    case "vm.watermark_scale_factor": return p.chance(0.1) ? p.of([1, 3000]) : p.log(1, 1000);
    case "vm.watermark_boost_factor": return p.chance(0.1) ? p.of([0, 2147483647]) : p.log(1, 30000);
    case "vm.extfrag_threshold": return p.int(0, 1000);
    case "vm.compaction_proactiveness": return p.chance(0.2) ? p.of([0, 100]) : p.int(0, 100);
    case "vm.swappiness": return p.int(0, 200);
    case "transparent_hugepage.enabled": return p.of(["always", "madvise", "never"]);
    case "transparent_hugepage.defrag": return p.of(["always", "defer", "defer+madvise", "madvise", "never"]);
    case "lru_gen.max_nr_gens": return p.int(3, 16);
    case "memory.workingset.page_age_intervals": return nodeIntervals(false);
    case "memory.workingset.reaccess_intervals": return nodeIntervals(false);
    case "memory.workingset.refresh_interval": return nodeIntervals(true);
    case "page_reporting.enabled": return p.int(0, 1);
    case "page_reporting.mode": return exclude.has("aeration") ? "reporting" : p.of(["reporting", "aeration"]);
    case "page_reporting.order": return p.int(0, 10);
    case "page_reporting.capacity": return p.chance(0.2) ? p.of([1, 512]) : p.log(1, 512);
    case "page_reporting.delay_ms": return p.chance(0.2) ? 0 : p.log(1, 5000);
    case "page_reporting.report_ms": return p.chance(0.5) ? 0 : p.log(1, 200);
    case "kpromoted.enabled": return p.int(0, 1);
    case "kpromoted.freq_window_ms": return p.log(1, 20000);
    case "kpromoted.freq_threshold": return p.chance(0.1) ? 255 : p.int(1, 8);
    case "kpromoted.delay_ms": return p.log(exclude.has("kpromoted-tick") ? 100 : 1, 5000);
    case "kpromoted.hash_order": return p.chance(0.05) ? 24 : p.int(1, 20);
    case "kpromoted.default_node": return p.int(0, nn - 1);
    case "hotness.hw_sample_period": return p.chance(0.3) ? 0 : p.log(1, 1000);
    case "kmmscand.enabled": return p.int(0, 1);
    case "kmmscand.feed": return p.of(["migrate", "kpromoted"]);
    case "kmmscand.scan_period_ms": return p.int(500, 5000);
    case "kmmscand.scan_size": return p.of(["256M", "512M", "1G", "4G", `${p.int(256, 4096)}M`]);
    case "kmmscand.scan_sleep_ms": return p.chance(0.2) ? 0 : p.log(1, 2000);
    case "kmmscand.mms_to_scan": return p.chance(0.1) ? 2147483647 : p.int(1, 8);
    case "kmmscand.migrate_sleep_ms": return p.chance(0.2) ? 0 : p.log(1, 2000);
    case "kmmscand.target_node": return p.int(0, nn - 1);
    case "numa.demotion_enabled": return p.int(0, 1);
    case "wsim.kswapd_pages_per_ms": return p.log(1, 4096);
  }
  throw new Error(`campaign: no value generator for ${key}`);
}

// weights of the tunable families in `set` events (the issue's list: THP, compaction,
// watermark, reporting, kpromoted, kmmscand, hotness, numa, memcg workingset intervals)
const SET_KEYS = {
  "vm.min_free_kbytes": 2, "vm.watermark_scale_factor": 2, "vm.watermark_boost_factor": 2, "vm.extfrag_threshold": 2,
  "vm.compaction_proactiveness": 3, "vm.swappiness": 1, "transparent_hugepage.enabled": 3, "transparent_hugepage.defrag": 3,
  "lru_gen.max_nr_gens": 1, "memory.workingset.page_age_intervals": 3, "memory.workingset.reaccess_intervals": 3,
  "memory.workingset.refresh_interval": 3, "page_reporting.enabled": 3, "page_reporting.mode": 3, "page_reporting.order": 3,
  "page_reporting.capacity": 2, "page_reporting.delay_ms": 2, "page_reporting.report_ms": 2, "kpromoted.enabled": 3,
  "kpromoted.freq_window_ms": 1, "kpromoted.freq_threshold": 1, "kpromoted.delay_ms": 1, "kpromoted.hash_order": 1,
  "kpromoted.default_node": 1, "hotness.hw_sample_period": 2, "kmmscand.enabled": 3, "kmmscand.feed": 1,
  "kmmscand.scan_period_ms": 1, "kmmscand.scan_size": 1, "kmmscand.scan_sleep_ms": 1, "kmmscand.mms_to_scan": 1,
  "kmmscand.migrate_sleep_ms": 1, "kmmscand.target_node": 1, "numa.demotion_enabled": 2, "wsim.kswapd_pages_per_ms": 1,
};

const OPS = { access: 40, sweep: 6, fill: 3, mmap: 6, munmap: 3, exit: 1.2, alloc: 9, free: 7, compact: 1.5, read: 6, set: 9, jump: 0.6 };

/**
 * Generates one campaign case from a seed.
 * @param {number} seed any integer; the same seed (and options) gives the same case.
 * @param {{exclude?: Iterable<string>, events?: number}} [opts] features to leave out (keys
 *   of EXCLUDABLE) and the approximate event count (default: 300..1500 drawn from the seed).
 * @returns {{seed: number, machine: object, csv: string, events: number}} the machine file's
 *   object, the CSV trace text and its number of events.
 */
export function generateCase(seed, opts = {}) {
  const exclude = new Set(opts.exclude ?? []);
  for (const f of exclude) if (!(f in EXCLUDABLE)) throw new Error(`unknown feature "${f}" (known: ${Object.keys(EXCLUDABLE).join(", ")})`);
  const p = new Pick(seed);
  const m = machineFor(p, seed);
  const nn = m.nodes.length;
  const cpuNodes = m.nodes.filter((n) => n.cpus).map((n) => n.id);
  const target = opts.events ?? p.int(300, 1500);
  const rows = [];
  let t = 0;
  const procs = new Map(); // pid -> {cg, regions: [{slot, start, pages, thp, file}], named}
  const handles = new Map(); // id -> live (true)
  let nextHandle = 0;
  const row = (o) => rows.push({ time_ms: fmtTime(t), ...o });
  const setKeys = { ...SET_KEYS };
  if (exclude.has("reporting-order")) delete setKeys["page_reporting.order"];

  const procOf = (pid) => {
    let pr = procs.get(pid);
    let cg = "";
    if (!pr) {
      pr = { cg: p.of(CGS), regions: [] };
      procs.set(pid, pr);
      cg = pr.cg; // the first event names the memcg
    } else if (p.chance(0.1)) cg = pr.cg; // later events may repeat it
    return [pr, cg];
  };
  const pickPid = () => p.int(1, 6);

  // a few settings at time 0, like a person configuring the machine before the workload
  for (let n = Math.min(p.int(0, 6), target); n > 0; n--) {
    const key = p.weighted(setKeys);
    const o = { op: "set", key, value: String(tunableValue(p, key, m, exclude)) };
    if (key.startsWith("memory.")) o.cg = p.of(CGS);
    row(o);
  }

  // a reporting pass skips a zone below low + (capacity << order) free pages: 64 MiB at the
  // defaults, more than these machines have; so usually make reports small enough to happen
  if (m.tunables["page_reporting.enabled"] && p.chance(0.7)) {
    row({ op: "set", key: "page_reporting.capacity", value: String(p.int(1, 8)) });
    if (!exclude.has("reporting-order") && p.chance(0.3)) row({ op: "set", key: "page_reporting.order", value: String(p.int(3, 9)) });
  }
  // on a tiered machine, often turn a promotion path on from the start
  if (m.nodes.some((n) => n.tier > 0) && p.chance(0.6)) {
    const feed = p.of(["hw", "kmmscand", "both"]);
    row({ op: "set", key: "kpromoted.enabled", value: "1" });
    if (feed !== "kmmscand") row({ op: "set", key: "hotness.hw_sample_period", value: String(p.log(1, 64)) });
    if (feed !== "hw") {
      row({ op: "set", key: "kmmscand.enabled", value: "1" });
      row({ op: "set", key: "kmmscand.feed", value: p.of(["migrate", "kpromoted"]) });
    }
  }

  while (rows.length < target) {
    // time: mostly small steps, sometimes seconds, rarely a big jump
    const op = p.weighted(OPS);
    if (op === "jump") {
      // mostly up to 1e7 ms; rarely epoch-scale (1e9..1e13 ms, as epoch-millisecond traces have)
      t += exclude.has("far-future") ? p.log(10_000, 1_000_000) : p.chance(0.12) ? p.log(1e9, 1e13) : p.log(10_000, 1e7);
      continue;
    }
    if (p.chance(0.3)) t += p.chance(0.9) ? p.int(0, 20) : p.log(100, 10_000);
    if (p.chance(0.02)) t += p.int(1, 9) / 10; // fractional times
    switch (op) {
      case "access":
      case "sweep": {
        const pid = pickPid();
        const [pr, cg] = procOf(pid);
        const inside = pr.regions.length > 0 && p.chance(0.85);
        const n = op === "sweep" ? Math.min(p.int(8, 128), target - rows.length) : 1;
        let addr;
        if (inside) {
          const r = p.of(pr.regions);
          addr = (r.start + p.int(0, r.pages - 1)) * 4096;
        } else {
          // outside any region: an implicit one-page mapping (not always page-aligned)
          addr = 0x1000_0000 + p.int(0, 4095) * 4096 + (p.chance(0.2) ? p.int(1, 4095) : 0);
        }
        for (let k = 0; k < n; k++) {
          const o = { op: "access", pid, addr: hex(addr + k * 4096), rw: p.chance(0.4) ? "w" : p.chance(0.5) ? "r" : "" };
          if (k === 0 && cg) o.cg = cg;
          if (p.chance(0.1)) o.node = p.of(cpuNodes);
          row(o);
        }
        break;
      }
      case "fill": {
        // touch a whole region at a stride (a huge page's, a few pages' or every page), so
        // memory runs short: reclaim, swap, compaction, demotion, THP fallback
        const pid = pickPid();
        const pr = procs.get(pid);
        if (!pr || pr.regions.length === 0) break;
        const r = p.of(pr.regions);
        const stride = p.of([1, 16, 512]);
        const w = p.chance(0.5);
        for (let k = 0; k < r.pages && rows.length < target; k += stride) row({ op: "access", pid, addr: hex((r.start + k) * 4096), rw: w ? "w" : "" });
        break;
      }
      case "mmap": {
        const pid = pickPid();
        const [pr, cg] = procOf(pid);
        const slot = p.int(0, SLOTS - 1);
        const thp = p.chance(0.4);
        const pages = thp && p.chance(0.7) ? 512 * p.int(1, 8) : p.log(1, p.chance(0.2) ? 4096 : 2048);
        const start = (REGION_BASE + slot * REGION_SLOT) / 4096 + (thp && p.chance(0.8) ? 0 : p.int(0, 600));
        const file = p.chance(0.3);
        // mmap over an existing region replaces it (the model unmaps first, as MAP_FIXED)
        pr.regions = pr.regions.filter((r) => r.start + r.pages <= start || r.start >= start + pages);
        pr.regions.push({ start, pages, thp, file });
        const o = { op: "mmap", pid, addr: hex(start * 4096), len: pages * 4096, kind: file ? "file" : p.chance(0.5) ? "anon" : "", thp: thp ? 1 : p.chance(0.5) ? 0 : "" };
        if (cg) o.cg = cg;
        if (p.chance(nn > 1 ? 0.5 : 0.2)) o.node = p.int(0, nn - 1);
        row(o);
        break;
      }
      case "munmap": {
        const pid = pickPid();
        const pr = procs.get(pid);
        if (!pr || pr.regions.length === 0) break;
        const i = p.int(0, pr.regions.length - 1);
        const r = pr.regions[i];
        let start = r.start;
        let pages = r.pages;
        if (p.chance(0.6)) {
          // partial: a piece from the start, the end or the middle (splits huge pages)
          const a = p.int(0, r.pages - 1);
          const b = p.int(a + 1, r.pages);
          start = r.start + a;
          pages = b - a;
          const rest = [];
          if (a > 0) rest.push({ ...r, pages: a });
          if (b < r.pages) rest.push({ ...r, start: r.start + b, pages: r.pages - b });
          pr.regions.splice(i, 1, ...rest);
        } else pr.regions.splice(i, 1);
        row({ op: "munmap", pid, addr: hex(start * 4096), len: pages * 4096 });
        break;
      }
      case "exit": {
        const pid = p.chance(0.05) ? p.int(50, 60) : pickPid(); // sometimes a pid never seen (lenient)
        const pr = procs.get(pid);
        const o = { op: "exit", pid };
        if (pr && p.chance(0.2)) o.cg = pr.cg;
        procs.delete(pid); // the pid may come back later as a new process, maybe in another memcg
        row(o);
        break;
      }
      case "alloc": {
        const reuse = handles.size > 0 && p.chance(0.03); // a still-allocated handle (lenient)
        const id = reuse ? p.of([...handles.keys()]) : `k${nextHandle++}`;
        const order = p.chance(0.6) ? p.int(0, 3) : p.int(0, 10);
        const o = { op: "alloc", id, order: p.chance(0.1) && order === 0 ? "" : order, mt: p.chance(0.1) ? "" : p.of(MTS) };
        if (p.chance(0.2)) o.node = p.int(0, nn - 1);
        handles.set(id, true);
        row(o);
        break;
      }
      case "free": {
        let id;
        const x = p.r.next();
        if (handles.size > 0 && x < 0.85) {
          id = p.of([...handles.keys()]);
          handles.delete(id);
        } else if (nextHandle > 0 && x < 0.93) id = `k${p.int(0, nextHandle - 1)}`; // maybe freed already (lenient)
        else id = `never${p.int(0, 99)}`; // unknown (lenient)
        row({ op: "free", id });
        break;
      }
      case "compact": {
        const o = { op: "compact" };
        if (p.chance(0.5)) o.node = p.int(0, nn - 1);
        row(o);
        break;
      }
      case "read": {
        const x = p.r.next();
        let key;
        if (x < 0.7) key = p.of(READ_KEYS);
        else key = p.weighted(SET_KEYS); // a tunable's value
        const o = { op: "read", key };
        if (key.startsWith("memory.") && p.chance(0.7)) o.cg = p.of(CGS);
        if (!key.includes(".") && key !== "vmstat" && p.chance(0.3)) o.node = p.int(0, nn - 1);
        row(o);
        break;
      }
      case "set": {
        const key = p.weighted(setKeys);
        const o = { op: "set", key, value: String(tunableValue(p, key, m, exclude)) };
        if (key.startsWith("memory.") && p.chance(0.8)) o.cg = p.of(CGS);
        row(o);
        break;
      }
    }
  }
  const csv = `${COLUMNS.join(",")}\n${rows.map((r) => COLUMNS.map((c) => csvField(r[c])).join(",")).join("\n")}\n`;
  return { seed, machine: m, csv, events: rows.length };
}

function fmtTime(t) {
  return Number.isInteger(t) ? String(t) : t.toFixed(1);
}

function hex(n) {
  return `0x${n.toString(16)}`;
}

function csvField(v) {
  if (v === undefined || v === null) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// --- running ---------------------------------------------------------------------------

const running = new Set(); // children in flight, killed if the campaign itself is stopped

/**
 * Runs wsim once as a child process with a time bound. The bound is on the child's CPU time
 * (a soft RLIMIT_CPU through `ulimit -S -t`: the kernel sends SIGXCPU), because on a
 * shared machine wall time says more about the neighbours than about wsim; a wall-time bound
 * of 5x (at least 60 s more) backs it up (SIGKILL) for a child stuck without using CPU.
 * @param {string[]} args wsim's arguments
 * @param {number} timeoutMs the CPU-time bound in ms (rounded up to whole seconds)
 * @returns {Promise<{code: number|null, signal: string|null, timedOut: boolean, stdout: string, stderr: string, ms: number}>}
 *   timedOut: either bound was hit; ms: wall time
 */
export function runWsim(args, timeoutMs) {
  return new Promise((done) => {
    const t0 = performance.now();
    const cpuSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const child = spawn("/bin/sh", ["-c", `ulimit -S -t ${cpuSeconds} && exec "$0" "$@"`, process.execPath, BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1" },
    });
    running.add(child);
    const out = [];
    const err = [];
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, Math.max(5 * timeoutMs, timeoutMs + 60_000));
    child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => err.push(d));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const timedOut = killed || signal === "SIGXCPU";
      done({ code, signal, timedOut, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), ms: performance.now() - t0 });
    });
  });
}

/** The wsim arguments a campaign run uses. */
export function replayArgs(tracePath, machinePath) {
  return ["replay", tracePath, "--machine", machinePath, "--check", "--lenient", "--format", "json"];
}

/**
 * Classifies one run's result: null when it passed, else {kind, signature, detail}. The
 * signature is the message with numbers and quoted text generalised, so that runs failing
 * the same way group together.
 */
export function classify(r, timeoutMs) {
  if (r.timedOut) return { kind: "hang", signature: `no exit within ${Math.ceil(timeoutMs / 1000)} s of CPU time`, detail: `killed by ${r.signal}` };
  if (r.code === 0) return null;
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  if (r.code === 70) {
    const l = lines.find((x) => /internal error/.test(x)) ?? lines[0] ?? "";
    return { kind: "internal", signature: generalise(l.replace(/^wsim: internal error( \(this is a wsim bug\))?: /, "")), detail: l };
  }
  if (r.code === 3) return { kind: "rejected", signature: generalise(lines[0] ?? ""), detail: lines[0] ?? "" };
  const why = r.signal ? `signal ${r.signal}` : `exit ${r.code}`;
  const l = lines.find((x) => /error|heap|memory/i.test(x)) ?? lines[0] ?? "";
  return { kind: "crash", signature: `${why}: ${generalise(l)}`, detail: l };
}

function generalise(s) {
  return s
    .replace(/^\S*:\d+: /, "") // file:line:
    .replace(/\/\S*\.(csv|json)/g, "FILE")
    .replace(/"[^"]*"/g, '"…"')
    .replace(/0x[0-9a-f]+/gi, "N")
    .replace(/\d+(\.\d+)?/g, "N")
    .slice(0, 200);
}

/** The longest gap between events kept in the idle-jump check's copy of a trace (ms). */
export const JUMP_CHECK_GAP_MS = 3_000_000;

/**
 * The trace with every gap between consecutive events longer than `maxGap` ms cut to
 * `maxGap` (later events move earlier by what was cut), so that ticking through it ends.
 * Comment lines and the header are kept. Times stay exact: the cut is an integer.
 * @param {string} csv a campaign trace
 * @param {number} maxGap an integer number of ms
 * @returns {{csv: string, cut: number}} the new trace and the ms cut in all
 */
export function cutGaps(csv, maxGap) {
  const lines = csv.split("\n");
  let shift = 0;
  let prev = null;
  const out = lines.map((l, i) => {
    if (i === 0 || l === "" || l.startsWith("#")) return l;
    const comma = l.indexOf(",");
    const t = Number(l.slice(0, comma));
    if (prev !== null && t - prev > maxGap) shift += Math.floor(t - prev - maxGap);
    prev = t;
    return shift ? `${fmtTime(t - shift)}${l.slice(comma)}` : l;
  });
  return { csv: out.join("\n"), cut: shift };
}

/**
 * Writes a case's trace and machine into `dir` and runs it; when `determinism`, runs it
 * twice, then compares idle jumps with ticking through on a copy with the gaps cut
 * (cutGaps), kept as seed-N.gaps-cut.csv when they differ.
 * @param {{seed:number, machine:object, csv:string, events:number}} c from generateCase
 * @param {{dir: string, timeoutMs: number, determinism?: boolean}} o
 * @returns {Promise<{seed:number, events:number, ms:number, failure: null | {kind, signature, detail}, stderr: string}>}
 */
export async function runCase(c, o) {
  mkdirSync(o.dir, { recursive: true });
  const tracePath = join(o.dir, `seed-${c.seed}.csv`);
  const machinePath = join(o.dir, `seed-${c.seed}.machine.json`);
  writeFileSync(tracePath, c.csv);
  writeFileSync(machinePath, `${JSON.stringify(c.machine, null, 2)}\n`);
  const args = replayArgs(tracePath, machinePath);
  const r = await runWsim(args, o.timeoutMs);
  let failure = classify(r, o.timeoutMs);
  let ms = r.ms;
  if (!failure && o.determinism) {
    const r2 = await runWsim(args, o.timeoutMs);
    ms += r2.ms;
    failure = classify(r2, o.timeoutMs);
    if (!failure && r2.stdout !== r.stdout) {
      const at = firstDiff(r.stdout, r2.stdout);
      failure = { kind: "nondeterministic", signature: "two runs differ", detail: `first difference at byte ${at}: ${JSON.stringify(r.stdout.slice(at, at + 60))} vs ${JSON.stringify(r2.stdout.slice(at, at + 60))}` };
    }
    if (!failure) {
      // idle jumps against ticking through, on a copy with the long gaps cut
      const cut = cutGaps(c.csv, JUMP_CHECK_GAP_MS);
      const cutPath = join(o.dir, `seed-${c.seed}.gaps-cut.csv`);
      writeFileSync(cutPath, cut.csv);
      const a = ["replay", cutPath, "--machine", machinePath, "--lenient", "--format", "json"];
      const j = await runWsim(a, o.timeoutMs);
      const t = await runWsim([...a, "--no-idle-jumps"], o.timeoutMs);
      ms += j.ms + t.ms;
      failure = classify(j, o.timeoutMs) ?? classify(t, o.timeoutMs);
      if (!failure && j.stdout !== t.stdout) {
        const at = firstDiff(j.stdout, t.stdout);
        failure = { kind: "jump-mismatch", signature: "idle jumps and ticking differ", detail: `${cutPath}: first difference at byte ${at}: ${JSON.stringify(j.stdout.slice(at, at + 60))} (jumps) vs ${JSON.stringify(t.stdout.slice(at, at + 60))} (--no-idle-jumps)` };
      }
      if (!failure) rmSync(cutPath, { force: true });
    }
  }
  return { seed: c.seed, events: c.events, ms, failure, stderr: r.stderr, tracePath, machinePath };
}

function firstDiff(a, b) {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i;
}

/** The shell command reproducing a failing run. */
export function reproduceCommand(tracePath, machinePath) {
  return `./bin/wsim ${replayArgs(tracePath, machinePath).join(" ")}`;
}

/**
 * Runs seeds from `seedStart` until `runs` are done or `minutes` have passed (wall time),
 * `jobs` at a time. Failing cases are kept in `out` (trace, machine, stderr, README with
 * the reproduce command); passing ones are deleted.
 * @param {{seedStart?: number, runs?: number, minutes?: number, jobs?: number, out?: string,
 *   timeoutMs?: number, determinismEvery?: number, exclude?: string[], events?: number,
 *   log?: (line: string) => void}} o determinismEvery: every Nth seed runs twice (0 = never)
 * @returns {Promise<{runs: number, events: number, failures: object[], byKind: Record<string, number>, seconds: number, summary: string}>}
 */
export async function runCampaign(o = {}) {
  const seedStart = o.seedStart ?? 1;
  const jobs = Math.max(1, o.jobs ?? 2);
  const timeoutMs = o.timeoutMs ?? 20_000;
  const every = o.determinismEvery ?? 5;
  const out = o.out ?? mkdtempSync(join(tmpdir(), "wsim-campaign-"));
  const work = join(out, ".work");
  const log = o.log ?? (() => {});
  const t0 = Date.now();
  const deadline = o.minutes !== undefined ? t0 + o.minutes * 60_000 : Infinity;
  const maxRuns = o.runs ?? (o.minutes !== undefined ? Infinity : 20);
  let next = seedStart;
  let runs = 0;
  let events = 0;
  const failures = [];
  const worker = async () => {
    while (next - seedStart < maxRuns && Date.now() < deadline) {
      const seed = next++;
      const c = generateCase(seed, { exclude: o.exclude, events: o.events });
      const dir = join(work, String(seed));
      const r = await runCase(c, { dir, timeoutMs, determinism: every > 0 && (seed - seedStart) % every === 0 });
      runs++;
      events += c.events;
      if (r.failure) {
        const keep = join(out, `seed-${seed}`);
        mkdirSync(keep, { recursive: true });
        const tracePath = join(keep, "trace.csv");
        const machinePath = join(keep, "machine.json");
        writeFileSync(tracePath, c.csv);
        writeFileSync(machinePath, `${JSON.stringify(c.machine, null, 2)}\n`);
        writeFileSync(join(keep, "stderr.txt"), r.stderr);
        const cmd = reproduceCommand(tracePath, machinePath);
        const excl = o.exclude?.length ? ` --exclude ${o.exclude.join(",")}` : "";
        writeFileSync(
          join(keep, "README"),
          `seed ${seed}: ${r.failure.kind}: ${r.failure.signature}\n${r.failure.detail}\n\nreproduce (from the repository root):\n  ${cmd}\n` +
            `regenerate and minimise:\n  node scripts/campaign.mjs --shrink ${seed}${excl}${o.events ? ` --events ${o.events}` : ""} --out ${keep}\n`,
        );
        const f = { seed, ...r.failure, dir: keep, command: cmd };
        failures.push(f);
        log(`seed ${seed}: ${f.kind}: ${f.signature}  (${keep})`);
      }
      rmSync(dir, { recursive: true, force: true });
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  rmSync(work, { recursive: true, force: true });
  const byKind = {};
  for (const f of failures) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  const bySig = {};
  for (const f of failures) (bySig[`${f.kind}: ${f.signature}`] ??= []).push(f.seed);
  const seconds = Math.round((Date.now() - t0) / 1000);
  const kinds = Object.entries(byKind).map(([k, n]) => `${k} ${n}`).join(", ");
  const summary =
    `campaign: ${runs} runs (seeds ${seedStart}..${seedStart + runs - 1}), ${failures.length} failures${kinds ? ` (${kinds})` : ""}, ` +
    `${events} events replayed, ${seconds} s${o.exclude?.length ? `, excluding ${o.exclude.join(",")}` : ""}`;
  return { runs, events, failures, byKind, bySignature: bySig, seconds, out, summary };
}

// --- shrinking -------------------------------------------------------------------------

/**
 * Minimises a failing trace by delta debugging over its event lines (the header stays):
 * first the shortest failing prefix, then ddmin, keeping only versions that fail with the
 * same kind and signature. The machine is kept as it is.
 * @param {string} csv the trace text (CSV with a header line)
 * @param {object|string} machine a machine object, or a preset name / machine file path
 * @param {{timeoutMs?: number, dir?: string, log?: (s: string) => void}} [o]
 * @returns {Promise<{csv: string, failure: object|null, tests: number}>} failure null when
 *   the input did not fail in the first place.
 */
export async function shrink(csv, machine, o = {}) {
  const timeoutMs = o.timeoutMs ?? 20_000;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "wsim-shrink-"));
  mkdirSync(dir, { recursive: true });
  const log = o.log ?? (() => {});
  let machinePath = machine;
  if (typeof machine === "object") {
    machinePath = join(dir, "shrink.machine.json");
    writeFileSync(machinePath, `${JSON.stringify(machine, null, 2)}\n`);
  }
  const lines = csv.split("\n").filter((l) => l !== "");
  const header = lines[0];
  const body = lines.slice(1);
  const tracePath = join(dir, "shrink.csv");
  let tests = 0;
  const attempt = async (ls) => {
    tests++;
    writeFileSync(tracePath, `${header}\n${ls.join("\n")}\n`);
    return classify(await runWsim(replayArgs(tracePath, machinePath), timeoutMs), timeoutMs);
  };
  const want = await attempt(body);
  if (!want) return { csv, failure: null, tests };
  const same = async (ls) => {
    const f = await attempt(ls);
    return f !== null && f.kind === want.kind && f.signature === want.signature;
  };
  // the shortest failing prefix (failures are usually at one event; binary search)
  let lo = 1;
  let hi = body.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (await same(body.slice(0, mid))) hi = mid;
    else lo = mid + 1;
  }
  let cur = body.slice(0, hi);
  log(`prefix: ${body.length} -> ${cur.length} events`);
  // ddmin (Zeller): remove chunks while it still fails the same way
  let n = 2;
  while (cur.length >= 2) {
    const size = Math.ceil(cur.length / n);
    let reduced = false;
    for (let i = 0; i < cur.length; i += size) {
      const cand = [...cur.slice(0, i), ...cur.slice(i + size)];
      if (cand.length > 0 && (await same(cand))) {
        cur = cand;
        n = Math.max(n - 1, 2);
        reduced = true;
        log(`ddmin: ${cur.length} events`);
        break;
      }
    }
    if (!reduced) {
      if (n >= cur.length) break;
      n = Math.min(n * 2, cur.length);
    }
  }
  const final = `${header}\n${cur.join("\n")}\n`;
  return { csv: dropEmptyColumns(final), failure: want, tests };
}

/** Drops the columns that no event of the (minimised) trace uses, for a readable repro. */
function dropEmptyColumns(csv) {
  const rows = csv.trimEnd().split("\n").map(splitCsv);
  const keep = rows[0].map((_, i) => i === 0 || i === 1 || rows.slice(1).some((r) => (r[i] ?? "") !== ""));
  return `${rows.map((r) => r.filter((_, i) => keep[i]).map(csvField).join(",")).join("\n")}\n`;
}

function splitCsv(line) {
  const out = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let s = "";
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') (s += '"'), (i += 2);
        else if (line[i] === '"') break;
        else s += line[i++];
      }
      out.push(s);
      i += 2;
    } else {
      const j = line.indexOf(",", i);
      const end = j < 0 ? line.length : j;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

// --- command line ----------------------------------------------------------------------

const USAGE = `usage: node scripts/campaign.mjs [--seed-start N] [--runs N | --minutes M] [--jobs N]
         [--timeout MS] [--determinism-every N] [--events N] [--exclude F,...] [--out DIR]
       node scripts/campaign.mjs --shrink SEED [--exclude F,...] [--events N] [--out DIR] [--timeout MS]
       node scripts/campaign.mjs --shrink-trace TRACE.csv --machine M [--out DIR] [--timeout MS]
       node scripts/campaign.mjs --print SEED [--exclude F,...]     (the trace on stdout, machine on stderr)
--exclude (for exploring past known bugs only; CI runs the full generator):
${Object.entries(EXCLUDABLE).map(([k, v]) => `  ${k.padEnd(16)} ${v}`).join("\n")}`;

function parseArgs(argv) {
  const o = {};
  const num = (k, v, min) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || (k !== "minutes" && !Number.isInteger(n))) usage(`--${k} must be ${k === "minutes" ? "a number" : "an integer"} >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case "--seed-start": o.seedStart = num("seed-start", v(), 0); break;
      case "--runs": o.runs = num("runs", v(), 1); break;
      case "--minutes": o.minutes = num("minutes", v(), 0.01); break;
      case "--jobs": o.jobs = num("jobs", v(), 1); break;
      case "--timeout": o.timeoutMs = num("timeout", v(), 100); break;
      case "--determinism-every": o.determinismEvery = num("determinism-every", v(), 0); break;
      case "--events": o.events = num("events", v(), 1); break;
      case "--out": o.out = resolve(v()); break;
      case "--exclude": {
        o.exclude = v().split(",").filter(Boolean);
        for (const f of o.exclude) if (!(f in EXCLUDABLE)) usage(`--exclude: unknown feature "${f}" (known: ${Object.keys(EXCLUDABLE).join(", ")})`);
        break;
      }
      case "--shrink": o.shrink = num("shrink", v(), 0); break;
      case "--shrink-trace": o.shrinkTrace = resolve(v()); break;
      case "--machine": o.machine = v(); break;
      case "--print": o.print = num("print", v(), 0); break;
      case "-h":
      case "--help":
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
      default:
        usage(`unknown option ${JSON.stringify(a)}`);
    }
  }
  if (o.runs !== undefined && o.minutes !== undefined) usage("give --runs or --minutes, not both");
  if (o.shrinkTrace && !o.machine) usage("--shrink-trace needs --machine");
  if (o.machine && !o.shrinkTrace) usage("--machine goes with --shrink-trace");
  return o;
}

function usage(msg) {
  process.stderr.write(`campaign: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

async function main() {
  const o = parseArgs(process.argv);
  const log = (s) => process.stderr.write(`${s}\n`);
  if (o.print !== undefined) {
    const c = generateCase(o.print, { exclude: o.exclude, events: o.events });
    process.stdout.write(c.csv);
    process.stderr.write(`${JSON.stringify(c.machine)}\n`);
    return 0;
  }
  if (o.shrink !== undefined || o.shrinkTrace) {
    let csv;
    let machine;
    if (o.shrinkTrace) {
      csv = readFileSync(o.shrinkTrace, "utf8");
      machine = o.machine.includes("/") || o.machine.includes(".") ? resolve(o.machine) : o.machine;
    } else {
      const c = generateCase(o.shrink, { exclude: o.exclude, events: o.events });
      csv = c.csv;
      machine = c.machine;
    }
    const out = o.out ?? mkdtempSync(join(tmpdir(), "wsim-shrink-"));
    mkdirSync(out, { recursive: true });
    const r = await shrink(csv, machine, { timeoutMs: o.timeoutMs, dir: join(out, ".work"), log });
    rmSync(join(out, ".work"), { recursive: true, force: true });
    if (!r.failure) {
      log("campaign: the trace passes; nothing to shrink");
      return 0;
    }
    const tracePath = join(out, "min.csv");
    writeFileSync(tracePath, r.csv);
    let machinePath = machine;
    if (typeof machine === "object") {
      machinePath = join(out, "min.machine.json");
      writeFileSync(machinePath, `${JSON.stringify(machine, null, 2)}\n`);
    }
    process.stdout.write(`${r.failure.kind}: ${r.failure.signature}\n${r.failure.detail}\n${r.csv}reproduce: ${reproduceCommand(tracePath, machinePath)}\n(${r.tests} runs)\n`);
    return 1;
  }
  const r = await runCampaign({ ...o, log });
  for (const [sig, seeds] of Object.entries(r.bySignature)) log(`  ${sig}: seeds ${seeds.slice(0, 20).join(" ")}${seeds.length > 20 ? " …" : ""}`);
  if (r.failures.length) log(`failing cases kept in ${r.out}`);
  process.stdout.write(`${r.summary}\n`);
  return r.failures.length ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      for (const c of running) c.kill("SIGKILL");
      process.exit(sig === "SIGINT" ? 130 : 143);
    });
  }
  main().then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`campaign: ${e?.stack ?? e}\n`);
      process.exit(70);
    },
  );
}
