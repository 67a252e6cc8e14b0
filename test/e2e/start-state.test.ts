/**
 * Issue 13 item 5 from the command line: `--machine` given a saved /proc/zoneinfo, and
 * `--start-state DIR` with the real 6.1 files of test/fixtures/kernel-samples (a copy of
 * ../shared/kernel-samples: buddyinfo and pagetypeinfo of a 512 MiB guest, zoneinfo of a
 * 424 MiB one). Read back at time 0, --check on a small trace, the warnings and every error
 * path. Spawns bin/wsim (build with tsc first).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const SAMPLES = join(ROOT, "test/fixtures/kernel-samples");
const tmp = mkdtempSync(join(tmpdir(), "wsim-start-"));

function wsim(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

/** a directory holding the named sample files under their /proc names, with edits */
function stateDir(name: string, files: Record<string, string | ((t: string) => string)>): string {
  const d = join(tmp, name);
  mkdirSync(d);
  for (const [proc, src] of Object.entries(files)) {
    const from = join(SAMPLES, `${proc}.txt`);
    if (typeof src === "function") writeFileSync(join(d, proc), src(readFileSync(from, "utf8")));
    else copyFileSync(join(SAMPLES, src), join(d, proc));
  }
  return d;
}

const sample = (name: string) => readFileSync(join(SAMPLES, name), "utf8");
// the 512 MiB QEMU guest the buddyinfo/pagetypeinfo samples come from: DMA [1, 4096) in 8 pageblocks, DMA32 [4096, 131031) in 248
const m512 = file("m512.json", JSON.stringify({ name: "guest512", nodes: [{ id: 0, mem: "512M", cpus: 1 }], zones: "x86" }));
const reads = file("reads.csv", "time_ms,op,key\n0,read,buddyinfo\n0,read,pagetypeinfo\n0,read,zoneinfo\n");
const full = stateDir("full", { buddyinfo: "buddyinfo.txt", pagetypeinfo: "pagetypeinfo.txt" });

