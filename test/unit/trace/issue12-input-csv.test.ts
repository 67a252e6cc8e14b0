/**
 * Issue 12, item 14: the two CSV parsers (the fast byte scanner and csv-parse) accept and
 * reject the same inputs, with the same `file:line` error, whatever the chunk boundaries.
 * Each case says by hand what it must give: the events' times, or the error.
 */
import { describe, expect, it } from "vitest";
import { DataError } from "../../../src/errors.js";
import { readCsv } from "../../../src/trace/csv.js";
import { chunksOf, collect } from "../../helpers.js";

type Outcome = { times: number[] } | { error: RegExp };

async function run(text: string | Buffer, engine: "fast" | "csv-parse", chunk: number) {
  const chunks = async function* () {
    const buf = typeof text === "string" ? Buffer.from(text) : text;
    for (let i = 0; i < buf.length; i += chunk) yield buf.subarray(i, i + chunk);
  };
  try {
    return { events: await collect(readCsv(chunks(), "t.csv", { engine })) };
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    return { error: e.message };
  }
}

const H = "time_ms,op,pid,addr\n";

/** [name, input, what both parsers must give] */
const CASES: [string, string, Outcome][] = [
  // the two cases
  ["a bare CR after a quoted field", H + '0,access,"1",0x1000\r5,access,1,0x2000\n', { error: /^t\.csv:2: bare CR/ }],
  ["CR-only line endings", "time_ms,op,pid,addr\r0,access,1,0x1000\r5,access,1,0x2000\r", { error: /^t\.csv:1: bare CR/ }],
  ["a bare CR inside a plain field", H + "0,access,1,0x10\r00\n", { error: /^t\.csv:2: bare CR/ }],
  ["a bare CR in a comment", "# a\rb\n" + H + "0,access,1,0\n", { error: /^t\.csv:1: bare CR/ }],
  ["a bare CR after a good line", H + "0,access,1,0\n1,access,1,0\r2,access,1,0\n", { error: /^t\.csv:3: bare CR/ }],
  ["an error before a bare CR comes first", H + "0,acess,1,0\n1,access,1,0\r\n2,a\r\n", { error: /^t\.csv:2: unknown op "acess"/ }],
  // line endings and BOM
  ["LF", H + "0,access,1,0\n1,access,1,0\n", { times: [0, 1] }],
  ["CRLF", "time_ms,op,pid,addr\r\n0,access,1,0\r\n1,access,1,0\r\n", { times: [0, 1] }],
  ["CRLF with quotes", 'time_ms,op,pid,addr\r\n"0",access,"1",0\r\n1,"access",1,0\r\n', { times: [0, 1] }],
  ["mixed LF and CRLF", H + "0,access,1,0\r\n1,access,1,0\n", { times: [0, 1] }],
  ["a CR at the very end of the file", H + "0,access,1,0\r", { times: [0] }],
  ["no final newline", H + "0,access,1,0", { times: [0] }],
  ["a BOM", "\uFEFF" + H + "0,access,1,0\n", { times: [0] }],
  ["a BOM and CRLF", "\uFEFFtime_ms,op,pid,addr\r\n0,access,1,0\r\n", { times: [0] }],
  ["a BOM on a later line is data", H + "\uFEFF0,access,1,0\n", { error: /^t\.csv:2: time_ms: expected/ }],
  // quoting
  ["quoted plain fields", H + '"0","access","1","0x1000"\n', { times: [0] }],
  ["a quoted comma", 'time_ms,op,key,value\n0,set,memory.workingset.page_age_intervals,"N0=1000,5000"\n', { times: [0] }],
  ["a doubled quote inside quotes", 'time_ms,op,id\n0,alloc,"a""b"\n', { times: [0] }],
  ["an embedded newline in quotes", 'time_ms,op,id\n0,alloc,"a\nb"\n', { error: /^t\.csv:2: unterminated quoted field/ }],
  ["an embedded CRLF in quotes", 'time_ms,op,id\n0,alloc,"a\r\nb"\n', { error: /^t\.csv:2: unterminated quoted field/ }],
  ["an unterminated quote", 'time_ms,op,id\n0,alloc,"ab\n', { error: /^t\.csv:2: unterminated quoted field/ }],
  ["an unterminated quote on the last line", 'time_ms,op,id\n0,alloc,"ab', { error: /^t\.csv:2: unterminated quoted field/ }],
  ["an unterminated quote on a later line", 'time_ms,op,id\n0,alloc,a\n1,alloc,"b\n', { error: /^t\.csv:3: unterminated quoted field/ }],
  ["text after a closing quote", 'time_ms,op,id\n0,alloc,"a"b\n', { error: /^t\.csv:2: broken quote/ }],
  ["a quote inside a plain field", 'time_ms,op,id\n0,alloc,a"b"\n', { error: /^t\.csv:2: broken quote/ }],
  ["spaces around a quoted field", 'time_ms,op,id\n0,alloc, "a" \n', { times: [0] }],
  ["a quoted empty line", H + '""\n', { error: /^t\.csv:2: missing time_ms/ }],
  ["a quoted header", '"time_ms","op","pid","addr"\n0,access,1,0\n', { times: [0] }],
  ["a quote in a comment", "# it's \"quoted\n" + H + "0,access,1,0\n", { times: [0] }],
  // commas and field counts
  ["a trailing comma within the header's width", "time_ms,op,pid,addr,len\n0,access,1,0,\n", { times: [0] }],
  ["a trailing comma past the header", H + "0,access,1,0,\n", { error: /^t\.csv:2: expected at most 4 fields/ }],
  ["missing trailing fields", "time_ms,op,pid,addr,len\n0,exit,1\n", { times: [0] }],
  ["missing required fields", H + "0,access,1\n", { error: /^t\.csv:2: access needs addr/ }],
  ["extra fields", H + "0,access,1,0,9\n", { error: /^t\.csv:2: expected at most 4 fields/ }],
  ["extra fields in a quoted line", H + '0,access,1,0,"9"\n', { error: /^t\.csv:2: expected at most 4 fields/ }],
  ["only commas", H + ",,,\n", { error: /^t\.csv:2: missing time_ms/ }],
  ["a header with an empty column", "time_ms,op,,pid\n", { error: /^t\.csv:1: unknown column ""/ }],
  // blank lines, comments, whitespace
  ["empty lines", "\n\n" + H + "\n0,access,1,0\n\n\n1,access,1,0\n", { times: [0, 1] }],
  ["whitespace-only lines", " \t \n" + H + "   \n0,access,1,0\n\t\n", { times: [0] }],
  ["form feed and vertical tab lines", H + "\f\n\v\n0,access,1,0\n", { times: [0] }],
  ["comments", "# a trace\n" + H + "# more\n0,access,1,0\n#,,,\n", { times: [0] }],
  ["an indented comment", H + "   # note\n\t# note\n0,access,1,0\n", { times: [0] }],
  ["a # later in a line is data", H + "0,access,1,0#x\n", { error: /^t\.csv:2: addr: expected/ }],
  ["spaces and tabs around fields", "time_ms , op\t, pid , addr\n 0 ,\taccess , 1 , 0x10 \n", { times: [0] }],
  ["a form feed before a field", H + "\f0,access,1,0\n", { times: [0] }],
  ["a vertical tab before a field", H + "\v0,access,1,0\n", { error: /^t\.csv:2: time_ms: expected/ }],
  ["a vertical tab after a field", H + "0\v,access,1,0\n", { times: [0] }],
  ["a no-break space after a field", H + "0,access,1,0\u00a0\n", { times: [0] }],
  ["a no-break space inside an id", "time_ms,op,id\n0,alloc,a\u00a0b\n", { times: [0] }],
  ["an accented id", "time_ms,op,id\n0,alloc,caf\u00e9\n1,free,caf\u00e9\n", { times: [0, 1] }],
  // headers
  ["no header at all (empty file): no events", "", { times: [] }],
  ["only comments and blank lines: no events", "# nothing\n\n", { times: [] }],
  ["a header only: no events", H, { times: [] }],
  ["an unknown column", "time_ms,op,pfn\n", { error: /^t\.csv:1: unknown column "pfn"/ }],
  ["a duplicate column", "time_ms,op,op\n", { error: /^t\.csv:1: column "op" appears twice/ }],
  ["no op column", "time_ms,pid\n", { error: /^t\.csv:1: the header must name at least time_ms and op/ }],
  // the CSV cases of the CLI's bad-input suite (test/e2e/cli.test.ts)
  ["e2e: unknown op", "time_ms,op\n0,frob\n", { error: /^t\.csv:2: unknown op "frob"/ }],
  ["e2e: unknown column", "time_ms,op,pfn\n", { error: /^t\.csv:1: unknown column "pfn"/ }],
  ["e2e: time going back", "time_ms,op,pid\n2,exit,1\n1,exit,1\n", { error: /^t\.csv:3: time_ms goes back/ }],
  ["e2e: bad number", "time_ms,op,pid,addr\n0,access,1,12x\n", { error: /^t\.csv:2: addr: expected/ }],
  ["e2e: order 11", "time_ms,op,id,order\n0,alloc,a,11\n", { error: /^t\.csv:2: order: expected an integer 0\.\.10/ }],
  ["e2e: unknown migratetype", "time_ms,op,id,mt\n0,alloc,a,cma\n", { error: /^t\.csv:2: mt: expected unmovable/ }],
  ["e2e: broken quote", 'time_ms,op,key,value\n0,set,vm.swappiness,"6\n', { error: /^t\.csv:2: unterminated quoted field/ }],
];

