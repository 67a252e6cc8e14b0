/**
 * The plug-in API (issue 22): each hook at its documented point with its documented arguments,
 * each policy point's arguments and built-in, daemons on the virtual clock, wsim_plugin_*
 * counters in every output, and `plugin FILE: message` for whatever a plugin throws. Traces
 * are small and every expectation is worked out by hand in the comments.
 */
import { describe, expect, it } from "vitest";
import { DataError } from "../../../src/errors.js";
import type { EngineOptions } from "../../../src/engine/engine.js";
import { buildResult } from "../../../src/engine/result.js";
import type { HookMap, WsimPluginApi } from "../../../src/plugin/api.js";
import type { LoadedPlugin } from "../../../src/plugin/host.js";
import { counters, engineFor, runCsv, smallMachine, tiered } from "../../helpers.js";

const quiet = { "transparent_hugepage.enabled": "never", "vm.compaction_proactiveness": "0" };

/** A plugin without a file: register is the test's. */
function plugin(register: (api: WsimPluginApi) => unknown, file = "t.mjs"): LoadedPlugin {
  return { file, path: `/x/${file}`, sha256: "0".repeat(64), register };
}

function withPlugins(machine: Parameters<typeof engineFor>[0], sets: Record<string, string>, plugins: LoadedPlugin[], opts: EngineOptions = {}) {
  return engineFor(machine, { ...opts, plugins }, sets);
}

/** One page preferring the CXL node (node 1), touched at 100 and 101 ms by pid 1 on node 0's CPU. */
const TWO_TOUCHES = ["time_ms,op,pid,addr,len,node", "0,mmap,1,0x100000,4096,1", "100,access,1,0x100000,,", "101,access,1,0x100000,,"].join("\n");

describe("observe hooks", () => {
  it("fault, alloc, migrate, free and promote fire where documented, with their arguments", async () => {
    const seen: [string, Record<string, unknown>][] = [];
    const p = plugin((api) => {
      for (const ev of ["fault", "alloc", "free", "migrate", "promote", "reclaim"] as (keyof HookMap)[])
        api.on(ev, (e) => {
          expect(Object.isFrozen(e)).toBe(true);
          seen.push([ev, { ...e }]);
        });
    });
    const e = withPlugins(tiered(), { ...quiet, "kpromoted.enabled": "1", "hotness.hw_sample_period": "1" }, [p], { drain: 1000 });
    await runCsv(e, TWO_TOUCHES);
    const cxl = e.mem.zones[1]!;
    const dram = e.mem.zones[0]!;
    // 100 ms: the fault allocates one page on node 1 (the mmap's preferred node), a read fault
    const [a0, f0] = seen.slice(0, 2);
    expect(a0![0]).toBe("alloc");
    expect(f0![0]).toBe("fault");
    const pfn = f0![1].pfn as number;
    expect(pfn >= cxl.start && pfn < cxl.end).toBe(true);
    expect(a0![1]).toEqual({ time_ms: 100, pfn, order: 0, nid: 1 });
    expect(f0![1]).toEqual({ time_ms: 100, pid: 1, vpn: 0x100, pfn, order: 0, nid: 1, cpu_nid: 0, write: false, file: false, major: false });
    // 101 ms touches a present page: no hook. 1000 ms: kpromoted's walk promotes it (freq 2 >= 2):
    // the page on node 0 is allocated, the mapping migrates, the source is freed, then promote
    const rest = seen.slice(2);
    expect(rest.map((s) => s[0])).toEqual(["alloc", "migrate", "free", "promote"]);
    const dst = rest[0]![1].pfn as number;
    expect(dst >= dram.start && dst < dram.end).toBe(true);
    expect(rest[0]![1]).toEqual({ time_ms: 1000, pfn: dst, order: 0, nid: 0 });
    expect(rest[1]![1]).toEqual({ time_ms: 1000, src_pfn: pfn, dst_pfn: dst, from_nid: 1, to_nid: 0 });
    expect(rest[2]![1]).toEqual({ time_ms: 1000, pfn, order: 0, nid: 1 });
    expect(rest[3]![1]).toEqual({ time_ms: 1000, src_pfn: pfn, dst_pfn: dst, from_nid: 1, to_nid: 0, by: "kpromoted" });
    expect(counters(e, ["pgpromote_success", "pgfault"])).toEqual({ pgpromote_success: 1, pgfault: 1 });
  });

  it("reclaim: one event per shrink_node, whose reclaimed pages add up to pgsteal", async () => {
    const events: HookMap["reclaim"][] = [];
    const e = withPlugins(smallMachine(1024), { ...quiet }, [plugin((api) => api.on("reclaim", (r) => void events.push(r)))]);
    // 2048 anon pages on a 1024-page node: reclaim must swap out at least 1024 of them
    const lines = ["time_ms,op,pid,addr,len", "0,mmap,1,0x100000,8388608"];
    for (let i = 0; i < 2048; i++) lines.push(`${i},access,1,${0x100000 + i * 4096},`);
    await runCsv(e, lines.join("\n"));
    const v = counters(e, ["pgsteal_kswapd", "pgsteal_direct"]);
    expect(events.length).toBeGreaterThan(0);
    expect(events.reduce((s, r) => s + r.reclaimed, 0)).toBe(v.pgsteal_kswapd! + v.pgsteal_direct!);
    expect(events.filter((r) => r.kswapd).reduce((s, r) => s + r.reclaimed, 0)).toBe(v.pgsteal_kswapd);
    for (const r of events) {
      expect(r.nid).toBe(0);
      expect(r.reclaimed).toBeLessThanOrEqual(r.requested);
    }
  });

  it("no plugin: every model slot stays null", () => {
    const e = engineFor(tiered(), {}, quiet);
    expect(e.plugins).toBeNull();
    const m = e.mem;
    expect([m.procs.observer, m.alloc.observer, m.reclaim.observer, m.migrateCtx.observer, m.observer]).toEqual([null, null, null, null, null]);
    expect([m.kpromoted.candidatePolicy, m.kcompactd[0]!.proactivePolicy, m.reclaim.typePolicy, m.hotnessPolicy, m.kmmscand.periodPolicy]).toEqual([null, null, null, null, null]);
  });
});

