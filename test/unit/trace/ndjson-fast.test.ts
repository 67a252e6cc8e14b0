/**
 * The NDJSON byte fast path (RowBuilder.fastJson, issue 20) against the general path
 * (JSON.parse, then addRow): the same events, every column, and the same first error, on
 * made-up traces, whatever the chunk boundaries.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { DataError } from "../../../src/errors.js";
import { RowBuilder } from "../../../src/trace/fields.js";
import { readNdjson } from "../../../src/trace/json.js";
import { allColumns, chunksOf } from "../../helpers.js";

async function allOrError(text: string, size: number, fast: boolean): Promise<string[]> {
  try {
    return await allColumns(readNdjson(chunksOf(text, size), "t.ndjson", { fast }));
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    return [e.message];
  }
}

/** Counts the lines RowBuilder.fastJson takes and leaves from now on. */
function countFast(): { took: number; left: number } {
  const n = { took: 0, left: 0 };
  const orig = RowBuilder.prototype.fastJson;
  vi.spyOn(RowBuilder.prototype, "fastJson").mockImplementation(function (this: RowBuilder, ...a: Parameters<RowBuilder["fastJson"]>) {
    const r = orig.apply(this, a);
    if (r) n.took++;
    else n.left++;
    return r;
  });
  return n;
}