describe("issue 12 item 14: both CSV parsers give the same result", () => {
  for (const [name, text, want] of CASES) {
    it(name, async () => {
      for (const engine of ["fast", "csv-parse"] as const) {
        for (const chunk of [1, 5, 1 << 20]) {
          const r = await run(text, engine, chunk);
          const where = `${engine}, chunks of ${chunk}`;
          if ("error" in want) {
            expect(r.error, where).toMatch(want.error);
          } else {
            expect(r.error, where).toBeUndefined();
            expect(r.events!.map((e) => e.time), where).toEqual(want.times);
          }
        }
      }
      const fast = await run(text, "fast", 1 << 20);
      const slow = await run(text, "csv-parse", 1 << 20);
      expect(slow).toEqual(fast);
    });
  }

  it("the bare CR case keeps both events' fields when written with LF (the data the old fast path dropped)", async () => {
    const r = await run(H + '0,access,"1",0x1000\n5,access,1,0x2000\n', "fast", 1 << 20);
    expect(r.events!.map((e) => [e.time, e.pid, e.addr])).toEqual([
      [0, 1, 0x1000],
      [5, 1, 0x2000],
    ]);
  });

  it("invalid UTF-8 is an error at its line in both parsers, whatever the chunking", async () => {
    const text = Buffer.concat([Buffer.from("time_ms,op,id\n0,alloc,a\n1,alloc,b"), Buffer.from([0xff]), Buffer.from("\n2,alloc,c\n")]);
    for (const engine of ["fast", "csv-parse"] as const)
      for (const chunk of [1, 3, 1 << 20]) expect((await run(text, engine, chunk)).error).toMatch(/^t\.csv:3: not valid UTF-8/);
  });
});
