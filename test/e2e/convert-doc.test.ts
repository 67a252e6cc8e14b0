/**
 * docs/convert.md's examples are what `wsim convert` prints: every `sh run=ID` block is run
 * (by scripts/convert-doc.mjs, in a directory holding the doc's `file=NAME` blocks) and its
 * standard output, standard error and exit status set against the doc's `stdout=ID` and
 * `stderr=ID exit=N` blocks, so the doc cannot go stale. After a change to an importer's
 * output: `node scripts/convert-doc.mjs --write`, then read the diff (the doc's prose explains
 * the numbers).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without types
import { DOC, runExamples, taggedBlocks } from "../../scripts/convert-doc.mjs";

interface Example {
  id: string;
  command: string;
  want: { stdout: string; stderr: string; status: number };
  got: { stdout: string; stderr: string; status: number };
}

const text = readFileSync(DOC, "utf8");
const examples = runExamples(text) as Example[];

describe("docs/convert.md", () => {
  it("has an example of every import format, and of the no-record error of each line format", () => {
    const commands = examples.map((e) => e.command).join("\n");
    // sniffed: each format's own example names no --from
    for (const id of ["lackey", "ucsd", "lirs", "damon", "libcachesim", "ftrace", "ftrace-trace-cmd", "ftrace-perf-script", "perf-mem", "perf-mem-report-D"])
      expect(examples.find((e) => e.id === id)?.command, id).not.toMatch(/--from/);
    for (const fmt of ["lackey", "ucsd", "lirs", "libcachesim", "ftrace", "perf-mem"]) expect(commands).toContain(`--from ${fmt}`);
    // and every file block is used by some command
    for (const b of taggedBlocks(text) as { tags: Record<string, string> }[]) if (b.tags.file) expect(commands, b.tags.file).toContain(` ${b.tags.file} `);
  });
  for (const e of examples)
    it(`${e.id}: ${e.command}`, () => {
      expect(e.got).toEqual(e.want);
    });
});