describe("policy points", () => {
  it("kpromoted.candidate: the record's arguments; the builtin says candidate; a replacement decides", async () => {
    const calls: unknown[] = [];
    let builtinSaid: unknown;
    const p = plugin((api) =>
      api.policy.replace("kpromoted.candidate", (a, builtin) => {
        calls.push({ ...a });
        builtinSaid = builtin(a);
        return "cold_old";
      }),
    );
    const e = withPlugins(tiered(), { ...quiet, "kpromoted.enabled": "1", "hotness.hw_sample_period": "1" }, [p], { drain: 1000 });
    await runCsv(e, TWO_TOUCHES);
    const pfn = e.mem.zones[1]!.start; // the first page node 1 hands out
    // the walk at 1000 ms: window opened at 100 (the fault's hint), freq 2, last access at 101
    expect(calls).toEqual([{ time_ms: 1000, pfn: expect.any(Number), nid: 0, page_nid: 1, freq: 2, last_update_ms: 100, last_access_ms: 101, window_ms: 5000, threshold: 2 }]);
    expect((calls[0] as { pfn: number }).pfn).toBeGreaterThanOrEqual(pfn);
    expect(builtinSaid).toBe("candidate");
    // the replacement's cold_old: counted and dropped, nothing promoted
    expect(counters(e, ["kpromoted_mig_cold_old", "kpromoted_mig_candidate", "kpromoted_mig_dropped", "pgpromote_success"])).toEqual({
      kpromoted_mig_cold_old: 1, kpromoted_mig_candidate: 0, kpromoted_mig_dropped: 1, pgpromote_success: 0,
    });
  });

  it("a second replacement gets the first as its builtin", async () => {
    const order: string[] = [];
    const a = plugin((api) => api.policy.replace("kpromoted.candidate", (x, b) => (order.push("a"), b(x))), "a.mjs");
    const b = plugin((api) => api.policy.replace("kpromoted.candidate", (x, b) => (order.push("b"), b(x))), "b.mjs");
    const e = withPlugins(tiered(), { ...quiet, "kpromoted.enabled": "1", "hotness.hw_sample_period": "1" }, [a, b], { drain: 1000 });
    await runCsv(e, TWO_TOUCHES);
    expect(order).toEqual(["b", "a"]);
    expect(counters(e, ["pgpromote_success"]).pgpromote_success).toBe(1);
  });

  it("hotness.sample: asked per access to a lower-tier page, with hw_sample_period; false records nothing", async () => {
    const calls: unknown[] = [];
    let builtin1: boolean[] = [];
    const p = plugin((api) =>
      api.policy.replace("hotness.sample", (a, builtin) => {
        calls.push({ ...a, pfn: 0 });
        builtin1.push(builtin({ ...a, period: 1 }));
        return false;
      }),
    );
    const e = withPlugins(tiered(), { ...quiet, "kpromoted.enabled": "1", "hotness.hw_sample_period": "8" }, [p]);
    await runCsv(e, TWO_TOUCHES);
    expect(calls).toEqual([
      { time_ms: 100, pfn: 0, nid: 1, cpu_nid: 0, period: 8 },
      { time_ms: 101, pfn: 0, nid: 1, cpu_nid: 0, period: 8 },
    ]);
    expect(builtin1).toEqual([true, true]); // one in every 1
    expect(counters(e, ["kpromoted_recorded_hwhints", "pgpromote_success"])).toEqual({ kpromoted_recorded_hwhints: 0, pgpromote_success: 0 });
  });

  it("kcompactd.proactive: asked at each 500 ms timeout; true runs a pass and, the score not lower, the next look is 500 << 6 ms on", async () => {
    const looks: unknown[] = [];
    const fresh: boolean[] = [];
    const say = { v: false };
    const p = plugin((api) =>
      api.policy.replace("kcompactd.proactive", (a, builtin) => {
        looks.push({ time_ms: a.time_ms, nid: a.nid, wm: a.score_wmark_high, pr: a.proactiveness, k: a.kswapd_running });
        fresh.push(builtin(a));
        return say.v;
      }),
    );
    const sets = { "transparent_hugepage.enabled": "never", "vm.compaction_proactiveness": "20" };
    const e = withPlugins(smallMachine("16M"), sets, [p], { drain: 2000 });
    await runCsv(e, "time_ms,op,pid,addr,len\n0,mmap,1,0x100000,4096\n");
    // proactiveness 20: low mark 100 - 20 = 80, high mark 90; an idle node scores below it
    expect(looks).toEqual([500, 1000, 1500, 2000].map((t) => ({ time_ms: t, nid: 0, wm: 90, pr: 20, k: false })));
    expect(fresh).toEqual([false, false, false, false]);
    looks.length = 0;
    say.v = true;
    // the pass at 500 leaves the score where it was (0): deferred, 500 << COMPACT_MAX_DEFER_SHIFT (6) = 32000 ms
    const e2 = withPlugins(smallMachine("16M"), sets, [p], { drain: 33000 });
    await runCsv(e2, "time_ms,op,pid,addr,len\n0,mmap,1,0x100000,4096\n");
    expect(looks.map((l) => (l as { time_ms: number }).time_ms)).toEqual([500, 32500]);
  });

  it("reclaim.type: the builtin picks anon when there is no file page; a replacement that says file evicts nothing", async () => {
    // 1024 anon pages on a 512-page node
    const lines = ["time_ms,op,pid,addr,len", "0,mmap,1,0x100000,4194304"];
    for (let i = 0; i < 1024; i++) lines.push(`${i},access,1,${0x100000 + i * 4096},`);
    const builtinSaid = new Set<string>();
    let args: unknown;
    const pass = plugin((api) =>
      api.policy.replace("reclaim.type", (a, builtin) => {
        args ??= { ...a, anon: { ...a.anon }, file: { ...a.file } };
        const t = builtin(a);
        builtinSaid.add(t);
        return t;
      }),
    );
    const e = withPlugins(smallMachine(512), quiet, [pass]);
    await runCsv(e, lines.join("\n"));
    const base = engineFor(smallMachine(512), {}, quiet);
    await runCsv(base, lines.join("\n"));
    expect([...builtinSaid]).toEqual(["anon"]);
    expect(args).toMatchObject({ nid: 0, memcg: "/", swappiness: 60, file: { pages: 0 } });
    expect((args as { anon: { pages: number } }).anon.pages).toBeGreaterThan(0);
    // passing the builtin through changes nothing
    expect(e.readFile("vmstat")).toBe(base.readFile("vmstat"));
    const file = plugin((api) => api.policy.replace("reclaim.type", () => "file"));
    // nothing is evicted, so the one process outgrows the node and the OOM killer takes it
    // (issue 14); --lenient skips its later accesses
    const e3 = withPlugins(smallMachine(512), quiet, [file], { lenient: true });
    await runCsv(e3, lines.join("\n"));
    expect(counters(e3, ["pgsteal_anon", "pswpout", "oom_kill"])).toEqual({ pgsteal_anon: 0, pswpout: 0, oom_kill: 1 });
    expect(counters(base, ["pswpout"]).pswpout).toBeGreaterThan(0);
  });

  it("kmmscand.scan_period: the visit's arguments, V1's builtin, and the replacement's period moves the next visit", async () => {
    const calls: unknown[] = [];
    const builtins: unknown[] = [];
    const p = plugin((api) =>
      api.policy.replace("kmmscand.scan_period", (a, builtin) => {
        calls.push({ ...a });
        builtins.push(builtin(a));
        return { period_ms: 700, size: a.size, useful: 0 };
      }),
    );
    const e = withPlugins(tiered(), { ...quiet, "kmmscand.enabled": "1" }, [p]);
    e.mem.kmmscand.keepLog = true;
    const lines = ["time_ms,op,pid,addr,len,node", "0,mmap,1,0x200000,32768,1"];
    for (let i = 0; i < 8; i++) lines.push(`0,access,1,${0x200000 + i * 4096},,`);
    lines.push("1750,exit,1,,,");
    await runCsv(e, lines.join("\n"));
    // first visit at the first 16 ms round a second after the mm appeared: 1008; it finds the 8
    // pages accessed. V1: x = 0, y = 8 < 256 counts 0: period 2000 * 115 / 100, size 1 GiB / 2
    expect(calls[0]).toEqual({ time_ms: 1008, pid: 1, period_ms: 2000, size: 2 ** 30, useful: 0, new_useful: 8 });
    expect(builtins[0]).toEqual({ period_ms: 2300, size: 2 ** 29, useful: 0 });
    // period 700: the next visit at the first round at or after 1708, 1712
    expect(e.mem.kmmscand.visits.map((v) => v[0])).toEqual([1008, 1712]);
  });

  it("a policy's answer of the wrong kind is the plugin's error", async () => {
    const p = plugin((api) => api.policy.replace("kpromoted.candidate", () => "hot" as never), "bad.mjs");
    const e = withPlugins(tiered(), { ...quiet, "kpromoted.enabled": "1", "hotness.hw_sample_period": "1" }, [p], { drain: 1000 });
    await expect(runCsv(e, TWO_TOUCHES)).rejects.toThrow('plugin bad.mjs: policy kpromoted.candidate returned "hot"; it must return "candidate", "cold_old" or "cold_not_accessed"');
  });
});

