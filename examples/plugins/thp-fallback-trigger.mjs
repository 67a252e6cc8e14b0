// A proactive-compaction trigger that watches THP fault fallbacks instead of the
// fragmentation score (kcompactd's RFC lists "future uses" of proactive compaction): at each
// proactive timeout kcompactd compacts a node when huge page faults fell back to base pages
// since its last look, however good the score says the node is. It still leaves kswapd's
// nodes alone, as the built-in does.
//
//   wsim replay traces/thp-defrag.csv.gz --plugin examples/plugins/thp-fallback-trigger.mjs
//
// wsim_plugin_thp_trigger_fired counts the passes it asked for; _thp_trigger_checks its looks.

/** @param {import("wsim/plugin").WsimPluginApi} api */
export function register(api) {
  const fired = api.defineCounter("thp_trigger_fired");
  const checks = api.defineCounter("thp_trigger_checks");
  const seen = new Map(); // node -> thp_fault_fallback at its last look
  api.policy.replace("kcompactd.proactive", (a) => {
    checks.add();
    const now = api.counter("thp_fault_fallback");
    const before = seen.get(a.nid) ?? 0;
    seen.set(a.nid, now);
    if (a.proactiveness === 0 || a.kswapd_running || now === before) return false;
    fired.add();
    return true;
  });
}
