/**
 * Issue 12, item 22: a CSV or NDJSON trace names the machine it was made for (`# wsim:
 * machine=NAME` before a CSV header, a first line `{"machine": ...}` in NDJSON), `--machine`
 * overrides it, the bundled traces replay without flags, and a trace that needs a node the
 * machine lacks says which machine was used and how to give another.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { dataErrorOf as dataError } from "../../helpers.js";
import { describe, expect, it } from "vitest";
import { replay } from "../../../src/replay.js";
import { renderVmstat } from "../../../src/report/vmstat.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "wsim-machine-"));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
writeFileSync(join(dir, "two.machine.json"), JSON.stringify({ name: "two", nodes: [{ id: 0, mem: "16M" }, { id: 1, mem: "32M", tier: 1, cpus: false }] }));


// an allocation on node 1: needs a machine with two nodes
const CSV_BODY = "time_ms,op,id,node\n0,alloc,a,1\n";
const ND_BODY = '{"time_ms":0,"op":"alloc","id":"a","node":1}\n';

describe("issue 12 item 22: a trace names its machine", () => {
  it("CSV: # wsim: machine=PRESET before the header", async () => {
    const r = await replay({ trace: file("p.csv", `# a trace\n# wsim: machine=tiered\n${CSV_BODY}`) });
    expect(r.machine.name).toBe("tiered");
    expect(r.machine.nodes.map((n) => n.mem)).toEqual([1048576, 2097152]); // 4 GiB and 8 GiB in pages
    expect(r.nodes[1]!.zones[0]!.buddyinfo.reduce((s, n, o) => s + n * 2 ** o, 0)).toBe(2097152 - 63); // one page allocated on node 1, after a pcp refill of batch (63) pages from its buddy
  });

  it("CSV: a machine file, relative to the trace's directory", async () => {
    const r = await replay({ trace: file("f.csv", `#wsim: machine = two.machine.json\n${CSV_BODY}`) });
    expect(r.machine.name).toBe("two");
    expect(r.machine.nodes.map((n) => n.mem)).toEqual([4096, 8192]); // 16 MiB and 32 MiB
  });

  it("NDJSON: a first line {\"machine\": NAME} or {\"machine\": {...}}", async () => {
    const a = await replay({ trace: file("p.ndjson", `{"machine": "numa2"}\n${ND_BODY}`) });
    expect(a.machine.name).toBe("numa2");
    expect(a.trace.events).toBe(1);
    const b = await replay({ trace: file("f.ndjson", `\n{"machine": "two.machine.json"}\n${ND_BODY}`) });
    expect(b.machine.name).toBe("two");
    const c = await replay({ trace: file("o.ndjson", `{"machine": {"name": "inline", "nodes": [{"mem": "8M"}, {"mem": "8M"}]}}\n${ND_BODY}`) });
    expect(c.machine.name).toBe("inline");
    expect(c.machine.nodes.map((n) => n.mem)).toEqual([2048, 2048]);
  });

  it("a JSON document's machine may be a name too", async () => {
    const r = await replay({ trace: file("d.json", `{"machine": "two.machine.json", "events": [${ND_BODY.trim()}]}`) });
    expect(r.machine.name).toBe("two");
  });

  it("standard input: presets, and paths relative to the working directory", async () => {
    const r = await replay({ trace: "-", stdin: Readable.from([`# wsim: machine=numa2\n${CSV_BODY}`]) });
    expect(r.machine.name).toBe("numa2");
  });

  it("--machine overrides the trace's", async () => {
    const r = await replay({ trace: file("o.csv", `# wsim: machine=tiered\n${CSV_BODY}`), machine: "numa2" });
    expect(r.machine.name).toBe("numa2");
  });

  it("a directive after the header is only a comment; a machine line later in NDJSON is an error", async () => {
    const after = file("after.csv", `time_ms,op,id\n# wsim: machine=tiered\n0,alloc,a\n`);
    expect((await replay({ trace: after })).machine.name).toBe("default");
    const late = file("late.ndjson", `${ND_BODY}{"machine": "tiered"}\n`);
    expect(await dataError(replay({ trace: late, machine: "numa2" }))).toBe(`${late}:2: a {"machine": ...} line must be the first line of the trace`);
  });

  it("an unknown name or a missing file is bad data at the trace's line (exit 3)", async () => {
    const u = file("u.csv", `\n# wsim: machine=tierd\n${CSV_BODY}`);
    expect(await dataError(replay({ trace: u }))).toMatch(new RegExp(`^${u}:2: unknown machine "tierd": use one of default, tiered, numa2, vm, or a JSON file`));
    const m = file("m.ndjson", `{"machine": "nope.machine.json"}\n${ND_BODY}`);
    expect(await dataError(replay({ trace: m }))).toBe(`${m}:1: machine "nope.machine.json" ("${join(dir, "nope.machine.json")}"): cannot read machine file: no such file or directory (ENOENT)`);
  });

  it("a node the machine lacks: the error names the machine used and how to pass one", async () => {
    const d = file("need.csv", CSV_BODY);
    const msg = await dataError(replay({ trace: d }));
    expect(msg).toMatch(new RegExp(`^${d}:2: node 1 does not exist \\(machine "default": nodes 0\\.\\.0, CPUs on 0\\); replay on another with --machine`));
    expect(msg).toMatch(/# wsim: machine=NAME/);
    const n = file("need3.csv", "# wsim: machine=numa2\ntime_ms,op,id,node\n0,alloc,a,2\n");
    expect(await dataError(replay({ trace: n }))).toMatch(/:3: node 2 does not exist \(machine "numa2", named by the trace: nodes 0\.\.1, CPUs on 0, 1\)/);
    const c = file("cpu.csv", "# wsim: machine=tiered\ntime_ms,op,pid,addr,node\n0,access,1,0,1\n");
    expect(await dataError(replay({ trace: c }))).toMatch(/:3: node 1 has no CPUs, so no access can come from it \(machine "tiered", named by the trace: nodes 0\.\.1, CPUs on 0\)/);
  });
});

describe("issue 12 item 22: the bundled traces replay without flags", () => {
  // the machine each needed on the command line before; their pinned output is unchanged
  const NEEDED: [string, string, string[]][] = [
    ["vm-balloon.csv", "vm", []],
    ["numa-spill.ndjson", "numa2-small", []],
    ["fragmentation.csv.gz", "small128", []],
    ["compact-holes.csv.gz", "small128", []],
    ["movable-compact.csv.gz", "movable96", []],
    ["thp-defrag.csv.gz", "small128", ["transparent_hugepage.defrag=always"]],
    ["tiered-hotset.csv.gz", "tiered", ["kpromoted.enabled=1", "hotness.hw_sample_period=8"]],
  ];
  for (const [t, name, set] of NEEDED) {
    it(`${t}: machine ${name}`, async () => {
      const r = await replay({ trace: join(ROOT, "traces", t), set });
      expect(r.machine.name).toBe(name);
      expect(renderVmstat(r)).toBe(readFileSync(join(ROOT, "test/golden/__expected__", `${t}.vmstat.txt`), "utf8"));
    });
  }
});
