/** Buffered file I/O in `wsim compare`'s guest script (issue 15 item 2; no QEMU needed): files on the guest's ext4 data disk. */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dataImageBytes, findMke2fs, writeDataImage } from "../../../src/kernel/datadisk.js";
import { ScriptBuilder, type ScriptOptions } from "../../../src/kernel/script.js";
import { which } from "../../../src/kernel/toolchain.js";
import { loadMachine } from "../../../src/machine/machine.js";
import { Settings } from "../../../src/machine/settings.js";
import { openTrace } from "../../../src/trace/open.js";
import { stdinOf } from "../../helpers.js";

async function build(csv: string, opts: Partial<ScriptOptions> = {}): Promise<ScriptBuilder> {
  const sb = new ScriptBuilder({ maxGapMs: 10000, minSleepMs: 10, ...opts });
  sb.startTunables(new Settings(loadMachine("default")));
  const t = await openTrace("-", { stdin: stdinOf(csv), format: "csv" });
  for await (const b of t.batches()) sb.add(b);
  return sb;
}

const CSV = "time_ms,op,pid,file,off,len\n0,fread,1,a,0,8192\n0,fread,1,a,8192,8192\n1,fwrite,1,b,0,4096\n2,fsync,1,b,,\n3,ftruncate,,a,,0\n4,fdelete,,b,,\n5,fread,1,a,0,40960\n";
const MiB = 2 ** 20;

