/** Zone labels shared by the engine's samples and the charts (no other imports: the report code is bundled). */
/**
 * Labels of a machine's zones in Memory.zones order (a sample's buddyinfo rows): `n<nid>` for a
 * node whose only populated zone it is (a flat machine's, as before zones), else
 * `n<nid>_<ZONE>` (`n0_DMA`, `n0_DMA32`): the CSV sample columns' prefixes and the charts' ids.
 */
export function zoneLabels(zones: readonly { nid: number; name: string }[]): string[] {
  const perNode = new Map<number, number>();
  for (const z of zones) perNode.set(z.nid, (perNode.get(z.nid) ?? 0) + 1);
  return zones.map((z) => (perNode.get(z.nid) === 1 ? `n${z.nid}` : `n${z.nid}_${z.name}`));
}
