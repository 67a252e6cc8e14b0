/**
 * The plug-in host (issue 22): builds each plugin's API object (api.ts), calls `register`,
 * installs the hooks, policy points and daemons the plugins asked for into the model, keeps
 * their `wsim_plugin_*` counters, and turns anything a plugin throws into
 * `plugin FILE: message` (a DataError, exit 3). Nothing here runs when no plugin is loaded:
 * the model's slots stay null.
 */
import { DataError, InternalError, UsageError } from "../errors.js";
import type { Engine } from "../engine/engine.js";
import { Rng } from "../engine/rng.js";
import type { Timer } from "../engine/event-queue.js";
import { TUNABLE_BY_KEY } from "../machine/tunables.js";
import { KP_CANDIDATE, KP_COLD_NOT_ACCESSED, KP_COLD_OLD, kpromotedVerdict } from "../mm/kpromoted.js";
import { adaptScan } from "../mm/kmmscand.js";
import { ANON, FILE, type Lruvec } from "../mm/lru-gen.js";
import type { Memcg } from "../mm/memcg.js";
import { PG_ANON, PG_LRU } from "../mm/pages.js";
import { typeToScan } from "../mm/reclaim.js";
import { V } from "../stats/counters.js";
import {
  PLUGIN_API_VERSION, type HookMap, type KmmscandScanPeriod, type PluginCounter, type PluginDaemon, type PluginDaemonContext,
  type PluginTimer, type PolicyMap, type PolicyName, type WsimPluginApi,
} from "./api.js";
import type { MmObserver } from "./observer.js";

/** A plugin's failure: `plugin FILE: message`, exit 3, no stack. */
export class PluginError extends DataError {
  constructor(file: string, message: string) {
    super(`plugin ${file}`, 0, message);
  }
}

/** A plugin module imported (load.ts): its path as given, its absolute path, its bytes' sha256, its register. */
export interface LoadedPlugin {
  file: string;
  path: string;
  sha256: string;
  register: (api: WsimPluginApi) => unknown;
}

type Hook = { p: LoadedPlugin; fn: (e: unknown) => void };
type Impl<K extends PolicyName> = (args: PolicyMap[K][0]) => PolicyMap[K][1];

const COUNTER_NAME = /^[a-z0-9_]{1,64}$/;

/** A message for whatever a plugin threw. */
function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return `threw ${typeof e === "string" ? e : String(e)}`;
}

export class PluginHost implements MmObserver {
  /** wsim_plugin_* names in definition order, and their values */
  readonly counterNames: string[] = [];
  readonly counterValues: number[] = [];
  private readonly hooks: { [K in keyof HookMap]: Hook[] } = { fault: [], alloc: [], free: [], reclaim: [], migrate: [], promote: [] };
  private readonly policies: { [K in PolicyName]?: Impl<K> } = {};
  private readonly daemons: { p: LoadedPlugin; d: PluginDaemon }[] = [];
  /** the plugin being called (innermost), for the Math.random trap */
  private current: LoadedPlugin | null = null;
  /** the plugin whose register runs, or null once all have registered */
  private registering: LoadedPlugin | null = null;
  private readonly timers = new WeakMap<PluginTimer, Timer>();
  /** under --check: the first trap a plugin call hit (reported even if the plugin caught it) */
  private tripped: PluginError | null = null;
  private readonly trapRandom = (): number => {
    throw (this.tripped ??= new PluginError(this.current?.file ?? "?", "Math.random is not deterministic; use api.random()"));
  };
  private readonly trapNow = (): number => {
    throw (this.tripped ??= new PluginError(this.current?.file ?? "?", "Date.now is not deterministic; use api.now() (virtual ms)"));
  };

  /**
   * Registers each plugin in order (its `register(api)` must return nothing: not a promise),
   * then installs what they asked for and starts their daemons. `check` (--check) makes
   * Math.random and Date.now throw during plugin calls.
   */
  constructor(
    readonly engine: Engine,
    readonly plugins: readonly LoadedPlugin[],
    private readonly check: boolean,
  ) {
    plugins.forEach((p, i) => {
      this.registering = p;
      const r = this.invoke(p, p.register, this.makeApi(p, i));
      if (r !== undefined && typeof (r as { then?: unknown })?.then === "function")
        throw new PluginError(p.file, "register(api) returned a promise: register must be synchronous (load what it needs at the module's top level)");
    });
    this.registering = null;
    this.install();
    for (const { p, d } of this.daemons) this.invoke(p, d.start, this.daemonContext(p));
  }