describe("--start-state DIR", () => {
  it("reads back the buddyinfo and pagetypeinfo it was built from, byte for byte, and says what it did", () => {
    const r = wsim(["replay", reads, "--machine", m512, "--start-state", full, "--format", "json"]);
    expect(r.code).toBe(0);
    const values = (JSON.parse(r.out).reads as { key: string; value: string }[]).map((x) => x.value);
    expect(values[0]).toBe(sample("buddyinfo.txt"));
    expect(values[1]).toBe(sample("pagetypeinfo.txt"));
    // free pages: DMA 32+64+128+512+3*1024 = 3808, DMA32 108888 (buddyinfo's orders summed)
    expect(values[2]).toMatch(/Node 0, zone      DMA\n[\s\S]*?  pages free     3808\n/);
    expect(values[2]).toMatch(/Node 0, zone    DMA32\n  pages free     108888\n/);
    expect(r.err).toMatch(/^note: start state from .*full: 112696 pages free, \d+ movable \(anon, boot owner pid 0\) and \d+ unmovable \(wsim_kernel_pages\) pages used\n$/);
    // JSON start_state: every managed page is free or the boot owner's: DMA 3840 + DMA32
    // [4096, 131031) 126935 = 130775 managed, 112696 free, so 18079 used
    const st = JSON.parse(r.out).start_state;
    expect({ ...st, boot_movable: undefined, boot_unmovable: undefined, vmstat: undefined, zones: undefined }).toEqual({ dir: full, free: 112696, pcp: 0, boot_in_use: 0, lru_gen: null, warnings: [] });
    expect(st.boot_movable + st.boot_unmovable).toBe(18079);
    // and what it starts from: the counters before the first event, each zone's free pages (3808 + 108888)
    expect(st.vmstat.nr_free_pages).toBe(112696);
    expect(st.vmstat.nr_anon_pages).toBe(st.boot_movable);
    expect(st.zones.map((z: { zone: string; free: number }) => [z.zone, z.free])).toEqual([["DMA", 3808], ["DMA32", 108888]]);
  });

  it("is deterministic: two runs give the same output byte for byte", () => {
    const a = wsim(["replay", reads, "--machine", m512, "--start-state", full, "--format", "json", "-q"]);
    const b = wsim(["replay", reads, "--machine", m512, "--start-state", full, "--format", "json", "-q"]);
    expect(a.code).toBe(0);
    expect(b.out).toBe(a.out);
  });

  it("--check passes while a small trace replays from that state", () => {
    const lines = ["time_ms,op,pid,addr,len,thp", `0,mmap,1,0x40000000,${16 * 1024 * 1024},1`];
    for (let i = 0; i < 8; i++) lines.push(`${1 + i},access,1,${0x40000000 + i * 2 * 1024 * 1024},,`);
    for (let i = 0; i < 300; i++) lines.push(`10,access,1,${0x40800000 + i * 4096},,`);
    const r = wsim(["replay", file("small.csv", lines.join("\n") + "\n"), "--machine", m512, "--start-state", full, "--check", "--format", "vmstat"]);
    expect(r.err).not.toMatch(/invariant|error/i);
    expect(r.code).toBe(0);
    // 103 free order-10 Movable blocks: all 8 huge faults are served
    expect(r.out).toMatch(/^thp_fault_alloc 8$/m);
  });

  it("buddyinfo and pagetypeinfo disagreeing: pagetypeinfo wins, with a warning on stderr", () => {
    const d = stateDir("disagree", { buddyinfo: (t) => t.replace("    16     14", "    20     14"), pagetypeinfo: "pagetypeinfo.txt" });
    const r = wsim(["replay", reads, "--machine", m512, "--start-state", d, "--format", "json", "-q"]);
    expect(r.code).toBe(0);
    expect(r.err).toBe(
      `warning: ${d}/buddyinfo:2: node 0 zone DMA32: buddyinfo and pagetypeinfo disagree (order 0: 20 vs 16); they are read at different instants: pagetypeinfo's counts are used (it says which migratetype each block is on)\n`,
    );
    expect((JSON.parse(r.out).reads as { value: string }[])[0]!.value).toBe(sample("buddyinfo.txt"));
  });

  it("DIR/zoneinfo is the machine when --machine is not given: the 424 MiB zoneinfo is smaller than the 512 MiB state", () => {
    const d = stateDir("withzi", { buddyinfo: "buddyinfo.txt", pagetypeinfo: "pagetypeinfo.txt", zoneinfo: "zoneinfo.txt" });
    const r = wsim(["replay", reads, "--start-state", d]);
    expect(r.code).toBe(3);
    // DMA32 [4096, 108503): pageblocks 8..211 = 204; pagetypeinfo counts 33 + 209 + 6 = 248
    expect(r.err).toBe(`${d}/pagetypeinfo:18: node 0 zone DMA32: 248 pageblocks, but the machine's zone has 204: the start state is larger than the machine\n`);
    // --machine wins over DIR/zoneinfo
    expect(wsim(["replay", reads, "--machine", m512, "--start-state", d, "-q", "--format", "vmstat"]).code).toBe(0);
  });

  it("DIR/zoneinfo of the same machine: its pcp counts are put on the per-cpu lists, buddyinfo stays the file's", () => {
    // the 512 MiB machine's own zoneinfo (printed by wsim), DMA32's pageset count set to 100
    const zi = (JSON.parse(wsim(["replay", file("zi0.csv", "time_ms,op,key\n0,read,zoneinfo\n"), "--machine", m512, "--format", "json"]).out).reads as { value: string }[])[0]!.value;
    const at = zi.indexOf("count: 0", zi.indexOf("zone    DMA32"));
    const d = stateDir("samebox", { buddyinfo: "buddyinfo.txt", pagetypeinfo: "pagetypeinfo.txt" });
    writeFileSync(join(d, "zoneinfo"), zi.slice(0, at) + "count: 100" + zi.slice(at + 8));
    const r = wsim(["replay", reads, "--start-state", d, "--format", "json"]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/: 112696 pages free and 100 on per-cpu lists, /);
    const values = (JSON.parse(r.out).reads as { value: string }[]).map((x) => x.value);
    expect(values[0]).toBe(sample("buddyinfo.txt"));
    expect(values[2]).toMatch(/Node 0, zone    DMA32\n  pages free     108888\n[\s\S]*?count: 100\n/);
  });

  it("errors: missing files and directory, malformed lines, zones the machine lacks (exit 3, file:line)", () => {
    const noPti = stateDir("nopti", { buddyinfo: "buddyinfo.txt" });
    let r = wsim(["replay", reads, "--machine", m512, "--start-state", noPti]);
    expect([r.code, r.err]).toEqual([3, `${noPti}/pagetypeinfo: cannot read pagetypeinfo: no such file or directory (ENOENT) (a start state needs buddyinfo and pagetypeinfo, copied from /proc, in ${noPti})\n`]);
    r = wsim(["replay", reads, "--machine", m512, "--start-state", join(tmp, "nothing")]);
    expect([r.code, r.err]).toEqual([3, `${join(tmp, "nothing")}: cannot read the start-state directory: no such file or directory (ENOENT)\n`]);
    r = wsim(["replay", reads, "--machine", m512, "--start-state", m512]);
    expect([r.code, r.err]).toEqual([3, `${m512}: --start-state takes a directory holding buddyinfo and pagetypeinfo (and zoneinfo), as /proc names them\n`]);
    const badBuddy = stateDir("badbuddy", { buddyinfo: (t) => t.replace("    103 ", " "), pagetypeinfo: "pagetypeinfo.txt" });
    r = wsim(["replay", reads, "--machine", m512, "--start-state", badBuddy]);
    expect([r.code, r.err]).toEqual([3, `${badBuddy}/buddyinfo:2: expected 11 counts (orders 0..10), got 10\n`]);
    const badPti = stateDir("badpti", { buddyinfo: "buddyinfo.txt", pagetypeinfo: (t) => t.replace("type  Reclaimable", "type  Shrinkable") });
    r = wsim(["replay", reads, "--machine", m512, "--start-state", badPti]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(new RegExp(`^${badPti}/pagetypeinfo:7: migratetype "Shrinkable": wsim knows Unmovable, Movable, Reclaimable, HighAtomic, Isolate \\(and an empty CMA\\)\\n$`));
    // a CONFIG_CMA kernel's file: a CMA row per zone (before Isolate, as 6.1 prints it) and a CMA
    // column, all 0, read as the same state; a free CMA block or a CMA pageblock is refused
    const withCma = (row: string, col: string) => (t: string) =>
      t
        .replace(/^(Node\s+0, zone\s+(\w+), type\s+)Isolate(.*)$/gm, (_l, head: string, z: string, rest: string) => `Node    0, zone ${z.padStart(8)}, type          CMA${z === "DMA32" ? row : rest.replace(/\d+/g, "0")}\n${head}Isolate${rest}`)
        .replace(/^(Number of blocks type .*Isolate)/m, "$1          CMA")
        .replace(/^(Node 0, zone\s+DMA32(?:\s+\d+)+)/m, `$1${col}`)
        .replace(/^(Node 0, zone\s+DMA(?:\s+\d+)+)/m, "$1            0");
    const zero = "      0".repeat(11);
    const cma0 = stateDir("cma0", { buddyinfo: "buddyinfo.txt", pagetypeinfo: withCma(zero, "            0") });
    r = wsim(["replay", reads, "--machine", m512, "--start-state", cma0, "--format", "json"]);
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out).reads as { value: string }[])[0]!.value).toBe(sample("buddyinfo.txt"));
    const cmaFree = stateDir("cma1", { buddyinfo: "buddyinfo.txt", pagetypeinfo: withCma("      1" + "      0".repeat(10), "            0") });
    r = wsim(["replay", reads, "--machine", m512, "--start-state", cmaFree]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/pagetypeinfo:\d+: node 0 zone DMA32: free CMA blocks: wsim has no CMA migratetype \(an empty CMA row is accepted\)\n$/);
    const cmaBlocks = stateDir("cma2", { buddyinfo: "buddyinfo.txt", pagetypeinfo: withCma(zero, "            2") });
    r = wsim(["replay", reads, "--machine", m512, "--start-state", cmaBlocks]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/pagetypeinfo:\d+: node 0 zone DMA32: 2 CMA pageblocks: wsim has no CMA migratetype \(an empty CMA column is accepted\)\n$/);
    // a lru_gen that is not /sys/kernel/debug/lru_gen's: its line; one with no generation: the file
    const badLg = stateDir("badlg", { buddyinfo: "buddyinfo.txt", pagetypeinfo: "pagetypeinfo.txt", lru_gen: (t) => t.replace(" node     0", " nodes 0") });
    r = wsim(["replay", reads, "--machine", m512, "--start-state", badLg]);
    expect([r.code, r.err]).toEqual([3, `${badLg}/lru_gen:2: "nodes 0": expected "memcg ID PATH", " node N", a generation "SEQ AGE_MS ANON FILE" or (full format) a tier line of 7 numbers or an mm-walk line of 6, as /sys/kernel/debug/lru_gen prints them\n`]);
    // five generations in one lruvec (6.1 keeps at most MAX_NR_GENS, 4), and seqs out of order
    const fiveLg = stateDir("fivelg", { buddyinfo: "buddyinfo.txt", pagetypeinfo: "pagetypeinfo.txt", lru_gen: (t) => t + "          7          1          0           0 \n" });
    r = wsim(["replay", reads, "--machine", m512, "--start-state", fiveLg]);
    expect([r.code, r.err]).toEqual([3, `${fiveLg}/lru_gen:3: node 0: 5 generations (seq 3..7): 6.1 keeps at most 4 (MAX_NR_GENS) per lruvec\n`]);
    const gapLg = stateDir("gaplg", { buddyinfo: "buddyinfo.txt", pagetypeinfo: "pagetypeinfo.txt", lru_gen: (t) => t.replace(/^ +5 .*\n/m, "") });
    r = wsim(["replay", reads, "--machine", m512, "--start-state", gapLg]);
    expect([r.code, r.err]).toEqual([3, `${gapLg}/lru_gen:5: generation 6 after 4: lru_gen_seq_show prints consecutive seqs, oldest first\n`]);
    // a directory where the file should be
    const dirLg = stateDir("dirlg", { buddyinfo: "buddyinfo.txt", pagetypeinfo: "pagetypeinfo.txt" });
    mkdirSync(join(dirLg, "lru_gen"));
    r = wsim(["replay", reads, "--machine", m512, "--start-state", dirLg]);
    expect([r.code, r.err]).toEqual([3, `${dirLg}/lru_gen: cannot read lru_gen: is a directory (EISDIR) (a copy of /sys/kernel/debug/lru_gen)\n`]);
    const emptyLg = stateDir("emptylg", { buddyinfo: "buddyinfo.txt", pagetypeinfo: "pagetypeinfo.txt", lru_gen: () => "memcg     1 /\n node     0\n" });
    r = wsim(["replay", reads, "--machine", m512, "--start-state", emptyLg]);
    expect([r.code, r.err]).toEqual([3, `${emptyLg}/lru_gen: no generation in this lru_gen file (copy /sys/kernel/debug/lru_gen while multi-gen LRU is on)\n`]);
    // the default machine made flat: one Normal zone
    r = wsim(["replay", reads, "--start-state", full, "--zones", "flat"]);
    expect([r.code, r.err]).toEqual([
      3,
      `${full}/pagetypeinfo:17: node 0 zone DMA is not in machine default (its populated zones: node 0 Normal): give the machine these files came from (--machine its zoneinfo)\n`,
    ]);
    // a machine too small: 256 MiB has 120 DMA32 pageblocks
    const m256 = file("m256.json", JSON.stringify({ name: "g256", nodes: [{ id: 0, mem: "256M", cpus: 1 }], zones: "x86" }));
    r = wsim(["replay", reads, "--machine", m256, "--start-state", full]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/pagetypeinfo:18: node 0 zone DMA32: 248 pageblocks, but the machine's zone has 1\d\d: the start state is larger than the machine\n$/);
  });
});

