/**
 * Issue 12, items 16 and 19: deep nesting is bad data (exit 3) at any depth, never a stack
 * overflow; messages quote input bounded and with control characters escaped, from every
 * reader; a BOM is accepted everywhere; an empty trace is a trace with no events in every
 * format.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { dataErrorOf as dataError } from "../../helpers.js";
import { describe, expect, it } from "vitest";
import { MAX_MESSAGE, MAX_QUOTE, quoteInput } from "../../../src/errors.js";
import { loadMachine } from "../../../src/machine/machine.js";
import { replay } from "../../../src/replay.js";
import { locateJson } from "../../../src/trace/json-locate.js";

const dir = mkdtempSync(join(tmpdir(), "wsim-limits-"));
const file = (name: string, text: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};


const arr = (n: number) => "[".repeat(n) + "]".repeat(n);
const obj = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);

describe("issue 12 item 16: deep nesting is bad data, exit 3, at any depth", () => {
  for (const depth of [5000, 6500, 100000]) {
    it(`${depth} levels`, async () => {
      // NDJSON: a value where a string or number belongs
      const nd = file(`d${depth}.ndjson`, `{"time_ms":0,"op":"alloc","id":${arr(depth)}}\n`);
      expect(await dataError(replay({ trace: nd }))).toBe(`${nd}:1: id: expected a string or a number, got an array`);
      // a JSON document: deep inside an event, in an unknown key, in tunables, in the machine
      const d1 = file(`d${depth}a.json`, `{"events": [\n{"time_ms":0,"op":"exit","pid":1,"x":${obj(depth)}}]}`);
      expect(await dataError(replay({ trace: d1 }))).toMatch(new RegExp(`^${d1}:2: unknown column "x"`));
      const d2 = file(`d${depth}b.json`, `{"tunables": {"vm.swappiness": ${arr(depth)}},\n"events": []}`);
      expect(await dataError(replay({ trace: d2 }))).toBe(`${d2}:1: vm.swappiness: expected a string or a number`);
      const d3 = file(`d${depth}c.json`, `{"machine": {"nodes": [{"id": 0,\n"mem": ${arr(depth)}}]}, "events": []}`);
      expect(await dataError(replay({ trace: d3 }))).toBe(`${d3}:2: node 0 mem: expected a size like "4G" or a page count, got an array`);
      const d4 = file(`d${depth}d.json`, `{"events": [{"time_ms":0,"op":"exit","pid":1,"cg":${obj(depth)}}]}`);
      expect(await dataError(replay({ trace: d4 }))).toBe(`${d4}:1: cg: expected a string or a number, got an object`);
      // machine files: every field that could hold it
      const m = (k: string, body: string) => file(`m${depth}${k}.json`, body);
      const cases: [string, string][] = [
        [`{"nodes": [{"id": 0, "mem": "4G",\n"tier": ${obj(depth)}}]}`, ":2: node 0 tier must be an integer 0..7, got an object"],
        [`{"nodes": [{"id": 0,\n"mem": ${arr(depth)}}]}`, ':2: node 0 mem: expected a size like "4G" or a page count, got an array'],
        [`{"nodes": [{"id": ${arr(depth)}, "mem": "4G"}]}`, ":1: node ids must be 0, 1, 2, ... in order: expected 0, got an array"],
        [`{"nodes": [{"id": 0, "mem": "4G"}],\n"name": ${arr(depth)}}`, ":2: machine name must be a string, got an array"],
        [`{"preset": ${arr(depth)}}`, ":1: unknown preset an array (known: default, tiered, numa2, vm)"],
        [`{"nodes": [{"id": 0, "mem": "4G"}], "tunables":\n{"vm.swappiness": ${arr(depth)}}}`, ':2: machine tunable "vm.swappiness": expected a string or a number, got an array'],
        [`{"nodes": ${obj(depth)}}`, ':1: machine needs a non-empty "nodes" array'],
        [`{"nodes": [${arr(depth)}]}`, ':1: a node must be an object like {"id":0,"mem":"4G","tier":0,"cpus":true}'],
        [`{"zz": ${obj(depth)}}`, ':1: unknown machine key "zz" (known: name, preset, nodes, tunables, zones, kernelcore, movablecore, swap)'],
      ];
      for (const [k, [body, want]] of cases.entries()) {
        const p = m(String(k), body);
        expect(await dataError(() => loadMachine(p)), body.slice(0, 40)).toBe(p + want);
      }
    });
  }

  it("locateJson keeps the lines of shallow values past a deep one", () => {
    const text = `{"a": ${arr(50000)},\n"b": {"c":\n1}}`;
    const w = locateJson(text, 2);
    expect(w.get("/b")).toBe(2);
    expect(w.get("/b/c")).toBe(3); // where the value starts
  });
});

describe("issue 12 item 19: quoted input is bounded and escaped", () => {
  it("quoteInput cuts at MAX_QUOTE characters and escapes control characters", () => {
    expect(quoteInput("a\x1b[2Jb")).toBe('"a\\u001b[2Jb"');
    expect(quoteInput("x\ny\tz\r\x7f\x9b")).toBe('"x\\ny\\tz\\r\\u007f\\u009b"');
    expect(quoteInput("y".repeat(MAX_QUOTE + 1))).toBe(`"${"y".repeat(MAX_QUOTE)}…"`);
    expect(quoteInput('say "hi"\\')).toBe('"say \\"hi\\"\\\\"');
  });

  // every reader and every message that quotes input
  const HUGE = "h".repeat(10 * 1024 * 1024);
  const ESC = "\x1b[2J";
  const cases: [string, string, RegExp][] = [
    ["csv header", `time_ms,op,${HUGE}\n`, /:1: unknown column "h{60}…" \(known/],
    ["csv header escape", `time_ms,op,${ESC}\n`, /:1: unknown column "\\u001b\[2J"/],
    ["csv duplicate column", `time_ms,op,op\n`, /:1: column "op" appears twice/],
    ["csv op", `time_ms,op\n0,${HUGE}\n`, /:2: unknown op "h{60}…"/],
    ["csv op escape", `time_ms,op\n0,x${ESC}\n`, /:2: unknown op "x\\u001b\[2J"/],
    ["csv field", `time_ms,op,pid\n0,exit,1${ESC}\n`, /:2: pid: expected an integer 0\.\.4294967295, got "1\\u001b\[2J"/],
    ["csv set value", `time_ms,op,key,value\n0,set,vm.swappiness,${ESC}\n`, /:2: vm\.swappiness: expected/],
    ["ndjson key", `{"time_ms":0,"op":"exit","${HUGE}":1}\n`, /:1: unknown column "h{60}…"/],
    ["ndjson key escape", `{"time_ms":0,"op":"exit","\\u001b[2J":1}\n`, /:1: unknown column "\\u001b\[2J"/],
    ["ndjson value", `{"time_ms":0,"op":"x\\u001b[2J"}\n`, /:1: unknown op "x\\u001b\[2J"/],
    ["ndjson invalid JSON", `{"time_ms":0,"op":"${HUGE}\n`, /:1: invalid JSON/],
  ];
  for (const [name, text, want] of cases) {
    it(name, async () => {
      const ext = name.startsWith("csv") ? "csv" : "ndjson";
      const p = file(`q-${name.replace(/\W+/g, "-")}.${ext}`, text);
      const msg = await dataError(replay({ trace: p }));
      expect(msg).toMatch(want);
      expect(msg.length).toBeLessThanOrEqual(MAX_MESSAGE + 1);
      expect(msg).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    });
  }

  it("JSON documents and machine files: keys quoted bounded and escaped", async () => {
    const JESC = "\\u001b[2J"; // ESC [2J written as a JSON escape
    const d = file("q.json", `{"${JESC}${HUGE}": 1, "events": []}`);
    const m1 = await dataError(replay({ trace: d }));
    expect(m1).toMatch(/:1: unknown key "\\u001b\[2Jh{56}…"/);
    expect(m1.length).toBeLessThan(MAX_MESSAGE);
    const m = file("q.machine.json", `{"nodes": [{"id": 0, "mem": "4G", "${JESC}${HUGE}": 1}]}`);
    const m2 = await dataError(() => loadMachine(m));
    expect(m2).toMatch(/:1: unknown node key "\\u001b\[2Jh{56}…"/);
    expect(m2).not.toMatch(/[\x00-\x1f]/);
    const m3 = await dataError(() => loadMachine(file("q2.machine.json", `{"nodes": [{"id": 0, "mem": "${JESC}${HUGE}"}]}`)));
    expect(m3.length).toBeLessThanOrEqual(MAX_MESSAGE + 1);
    expect(m3).not.toMatch(/[\x00-\x1f]/);
  });
});

describe("issue 12 item 19: a BOM is accepted everywhere", () => {
  const BOM = "\uFEFF";
  it("CSV, NDJSON, JSON documents and machine files", async () => {
    const ev = '{"time_ms":0,"op":"alloc","id":"a","order":2}';
    for (const [name, text] of [
      ["b.csv", `${BOM}time_ms,op,id,order\n0,alloc,a,2\n`],
      ["b.ndjson", `${BOM}${ev}\n`],
      ["b.json", `${BOM}{"events": [${ev}]}`],
    ]) {
      const r = await replay({ trace: file(name!, text!) });
      expect(r.vmstat.pgalloc_normal, name).toBe(4); // one order-2 allocation: 4 pages
    }
    const m = loadMachine(file("b.machine.json", `${BOM}{"name": "bom", "nodes": [{"id": 0, "mem": "64M"}]}`));
    expect(m.nodes[0]!.mem).toBe(16384); // 64 MiB of 4 KiB pages
    // diff and --expect read runs' counters: wsim JSON output and vmstat text
    const { loadCounters } = await import("../../../src/cli/commands/diff.js");
    expect((await loadCounters(file("b.run.json", `${BOM}{"schema": 1, "vmstat": {"pgfault": 7}}`), {})).pgfault).toBe(7);
    expect((await loadCounters(file("b.vmstat", `${BOM}pgfault 7\npgfree 9\n`), {})).pgfree).toBe(9);
  });
});

describe("issue 12 item 19: an empty trace is a trace with no events, in every format", () => {
  const EMPTY: [string, string][] = [
    ["e.csv", ""],
    ["e2.csv", "# only a comment\n\n"],
    ["e3.csv", "time_ms,op\n"],
    ["e.ndjson", ""],
    ["e2.ndjson", "\n  \n"],
    ["e.json", ""],
    ["e2.json", " \n"],
    ["e3.json", '{"events": []}'],
  ];
  for (const [name, text] of EMPTY) {
    it(`${name} ${JSON.stringify(text)}: replays an idle machine`, async () => {
      const r = await replay({ trace: file(name, text) });
      expect(r.trace.events).toBe(0);
      expect(r.vmstat.pgfault).toBe(0);
      expect(r.vmstat.pgalloc_normal).toBe(0);
    });
  }
  it("standard input with nothing on it, in each format", async () => {
    for (const format of ["csv", "ndjson", "json"] as const) {
      const r = await replay({ trace: "-", format, stdin: Readable.from([]) });
      expect(r.trace.events, format).toBe(0);
    }
  });
});