  /**
   * Calls fn(a, b) as plugin p: what it throws becomes `plugin FILE: message` (a wsim error
   * raised inside, or another plugin's, passes unchanged); under --check Math.random and
   * Date.now throw meanwhile.
   */
  invoke<A, B, R>(p: LoadedPlugin, fn: (a: A, b: B) => R, a?: A, b?: B): R {
    const prev = this.current;
    this.current = p;
    const trap = this.check && prev === null;
    const random = Math.random;
    const now = Date.now;
    if (trap) {
      Math.random = this.trapRandom;
      Date.now = this.trapNow;
    }
    try {
      const r = fn(a as A, b as B);
      if (trap && this.tripped) throw this.tripped;
      return r;
    } catch (e) {
      if (e instanceof DataError || e instanceof UsageError || e instanceof InternalError) throw e;
      throw new PluginError(p.file, messageOf(e));
    } finally {
      this.current = prev;
      if (trap) {
        Math.random = random;
        Date.now = now;
      }
    }
  }

  private fail(p: LoadedPlugin, what: string): never {
    throw new PluginError(p.file, what);
  }

  private duringRegister(p: LoadedPlugin, what: string): void {
    if (this.registering !== p) this.fail(p, `${what} is allowed only inside register(api)`);
  }

  private node(p: LoadedPlugin, what: string, nid: unknown): number {
    const n = this.engine.machine.nodes.length;
    if (!Number.isInteger(nid) || (nid as number) < 0 || (nid as number) >= n) this.fail(p, `${what}: node ${String(nid)} does not exist (nodes 0..${n - 1})`);
    return nid as number;
  }

  private pfn(p: LoadedPlugin, what: string, pfn: unknown): number {
    if (!Number.isInteger(pfn)) this.fail(p, `${what}: pfn must be an integer page frame number, got ${typeof pfn === "string" ? JSON.stringify(pfn) : String(pfn)}`);
    if (!this.engine.mem.zones.some((z) => (pfn as number) >= z.start && (pfn as number) < z.end)) this.fail(p, `${what}: pfn ${String(pfn)} is in no zone`);
    return pfn as number;
  }

