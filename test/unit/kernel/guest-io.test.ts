/** What `wsim kernel` writes for the guest (initramfs) and reads back from it (console, /proc files). */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { buildInitramfs } from "../../../src/kernel/initramfs.js";
import { parseBuddyinfo, parseConsole, parsePageblockCounts, parseVmstat } from "../../../src/kernel/guest-output.js";
import { dataDevice, guestCmdline, guestNodeCpus, machineFromBuddyinfo, qemuArgs, SWAP_DEVICE } from "../../../src/kernel/kernel.js";
import { loadMachine } from "../../../src/machine/machine.js";
import { machineZones } from "../../../src/machine/zones.js";
import { which } from "../../../src/kernel/toolchain.js";
import { KERNEL_VMSTAT } from "../../../src/stats/counters.js";

const SAMPLES = new URL("../../fixtures/kernel-samples/", import.meta.url).pathname;

/** Reads a newc archive back: name, mode, data of each entry. */
function unpack(gz: Buffer): { name: string; mode: number; data: Buffer }[] {
  const b = gunzipSync(gz);
  const out: { name: string; mode: number; data: Buffer }[] = [];
  let at = 0;
  for (;;) {
    expect(b.toString("ascii", at, at + 6)).toBe("070701");
    const f = (i: number) => parseInt(b.toString("ascii", at + 6 + i * 8, at + 14 + i * 8), 16);
    const mode = f(1);
    const size = f(6);
    const nameSize = f(11);
    const name = b.toString("ascii", at + 110, at + 110 + nameSize - 1);
    at = Math.ceil((at + 110 + nameSize) / 4) * 4;
    const data = b.subarray(at, at + size);
    at = Math.ceil((at + size) / 4) * 4;
    if (name === "TRAILER!!!") break;
    out.push({ name, mode, data });
  }
  expect(at).toBe(b.length);
  return out;
}

describe("initramfs", () => {
  const files = [
    { path: "proc" },
    { path: "init", data: Buffer.from("#!/bin/sh\n"), mode: 0o755 },
    { path: "script", data: Buffer.from("w 1000\n"), mode: 0o644 },
  ];

  it("is a newc archive of the given files, the same bytes every time", () => {
    const gz = buildInitramfs(files);
    expect(unpack(gz)).toEqual([
      { name: "proc", mode: 0o040755, data: Buffer.alloc(0) },
      { name: "init", mode: 0o100755, data: Buffer.from("#!/bin/sh\n") },
      { name: "script", mode: 0o100644, data: Buffer.from("w 1000\n") },
    ]);
    expect(buildInitramfs(files).equals(gz)).toBe(true);
  });

  it.skipIf(!which("cpio"))("lists the same files with GNU cpio", () => {
    const dir = mkdtempSync(join(tmpdir(), "wsim-cpio-"));
    writeFileSync(join(dir, "a.cpio"), gunzipSync(buildInitramfs(files)));
    const r = spawnSync("cpio", ["-it", "-F", join(dir, "a.cpio")], { encoding: "utf8" });
    expect(r.stdout.trim().split("\n")).toEqual(["proc", "init", "script"]);
  });
});

