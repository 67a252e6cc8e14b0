/**
 * The guest's data disk: an ext4 image (made by e2fsprogs' mkfs.ext4 on the host, `-d` to copy
 * the trace's files in) that the guest helper mounts for the trace's buffered file I/O, so the
 * guest's page cache is a block device's (file LRU, dirty pages, writeback), as wsim models it,
 * not the initramfs's tmpfs (shmem: swap-backed, on the anon LRU, never written back).
 *
 * 4 KiB blocks (one per page, as mke2fs would not choose for a small image). No journal (`^has_journal`): jbd2's commits every 5 s would write metadata blocks wsim does
 * not have; inode tables and the journal are initialised on the host (lazy_itable_init=0), so no
 * ext4lazyinit thread writes in the guest during the replay.
 */
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { join, dirname } from "node:path";
import { EnvironmentError } from "../errors.js";
import { DATA_DIR, type GuestFile } from "./script.js";
import { which } from "./toolchain.js";

const MiB = 2 ** 20;

/**
 * Bytes of the image for `files`: what the replay can make them hold (GuestFile.maxBytes) plus a
 * quarter and 32 MiB for ext4's metadata and block groups, in whole MiB.
 */
export function dataImageBytes(files: readonly GuestFile[]): number {
  const data = files.reduce((s, f) => s + Math.max(f.bytes, f.maxBytes), 0);
  return Math.ceil((data * 1.25 + 32 * MiB) / MiB) * MiB;
}

/** The host's mke2fs (e2fsprogs; sbin is not on every user's PATH), or null. */
export function findMke2fs(): string | null {
  return which("mke2fs") ?? ["/usr/sbin/mke2fs", "/sbin/mke2fs"].find((p) => existsSync(p)) ?? null;
}

/**
 * Writes an ext4 image at `path` holding `files` (each at its path under DATA_DIR with `bytes`
 * of data, the byte 'w'; a file of 0 bytes is left for the replay's first write to create),
 * made by `mkfs` (default: findMke2fs()). Errors: EnvironmentError when there is no mke2fs or
 * it fails.
 */
export function writeDataImage(path: string, files: readonly GuestFile[], mkfs: string | null = findMke2fs()): void {
  if (!mkfs) throw new EnvironmentError("mke2fs (mkfs.ext4) not found (the trace's file I/O needs an ext4 disk in the guest): install Debian's package e2fsprogs");
  const root = mkdtempSync(join(dirname(path), "data-"));
  try {
    const chunk = Buffer.alloc(MiB, "w");
    for (const f of files) {
      if (f.bytes <= 0) continue;
      const fd = openSync(join(root, f.path.slice(DATA_DIR.length + 1)), "w");
      try {
        for (let at = 0; at < f.bytes; at += MiB) writeSync(fd, chunk, 0, Math.min(MiB, f.bytes - at), at);
      } finally {
        closeSync(fd);
      }
    }
    const args = ["-q", "-F", "-t", "ext4", "-O", "^has_journal", "-E", "lazy_itable_init=0,lazy_journal_init=0", "-b", "4096", "-m", "0", "-d", root, path, `${dataImageBytes(files) / 1024}k`];
    try {
      execFileSync(mkfs, args, { stdio: ["ignore", "ignore", "pipe"] });
    } catch (e) {
      const err = (e as { stderr?: Buffer }).stderr?.toString().trim() ?? String(e);
      throw new EnvironmentError(`mkfs.ext4 could not make the guest's data disk: ${err}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
