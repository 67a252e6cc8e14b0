/**
 * `--interval MS --format csv`: one row per sample, a header first: time_ms, every counter
 * in /proc/vmstat order then wsim's, then per zone the free blocks per order (buddyinfo) and
 * the reported ones (free page reporting): `n0_free_o0` .. `n0_reported_o10` for a node's only
 * zone, `n0_DMA32_free_o0` .. when the node has several (engine.ts zoneLabels); then the
 * page_age bins of each memcg with intervals (`page_age:/svc:n0:b0` .., bytes), the promotion
 * truth on tiered machines, and the system's memory pressure (`psi_some_avg10` ..
 * `psi_full_total`: /proc/pressure/memory's averages in % and totals in µs).
 */
import type { Sample } from "../engine/engine.js";

/** The header row; `zones` labels the buddyinfo rows (default `n0`, `n1`, ...: one zone per node). */
export function sampleCsvHeader(s: Sample, zones: readonly string[] = s.buddyinfo.map((_, n) => `n${n}`)): string {
  const cols = ["time_ms", ...Object.keys(s.vmstat)];
  s.buddyinfo.forEach((_, n) => {
    const z = zones[n] ?? `n${n}`;
    for (let o = 0; o < 11; o++) cols.push(`${z}_free_o${o}`);
    for (let o = 0; o < 11; o++) cols.push(`${z}_reported_o${o}`);
  });
  for (const [cg, nodes] of Object.entries(s.page_age))
    for (const [nid, bins] of Object.entries(nodes)) bins.forEach((_, b) => cols.push(`page_age:${cg}:n${nid}:b${b}`));
  if (s.promotion) cols.push("truly_hot", "promoted_hot");
  // the system's memory pressure (/proc/pressure/memory): avg10/60/300 in %, total in µs
  if (s.pressure) for (const k of ["some", "full"]) cols.push(`psi_${k}_avg10`, `psi_${k}_avg60`, `psi_${k}_avg300`, `psi_${k}_total`);
  return cols.join(",");
}

export function sampleCsvRow(s: Sample): string {
  const vals: number[] = [s.time_ms, ...Object.values(s.vmstat)];
  s.buddyinfo.forEach((bi, n) => vals.push(...bi, ...s.reported[n]!));
  for (const nodes of Object.values(s.page_age)) for (const bins of Object.values(nodes)) vals.push(...bins);
  if (s.promotion) vals.push(s.promotion.truly_hot, s.promotion.promoted_hot);
  let row = vals.join(",");
  const p = s.pressure?.["/"];
  if (p) for (const l of [p.some, p.full]) row += `,${l.avg10},${l.avg60},${l.avg300},${l.total}`;
  return row;
}
