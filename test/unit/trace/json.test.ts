import { describe, expect, it } from "vitest";
import { readJsonDocument, readNdjson } from "../../../src/trace/json.js";
import { replay } from "../../../src/replay.js";
import { chunksOf, collect, stdinOf } from "../../helpers.js";
import { readCsv } from "../../../src/trace/csv.js";

describe("NDJSON", () => {
  it("validates values exactly as CSV does", async () => {
    const nd = '{"time_ms":0,"op":"mmap","pid":1,"addr":"0x10000","len":65536,"kind":"file","thp":true,"cg":"/a"}\n\n' +
      '{"time_ms":1.5,"op":"access","pid":1,"addr":65536,"rw":"w","node":0}\n';
    const csv = "time_ms,op,pid,addr,len,kind,thp,cg,rw,node\n0,mmap,1,0x10000,65536,file,1,/a,,\n\n1.5,access,1,65536,,,,,w,0\n";
    const a = await collect(readNdjson(chunksOf(nd, 5), "t.ndjson"));
    const b = await collect(readCsv(chunksOf(csv), "t.csv"));
    expect(a.map((e) => ({ ...e, line: 0 }))).toEqual(b.map((e) => ({ ...e, line: 0 })));
    expect(a.map((e) => e.line)).toEqual([1, 3]);
  });

  const bad: [string, string, RegExp][] = [
    ["a broken line", '{"time_ms":0,"op":"exit","pid":1}\n{"time_ms":1,"op":\n', /t\.ndjson:2: invalid JSON/],
    ["an unknown key", '{"time_ms":0,"op":"exit","pid":1,"pfn":3}\n', /t\.ndjson:1: unknown column "pfn"/],
    ["an object value", '{"time_ms":0,"op":"exit","pid":{"a":1}}\n', /t\.ndjson:1: pid: expected a string or a number/],
    ["a non-object", "[1,2]\n", /t\.ndjson:1: an event must be a JSON object/],
    ["order 11", '{"time_ms":0,"op":"alloc","id":"a","order":11}\n', /t\.ndjson:1: order: expected an integer 0\.\.10/],
    ["time going back", '{"time_ms":2,"op":"exit","pid":1}\n{"time_ms":1,"op":"exit","pid":1}\n', /t\.ndjson:2: time_ms goes back/],
    // JSON.parse keeps the last of two equal keys; a CSV header naming a column twice is an error
    ["a key twice", '{"time_ms":0,"op":"exit","pid":1}\n{"time_ms":0,"op":"mmap","pid":1,"addr":4096,"pid":2}\n', /t\.ndjson:2: key "pid" appears twice$/],
    ["time_ms twice", '{"time_ms":0,"time_ms":5,"op":"exit","pid":1}\n', /t\.ndjson:1: key "time_ms" appears twice$/],
    ["a CR-only file", '{"time_ms":0,"op":"exit","pid":1}\r{"time_ms":1,"op":"exit","pid":1}\r', /t\.ndjson:1: bare CR: lines must end with/],
    ["a key twice in the machine line's machine", '{"machine":{"nodes":[{"id":0,"mem":"64M","mem":"32M"}]}}\n', /t\.ndjson:1: key "mem" appears twice \(in \/machine\/nodes\/0\)$/],
    ["a tunables line", '{"tunables":{"vm.swappiness":10}}\n', /t\.ndjson:1: a \{"machine": \.\.\.\} line has the one key "machine" \(tunables: `set` events at time 0/],
    ["a time going back below 1e-6 ms, said in plain decimals", '{"time_ms":0.000001,"op":"exit","pid":1}\n{"time_ms":1e-7,"op":"exit","pid":1}\n', /t\.ndjson:2: time_ms goes back from 0\.000001 \(line 1\) to 0\.0000001$/],
    ["tunables on the machine line", '{"machine":"default","tunables":{"vm.swappiness":10}}\n', /t\.ndjson:1: a \{"machine": \.\.\.\} line has the one key "machine"/],
  ];
  for (const [name, text, msg] of bad)
    it(`rejects ${name}`, async () => {
      await expect(collect(readNdjson(chunksOf(text), "t.ndjson"))).rejects.toThrow(msg);
    });
});

describe("JSON documents", () => {
  const doc = (events: string, extra = "") => `{\n  ${extra}"events": [\n${events}\n  ]\n}\n`;

  it("gives each event the line it starts on", async () => {
    const text = doc('    {"time_ms": 0, "op": "exit", "pid": 1},\n    {"time_ms": 1,\n     "op": "bogus"}');
    const d = await readJsonDocument(chunksOf(text), "t.json");
    await expect(collect(d.batches())).rejects.toThrow(/t\.json:4: unknown op "bogus"/);
  });

  it("carries its own machine and tunables; errors name their line", async () => {
    const good = doc('    {"time_ms": 0, "op": "read", "key": "vm.swappiness"}',
      '"machine": {"nodes": [{"id": 0, "mem": "64M"}]},\n  "tunables": {"vm.swappiness": 100},\n  ');
    const r = await replay({ trace: "-", stdin: stdinOf(good), format: "json" });
    expect(r.machine.nodes[0]!.mem).toBe(16384);
    expect(r.reads[0]!.value).toBe("100\n");
    expect(r.tunables["vm.swappiness"]).toBe(100);

    const badTunable = doc("", '"tunables": {\n    "vm.swappiness": 100,\n    "vm.swapiness": 1\n  },\n  ');
    await expect(replay({ trace: "-", stdin: stdinOf(badTunable), format: "json" })).rejects.toThrow(
      /^-:4: unknown tunable "vm\.swapiness"/,
    );
    const badValue = doc("", '"tunables": {\n    "vm.swappiness": 300\n  },\n  ');
    await expect(replay({ trace: "-", stdin: stdinOf(badValue), format: "json" })).rejects.toThrow(
      /^-:3: vm\.swappiness: expected an integer 0\.\.200, got "300"/,
    );
    const badMachine = doc("", '"machine": {"nodes": [\n    {"id": 0, "mem": "4X"}\n  ]},\n  ');
    await expect(replay({ trace: "-", stdin: stdinOf(badMachine), format: "json" })).rejects.toThrow(
      /^-:3: node 0 mem: expected a size/,
    );
  });

  it("rejects a key given twice, at the line of the second, whatever the depth up to an event's keys", async () => {
    const d1 = await readJsonDocument(chunksOf(doc('    {"time_ms": 0, "op": "exit", "pid": 1},\n    {"time_ms": 1, "op": "exit",\n     "pid": 1, "pid": 2}')), "t.json").catch((e: Error) => e);
    expect(String(d1)).toMatch(/t\.json:5: key "pid" appears twice \(in \/events\/1\)$/);
    const d2 = await readJsonDocument(chunksOf('{"tunables": {"vm.swappiness": 10,\n "vm.swappiness": 20}, "events": []}\n'), "t.json").catch((e: Error) => e);
    expect(String(d2)).toMatch(/t\.json:2: key "vm\.swappiness" appears twice \(in \/tunables\)$/);
    const d3 = await readJsonDocument(chunksOf('{"events": [],\n"events": []}\n'), "t.json").catch((e: Error) => e);
    expect(String(d3)).toMatch(/t\.json:2: key "events" appears twice \(in the document\)$/);
  });

  it("rejects broken JSON with the line of the fault and unknown top-level keys", async () => {
    await expect(readJsonDocument(chunksOf('{\n  "events": [\n    {"time_ms": 0,}\n  ]\n}'), "t.json")).rejects.toThrow(
      /t\.json:3: invalid JSON/,
    );
    await expect(readJsonDocument(chunksOf('{\n  "evnts": []\n}'), "t.json")).rejects.toThrow(/t\.json:2: unknown key "evnts"/);
  });
});
