#!/usr/bin/env node
/**
 * The README's comparison of promotion policies on one trace (issue 17 item 4), regenerated:
 * traces/tiered-spill.csv.gz replayed under automatic NUMA balancing in memory tiering mode
 * (kernel.numa_balancing=2), kpromoted with hardware hints, kmmscand, and no promotion, each a
 * deterministic replay (samples every 5 s for the coverage over time). The table goes into
 * README.md between `<!-- numab-table:begin -->` and `<!-- numab-table:end -->`.
 *
 * Columns: pages promoted (pgpromote_success); the ground truth's pages found truly hot and,
 * of them, promoted (coverage = promoted hot / truly hot, at the end and every 5 s); wasted
 * migrations (promotions of pages never found hot: `promoted_not_hot`); the median latency
 * from becoming hot to promoted (its histogram bucket); and each policy's own work counters.
 *
 *   npm run build && node scripts/numab-table.mjs            # README.md's block replaced
 *   node scripts/numab-table.mjs --out -                     # the table on standard output
 *   node scripts/numab-table.mjs --out FILE                  # FILE's block replaced if it has
 *                                                            # the markers, else FILE = the table
 *
 * Exit status: 0 written, 1 a run failed, 2 usage.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const BEGIN = "<!-- numab-table:begin -->";
export const END = "<!-- numab-table:end -->";
export const TRACE = "traces/tiered-spill.csv.gz";
const EVERY = 5000;

export const POLICIES = [
  { name: "NUMA balancing, tiering mode", who: "numa_balancing", set: ["kernel.numa_balancing=2"], work: ["numa_pte_updates", "numa_hint_faults"] },
  { name: "kpromoted, hardware hints", who: "kpromoted", set: ["kpromoted.enabled=1", "hotness.hw_sample_period=8"], work: ["kpromoted_recorded_accesses", "kpromoted_mig_candidate"] },
  { name: "kmmscand", who: "kmmscand", set: ["kmmscand.enabled=1"], work: ["nr_kmmscand_mm_scans", "nr_kmmscand_migadded"] },
  { name: "none", who: null, set: [], work: [] },
];

const pct = (a, b) => (b ? `${Math.round((100 * a) / b)} %` : "–");

/** the bucket holding the median of a latency histogram, as text */
function median(lat) {
  const total = lat.reduce((s, b) => s + b.count, 0);
  if (!total) return "–";
  let c = 0;
  for (const b of lat) {
    c += b.count;
    if (2 * c >= total) return b.le_ms === null ? "> 30 s" : `≤ ${b.le_ms} ms`;
  }
  return "–";
}

/** One replay per policy: the row values. `replay` is dist/replay.js's (or src's, in tests). */
export async function rows(replay, trace = `${ROOT}/${TRACE}`) {
  const out = [];
  for (const p of POLICIES) {
    const r = await replay({ trace, set: p.set, interval: EVERY });
    const pr = r.promotion;
    const mine = p.who ? pr.by[p.who] : undefined;
    const coverage = r.series.filter((s) => !s.end && s.time_ms % EVERY === 0).map((s) => pct(s.promotion.promoted_hot, s.promotion.truly_hot));
    out.push({
      name: p.name,
      set: p.set,
      promoted: r.vmstat.pgpromote_success,
      trulyHot: pr.truly_hot,
      promotedHot: pr.promoted_hot,
      coverage,
      wasted: pr.promoted_not_hot,
      latency: mine ? median(mine.latency) : "–",
      work: p.work.map((c) => `${c} ${r.vmstat[c]}`).join(", ") || "–",
    });
  }
  return out;
}

/** The markdown table of `rows`. */
export function table(rs) {
  const times = rs[0].coverage.map((_, i) => `${((i + 1) * EVERY) / 1000} s`);
  const lines = [
    `Replays of \`${TRACE}\` (\`node scripts/numab-table.mjs\`): promoted = pgpromote_success; truly hot and promoted hot from the JSON's \`promotion\`; coverage = promoted hot / truly hot so far (the hot set moves at 15 s; truly hot depends on the policy, as promoted pages leave the lower tier and later windows judge the others, so compare promoted hot, wasted and latency too); wasted = promotions of pages never found hot; latency = median from becoming hot to promoted.`,
    "",
    `| policy | --set | promoted | truly hot | promoted hot | coverage at ${times.join(" / ")} | wasted | latency | work |`,
    "|---|---|---:|---:|---:|---|---:|---|---|",
  ];
  for (const r of rs)
    lines.push(`| ${r.name} | ${r.set.map((s) => `\`${s}\``).join(" ") || "–"} | ${r.promoted} | ${r.trulyHot} | ${r.promotedHot} | ${r.coverage.join(" / ")} | ${r.wasted} | ${r.latency} | ${r.work} |`);
  return lines.join("\n");
}

/** README text with the block between the markers replaced; `file` names it in the error. */
export function splice(readme, block, file = "README.md") {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${file} has no ${BEGIN} ... ${END} block`);
  return readme.slice(0, a + BEGIN.length) + "\n" + block + "\n" + readme.slice(b);
}

/**
 * Where the table goes: `-` standard output; no --out, README.md's block (which must exist);
 * --out FILE, FILE's block if FILE exists with both markers, else FILE written (created) with
 * the table alone.
 */
export function emit(text, out, readme = `${ROOT}/README.md`) {
  if (out === "-") {
    process.stdout.write(text + "\n");
    return;
  }
  if (out === undefined) {
    writeFileSync(readme, splice(readFileSync(readme, "utf8"), text, readme));
    return;
  }
  const old = existsSync(out) ? readFileSync(out, "utf8") : "";
  writeFileSync(out, old.includes(BEGIN) && old.includes(END) ? splice(old, text, out) : text + "\n");
}

async function main(argv) {
  let out;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out" && i + 1 < argv.length) out = argv[++i];
    else {
      console.error(`numab-table: unknown argument ${argv[i]} (usage: node scripts/numab-table.mjs [--out FILE|-])`);
      return 2;
    }
  }
  const { replay } = await import("../dist/replay.js");
  const text = table(await rows(replay));
  emit(text, out);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`numab-table: ${e.message}`);
      process.exit(1);
    },
  );