  private makeApi(p: LoadedPlugin, index: number): WsimPluginApi {
    const engine = this.engine;
    const mem = engine.mem;
    const rng = new Rng(0x706c7567 + index);
    const nodes = Object.freeze(
      engine.machine.nodes.map((n, i) =>
        Object.freeze({ id: i, tier: n.tier, cpus: n.cpus, pages: mem.nodeZones[i]!.reduce((s, z) => s + z.managed, 0) }),
      ),
    );
    const policy = Object.freeze({
      replace: <K extends PolicyName>(name: K, fn: (args: PolicyMap[K][0], builtin: Impl<K>) => PolicyMap[K][1]) => {
        this.duringRegister(p, "policy.replace");
        if (!(name in BUILTINS)) this.fail(p, `policy.replace: unknown policy point ${JSON.stringify(name)} (known: ${Object.keys(BUILTINS).join(", ")})`);
        if (typeof fn !== "function") this.fail(p, `policy.replace(${JSON.stringify(name)}): the replacement must be a function (args, builtin) => decision`);
        const prev = (this.policies[name] ?? BUILTINS[name](this)) as Impl<K>;
        const impl: Impl<K> = (args) => this.invoke(p, fn, args, prev);
        (this.policies as Record<string, unknown>)[name] = impl;
        this.replacers.set(name, p);
      },
    });
    const api: WsimPluginApi = {
      apiVersion: PLUGIN_API_VERSION,
      file: p.file,
      machine: Object.freeze({ nodes, topTier: mem.topTier }),
      now: () => engine.now(),
      random: () => rng.next(),
      counter: (name: string) => {
        const k = this.counterNames.indexOf(name);
        if (k >= 0) return this.counterValues[k]!;
        const i = (V as Record<string, number>)[name];
        if (i === undefined) this.fail(p, `counter: unknown counter ${JSON.stringify(name)}`);
        return mem.vmstat()[i]!;
      },
      tunable: (key: string) => {
        if (!TUNABLE_BY_KEY.has(key) || TUNABLE_BY_KEY.get(key)!.scope === "memcg") this.fail(p, `tunable: unknown tunable ${JSON.stringify(key)} (\`wsim tunables\` lists them)`);
        return engine.settings.get(key);
      },
      page: (pfn: number) => {
        const z = mem.zones.find((zz) => pfn >= zz.start && pfn < zz.end);
        if (!Number.isInteger(pfn) || !z) return null;
        const f = mem.pages.flags[pfn]!;
        return Object.freeze({ nid: z.nid, lru: (f & PG_LRU) !== 0, anon: (f & PG_ANON) !== 0, order: mem.pages.order[pfn]!, migratable: mem.isMigratable(pfn) });
      },
      defineCounter: (name: string) => this.defineCounter(p, name),
      addDaemon: (d: PluginDaemon) => {
        this.duringRegister(p, "addDaemon");
        if (!d || typeof d.name !== "string" || typeof d.start !== "function") this.fail(p, "addDaemon: a daemon is { name: string, start(ctx) }");
        this.daemons.push({ p, d });
      },
      on: (event, fn) => {
        this.duringRegister(p, "on");
        if (!Object.hasOwn(this.hooks, event)) this.fail(p, `on: unknown event ${JSON.stringify(event)} (known: ${Object.keys(this.hooks).join(", ")})`);
        if (typeof fn !== "function") this.fail(p, `on(${JSON.stringify(event)}): the hook must be a function`);
        this.hooks[event].push({ p, fn: fn as (e: unknown) => void });
      },
      policy,
      migratePage: (pfn: number, nid: number) => mem.promote(this.pfn(p, "migratePage", pfn), this.node(p, "migratePage", nid), "plugin"),
      wake: (daemon, nid, order = 0) => {
        const n = this.node(p, "wake", nid);
        if (!Number.isInteger(order) || order < 0 || order > 10) this.fail(p, `wake: order ${String(order)} is not 0..10`);
        if (daemon === "kswapd") mem.kswapd[n]!.wake(order, 0);
        else if (daemon === "kcompactd") mem.kcompactd[n]!.wakeup(order);
        else this.fail(p, `wake: unknown daemon ${JSON.stringify(daemon)} (kswapd, kcompactd)`);
      },
      compact: (nid: number) => mem.compaction.compactNode(this.node(p, "compact", nid)),
    };
    return Object.freeze(api);
  }

  private defineCounter(p: LoadedPlugin, name: string): PluginCounter {
    this.duringRegister(p, "defineCounter");
    const full = typeof name === "string" && name.startsWith("wsim_plugin_") ? name : `wsim_plugin_${String(name)}`;
    if (!COUNTER_NAME.test(full.slice("wsim_plugin_".length))) this.fail(p, `defineCounter: ${JSON.stringify(name)} is not a counter name (letters a-z, digits, _)`);
    if (this.counterNames.includes(full)) this.fail(p, `defineCounter: ${full} is defined twice`);
    const k = this.counterNames.push(full) - 1;
    this.counterValues.push(0);
    const vals = this.counterValues;
    const whole = (what: string, v: unknown) => {
      if (!Number.isSafeInteger(v)) this.fail(p, `${full}.${what}(${String(v)}): counters hold integers`);
      return v as number;
    };
    return Object.freeze({
      name: full,
      add: (n: number = 1) => {
        vals[k] = vals[k]! + whole("add", n);
        if (vals[k]! < 0) this.fail(p, `${full} went below 0`);
      },
      set: (v: number) => {
        if (whole("set", v) < 0) this.fail(p, `${full}.set(${v}): counters are >= 0`);
        vals[k] = v;
      },
      get: () => vals[k]!,
    });
  }

  private daemonContext(p: LoadedPlugin): PluginDaemonContext {
    const engine = this.engine;
    return Object.freeze({
      now: () => engine.now(),
      schedule: (delayMs: number, fn: () => void) => {
        if (typeof delayMs !== "number" || !(delayMs >= 0) || !Number.isFinite(delayMs)) this.fail(p, `schedule: delay ${String(delayMs)} is not a finite number of ms >= 0`);
        if (typeof fn !== "function") this.fail(p, "schedule: fn must be a function");
        const t = engine.schedule(delayMs, () => this.settled(p, "a daemon's timer", this.invoke(p, fn)));
        const handle = Object.freeze({ due: t.due });
        this.timers.set(handle, t);
        return handle;
      },
      cancel: (h: PluginTimer) => {
        const t = this.timers.get(h);
        if (t && !t.cancelled) engine.cancel(t);
      },
    });
  }

