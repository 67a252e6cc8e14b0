/**
 * The plug-in API, version 1 (issue 22): what `register(api)` of a `--plugin FILE.mjs` module
 * receives. A narrow, stable surface over the model: plain numbers and small frozen objects in,
 * requests through the model's own mechanisms out; never the typed arrays. Types only: plugin
 * authors reference them with `import type { WsimPluginApi } from "wsim/plugin"` (package
 * export `./plugin`, dist/plugin/api.d.ts) or a JSDoc `@param {import("wsim/plugin").WsimPluginApi} api`.
 *
 * Units: times in virtual ms (the trace's clock, `api.now()`), pages of 4 KiB, pfn and node
 * ids as /proc prints them. Determinism: a plugin must not read the wall clock (Date.now,
 * performance.now), Math.random, timers (setTimeout, setInterval, promises that wait), or do
 * I/O in hooks; `api.now()`, `api.random()` and `api.addDaemon()` replace them. Under
 * `--check`, Math.random and Date.now throw during plugin calls.
 */

/** The API version this wsim offers; a plugin may test `api.apiVersion === 1`. */
export const PLUGIN_API_VERSION = 1 as const;

/** A timer on the virtual clock, as `PluginDaemonContext.schedule` returns it. */
export interface PluginTimer {
  /** virtual time (ms) it is due */
  readonly due: number;
}

/** What a plugin daemon's `start` gets: the engine's virtual clock (EngineContext, reduced). */
export interface PluginDaemonContext {
  /** virtual time in ms */
  now(): number;
  /** run fn at now + delayMs (delayMs >= 0, finite); same-time timers fire in creation order */
  schedule(delayMs: number, fn: () => void): PluginTimer;
  /** cancel a timer schedule returned (a fired or cancelled one: nothing) */
  cancel(t: PluginTimer): void;
}

/** A daemon on the virtual clock: started at boot (t = 0) after wsim's own daemons, in plugin order. */
export interface PluginDaemon {
  readonly name: string;
  start(ctx: PluginDaemonContext): void;
}

/** A page fault that mapped a page (handle_mm_fault -> do_anonymous_page / do_huge_pmd_anonymous_page / filemap). */
export interface FaultEvent {
  time_ms: number;
  pid: number;
  /** virtual page number (address / 4096) that faulted */
  vpn: number;
  /** first pfn of the page mapped */
  pfn: number;
  /** 0 for a base page, 9 for a THP */
  order: number;
  /** node the page came from */
  nid: number;
  /** node of the CPU that faulted */
  cpu_nid: number;
  write: boolean;
  file: boolean;
  /** a refault from swap or a file page read (pgmajfault) */
  major: boolean;
}

/** A block handed out by the buddy allocator (rmqueue, or a compaction capture). */
export interface AllocEvent {
  time_ms: number;
  pfn: number;
  order: number;
  nid: number;
}

/** A block returned to the buddy allocator (__free_pages). */
export interface FreeEvent {
  time_ms: number;
  pfn: number;
  order: number;
  nid: number;
}

/** One shrink_node: kswapd's or direct reclaim's, after it ran. */
export interface ReclaimEvent {
  time_ms: number;
  nid: number;
  /** pages asked for */
  requested: number;
  /** pages reclaimed (evicted or demoted) */
  reclaimed: number;
  kswapd: boolean;
}

/** A page moved by the shared migration path (compaction, promotion, demotion, a plugin's migratePage). */
export interface MigrateEvent {
  time_ms: number;
  src_pfn: number;
  dst_pfn: number;
  from_nid: number;
  to_nid: number;
}

/** A migration from a lower tier to the top tier (pgpromote_success), after it. */
export interface PromoteEvent extends MigrateEvent {
  /** who asked: "kpromoted", "kmmscand", "numa_balancing" or "plugin" */
  by: string;
}

/** The observe hooks: event name -> its argument (a frozen object; read-only). */
export interface HookMap {
  fault: FaultEvent;
  alloc: AllocEvent;
  free: FreeEvent;
  reclaim: ReclaimEvent;
  migrate: MigrateEvent;
  promote: PromoteEvent;
}

