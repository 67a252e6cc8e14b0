/**
 * Issue 12, item 15: a multibyte character split across a read boundary arrives whole in
 * every reader (NDJSON, CSV on both parsers, JSON documents; files, stdin, gzip), at every
 * boundary offset; invalid UTF-8 is an error at its line, never U+FFFD (which made distinct
 * ids one handle).
 */
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { readCsv } from "../../../src/trace/csv.js";
import { readNdjson } from "../../../src/trace/json.js";
import { openTrace } from "../../../src/trace/open.js";
import { replay } from "../../../src/replay.js";
import { collect, dataErrorOf as error } from "../../helpers.js";

/** The bytes as two chunks split at `at`. */
async function* split(buf: Buffer, at: number): AsyncGenerator<Buffer> {
  if (at > 0) yield buf.subarray(0, at);
  if (at < buf.length) yield buf.subarray(at);
}


// "é" is C3 A9, "€" E2 82 AC, "😀" F0 9F 98 80: ids with 2-, 3- and 4-byte characters
const IDS = ["caf\u00e9", "\u20ac5", "x\u{1f600}y"];

const NDJSON = IDS.map((id, k) => `{"time_ms":${k},"op":"alloc","id":"${id}"}\n`).join("") +
  IDS.map((id, k) => `{"time_ms":${10 + k},"op":"free","id":"${id}"}\n`).join("");
const CSV = "time_ms,op,id\n" + IDS.map((id, k) => `${k},alloc,${id}\n`).join("") + IDS.map((id, k) => `${10 + k},free,${id}\n`).join("");
const QCSV = "time_ms,op,id\n" + IDS.map((id, k) => `${k},alloc,"${id}"\n`).join("") + IDS.map((id, k) => `${10 + k},free,"${id}"\n`).join("");
const DOC = JSON.stringify({ events: [...IDS.map((id, k) => ({ time_ms: k, op: "alloc", id })), ...IDS.map((id, k) => ({ time_ms: 10 + k, op: "free", id }))] });

const WANT = [...IDS, ...IDS];

describe("issue 12 item 15: characters split across chunks", () => {
  it("NDJSON: every split offset gives the same ids", async () => {
    const buf = Buffer.from(NDJSON);
    for (let at = 0; at <= buf.length; at++) {
      const ev = await collect(readNdjson(split(buf, at), "t.ndjson"));
      expect(ev.map((e) => e.id), `split at ${at}`).toEqual(WANT);
    }
  });

  it("CSV, both parsers, plain and quoted: every split offset gives the same ids", async () => {
    for (const text of [CSV, QCSV]) {
      const buf = Buffer.from(text);
      for (const engine of ["fast", "csv-parse"] as const)
        for (let at = 0; at <= buf.length; at++) {
          const ev = await collect(readCsv(split(buf, at), "t.csv", { engine }));
          expect(ev.map((e) => e.id), `${engine} split at ${at}`).toEqual(WANT);
        }
    }
  });

  it("JSON documents, NDJSON and CSV from stdin and gzip: every split offset", async () => {
    for (const [text, format] of [[DOC, "json"], [NDJSON, "ndjson"], [CSV, "csv"]] as const) {
      const buf = Buffer.from(text);
      const gz = gzipSync(buf);
      for (let at = 0; at <= buf.length; at++) {
        const t = await openTrace("-", { format, stdin: Readable.from(split(buf, at)) });
        expect((await collect(t.batches())).map((e) => e.id), `${format} split at ${at}`).toEqual(WANT);
      }
      for (let at = 0; at <= gz.length; at += 3) {
        const t = await openTrace("-", { format, stdin: Readable.from(split(gz, at)) });
        expect((await collect(t.batches())).map((e) => e.id), `${format} gzip split at ${at}`).toEqual(WANT);
      }
    }
  });

  it("the issue's case: an alloc with é at byte 1,048,575 (the 1 MiB read boundary) and its free replay cleanly", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "wsim-utf8-"));
    for (const off of [1048574, 1048575, 1048576]) {
      // a blank line of spaces pads the alloc so that its "é" starts at byte `off`
      const head = '{"time_ms":0,"op":"alloc","id":"';
      const pad = " ".repeat(off - head.length - 2) + "\n";
      const id = "p\u00e9";
      const text = pad + head + id + '"}\n{"time_ms":1,"op":"free","id":"' + id + '"}\n';
      expect(Buffer.from(text).indexOf(Buffer.from("\u00e9"))).toBe(off);
      const p = join(dir, `t${off}.ndjson`);
      writeFileSync(p, text);
      const r = await replay({ trace: p });
      expect(r.vmstat.pgalloc_normal, `é at ${off}`).toBe(1);
      expect(r.vmstat.pgfree, `é at ${off}`).toBeGreaterThanOrEqual(1);
      writeFileSync(p + ".gz", gzipSync(text));
      await expect(replay({ trace: p + ".gz" })).resolves.toBeTruthy();
    }
  });
});