  /** Points the model's slots at the hooks and policies the plugins registered. */
  private install(): void {
    const mem = this.engine.mem;
    const h = this.hooks;
    if (h.fault.length) mem.procs.observer = this;
    if (h.alloc.length || h.free.length) mem.alloc.observer = this;
    if (h.reclaim.length) mem.reclaim.observer = this;
    if (h.migrate.length) mem.migrateCtx.observer = this;
    if (h.promote.length) mem.observer = this;
    const pol = this.policies;
    const cand = pol["kpromoted.candidate"];
    if (cand)
      mem.kpromoted.candidatePolicy = (jiffies, pfn, nid, pageNid, freq, lastUpdate, recency, windowMs, threshold) => {
        const v = cand(Object.freeze({ time_ms: jiffies, pfn, nid, page_nid: pageNid, freq, last_update_ms: lastUpdate, last_access_ms: recency, window_ms: windowMs, threshold }));
        if (v === "candidate") return KP_CANDIDATE;
        if (v === "cold_old") return KP_COLD_OLD;
        if (v === "cold_not_accessed") return KP_COLD_NOT_ACCESSED;
        return this.badResult("kpromoted.candidate", v, '"candidate", "cold_old" or "cold_not_accessed"');
      };
    const pro = pol["kcompactd.proactive"];
    if (pro)
      for (const k of mem.kcompactd)
        k.proactivePolicy = (nid) => {
          const [score, wm, proactiveness, kswapd] = k.proactiveInputs();
          const v = pro(Object.freeze({ time_ms: this.engine.now(), nid, score, score_wmark_high: wm, proactiveness, kswapd_running: kswapd }));
          return typeof v === "boolean" ? v : this.badResult("kcompactd.proactive", v, "true or false");
        };
    const rt = pol["reclaim.type"];
    // reclaim.type replaces MGLRU's get_type_to_scan; the two-list LRU balances by get_scan_count
    if (rt && mem.lru.classic) throw new UsageError(`plugin policy reclaim.type replaces MGLRU's get_type_to_scan, which lru_gen.enabled=0 does not run (the two-list LRU splits its scan by get_scan_count): drop lru_gen.enabled=0 or the policy`);
    if (rt)
      mem.reclaim.typePolicy = (lv: Lruvec) => {
        const v = rt(reclaimArgs(this.engine, lv));
        if (v === "anon") return ANON;
        if (v === "file") return FILE;
        if (v === "none") return -1;
        return this.badResult("reclaim.type", v, '"anon", "file" or "none"');
      };
    const hs = pol["hotness.sample"];
    if (hs) {
      const settings = this.engine.settings;
      mem.hotnessPolicy = (pfn, nid, cpuNid, now) => {
        const v = hs(Object.freeze({ time_ms: now, pfn, nid, cpu_nid: cpuNid, period: settings.num("hotness.hw_sample_period") }));
        return typeof v === "boolean" ? v : this.badResult("hotness.sample", v, "true or false");
      };
    }
    const sp = pol["kmmscand.scan_period"];
    if (sp)
      mem.kmmscand.periodPolicy = (pid, st, newUseful) => {
        const v = sp(Object.freeze({ time_ms: this.engine.now(), pid, period_ms: st.period, size: st.size, useful: st.useful, new_useful: newUseful }));
        const ok = (x: unknown, min: number) => Number.isSafeInteger(x) && (x as number) >= min;
        if (!v || typeof v !== "object" || !ok(v.period_ms, 1) || !ok(v.size, 1) || !ok(v.useful, 0))
          this.badResult("kmmscand.scan_period", v, "{ period_ms, size } positive integers and useful an integer >= 0");
        st.period = v.period_ms;
        st.size = v.size;
        st.useful = v.useful;
      };
  }

  /** A policy's answer of the wrong kind: blame the plugin that replaced it last (the one called first). */
  private badResult(name: PolicyName, v: unknown, want: string): never {
    throw new PluginError(this.replacers.get(name)!.file, `policy ${name} returned ${typeof v === "string" ? JSON.stringify(v) : String(v)}; it must return ${want}`);
  }