describe("--start-state DIR/lru_gen and wsim.boot_in_use", () => {
  const lg = stateDir("lg", { buddyinfo: "buddyinfo.txt", pagetypeinfo: "pagetypeinfo.txt", lru_gen: "lru_gen.txt" });
  it("places the boot owner's pages by the file's generations and says so; JSON names the file", () => {
    const r = wsim(["replay", reads, "--machine", m512, "--start-state", lg, "--set", "wsim.boot_in_use=50", "--format", "json"]);
    expect(r.code, r.err).toBe(0);
    const st = JSON.parse(r.out).start_state;
    expect(st.lru_gen).toBe(join(lg, "lru_gen"));
    // half of the boot owner's movable pages, every second one (floor((m + 1) / 2) > floor(m / 2))
    expect(st.boot_in_use).toBe(Math.floor(st.boot_movable / 2));
    expect(r.err).toMatch(/\(anon, boot owner pid 0, \d+ in use, by lru_gen's generations\)/);
  });

  it("warns of a file under another name, of nodes the machine lacks, and of wsim.boot_in_use without a start state", () => {
    const named = stateDir("named", { buddyinfo: "buddyinfo.txt", pagetypeinfo: "pagetypeinfo.txt" });
    copyFileSync(join(SAMPLES, "lru_gen.txt"), join(named, "lru_gen.txt"));
    let r = wsim(["replay", reads, "--machine", m512, "--start-state", named]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`warning: ${join(named, "lru_gen.txt")} is not read: the start state reads buddyinfo, pagetypeinfo, zoneinfo, lru_gen by these names (rename it to lru_gen)\n`);
    const node3 = stateDir("node3", { buddyinfo: "buddyinfo.txt", pagetypeinfo: "pagetypeinfo.txt", lru_gen: (t) => t.replace(" node     0", " node     3") });
    r = wsim(["replay", reads, "--machine", m512, "--start-state", node3]);
    expect(r.code).toBe(0);
    expect(r.err).toContain("warning: lru_gen: node 3 is not in machine guest512: its generations are not used\n");
    expect(r.err).toContain("warning: lru_gen has no generations for node 0: its boot owner's pages start in the oldest generation\n");
    r = wsim(["replay", reads, "--set", "wsim.boot_in_use=10"]);
    expect([r.code, r.err]).toEqual([0, "warning: wsim.boot_in_use has no effect without --start-state (it applies to a start state's boot owner pages)\n"]);
  });
});

describe("--machine a saved /proc/zoneinfo", () => {
  it("replays on the layout the file describes: its zoneinfo shows the same spans, pages, marks, protection and CPUs", () => {
    const r = wsim(["replay", file("zi.csv", "time_ms,op,key\n0,read,zoneinfo\n"), "--machine", join(SAMPLES, "zoneinfo.txt"), "--format", "json"]);
    expect(r.code).toBe(0);
    const got = (JSON.parse(r.out).reads as { value: string }[])[0]!.value.split("\n");
    // every layout line of the real file, in order (the sample ends lines with \r\n)
    const layout = /^(Node|        (min|low|high|spanned|present|managed|protection)|    cpu:|              (high|batch):|  start_pfn)/;
    const want = sample("zoneinfo.txt").replace(/\r/g, "").split("\n").filter((l) => layout.test(l));
    expect(got.filter((l) => layout.test(l))).toEqual(want);
  });

  it("--zones beside it is a usage error: the file's zones would be replaced by a computed layout", () => {
    for (const z of ["x86", "flat"]) {
      const r = wsim(["replay", file("zz.csv", "time_ms,op,key\n0,read,zoneinfo\n"), "--machine", join(SAMPLES, "zoneinfo.txt"), "--zones", z]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`^wsim: --zones ${z}: machine .*zoneinfo\\.txt" gives its zones one by one \\(a zone list, or a saved /proc/zoneinfo\\), which --zones would replace; leave --zones out\n$`));
    }
  });

  it("a malformed zoneinfo is bad data at its line", () => {
    const bad = file("bad-zoneinfo", sample("zoneinfo.txt").replace("        spanned  4095", "        spanned  4095x"));
    const r = wsim(["replay", file("zi2.csv", "time_ms,op,key\n0,read,zoneinfo\n"), "--machine", bad]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(new RegExp(`^${bad}:51: `));
  });
});
