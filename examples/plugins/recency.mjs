// A recency-weighted promotion rule for kpromoted (what kpromoted's reviewers asked: "how
// should hotness be classified?"). A record's window frequency is weighted by how recently the
// page was last touched: an access just now counts double, one HALF_LIFE_MS old once, older
// ones less,
//   score = freq * 2^(1 - (now - last_access) / HALF_LIFE_MS)
// and a page is promoted when the score reaches kpromoted.freq_threshold. A page touched once
// but just now can win; one hammered long ago no longer does.
//
//   wsim replay traces/tiered-hotset.csv.gz --set kpromoted.enabled=1 \
//     --set hotness.hw_sample_period=8 --plugin examples/plugins/recency.mjs
//
// wsim_plugin_recency_promoted / _recency_stale count the decisions it made that differ from
// the built-in's.

const HALF_LIFE_MS = 250;

/** @param {import("wsim/plugin").WsimPluginApi} api */
export function register(api) {
  const promoted = api.defineCounter("recency_promoted");
  const stale = api.defineCounter("recency_stale");
  api.policy.replace("kpromoted.candidate", (r, builtin) => {
    const before = builtin(r);
    const age = r.time_ms - r.last_access_ms;
    const score = r.freq * 2 ** (1 - age / HALF_LIFE_MS);
    const verdict = score >= r.threshold ? "candidate" : before === "candidate" ? "cold_not_accessed" : before;
    if (verdict === "candidate" && before !== "candidate") promoted.add();
    if (verdict !== "candidate" && before === "candidate") stale.add();
    return verdict;
  });
}