describe("daemons, counters, requests", () => {
  it("a daemon ticks on the virtual clock; its counter prints in vmstat, a read, JSON and every sample", async () => {
    const ticks: number[] = [];
    const p = plugin((api) => {
      const c = api.defineCounter("ticks");
      api.defineCounter("wsim_plugin_zero");
      api.addDaemon({
        name: "ticker",
        start(ctx) {
          const tick = () => {
            ticks.push(ctx.now());
            c.add();
            ctx.schedule(250, tick);
          };
          ctx.schedule(250, tick);
        },
      });
    });
    const e = withPlugins(smallMachine("16M"), quiet, [p], { drain: 1000, interval: 500 });
    await runCsv(e, "time_ms,op,pid,addr,len,key\n0,mmap,1,0x100000,4096,\n600,read,,,,vmstat\n");
    // ticks at 250, 500, 750, 1000 .. 1600 (the run ends at 600 + 1000)
    expect(ticks).toEqual([250, 500, 750, 1000, 1250, 1500]);
    const v = e.vmstatObject();
    const names = Object.keys(v);
    expect(names.slice(-2)).toEqual(["wsim_plugin_ticks", "wsim_plugin_zero"]);
    expect(v.wsim_plugin_ticks).toBe(6);
    // the read at 600 ms: after the ticks at 250 and 500
    expect(e.reads[0]!.value.endsWith("wsim_plugin_ticks 2\nwsim_plugin_zero 0\n")).toBe(true);
    expect(e.series.map((s) => [s.time_ms, s.vmstat.wsim_plugin_ticks])).toEqual([[500, 2], [1000, 4], [1500, 6], [1600, 6]]);
    const r = buildResult(e, { path: "t.csv", format: "csv", events: 2, firstMs: 0, lastMs: 600 });
    expect(r.vmstat.wsim_plugin_ticks).toBe(6);
    expect(r.plugins).toEqual([{ path: "t.mjs", sha256: "0".repeat(64) }]);
  });

  it("migratePage moves a page through the promotion path; counter, tunable, page and random read the model", async () => {
    const out: Record<string, unknown> = {};
    const p = plugin((api) => {
      api.on("fault", (f) => {
        out.page = api.page(f.pfn);
        out.moved = api.migratePage(f.pfn, 0);
        out.after = api.page(f.pfn);
        out.pgfault = api.counter("pgfault");
        out.swappiness = api.tunable("vm.swappiness");
        out.r = [api.random(), api.random()];
        out.now = api.now();
      });
    });
    const e = withPlugins(tiered(), quiet, [p]);
    await runCsv(e, "time_ms,op,pid,addr,len,node\n0,mmap,1,0x100000,4096,1\n7,access,1,0x100000,,\n");
    expect(out.page).toEqual({ nid: 1, lru: true, anon: true, order: 0, migratable: true });
    expect(out.moved).toBe(true);
    expect(out.after).toMatchObject({ lru: false, migratable: false }); // freed by the migration
    expect(out).toMatchObject({ pgfault: 1, swappiness: 60, now: 7 });
    const [r0, r1] = out.r as number[];
    expect(r0).not.toBe(r1);
    expect(r0! >= 0 && r0! < 1).toBe(true);
    expect(counters(e, ["pgpromote_success", "numa_pages_migrated"])).toEqual({ pgpromote_success: 1, numa_pages_migrated: 1 });
    // api.random is the same stream every run
    const again: Record<string, unknown> = {};
    const e2 = withPlugins(tiered(), quiet, [plugin((api) => api.on("fault", () => void (again.r = [api.random(), api.random()])))]);
    await runCsv(e2, "time_ms,op,pid,addr,len,node\n0,mmap,1,0x100000,4096,1\n7,access,1,0x100000,,\n");
    expect(again.r).toEqual(out.r);
  });
});