  /** who replaced each policy point last (its answer is the one checked) */
  private readonly replacers = new Map<PolicyName, LoadedPlugin>();

  private emit<K extends keyof HookMap>(event: K, e: HookMap[K]): void {
    Object.freeze(e);
    for (const s of this.hooks[event]) this.settled(s.p, `a ${event} hook`, this.invoke(s.p, s.fn, e));
  }

  /** A hook or timer that returned a promise would run its rest outside the run's order: refused. */
  private settled(p: LoadedPlugin, what: string, r: unknown): void {
    if (r !== undefined && typeof (r as { then?: unknown } | null)?.then === "function")
      this.fail(p, `${what} returned a promise: hooks and timers must be synchronous (no async, no await)`);
  }

  // --- MmObserver ---

  fault(pid: number, vpn: number, pfn: number, order: number, nid: number, cpuNid: number, write: boolean, file: boolean, major: boolean): void {
    this.emit("fault", { time_ms: this.engine.now(), pid, vpn, pfn, order, nid, cpu_nid: cpuNid, write, file, major });
  }

  alloc(pfn: number, order: number, nid: number): void {
    if (this.hooks.alloc.length) this.emit("alloc", { time_ms: this.engine.now(), pfn, order, nid });
  }

  free(pfn: number, order: number, nid: number): void {
    if (this.hooks.free.length) this.emit("free", { time_ms: this.engine.now(), pfn, order, nid });
  }

  reclaim(nid: number, requested: number, reclaimed: number, kswapd: boolean): void {
    this.emit("reclaim", { time_ms: this.engine.now(), nid, requested, reclaimed, kswapd });
  }

  migrate(src: number, dst: number, fromNid: number, toNid: number): void {
    this.emit("migrate", { time_ms: this.engine.now(), src_pfn: src, dst_pfn: dst, from_nid: fromNid, to_nid: toNid });
  }

  promote(src: number, dst: number, fromNid: number, toNid: number, by: string): void {
    this.emit("promote", { time_ms: this.engine.now(), src_pfn: src, dst_pfn: dst, from_nid: fromNid, to_nid: toNid, by });
  }
}

/** get_type_to_scan's inputs of one lruvec, as the reclaim.type policy gets them. */
function reclaimArgs(engine: Engine, lv: Lruvec) {
  const st = (t: number) =>
    Object.freeze({ pages: lv.total[t]!, min_seq: lv.minSeq[t]!, refaulted: lv.avgRefaulted[t]! + lv.refaulted[t]!, total: lv.avgTotal[t]! + lv.evicted[t]! });
  return Object.freeze({
    time_ms: engine.now(),
    nid: lv.nid,
    memcg: (lv.owner as Memcg).path,
    swappiness: engine.mem.reclaim.swappinessOf(lv),
    anon: st(ANON),
    file: st(FILE),
  });
}

/** Each policy point's built-in, as a function of its arguments (what a replacement's `builtin` calls). */
const BUILTINS: { [K in PolicyName]: (h: PluginHost) => Impl<K> } = {
  "kpromoted.candidate": () => (a) => {
    const v = kpromotedVerdict(a.time_ms, a.last_update_ms, a.freq, a.window_ms, a.threshold);
    return v === KP_COLD_OLD ? "cold_old" : v === KP_COLD_NOT_ACCESSED ? "cold_not_accessed" : "candidate";
  },
  "kcompactd.proactive": () => (a) => a.proactiveness > 0 && !a.kswapd_running && a.score > a.score_wmark_high,
  "reclaim.type": () => (a) => {
    const t = typeToScan(a.swappiness, a.anon.pages, a.file.pages, a.anon.min_seq, a.file.min_seq, a.anon.refaulted, a.anon.total, a.file.refaulted, a.file.total);
    return t === ANON ? "anon" : t === FILE ? "file" : "none";
  },
  "hotness.sample": (h) => (a) => h.engine.mem.hwSampleBuiltin(a.period),
  "kmmscand.scan_period": () => (a) => {
    const st = { period: a.period_ms, size: a.size, useful: a.useful };
    adaptScan(st, a.new_useful);
    return { period_ms: st.period, size: st.size, useful: st.useful } satisfies KmmscandScanPeriod;
  },
};

