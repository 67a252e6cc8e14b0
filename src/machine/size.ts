import { PAGE_SIZE } from "../mm/constants.js";

const UNITS: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/**
 * Parses a memory size: `512M`, `4G`, `64G`, `1T`, `16384K` (binary units, an optional
 * trailing `iB` or `B`), or a bare page count. Returns pages; throws ValueError text.
 */
export function parseSizePages(v: unknown): number {
  if (typeof v === "number") {
    if (Number.isSafeInteger(v) && v > 0) return v;
    throw new Error(`expected a positive page count or a size like 4G, got ${JSON.stringify(v)}`);
  }
  const s = String(v).trim();
  const m = /^(\d+)([KMGT])?(?:i?B)?$/i.exec(s);
  if (!m) throw new Error(`expected a size like 512M, 4G or a page count, got ${JSON.stringify(s)}`);
  const n = Number(m[1]);
  if (!m[2]) {
    if (n <= 0 || !Number.isSafeInteger(n)) throw new Error(`page count must be positive, got ${s}`);
    return n;
  }
  const bytes = n * UNITS[m[2].toUpperCase()]!;
  if (bytes % PAGE_SIZE !== 0 || bytes <= 0) throw new Error(`size ${s} is not a positive multiple of 4 KiB`);
  return bytes / PAGE_SIZE;
}

/** Parses a byte size (`1G`, `256M`, plain bytes). */
export function parseSizeBytes(s: string): number {
  const m = /^(\d+)([KMGT])?(?:i?B)?$/i.exec(s.trim());
  if (!m) throw new Error(`expected a size like 256M or 1G, got ${JSON.stringify(s)}`);
  return Number(m[1]) * (m[2] ? UNITS[m[2].toUpperCase()]! : 1);
}

/** Formats pages as a short binary size: 1048576 pages -> "4G". */
export function formatPages(pages: number): string {
  let bytes = pages * PAGE_SIZE;
  for (const u of ["T", "G", "M", "K"]) {
    const k = UNITS[u]!;
    if (bytes >= k && bytes % k === 0) return `${bytes / k}${u}`;
  }
  return `${pages}`;
}