/**
 * `kpromoted.candidate` — kpromoted_migrate's test of one record whose pfn is an LRU page
 * on another node than its hot node (the non-LRU and right-node cases stay wsim's).
 * Built-in: `time_ms - last_update_ms > 2 * window_ms` → "cold_old", else
 * `freq < threshold` → "cold_not_accessed", else "candidate".
 */
export interface KpromotedCandidateArgs {
  time_ms: number;
  pfn: number;
  /** the record's hot node: where a candidate is promoted to */
  nid: number;
  /** node the page is on now */
  page_nid: number;
  /** accesses in the record's window */
  freq: number;
  /** start of the record's window (ms, whole) */
  last_update_ms: number;
  /** the record's last access (ms, whole) */
  last_access_ms: number;
  /** kpromoted.freq_window_ms */
  window_ms: number;
  /** kpromoted.freq_threshold */
  threshold: number;
}
/** "candidate" is promoted (a failure keeps the record); the others drop the record. */
export type KpromotedVerdict = "candidate" | "cold_old" | "cold_not_accessed";

/**
 * `kcompactd.proactive` — should_proactive_compact_node, asked at each proactive timeout
 * (every 500 ms; 500 << 6 = 32000 ms after a pass that did not lower the score) and at a proactiveness
 * write. Built-in: `proactiveness > 0 && !kswapd_running && score > score_wmark_high`.
 * True runs proactive compaction of the node down to the low mark.
 */
export interface ProactiveCompactArgs {
  time_ms: number;
  nid: number;
  /** fragmentation_score_node (0..100) */
  score: number;
  /** fragmentation_score_wmark(false): the high mark */
  score_wmark_high: number;
  /** vm.compaction_proactiveness */
  proactiveness: number;
  kswapd_running: boolean;
}

/** One LRU type's state in a lruvec, as get_type_to_scan reads it (pages). */
export interface LruTypeState {
  pages: number;
  /** oldest generation's sequence number */
  min_seq: number;
  /** refaults, averaged (the PID controller's input) plus this period's */
  refaulted: number;
  /** evictions, averaged plus this period's */
  total: number;
}

/**
 * `reclaim.type` — get_type_to_scan (with isolate_folios' swappiness tests): which LRU type
 * evict_folios takes its next page from. Built-in: none when nothing evictable, anon when
 * file is empty (or older anon), swappiness 1/200 extremes, else the PID controller
 * (positive_ctrl_err) with gains swappiness / 200 - swappiness.
 */
export interface ReclaimTypeArgs {
  time_ms: number;
  nid: number;
  /** the lruvec's memcg path */
  memcg: string;
  /** get_swappiness: vm.swappiness (0..200), or 0 while fewer than 64 swap slots are free and the node cannot demote */
  swappiness: number;
  anon: LruTypeState;
  file: LruTypeState;
}
export type ReclaimType = "anon" | "file" | "none";

/**
 * `hotness.sample` — the hardware hotness source (IBS/PEBS-like): asked on every access to a
 * page on a lower tier; true reports it to kpromoted (kpromoted_record_access, SRC_HWHINT).
 * Built-in: one access in every `period` (hotness.hw_sample_period; 0 = never).
 */
export interface HotnessSampleArgs {
  time_ms: number;
  pfn: number;
  /** node the page is on */
  nid: number;
  /** node of the CPU that accessed it (the record's hot node) */
  cpu_nid: number;
  /** hotness.hw_sample_period */
  period: number;
}

/**
 * `kmmscand.scan_period` — kmmscand_update_mmslot_info: an mm's next scan period and size
 * after a visit. Built-in: V1's adaptation (with x = useful, y = (x >> 4) + new_useful, y < 256
 * counted 0: period ×1.15 and size ÷2 when both 0, ×0.85 and ×2 when both set, period ×8 when y
 * drops, ÷8 and the largest size when y appears), clamped to [500, 5000] ms and
 * [256 MiB, 4 GiB] of address space.
 */