describe("reading the guest", () => {
  it("parses a real 6.1 /proc/vmstat and /proc/buddyinfo", () => {
    const vm = parseVmstat(readFileSync(join(SAMPLES, "vmstat.txt"), "utf8"));
    expect(Object.keys(vm)).toEqual([...KERNEL_VMSTAT]);
    const text = readFileSync(join(SAMPLES, "buddyinfo.txt"), "utf8");
    const nodes = parseBuddyinfo(text);
    const rows = text.trim().split("\n");
    expect(nodes.flatMap((n) => n.zones)).toHaveLength(rows.length);
    const z = nodes[0]!.zones[0]!;
    const counts = rows[0]!.trim().split(/\s+/).slice(4).map(Number);
    expect(z.buddyinfo).toEqual(counts);
    expect(z.free).toBe(counts.reduce((s, c, o) => s + c * 2 ** o, 0));
  });

  it("derives the simulated machine from what each guest zone had free, in whole pageblocks, zone by zone", () => {
    const m = machineFromBuddyinfo(
      parseBuddyinfo(
        "Node 0, zone      DMA      0      0      0      0      0      1      1      1      0      1      3 \n" +
          "Node 0, zone    DMA32      4      0      7     15     10      9      7     10      5      2     40 \n" +
          "Node 1, zone   Normal      0      0      0      0      0      0      0      0      0      0     10 \n",
      ),
      [1, 0],
    );
    const dma = 32 + 64 + 128 + 512 + 3 * 1024; // 3808 free: 7 whole pageblocks
    const dma32 = 4 + 14 + 60 + 80 + 144 + 224 + 640 + 1280 + 5 * 256 + 2 * 512 + 40 * 1024; // 45710: 89 pageblocks
    expect(m.nodes).toEqual([
      { id: 0, mem: 7 * 512 + 89 * 512, tier: 0, cpus: true },
      { id: 1, mem: 10240, tier: 1, cpus: false },
    ]);
    expect(Math.floor(dma / 512)).toBe(7);
    expect(Math.floor(dma32 / 512)).toBe(89);
    expect(m.zones).toEqual([
      { node: 0, name: "DMA", start: 0, end: 3584 },
      { node: 0, name: "DMA32", start: 3584, end: 3584 + 45568 },
      { node: 1, name: "Normal", start: 49152, end: 49152 + 10240 },
    ]);
    // the machine is valid: its zones hold each node's memory
    expect(machineZones(m).layout.nodes.map((n) => n.zones.filter((z) => z.presentPages > 0).map((z) => z.name))).toEqual([["DMA", "DMA32"], ["Normal"]]);
    // CPUs the guest booted with; a zone under one pageblock free is left out
    const two = machineFromBuddyinfo(parseBuddyinfo("Node 0, zone      DMA      1 0 0 0 0 0 0 0 0 0 0\nNode 0, zone    DMA32  0 0 0 0 0 0 0 0 0 0 1\n"), [4]);
    expect(two.nodes).toEqual([{ id: 0, mem: 1024, tier: 0, cpus: true, ncpus: 4 }]);
    expect(two.zones).toEqual([{ node: 0, name: "DMA32", start: 0, end: 1024 }]);
  });

  it("boots the guest with the trace's machine's CPUs per node (-smp, NUMA cpus=)", () => {
    expect(guestNodeCpus(loadMachine("default"), 1)).toEqual([1]);
    expect(guestNodeCpus(loadMachine("tiered"), 2)).toEqual([1, 0]);
    expect(guestNodeCpus(loadMachine("numa2"), 3)).toEqual([1, 1, 0]);
    const a = qemuArgs("bz", "ird", 256, [512, 128], undefined, undefined, [2, 3, 0]);
    expect(a[a.indexOf("-smp") + 1]).toBe("5");
    expect(a.filter((x) => x.startsWith("node,"))).toEqual(["node,nodeid=0,memdev=m0,cpus=0-1", "node,nodeid=1,memdev=m1,cpus=2-4", "node,nodeid=2,memdev=m2"]);
    // no CPU anywhere: one on node 0 all the same
    const z = qemuArgs("bz", "ird", 256, [], undefined, undefined, [0]);
    expect(z[z.indexOf("-smp") + 1]).toBe("1");
  });

  it("takes the helper's sections from a console with kernel noise and CRLF line ends", () => {
    const out =
      "SeaBIOS\r\n[    1.0] some kernel line\r\n@@wsim start\r\n@@wsim begin boot-vmstat\r\nnr_free_pages 10\r\npgfault 3\r\n@@wsim end\r\n" +
      "@@wsim error 7: mmap : Cannot allocate memory\r\n@@wsim begin read-0\r\nNode 0, zone   Normal 1 2\r\n@@wsim end\r\n@@wsim kalloc 232 3\r\n@@wsim elapsed 1234\r\n@@wsim done\r\n";
    const c = parseConsole(out);
    expect(c.done).toBe(true);
    expect(c.elapsedMs).toBe(1234);
    expect(c.kallocCounts).toEqual([232, 3]);
    expect(c.errors).toEqual(["7: mmap : Cannot allocate memory"]);
    expect(parseVmstat(c.sections.get("boot-vmstat")!)).toEqual({ nr_free_pages: 10, pgfault: 3 });
    expect(c.sections.get("read-0")).toBe("Node 0, zone   Normal 1 2\n");
    expect(parseConsole(out.replace("@@wsim done\r\n", "")).done).toBe(false);
  });

  it("sums pagetypeinfo's block counts over zones (the sample 6.1 printed: DMA 1/7/0, DMA32 33/209/6)", () => {
    const text = readFileSync(join(SAMPLES, "pagetypeinfo.txt"), "utf8");
    expect(parsePageblockCounts(text)).toEqual({ Unmovable: 34, Movable: 216, Reclaimable: 6, HighAtomic: 0, Isolate: 0 });
    expect(parsePageblockCounts("")).toEqual({});
  });

  it("gives QEMU one NUMA node per size, CPUs on node 0 only", () => {
    const a = qemuArgs("bz", "ird", 256, [512]);
    expect(a.slice(a.indexOf("-m"), a.indexOf("-m") + 2)).toEqual(["-m", "768M"]);
    expect(a.filter((x) => x.startsWith("node,"))).toEqual(["node,nodeid=0,memdev=m0,cpus=0", "node,nodeid=1,memdev=m1"]);
    expect(qemuArgs("bz", "ird", 256, [])).not.toContain("-numa");
  });

  it("attaches the swap image as an NVMe disk (built into Debian's cloud kernel) only when there is one", () => {
    const a = qemuArgs("bz", "ird", 256, [], guestCmdline(["movablecore=64M"]), "/w/swap.img");
    expect(a[a.indexOf("-drive") + 1]).toBe("file=/w/swap.img,if=none,id=swap,format=raw,cache=unsafe");
    expect(a[a.indexOf("-device") + 1]).toBe("nvme,serial=wsimswap,drive=swap");
    expect(a[a.indexOf("-append") + 1]).toBe("console=ttyS0 quiet loglevel=1 panic=-1 page_alloc.shuffle=0 movablecore=64M");
    expect(SWAP_DEVICE).toBe("/dev/nvme0n1");
    expect(qemuArgs("bz", "ird", 256, [])).not.toContain("-drive");
  });

  it("puts a data disk on the swap disk's controller as its second namespace (nvme0n2), or its first without swap", () => {
    const both = qemuArgs("bz", "ird", 256, [], undefined, "/w/swap.img", [1], "/w/data.img");
    const devs = both.flatMap((x, i) => (both[i - 1] === "-device" ? [x] : []));
    expect(devs).toEqual(["nvme,id=nvme0,serial=wsimswap", "nvme-ns,bus=nvme0,drive=swap,nsid=1", "nvme-ns,bus=nvme0,drive=data,nsid=2"]);
    expect(both).toContain("file=/w/data.img,if=none,id=data,format=raw,cache=unsafe");
    expect(dataDevice(true)).toBe("/dev/nvme0n2");
    const alone = qemuArgs("bz", "ird", 256, [], undefined, undefined, [1], "/w/data.img");
    expect(alone.flatMap((x, i) => (alone[i - 1] === "-device" ? [x] : []))).toEqual(["nvme,id=nvme0,serial=wsimswap", "nvme-ns,bus=nvme0,drive=data,nsid=1"]);
    expect(alone.filter((x) => x.startsWith("file="))).toEqual(["file=/w/data.img,if=none,id=data,format=raw,cache=unsafe"]);
    expect(dataDevice(false)).toBe("/dev/nvme0n1");
  });
});
