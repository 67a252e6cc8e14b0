/**
 * Issue 12 review A10 and A7's helper: the library says its own argument names, and refuses
 * an onSample that would never be called.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { diffCounters, GENERATORS, parseTolerances, replay, UsageError } from "../../src/index.js";
import { describeErrno } from "../../src/errors.js";

const dir = mkdtempSync(join(tmpdir(), "wsim-review-a-unit-"));
const trace = join(dir, "z.csv");
writeFileSync(trace, "time_ms,op,pid,addr,len,rw\n0,mmap,1,0x10000000,1048576,\n1,access,1,0x10000000,,w\n");

async function usage(p: () => unknown): Promise<string> {
  try {
    await p();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error("no error");
}

describe("A10: library arguments by their library names", () => {
  it("onSample without interval is a UsageError (it would never be called)", async () => {
    expect(await usage(() => replay({ trace, onSample: () => {} }))).toBe(
      "replay: config.onSample is called once per config.interval ms of virtual time: give config.interval, or drop onSample",
    );
    // with interval it is called: 1 ms samples over a 1 ms trace
    let n = 0;
    await replay({ trace, interval: 1, onSample: () => void n++ });
    expect(n).toBeGreaterThan(0);
  });
  it("a bad set entry names config.set[i], the entry at fault", async () => {
    expect(await usage(() => replay({ trace, set: ["vm.swappiness=10", "vm.swappiness=300"] }))).toBe(
      'replay: config.set[1] ("vm.swappiness=300"): vm.swappiness: expected an integer 0..200, got "300"',
    );
    expect(await usage(() => replay({ trace, set: ["novalue"] }))).toBe('replay: config.set[0] ("novalue"): expects key=value, got "novalue"');
    expect(await usage(() => replay({ trace, set: ["vm.swappiness=1", "vm.nosuch=1"] }))).toMatch(/^replay: config\.set\[1\] \("vm\.nosuch=1"\): unknown tunable "vm\.nosuch"/);
  });
  it("a bad tolerance names options.tolerance / parseTolerances, never --tolerance", async () => {
    expect(await usage(() => diffCounters({ a: 1 }, { a: 2 }, { tolerance: "x" }))).toBe('diffCounters: options.tolerance: expected a number or a percentage like 2%, got "x"');
    expect(await usage(() => parseTolerances("5q"))).toBe('parseTolerances: expected a number or a percentage like 2%, got "5q"');
  });
  it("a knob out of range is `knob NAME`, not the command line's --flag", async () => {
    expect(await usage(() => GENERATORS.zipf!.rows({ pages: 0 }))).toBe("GENERATORS.zipf.rows: knob pages: expected an integer from 1 to 33554432, got \"0\"");
    expect(await usage(() => GENERATORS.balloon!.rows({ stride_pages: 0 }))).toMatch(/^GENERATORS\.balloon\.rows: knob stride_pages: expected/);
  });
});

describe("A7: describeErrno", () => {
  it("words then the code; an unknown code as itself; no code: the message", () => {
    expect(describeErrno({ code: "ENOENT" })).toBe("no such file or directory (ENOENT)");
    expect(describeErrno({ code: "EISDIR" })).toBe("is a directory (EISDIR)");
    expect(describeErrno({ code: "ENOSPC" })).toBe("no space left on device (ENOSPC)");
    expect(describeErrno({ code: "EACCES" })).toBe("permission denied (EACCES)");
    expect(describeErrno({ code: "EWHATEVER" })).toBe("EWHATEVER");
    expect(describeErrno(new Error("boom"))).toBe("boom");
  });
});
