/**
 * `wsim compare` replays fork and buffered file I/O in the 6.1 guest (issue 15's acceptance):
 * one small trace, one boot. Needs what test/e2e/kernel.test.ts needs, and mke2fs for the data
 * disk; where any is missing the test is skipped and says why.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { which } from "../../src/kernel/toolchain.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const tmp = mkdtempSync(join(tmpdir(), "wsim-guestops-e2e-"));

const missing = [
  !which("qemu-system-x86_64") && "qemu-system-x86_64 (Debian: qemu-system-x86)",
  !which("gcc") && "gcc",
  !existsSync("/usr/lib/x86_64-linux-gnu/libc.a") && "a static libc (Debian: libc6-dev)",
  !which("mke2fs") && !existsSync("/usr/sbin/mke2fs") && !existsSync("/sbin/mke2fs") && "mke2fs (Debian: e2fsprogs)",
  !which("apt-get") && !process.env.WSIM_CACHE && !existsSync(join(homedir(), ".cache/wsim/kernel")) && "apt-get to fetch the kernel",
].filter(Boolean);
if (missing.length) console.warn(`SKIPPED: wsim compare fork and file I/O tests, QEMU cannot run here; missing ${missing.join(", ")}`);

const PAGE = 4096;
const BASE = 0x10000000;
const hex = (p: number) => "0x" + (BASE + p * PAGE).toString(16);

/**
 * pid 1 maps 64 pages and writes them all; forks pid 2; pid 2 writes pages 0..15 and pid 1
 * pages 32..39, each a copy-on-write fault of a page both map; pid 2 exits. Then pid 1 reads a
 * 256 KiB file twice (64 pages read from disk once, then cached) and writes 128 KiB of another
 * (32 pages dirtied), which fsync writes back.
 */
function trace(): string {
  const rows = ["time_ms,op,pid,addr,len,rw,child,file,off", `0,mmap,1,${hex(0)},${64 * PAGE},,,,`];
  for (let p = 0; p < 64; p++) rows.push(`1,access,1,${hex(p)},,w,,,`);
  rows.push("2,fork,1,,,,2,,");
  for (let p = 0; p < 16; p++) rows.push(`3,access,2,${hex(p)},,w,,,`);
  for (let p = 32; p < 40; p++) rows.push(`3,access,1,${hex(p)},,w,,,`);
  rows.push("4,exit,2,,,,,,");
  rows.push(`5,fread,1,,${256 * 1024},,,a,0`, `6,fread,1,,${256 * 1024},,,a,0`, `7,fwrite,1,,${128 * 1024},,,b,0`, "8,fsync,1,,,,,b,");
  return rows.join("\n") + "\n";
}

describe.skipIf(missing.length > 0)("wsim compare: fork and file I/O in the guest (QEMU)", () => {
  it("copy-on-write faults after a real fork and page-cache reads, writes and writeback on the ext4 data disk move as wsim's", { timeout: 600_000 }, () => {
    const csv = join(tmp, "guestops.csv");
    writeFileSync(csv, trace());
    const out = join(tmp, "guestops.json");
    const r = spawnSync(process.execPath, [BIN, "compare", csv, "--mem", "128M", "-f", "json", "-o", out], { cwd: ROOT, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/an ext4 data disk of 33 MiB for the trace's 2 files/); // (256 + 128) KiB * 1.25 + 32 MiB, rounded up
    const c = JSON.parse(readFileSync(out, "utf8"));
    // wsim's counters as changes from its start (the guest's boot state: --start boot), as compare's rows take them
    const start: Record<string, number> = c.wsim.start_state?.vmstat ?? {};
    const w: Record<string, number> = Object.fromEntries(Object.entries(c.wsim.vmstat as Record<string, number>).map(([n, v]) => [n, v - (start[n] ?? 0)]));
    const k: Record<string, number> = c.kernel.vmstat;
    /**
     * a kernel node counter (nr_*) between want - 4 and want + more: /proc/vmstat does not fold
     * the per-cpu deltas, each kept under the stat threshold (calculate_normal_threshold: 2 for
     * a zone under 128 MiB with one CPU), at either snapshot; event counters (pgfault, pgpgin)
     * are summed over the CPUs when read, exact
     */
    const near = (name: string, want: number, more: number) => {
      expect(k[name], name).toBeGreaterThanOrEqual(want - 4);
      expect(k[name], name).toBeLessThanOrEqual(want + more);
    };
    expect(c.kernel.kernel.unsupported).toEqual({});
    expect(c.kernel.kernel.errors).toEqual([]);
    expect(c.kernel.kernel.data_mib).toBe(33);
    // faults: 64 first touches + 16 copies in the child + 8 in the parent = 88 in wsim; the
    // kernel's more are the helper's own pages copied on write after its fork (a few dozen)
    expect(w.pgfault).toBe(64 + 16 + 8);
    expect(k.pgfault).toBeGreaterThanOrEqual(88);
    expect(k.pgfault).toBeLessThanOrEqual(88 + 64);
    // after the child's exit: its 16 copies and the 8 originals the parent copied away are freed,
    // leaving the parent's 64 pages (the kernel: and a few of the helper's)
    expect(w.nr_anon_pages).toBe(64);
    near("nr_anon_pages", 64, 16);
    // file a: 64 pages read once (256 KiB of pgpgin), the second read all hits; file b: 32 pages
    // dirtied and written by the fsync. The kernel's few more are ext4's metadata blocks
    // (bitmaps, inode table) on the block device's cache
    expect(w.pgpgin).toBe(256);
    expect(k.pgpgin).toBeGreaterThanOrEqual(256);
    expect(k.pgpgin).toBeLessThanOrEqual(256 + 64);
    expect(w.nr_file_pages).toBe(64 + 32);
    near("nr_file_pages", 96, 16);
    expect(w.nr_dirtied).toBe(32);
    near("nr_dirtied", 32, 8);
    expect(w.nr_written).toBe(32);
    near("nr_written", 32, 8);
    expect(w.pgpgout).toBe(128); // KiB
    expect(k.pgpgout).toBeGreaterThanOrEqual(128);
    expect(k.pgpgout).toBeLessThanOrEqual(128 + 32);
    expect(w.nr_dirty ?? 0).toBe(0);
    near("nr_dirty", 0, 8); // metadata the fsync of a journal-less ext4 leaves to the flusher
  });
});