export interface KmmscandScanPeriodArgs {
  time_ms: number;
  pid: number;
  /** the mm's period now (ms) */
  period_ms: number;
  /** bytes of address space a visit scans now (kmmscand.scan_size at first) */
  size: number;
  /** the mm's useful-page history (the built-in's x) */
  useful: number;
  /** accessed slow-tier pages this visit found */
  new_useful: number;
}
/** period_ms and size must be positive integers; useful a non-negative one (kept for the next visit). */
export interface KmmscandScanPeriod {
  period_ms: number;
  size: number;
  useful: number;
}

/** The policy points: name -> [arguments, result]. */
export interface PolicyMap {
  "kpromoted.candidate": [KpromotedCandidateArgs, KpromotedVerdict];
  "kcompactd.proactive": [ProactiveCompactArgs, boolean];
  "reclaim.type": [ReclaimTypeArgs, ReclaimType];
  "hotness.sample": [HotnessSampleArgs, boolean];
  "kmmscand.scan_period": [KmmscandScanPeriodArgs, KmmscandScanPeriod];
}
export type PolicyName = keyof PolicyMap;
/** A replacement: gets the arguments and the built-in (or the previous replacement), returns the decision. */
export type PolicyFn<K extends PolicyName> = (args: Readonly<PolicyMap[K][0]>, builtin: (args: PolicyMap[K][0]) => PolicyMap[K][1]) => PolicyMap[K][1];

/** A counter a plugin defined: prints as `wsim_plugin_NAME` in vmstat, JSON and every sample. */
export interface PluginCounter {
  readonly name: string;
  /** add n (default 1; an integer) */
  add(n?: number): void;
  /** set to v (an integer >= 0: a gauge) */
  set(v: number): void;
  get(): number;
}

/** One node of the machine (read-only). */
export interface PluginNode {
  readonly id: number;
  readonly tier: number;
  readonly cpus: boolean;
  /** managed pages of its zone */
  readonly pages: number;
}

/** What `register(api)` receives. Calls outside register and the plugin's hooks/daemons/policies are an error. */
export interface WsimPluginApi {
  readonly apiVersion: 1;
  /** the plugin's path as given */
  readonly file: string;
  readonly machine: { readonly nodes: readonly PluginNode[]; readonly topTier: number };
  /** virtual time in ms */
  now(): number;
  /** uniform in [0, 1) from a seeded stream of this plugin's own (the same every run) */
  random(): number;
  /** a vmstat counter now (kernel, seed, wsim_ or wsim_plugin_ name); unknown names are an error */
  counter(name: string): number;
  /** a tunable's value now (`wsim tunables` lists the keys) */
  tunable(key: string): number | string;
  /** a page's state now, or null for a pfn outside every zone */
  page(pfn: number): { nid: number; lru: boolean; anon: boolean; order: number; migratable: boolean } | null;
  /** define `wsim_plugin_NAME` (register only; NAME of [a-z0-9_]) */
  defineCounter(name: string): PluginCounter;
  /** add a daemon (register only) */
  addDaemon(d: PluginDaemon): void;
  /** observe an event (register only); hooks run in registration order */
  on<K extends keyof HookMap>(event: K, fn: (e: Readonly<HookMap[K]>) => void): void;
  policy: {
    /** replace a policy point (register only); a second replacement gets the first as its builtin */
    replace<K extends PolicyName>(name: K, fn: PolicyFn<K>): void;
  };
  /** migrate_misplaced_folio of an LRU page to node nid (the promotion path: a balanced target, no reclaim); true on success */
  migratePage(pfn: number, nid: number): boolean;
  /** wake a daemon: kswapd (wakeup_kswapd at order) or kcompactd (wakeup_kcompactd at order, >= 1) of node nid */
  wake(daemon: "kswapd" | "kcompactd", nid: number, order?: number): void;
  /** compact node nid as a write of /sys/devices/system/node/nodeN/compact does */
  compact(nid: number): void;
}

/** What a plugin module exports. */
export interface WsimPlugin {
  register(api: WsimPluginApi): void;
}