describe("NDJSON: the byte fast path (RowBuilder.fastJson) and the general path agree", () => {
  afterEach(() => vi.restoreAllMocks());

  it("takes the common line from its bytes, with every kind of value it knows", async () => {
    const text =
      '{"time_ms":0,"op":"mmap","pid":7,"addr":268435456,"len":8192,"kind":"file","thp":true,"cg":"/a/b","node":1,"cpu":3}\n' +
      '{ "time_ms" : 2 , "op": "alloc", "id": "k-1.x", "order": 10, "mt": "reclaimable", "gfp": "atomic" }\r\n' +
      '{"time_ms":2,"op":"set","key":"vm.swappiness","value":"N0=1"}\n' +
      '{"time_ms":3,"op":"fork","pid":7,"child":4294967295,"thp":0}\n' +
      '{"time_ms":3,"op":"fwrite","file":"d/f","off":4096,"len":1}\n' +
      '{"time_ms":4,"op":"madvise","pid":7,"addr":268435456,"len":4096,"advice":"cold","rw":"w"}\n' +
      // as wsim convert writes NDJSON: addresses as "0x..." strings; null for an absent key
      '{"time_ms":5,"op":"access","pid":"7","addr":"0x10000000","len":null,"rw":"r","cg":null}\n';
    const n = countFast();
    const fast = await allOrError(text, 1 << 20, true);
    expect(n).toEqual({ took: 7, left: 0 });
    expect(fast).toEqual(await allOrError(text, 1 << 20, false));
    // time|op|pid|addr|len|write|node|cpu|child|file|thp|cg|id|order|mt|gfp|advice|key|value|fname|off|line
    expect(fast[0]).toBe('0|1|7|268435456|8192|0|1|3|-1|1|1|"/a/b"|-|0|0|0|0|-|-|-|0|1');
    expect(fast[1]).toBe('2|4|-1|-1|4096|0|-1|-1|-1|0|0|-|"k-1.x"|10|2|4|0|-|-|-|0|2'); // gfp atomic: GFP_NAMES[4]
    expect(fast.length).toBe(7);
    expect(fast[6]).toBe("5|0|7|268435456|4096|0|-1|-1|-1|0|0|-|-|0|0|0|0|-|-|-|0|7");
  });

  it("gives the same events and errors as the general path on made-up traces, whatever the chunk boundaries", async () => {
    // a seeded generator (mulberry32) of NDJSON traces: random keys in random order, values
    // as numbers or strings, mostly valid lines, and in half of the files a few that the fast
    // path must leave (fractions, exponents, signs, leading zeros, null, escapes, non-ASCII,
    // numbers in strings, duplicate or unknown keys, nested values, a missing brace, trailing
    // text, blank lines, a machine line) or that are wrong
    let seed = 20261202;
    const rnd = () => {
      seed = (seed + 0x6d2b79f5) >>> 0;
      let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
    // values the fast path takes, valid values it leaves to the general path (ODD), and wrong
    // or odd ones (BAD); a line has at most one of the latter two, so that the rest of it is
    // one the fast path would take
    const GOOD: Record<string, string[]> = {
      pid: ["1", "7", "4294967295"], addr: ["4096", "8192", "0", "123456789012345"], len: ["4096", "8192"], rw: ['"r"', '"w"'], node: ["0", "1023"],
      kind: ['"anon"', '"file"'], thp: ["0", "1", "true", "false"], cg: ['"/"', '"/a/b"'], id: ['"k1"', '"k2"', '"x.y-z"'], order: ["0", "10"],
      mt: ['"movable"', '"reclaimable"'], key: ['"vm.swappiness"'], value: ['"60"', '"N0=1"'], gfp: ['"kernel"', '"atomic"'], advice: ['"cold"', '"collapse"'],
      cpu: ["0", "32767"], child: ["9"], file: ['"f1"', '"d/f2"'], off: ["0", "4096"],
    };
    const ODD: Record<string, string[]> = {
      pid: ['"12"', "7.0", "1e0"], addr: ['"0x1000"', '"8192"', "9007199254740991", "4503599627370496"], len: ["null", '"4096"'], rw: ["null"],
      thp: ['"1"'], id: ['"a b"', '"a,b"', '"\\u0041"', '"\u00e9"', "12"], value: ["60", '"a b"', '"\\u00e9"'], key: ['"vm.swap\\u0070iness"'],
      file: ['"a b"', '"\\/x"'], off: ["null", '"0"'], cg: ['"\\/a"'],
    };
    const BAD = ['""', '"x"', "-1", "1.5", "1e3", "1E3", "01", "00", "-0", '"0x"', "4294967296", "1024", "32768", "11", "2", '"rw"', '"shm"', "true",
      '"a\\"b"', "[1]", '{"a":1}', "99999999999999999", "1234567890123456", '"ACCESS"', "0.0", "0x10", "1 2", "tru", "falsey", "1.", "1-"];
    const REQ: Record<string, string[]> = {
      access: ["pid", "addr"], mmap: ["pid", "addr"], munmap: ["pid", "addr"], exit: ["pid"], alloc: ["id"], free: ["id"], set: ["key", "value"],
      madvise: ["pid", "addr", "advice"], fork: ["pid", "child"], fread: ["file"], ftruncate: ["file", "len"],
    };
    const names = Object.keys(GOOD);
    const sp = () => pick(["", "", "", " ", "\t"]);
    let events = 0;
    let errors = 0;
    const n = countFast();
    for (let f = 0; f < 150; f++) {
      const cols = [...new Set(["pid", "addr", ...names.sort(() => rnd() - 0.5).slice(0, Math.floor(rnd() * 12))])];
      const ops = Object.keys(REQ).filter((o) => REQ[o]!.every((c) => cols.includes(c)));
      const badRate = rnd() < 0.5 ? 0 : 0.04;
      const lines: string[] = [];
      if (rnd() < 0.1) lines.push('{"machine": "default"}');
      let t = 0;
      for (let r = 0; r < 40; r++) {
        const bad = rnd() < badRate;
        if (rnd() < 0.02) lines.push(pick(["", "  ", "", "  ", '{"machine": "default"}']));
        const keys = ["time_ms", "op", ...cols].sort(() => rnd() - 0.5);
        // the one key with an odd or bad value, if any
        const odd = rnd() < 0.1 || bad ? (rnd() < 0.8 ? pick(cols) : pick(keys)) : "";
        let pairs = keys.map((c) => {
          let v = c === "time_ms" ? String((t += Math.floor(rnd() * 3))) : c === "op" ? `"${ops.length ? pick(ops) : "read"}"` : pick(GOOD[c]!);
          if (c === odd) v = bad ? pick(BAD) : pick(ODD[c] ?? [v]);
          return `${sp()}"${c}"${sp()}:${sp()}${v}${sp()}`;
        });
        if (bad && rnd() < 0.2) pairs.push(`"${pick(["pfn", "time_ms", "Op", "op\\u0020"])}":1`);
        if (bad && rnd() < 0.2) pairs = pairs.slice(0, 1 + Math.floor(rnd() * pairs.length));
        let line = `${sp()}{${pairs.join(",")}}${sp()}`;
        if (bad && rnd() < 0.1) line = pick([line.slice(0, -1), line + "x", line + ",", "[" + line + "]", "\u00e9" + line, line.replace(/"op"/, '"o\\u0070"')]);
        lines.push(line);
      }
      const eol = rnd() < 0.2 ? "\r\n" : "\n";
      const text = lines.join(eol) + (rnd() < 0.9 ? eol : "");
      const want = await allOrError(text, 1 << 20, false);
      if (want.length === 1 && /^t\.ndjson:/.test(want[0]!)) errors++;
      else events += want.length;
      for (const size of [1, 5, 64, 1 << 20]) expect(await allOrError(text, size, true)).toEqual(want);
    }
    // the generator makes both kinds of file (figures for this seed)
    expect(events).toBeGreaterThan(1000);
    expect(errors).toBeGreaterThan(10);
    // and both paths are taken
    expect(n.took).toBeGreaterThan(10000);
    expect(n.left).toBeGreaterThan(500);
  });

  it("agrees on every odd or wrong value in a line that is otherwise one it takes", async () => {
    // one base line per column set, then each column's value replaced by each odd token
    const BASES = [
      '{"time_ms":5,"op":"mmap","pid":7,"addr":8192,"len":4096,"rw":"w","node":0,"kind":"anon","thp":1,"cg":"/a","cpu":1}',
      '{"time_ms":5,"op":"alloc","id":"k","order":3,"mt":"movable","gfp":"kernel"}',
      '{"time_ms":5,"op":"fwrite","file":"f","off":4096,"len":8192}',
      '{"time_ms":5,"op":"fork","pid":7,"child":8}',
      '{"time_ms":5,"op":"set","key":"vm.swappiness","value":"60"}',
      '{"time_ms":5,"op":"madvise","pid":7,"addr":8192,"len":4096,"advice":"cold"}',
    ];
    const TOKENS = ["01", "00", "0", "1", "2", "-0", "-1", "1.5", "1.", "1e3", "1E3", "1e+3", "0.0", "1 2", "1-", "9007199254740991", "123456789012345",
      "1234567890123456", "4294967295", "4294967296", "1023", "1024", "32767", "32768", "10", "11", "true", "false", "tru", "null", "nul", "[1]", '{"a":1}',
      '""', '"x"', '"w"', '"r"', '"rw"', '"1"', '"0x10"', '"a b"', '"a,b"', '"a\\"b"', '"\\u0041"', '"\u00e9"', '"movable"', '"/"', '"a/b"',
      '"access"', '"ACCESS"', '"accessx"', '"access1"', '"mmap_"', '"acces"', "x", '"x', "'x'",
      '"007"', '"0X1F"', '"0x"', '"0xg"', '"0x1fffffffffffff"', '"0x20000000000000"', '"0xffffffffffffffffff"', '"0x1ffffffffffff"', '"12 "', '" 12"', '"1.5"', '"-1"', '"4294967296"', '"99999999999999999"',
      '"123456789012345"', '"1234567890123456"', '"00"', "nulll", "nul", "Null"];
    let took = 0;
    const n = countFast();
    for (const base of BASES) {
      const keys = [...base.matchAll(/"([a-z_]+)":/g)].map((m) => m[1]!);
      for (const k of keys)
        for (const tok of TOKENS) {
          const line = base.replace(new RegExp(`"${k}":("[^"]*"|[0-9]+)`), `"${k}":${tok}`);
          const text = `{"time_ms":1,"op":"exit","pid":1}\n${line}\n`;
          const before = n.took;
          expect(await allOrError(text, 1 << 20, true), line).toEqual(await allOrError(text, 1 << 20, false));
          if (n.took - before === 2) took++;
        }
    }
    // the fast path took many of them itself (the others it left to the general path)
    expect(took).toBeGreaterThan(50);
  });

  it("refills the defaults after a line it leaves, and after each batch", async () => {
    // line 2 has a fraction in its time: fastJson leaves the line to the general path (which
    // must see the slot's defaults); line 3 has no len: 4096, not line 1's 8192. Then 5000 lines: allocs with an id up to line 4096 (the first batch's last
    // event), accesses without one after: the second batch's slots hold no id.
    let text = '{"time_ms":0,"op":"access","pid":1,"addr":4096,"len":8192}\n{"pid":2,"addr":8192,"len":null,"id":"k9","time_ms":1.0,"op":"access"}\n{"time_ms":2,"op":"access","pid":3,"addr":12288}\n';
    for (let r = 0; r < 5000; r++) text += r >= 4093 ? '{"time_ms":3,"op":"access","pid":1,"addr":4096}\n' : `{"time_ms":3,"op":"alloc","id":"k${r}"}\n`;
    const ev = await allOrError(text, 1 << 20, true);
    expect(ev.length).toBe(5003);
    expect(ev[1]).toBe('1|0|2|8192|4096|0|-1|-1|-1|0|0|-|"k9"|0|0|0|0|-|-|-|0|2');
    expect(ev[2]).toBe("2|0|3|12288|4096|0|-1|-1|-1|0|0|-|-|0|0|0|0|-|-|-|0|3");
    expect(ev[4099]).toBe("3|0|1|4096|4096|0|-1|-1|-1|0|0|-|-|0|0|0|0|-|-|-|0|4100");
    expect(ev).toEqual(await allOrError(text, 1 << 20, false));
  });
});
