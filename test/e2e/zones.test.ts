/**
 * Issue 13 item 1 from the command line: a machine with x86 zones prints buddyinfo and
 * pagetypeinfo with every zone as 6.1 does (the shape of ../shared/kernel-samples/, copied in
 * test/fixtures/kernel-samples/), and the new inputs' error paths (`gfp`, `zones`, `--zones`).
 * Spawns bin/wsim (build with tsc first).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const tmp = mkdtempSync(join(tmpdir(), "wsim-zones-"));

function wsim(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

/** the text with every right-aligned number field (its padding and digits) replaced by #s of its width: the layout without the values */
const shape = (t: string) => t.replace(/ *\d+/g, (d) => "#".repeat(d.length));
/** a real 6.1 file (test/fixtures/kernel-samples is a byte-for-byte copy of ../shared/kernel-samples) */
const sample = (name: string) => readFileSync(join(ROOT, "test/fixtures/kernel-samples", name), "utf8");

// a 128 MiB QEMU pc guest: RAM [1, 0x9f), [0x100, 32768 - 41 = 32727): DMA [1, 4096) and DMA32 [4096, 32727)
const machine = file("x86-128m.json", JSON.stringify({ name: "x86-128m", nodes: [{ id: 0, mem: "128M" }], zones: "x86" }));
const reads = file("reads.csv", "time_ms,op,key\n0,read,buddyinfo\n0,read,pagetypeinfo\n");

describe("multi-zone /proc files", () => {
  const r = wsim(["replay", reads, "--machine", machine, "--format", "json"]);
  const values = r.code === 0 ? (JSON.parse(r.out).reads as { key: string; value: string }[]) : [];

  it("buddyinfo: a line per zone in 6.1's format, the boot free blocks computed by hand", () => {
    expect(r.code).toBe(0);
    const bi = values.find((x) => x.key === "buddyinfo")!.value;
    // DMA: free [256, 4096): 256 order 8, 512 order 9, 1024/2048/3072 order 10
    // DMA32: [4096, 32727): 27 order-10 blocks to 31744, then 983 = 512+256+128+64+16+4+2+1
    expect(bi).toBe(
      "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 \n" +
        "Node 0, zone    DMA32      1      1      1      0      1      0      1      1      1      1     27 \n",
    );
    expect(shape(bi)).toBe(shape(sample("buddyinfo.txt")));
  });

  it("pagetypeinfo: both zones in the free counts and the block counts, the kernel sample's shape", () => {
    const pt = values.find((x) => x.key === "pagetypeinfo")!.value;
    expect(shape(pt)).toBe(shape(sample("pagetypeinfo.txt")));
    // blocks stepped from each zone's start: DMA 1, 513, ... 3585 = 8; DMA32 (32727 - 4096) / 512 -> 56
    expect(pt).toMatch(/^Node 0, zone      DMA            0            8            0            0            0 $/m);
    expect(pt).toMatch(/^Node 0, zone    DMA32            0           56            0            0            0 $/m);
    expect(pt).toMatch(/^Node    0, zone    DMA32, type      Movable      1      1      1      0      1      0      1      1      1      1     27 $/m);
  });

  it("the JSON lists the zones per node and names the layout in the resolved machine", () => {
    const j = JSON.parse(r.out);
    expect(j.machine.zones).toBe("x86");
    expect(j.nodes[0].zones.map((z: { name: string; start_pfn: number; managed: number }) => [z.name, z.start_pfn, z.managed])).toEqual([
      ["DMA", 1, 3840],
      ["DMA32", 4096, 28631],
    ]);
    const flat = JSON.parse(wsim(["replay", reads, "--zones", "flat", "--format", "json"]).out);
    expect(flat.machine.zones).toBe("flat");
  });

  it("--zones x86 on a preset gives the same zones as the machine key", () => {
    const a = wsim(["replay", reads, "--machine", "vm", "--zones", "x86", "--format", "json"]);
    expect(a.code).toBe(0);
    // vm (2 GiB): DMA managed 3840, DMA32 [4096, 524247): 520151
    expect(JSON.parse(a.out).nodes[0].zones.map((z: { name: string; managed: number }) => [z.name, z.managed])).toEqual([
      ["DMA", 3840],
      ["DMA32", 520151],
    ]);
  });
});

describe("error paths", () => {
  it("a bad gfp value is file:line, exit 3", () => {
    const t = file("gfp.csv", "time_ms,op,id,order,gfp\n0,alloc,a,0,kernel\n1,alloc,b,0,highmem\n");
    const r = wsim(["replay", t, "--format", "vmstat"]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(new RegExp(`^${t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3: .*gfp.*kernel, dma32, dma, highuser_movable, atomic.*"highmem"`));
    expect(r.err.trim().split("\n")).toHaveLength(1);
  });

  it("a bad zones key names the machine file and line, exit 3", () => {
    const m = file("badzones.json", '{"name": "z",\n"nodes": [{"id": 0, "mem": "64M"}],\n"zones": "x86_64"}\n');
    const r = wsim(["replay", reads, "--machine", m, "--format", "vmstat"]);
    expect(r.code).toBe(3);
    expect(r.err.trim()).toBe(`${m}:3: machine zones must be one of "flat", "x86" or a list of zones, got "x86_64"`);
    const k = file("badcore.json", '{"nodes": [{"id": 0, "mem": "64M"}],\n"movablecore": "16M"}\n');
    const r2 = wsim(["replay", reads, "--machine", k, "--format", "vmstat"]);
    expect(r2.code).toBe(3);
    expect(r2.err.trim()).toBe(`${k}:2: movablecore needs "zones": "x86" (a flat machine has no ZONE_MOVABLE)`);
    const c = file("badsize.json", '{"nodes": [{"id": 0, "mem": "64M"}], "zones": "x86",\n"kernelcore": "lots"}\n');
    const r3 = wsim(["replay", reads, "--machine", c, "--format", "vmstat"]);
    expect(r3.code).toBe(3);
    expect(r3.err.trim()).toMatch(new RegExp(`^${c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2: kernelcore: expected a size like 512M`));
  });

  it("--zones with another value is a usage error, exit 2", () => {
    const r = wsim(["replay", reads, "--zones", "numa", "--format", "vmstat"]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")[0]).toBe('wsim: --zones must be one of flat, x86, got "numa"');
  });

  it("a node too small for the x86 layout is bad data naming the machine file", () => {
    const m = file("tiny.json", '{"nodes": [{"id": 0, "mem": 256}],\n"zones": "x86"}\n');
    const r = wsim(["replay", reads, "--machine", m, "--format", "vmstat"]);
    expect(r.code).toBe(3);
    expect(r.err.trim()).toMatch(/tiny\.json:\d+: .*at least 2 MiB/);
  });
});
