// kpromoted's promotion rule (kpromoted_migrate, "[RFC PATCH 2/4] mm: kpromoted") written as a
// wsim plugin. It replaces the kpromoted.candidate policy point with the same test the built-in
// makes, so a replay with it prints the same counters, byte for byte, as one without it:
//
//   wsim replay traces/tiered-hotset.csv.gz --set kpromoted.enabled=1 \
//     --set hotness.hw_sample_period=8 --plugin examples/plugins/kpromoted.mjs
//
// Start a variant of the rule from here.

/** @param {import("wsim/plugin").WsimPluginApi} api */
export function register(api) {
  api.policy.replace("kpromoted.candidate", (r) => {
    // a record whose window began more than two windows ago is too old to trust
    if (r.time_ms - r.last_update_ms > 2 * r.window_ms) return "cold_old";
    // too few accesses in the window
    if (r.freq < r.threshold) return "cold_not_accessed";
    return "candidate";
  });
}
