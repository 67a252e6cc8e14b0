/**
 * What the guest prints, read back: /proc/vmstat, /proc/buddyinfo, /proc/pagetypeinfo's block
 * counts, and the helper's console protocol ("@@wsim begin TAG" … "@@wsim end", errors, the
 * end markers). Pure functions of text, tested on files a real 6.1 printed.
 */

export interface KernelZone {
  name: string;
  free: number;
  buddyinfo: number[];
}

export function parseVmstat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^(\w+) (-?\d+)$/.exec(line.trim());
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** /proc/buddyinfo lines as nodes and zones, free pages summed over orders. */
export function parseBuddyinfo(text: string): { id: number; zones: KernelZone[] }[] {
  const nodes: { id: number; zones: KernelZone[] }[] = [];
  for (const line of text.split("\n")) {
    const m = /^Node (\d+), zone\s+(\S+)\s+([\d\s]+)$/.exec(line.trim());
    if (!m) continue;
    const id = Number(m[1]);
    const counts = m[3]!.trim().split(/\s+/).map(Number);
    let node = nodes.find((n) => n.id === id);
    if (!node) nodes.push((node = { id, zones: [] }));
    node.zones.push({ name: m[2]!, free: counts.reduce((s, c, o) => s + c * 2 ** o, 0), buddyinfo: counts });
  }
  return nodes;
}

/** The "Number of blocks type" table of /proc/pagetypeinfo, summed over zones: type -> pageblocks. */
export function parsePageblockCounts(text: string): Record<string, number> {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.startsWith("Number of blocks type"));
  if (at < 0) return {};
  const types = lines[at]!.slice("Number of blocks type".length).trim().split(/\s+/);
  const out: Record<string, number> = Object.fromEntries(types.map((t) => [t, 0]));
  for (const line of lines.slice(at + 1)) {
    const m = /^Node\s+\d+, zone\s+\S+\s+([\d\s]+)$/.exec(line.trim());
    if (!m) break;
    m[1]!.trim().split(/\s+/).forEach((n, i) => (out[types[i]!] = (out[types[i]!] ?? 0) + Number(n)));
  }
  return out;
}

/**
 * The "Number of blocks type" table of /proc/pagetypeinfo zone by zone: `"NODE ZONE"` (e.g.
 * `"0 DMA32"`) -> type -> pageblocks. Empty for a text without the table.
 */
export function parsePageblockCountsByZone(text: string): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.startsWith("Number of blocks type"));
  if (at < 0) return out;
  const types = lines[at]!.slice("Number of blocks type".length).trim().split(/\s+/);
  for (const line of lines.slice(at + 1)) {
    const m = /^Node\s+(\d+), zone\s+(\S+)\s+([\d\s]+)$/.exec(line.trim());
    if (!m) break;
    const counts: Record<string, number> = {};
    m[3]!.trim().split(/\s+/).forEach((n, i) => (counts[types[i]!] = Number(n)));
    out.set(`${m[1]} ${m[2]}`, counts);
  }
  return out;
}

/** Sections the helper printed between "@@wsim begin TAG" and "@@wsim end", and its errors. */
export function parseConsole(out: string): {
  sections: Map<string, string>;
  errors: string[];
  done: boolean;
  elapsedMs: number | null;
  /** wsim_kalloc's allocations and failures, when the script made any */
  kallocCounts: [number, number] | null;
} {
  const sections = new Map<string, string>();
  const errors: string[] = [];
  let tag: string | null = null;
  let body: string[] = [];
  let done = false;
  let elapsedMs: number | null = null;
  let kallocCounts: [number, number] | null = null;
  for (const raw of out.split("\n")) {
    const line = raw.replace(/\r$/, "");
    const at = line.indexOf("@@wsim ");
    const marker = at >= 0 ? line.slice(at + 7) : null;
    if (tag !== null) {
      if (marker === "end") {
        sections.set(tag, body.join("\n") + "\n");
        tag = null;
        body = [];
      } else body.push(line);
      continue;
    }
    if (marker === null) continue;
    if (marker.startsWith("begin ")) tag = marker.slice(6);
    else if (marker.startsWith("error ")) errors.push(marker.slice(6));
    else if (marker.startsWith("elapsed ")) elapsedMs = Number(marker.slice(8));
    else if (marker.startsWith("kalloc ")) {
      const [a, f] = marker.slice(7).split(" ").map(Number);
      kallocCounts = [a!, f!];
    }
    else if (marker === "done") done = true;
  }
  return { sections, errors, done, elapsedMs, kallocCounts };
}