describe("guest script: fread, fwrite, fsync, ftruncate, fdelete", () => {
  it("without a data disk: no command, counted among the unsupported by op", async () => {
    const sb = await build(CSV);
    const lines = sb.finish().trimEnd().split("\n");
    expect(lines.filter((l) => /^[RVYTDM] /.test(l))).toEqual([]);
    const why = "(buffered file I/O: no data disk in the guest)";
    expect(sb.unsupported).toEqual({ [`fread ${why}`]: 3, [`fwrite ${why}`]: 1, [`fsync ${why}`]: 1, [`ftruncate ${why}`]: 1, [`fdelete ${why}`]: 1 });
    expect(sb.usedFiles).toBe(false);
  });

  it("with one: the disk is mounted before the first snapshot with readahead off, each op one command on DATA_DIR/fN", async () => {
    const sb = await build(CSV, { swapDevice: "/dev/nvme0n1", dataDevice: "/dev/nvme0n2" });
    const lines = sb.finish().trimEnd().split("\n");
    const at = (l: string) => lines.indexOf(l);
    expect(at("M /dev/nvme0n2 /data")).toBe(at("W /dev/nvme0n1") + 1);
    expect(at("s /sys/block/nvme0n2/queue/read_ahead_kb 0")).toBe(at("M /dev/nvme0n2 /data") + 1);
    expect(at("s /sys/block/nvme0n2/queue/read_ahead_kb 0")).toBeLessThan(at("p boot-vmstat /proc/vmstat"));
    expect(lines.filter((l) => /^[RVYTD] /.test(l))).toEqual([
      "R /data/f0 0 8192",
      "R /data/f0 8192 8192",
      "V /data/f1 0 4096", // b: the second file named
      "Y /data/f1",
      "T /data/f0 0", // ftruncate's len is the new size
      "D /data/f1",
      "R /data/f0 0 40960",
    ]);
    expect(sb.unsupported).toEqual({});
    // a: the disk holds the 16384 bytes the two reads reached before the truncate; the read after
    // it reaches 40960 (maxBytes) but finds the file empty, as it is. b: only written, made by the replay
    expect(sb.files()).toEqual([
      { name: "a", path: "/data/f0", bytes: 16384, maxBytes: 40960 },
      { name: "b", path: "/data/f1", bytes: 0, maxBytes: 4096 },
    ]);
    expect(sb.finish()).toBe(sb.finish()); // the mount goes in once
  });

  // a kind=file region of 2 pages at 0x200000 and an anon one of 1 page at 0x600000; both touched
  // (the file region's first touch a read, then a write), then the file region unmapped
  const MAPCSV =
    "time_ms,op,pid,addr,len,kind,rw\n0,mmap,1,0x200000,8192,file,\n0,mmap,1,0x600000,4096,,\n1,access,1,0x200000,,,r\n2,access,1,0x201000,,,w\n3,access,1,0x600000,,,r\n4,munmap,1,0x200000,8192,,\n";

  it("a kind=file mmap maps a file of its own on the data disk, shared; reads stay reads; munmap unlinks it", async () => {
    const sb = await build(MAPCSV, { dataDevice: "/dev/nvme0n2" });
    const lines = sb.finish().trimEnd().split("\n");
    const cmds = lines.filter((l) => /^[fmurwDM] /.test(l));
    // GUEST_BASE 0x1000000000; the file region there (0x200000 % 2 MiB = 0), the anon region
    // after it and a 2 MiB gap: ceil((0x1000000000 + 8192 + 2 MiB) / 2 MiB) * 2 MiB = 0x1000400000
    expect(cmds).toEqual([
      "M /dev/nvme0n2 /data",
      "f 1000000000 8192 /data/m0",
      "m 1000400000 4096 0",
      "r 1000000000", // a file page's first read maps its page cache page: no zero page to avoid
      "w 1000001000",
      "w 1000400000", // an anon page's first touch writes (wsim allocates, the zero page would not)
      "u 1000000000 8192",
      "D /data/m0", // no region maps it any more: its page cache goes with the inode
    ]);
    expect(sb.files()).toEqual([{ name: "(kind=file mapping 1)", path: "/data/m0", bytes: 8192, maxBytes: 8192 }]);
    expect(sb.usedFiles).toBe(true);
    expect(sb.unsupported).toEqual({});
  });

  it("a kind=file mmap without a data disk is anonymous memory, counted", async () => {
    const sb = await build(MAPCSV);
    const lines = sb.finish().trimEnd().split("\n");
    expect(lines.filter((l) => /^[fD] /.test(l))).toEqual([]);
    expect(lines).toContain("w 1000000000"); // written on first touch, as any anon page
    expect(sb.unsupported).toEqual({ "file mapping (replayed as anonymous: no data disk in the guest)": 1 });
    expect(sb.usedFiles).toBe(false);
    // a data disk but no mke2fs to make it: anonymous too, and the reason says so
    const sb2 = await build(MAPCSV, { dataDevice: "/dev/nvme0n2", mapFiles: false });
    expect(sb2.finish().split("\n").filter((l) => /^[fDM] /.test(l))).toEqual([]);
    expect(sb2.unsupported).toEqual({ "file mapping (replayed as anonymous: no mke2fs on the host for a data disk)": 1 });
  });

  it("a file region split by munmap keeps its file until the last piece goes", async () => {
    const csv = "time_ms,op,pid,addr,len,kind\n0,mmap,1,0x200000,12288,file\n1,munmap,1,0x201000,4096,\n2,munmap,1,0x200000,4096,\n3,exit,1,,,\n";
    const sb = await build(csv, { dataDevice: "/dev/nvme0n2" });
    const cmds = sb.finish().trimEnd().split("\n").filter((l) => /^[fuD] /.test(l));
    // pages 0 and 2 left after the first munmap; the second leaves page 2; exit unmaps it
    expect(cmds).toEqual(["f 1000000000 12288 /data/m0", "u 1000001000 4096", "u 1000000000 4096", "u 1000002000 4096", "D /data/m0"]);
  });

  it("a trace without file I/O mounts nothing, even with a data device offered", async () => {
    const sb = await build("time_ms,op,pid,addr,len\n0,mmap,1,0x100000,4096\n", { dataDevice: "/dev/nvme0n1" });
    expect(sb.finish().split("\n").filter((l) => /^M /.test(l))).toEqual([]);
    expect(sb.usedFiles).toBe(false);
  });

  it("the data image's size: the files' largest extents, a quarter more and 32 MiB, in whole MiB", () => {
    // (10 MiB + 2 MiB) * 1.25 + 32 MiB = 47 MiB
    expect(dataImageBytes([{ name: "a", path: "/data/f0", bytes: 10 * MiB, maxBytes: 10 * MiB }, { name: "b", path: "/data/f1", bytes: 0, maxBytes: 2 * MiB }])).toBe(47 * MiB);
    // 1 byte: 32 MiB + 1.25 bytes, rounded up to 33 MiB
    expect(dataImageBytes([{ name: "a", path: "/data/f0", bytes: 1, maxBytes: 1 }])).toBe(33 * MiB);
  });

  it("names the package when there is no mke2fs, and says what mke2fs said when it fails", () => {
    const dir = mkdtempSync(join(tmpdir(), "wsim-data-"));
    try {
      const files = [{ name: "a", path: "/data/f0", bytes: 4096, maxBytes: 4096 }];
      expect(() => writeDataImage(join(dir, "d.img"), files, null)).toThrow(/mke2fs \(mkfs\.ext4\) not found \(the trace's file I\/O needs an ext4 disk in the guest\): install Debian's package e2fsprogs/);
      // a "mke2fs" that fails: /bin/sh running the options as a script file it cannot open
      expect(() => writeDataImage(join(dir, "d.img"), files, "/bin/sh")).toThrow(/^mkfs\.ext4 could not make the guest's data disk: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const mke2fs = findMke2fs();
  it.skipIf(!mke2fs)("writes an ext4 image with 4 KiB blocks and no journal", () => {
    const dir = mkdtempSync(join(tmpdir(), "wsim-data-"));
    try {
      const img = join(dir, "data.img");
      writeDataImage(img, [{ name: "a", path: "/data/f0", bytes: 3 * 4096, maxBytes: 3 * 4096 }]);
      expect(statSync(img).size).toBe(33 * MiB); // 12 KiB * 1.25 + 32 MiB, rounded up
      const sb = Buffer.alloc(1024);
      const fd = openSync(img, "r");
      readSync(fd, sb, 0, 1024, 1024); // the superblock (fs/ext4/ext4.h struct ext4_super_block)
      closeSync(fd);
      expect(sb.readUInt16LE(56)).toBe(0xef53); // s_magic
      expect(sb.readUInt32LE(24)).toBe(2); // s_log_block_size: 1024 << 2 = 4096
      expect(sb.readUInt32LE(92) & 0x4).toBe(0); // s_feature_compat: no COMPAT_HAS_JOURNAL
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!which("gcc"))("the guest helper's file commands, run on the host (not as init)", () => {
  it("V writes, R reads, T truncates, D unlinks; Y, T and D of a missing file are no errors; R of one is", async () => {
    const { buildHelper } = await import("../../../src/kernel/toolchain.js");
    const { spawnSync } = await import("node:child_process");
    const { existsSync, writeFileSync } = await import("node:fs");
    let helper: string;
    try {
      helper = buildHelper(() => {});
    } catch (e) {
      console.warn(`SKIPPED: the helper does not build here (${(e as Error).message.split("\n")[0]})`);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "wsim-guest-files-"));
    try {
      const f = join(dir, "f0");
      const script = [`V ${f} 4096 3000000`, `R ${f} 0 8192`, `Y ${f}`, `Y ${dir}/none`, `T ${dir}/none 0`, `D ${dir}/none`, `R ${dir}/none 0 4096`, ""].join("\n");
      writeFileSync(join(dir, "s1"), script);
      const r = spawnSync(helper, [join(dir, "s1")], { encoding: "utf8" });
      expect(statSync(f).size).toBe(4096 + 3000000); // written from byte 4096 on, in chunks of at most 1 MiB
      // the one error: line 7, the read of a file that does not exist
      expect(r.stdout.split("\n").filter((l) => l.startsWith("@@wsim error"))).toEqual([`@@wsim error 7: open ${dir}/none: No such file or directory`]);
      writeFileSync(join(dir, "s2"), `T ${f} 8192\n`);
      spawnSync(helper, [join(dir, "s2")]);
      expect(statSync(f).size).toBe(8192);
      // f maps the file shared: a write reaches the file (8192 bytes: two pages at 2^40; the
      // second page's first byte is byte 4096); a missing file is an error on its line
      writeFileSync(join(dir, "s4"), `f 10000000000 8192 ${f}\nw 10000001000\nf 10000100000 4096 ${dir}/none\n`);
      const r4 = spawnSync(helper, [join(dir, "s4")], { encoding: "utf8" });
      expect(r4.stdout.split("\n").filter((l) => l.startsWith("@@wsim error"))).toEqual([`@@wsim error 3: open ${dir}/none: No such file or directory`]);
      const one = Buffer.alloc(1);
      const fd = openSync(f, "r");
      readSync(fd, one, 0, 1, 4096);
      closeSync(fd);
      expect(one[0]).toBe(1);
      writeFileSync(join(dir, "s3"), `D ${f}\n`);
      spawnSync(helper, [join(dir, "s3")]);
      expect(existsSync(f)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