describe("issue 12 item 15: invalid UTF-8 is an error, not U+FFFD", () => {
  // ids "a\xff" and "a\xfe" both decoded to "a\ufffd": the free of the second freed the first
  const bad = (pre: string, mid: string, post: string) =>
    Buffer.concat([Buffer.from(pre), Buffer.from([0x61, 0xff]), Buffer.from(mid), Buffer.from([0x61, 0xfe]), Buffer.from(post)]);

  it("NDJSON: at its line, after the lines before it", async () => {
    const buf = bad('{"time_ms":0,"op":"alloc","id":"', '"}\n{"time_ms":1,"op":"free","id":"', '"}\n');
    for (let at = 0; at <= buf.length; at++)
      expect(await error(collect(readNdjson(split(buf, at), "t.ndjson"))), `split at ${at}`).toBe("t.ndjson:1: not valid UTF-8 (a trace is UTF-8 text)");
    const later = Buffer.concat([Buffer.from('{"time_ms":0,"op":"frob"}\n'), buf]);
    expect(await error(collect(readNdjson(split(later, later.length), "t.ndjson")))).toMatch(/^t\.ndjson:1: unknown op "frob"/);
  });

  it("CSV, both parsers, a plain or a quoted id", async () => {
    for (const q of ["", '"'])
      for (const engine of ["fast", "csv-parse"] as const) {
        const buf = bad(`time_ms,op,id\n0,alloc,${q}`, `${q}\n1,free,${q}`, `${q}\n`);
        expect(await error(collect(readCsv(split(buf, 20), "t.csv", { engine }))), `${engine} ${q}`).toMatch(/^t\.csv:2: not valid UTF-8/);
      }
  });

  it("JSON documents and machine files: at the line of the bad byte", async () => {
    const doc = bad('{"events": [\n{"time_ms":0,"op":"alloc","id":"', '"},\n{"time_ms":1,"op":"free","id":"', '"}]}\n');
    const t = openTrace("-", { format: "json", stdin: Readable.from([doc]) });
    expect(await error(t)).toBe("-:2: not valid UTF-8 (a trace is UTF-8 text)");
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const m = join(mkdtempSync(join(tmpdir(), "wsim-utf8-")), "m.json");
    writeFileSync(m, bad('{"name": "', '",\n"nodes": [{"id": 0, "mem": "', '"}]}'));
    const { loadMachine } = await import("../../../src/machine/machine.js");
    expect(() => loadMachine(m)).toThrow(`${m}:1: not valid UTF-8`);
  });

  it("an unpaired surrogate escape in a JSON id is an error (\\ud800 and \\udbff would both be U+FFFD)", async () => {
    const text = '{"time_ms":0,"op":"alloc","id":"a\\ud800"}\n{"time_ms":1,"op":"free","id":"a\\udbff"}\n';
    expect(await error(collect(readNdjson(split(Buffer.from(text), 0), "t.ndjson")))).toMatch(/^t\.ndjson:1: id: not valid Unicode/);
  });
});