describe("errors: plugin FILE: message", () => {
  const run = async (p: LoadedPlugin, opts: EngineOptions = {}) => {
    const e = withPlugins(smallMachine("16M"), quiet, [p], opts);
    await runCsv(e, "time_ms,op,pid,addr,len\n0,mmap,1,0x100000,4096\n1,access,1,0x100000,\n");
  };
  const fails = async (p: LoadedPlugin, msg: string, opts: EngineOptions = {}) => {
    let err: unknown;
    try {
      await run(p, opts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toBe(msg);
  };

  it("a throw in register, in a hook, in a daemon", async () => {
    await fails(plugin(() => { throw new Error("no"); }, "r.mjs"), "plugin r.mjs: no");
    await fails(plugin((api) => api.on("fault", () => { throw new TypeError("x is undefined"); }), "h.mjs"), "plugin h.mjs: x is undefined");
    await fails(plugin((api) => api.addDaemon({ name: "d", start: (ctx) => void ctx.schedule(0, () => { throw "str"; }) }), "d.mjs"), "plugin d.mjs: threw str");
  });

  it("API misuse: after register, unknown names, bad counters, async register", async () => {
    let late: WsimPluginApi | null = null;
    await fails(plugin((api) => { late = api; api.on("fault", () => void late!.defineCounter("x")); }, "l.mjs"), "plugin l.mjs: defineCounter is allowed only inside register(api)");
    await fails(plugin((api) => api.on("faults" as never, () => {}), "u.mjs"), 'plugin u.mjs: on: unknown event "faults" (known: fault, alloc, free, reclaim, migrate, promote)');
    await fails(plugin((api) => api.policy.replace("kswapd.x" as never, (() => 0) as never), "u.mjs"), 'plugin u.mjs: policy.replace: unknown policy point "kswapd.x" (known: kpromoted.candidate, kcompactd.proactive, reclaim.type, hotness.sample, kmmscand.scan_period)');
    await fails(plugin((api) => void api.defineCounter("Bad-Name"), "c.mjs"), 'plugin c.mjs: defineCounter: "Bad-Name" is not a counter name (letters a-z, digits, _)');
    await fails(plugin((api) => { const c = api.defineCounter("n"); api.on("fault", () => c.add(0.5)); }, "c.mjs"), "plugin c.mjs: wsim_plugin_n.add(0.5): counters hold integers");
    await fails(plugin((api) => void api.counter("nope"), "c.mjs"), 'plugin c.mjs: counter: unknown counter "nope"');
    await fails(plugin((api) => api.on("fault", (f) => void api.migratePage(f.pfn, 5)), "m.mjs"), "plugin m.mjs: migratePage: node 5 does not exist (nodes 0..0)");
    await fails(plugin((api) => api.on("fault", async () => {}), "h.mjs"), "plugin h.mjs: a fault hook returned a promise: hooks and timers must be synchronous (no async, no await)");
    await fails(plugin((api) => api.addDaemon({ name: "d", start: (ctx) => void ctx.schedule(1, async () => {}) }), "d.mjs"), "plugin d.mjs: a daemon's timer returned a promise: hooks and timers must be synchronous (no async, no await)");
    await fails(plugin(async () => {}, "a.mjs"), "plugin a.mjs: register(api) returned a promise: register must be synchronous (load what it needs at the module's top level)");
  });

  it("under --check Math.random and Date.now throw inside plugin calls only; without it they work", async () => {
    const rnd = (file: string) => plugin((api) => api.on("fault", () => void Math.random()), file);
    await fails(rnd("m.mjs"), "plugin m.mjs: Math.random is not deterministic; use api.random()", { check: true });
    await fails(plugin((api) => api.on("fault", () => void Date.now()), "n.mjs"), "plugin n.mjs: Date.now is not deterministic; use api.now() (virtual ms)", { check: true });
    // caught by the plugin itself: still reported when the call returns
    const caught = plugin((api) => api.on("fault", () => { try { Math.random(); } catch { /* hidden */ } }), "c.mjs");
    await fails(caught, "plugin c.mjs: Math.random is not deterministic; use api.random()", { check: true });
    const original = Math.random;
    await run(rnd("ok.mjs"));
    expect(Math.random).toBe(original);
    // restored after a failing call under --check, too
    await run(rnd("m.mjs"), { check: true }).catch(() => {});
    expect(Math.random).toBe(original);
    expect(typeof Math.random()).toBe("number");
  });
});

describe("the library's replay({plugins})", () => {
  it("loads modules by path, records them, and checks the option's shape", async () => {
    const { replay } = await import("../../../src/library.js");
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { createHash } = await import("node:crypto");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "wsim-plugin-lib-"));
    const text = 'export function register(api) { const f = api.defineCounter("faults"); api.on("fault", () => f.add()); }\n';
    const p = join(dir, "count.mjs");
    writeFileSync(p, text);
    // traces/faults.csv faults 400 pages
    const r = await replay({ trace: "traces/faults.csv", plugins: [p] });
    expect(r.vmstat.wsim_plugin_faults).toBe(400);
    expect(r.plugins).toEqual([{ path: p, sha256: createHash("sha256").update(text).digest("hex") }]);
    await expect(replay({ trace: "traces/faults.csv", plugins: p as never })).rejects.toThrow('replay: config.plugins must be an array of strings ["plugin.mjs", ...], got "');
    await expect(replay({ trace: "traces/faults.csv", plugins: [join(dir, "none.mjs")] })).rejects.toThrow(`plugin ${join(dir, "none.mjs")}: no such file`);
  });
});
