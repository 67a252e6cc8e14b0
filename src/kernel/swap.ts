/**
 * The guest's swap device: a sparse raw image with the header mkswap(8) writes, so the helper
 * only has to swapon(2) it. Layout of union swap_header (include/linux/swap.h, v6.1): in the
 * first page, `version` (1) at byte 1024, `last_page` at 1028, `nr_badpages` at 1032, a 16-byte
 * UUID at 1036 and a 16-byte label at 1052; the magic "SWAPSPACE2" in the last 10 bytes.
 */
import { closeSync, ftruncateSync, openSync, writeSync } from "node:fs";

const PAGE = 4096;

/** The first page of a swap area of `bytes` (whole pages, at least two). */
export function swapHeader(bytes: number): Buffer {
  const pages = Math.floor(bytes / PAGE);
  if (pages < 2) throw new RangeError(`a swap area needs at least two pages, got ${bytes} bytes`);
  const h = Buffer.alloc(PAGE);
  h.writeUInt32LE(1, 1024); // version
  h.writeUInt32LE(pages - 1, 1028); // last_page
  h.writeUInt32LE(0, 1032); // nr_badpages
  Buffer.from("wsim-swap").copy(h, 1052); // sws_volume (the UUID stays zero)
  Buffer.from("SWAPSPACE2").copy(h, PAGE - 10);
  return h;
}

/** Writes a sparse swap image of `bytes` at `path` (disk use: one page). */
export function writeSwapImage(path: string, bytes: number): void {
  const fd = openSync(path, "w");
  try {
    writeSync(fd, swapHeader(bytes), 0, PAGE, 0);
    ftruncateSync(fd, Math.floor(bytes / PAGE) * PAGE);
  } finally {
    closeSync(fd);
  }
}
