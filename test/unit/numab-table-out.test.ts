/** scripts/numab-table.mjs --out: FILE is created with the table; errors name the file read. */
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BEGIN, END, emit } from "../../scripts/numab-table.mjs";

describe("numab-table --out", () => {
  const dir = mkdtempSync(join(tmpdir(), "numab-table-"));

  it("--out FILE that does not exist creates it with the table", () => {
    const f = join(dir, "new.md");
    emit("| t |", f);
    expect(readFileSync(f, "utf8")).toBe("| t |\n");
  });

  it("--out FILE with the markers has its block replaced", () => {
    const f = join(dir, "doc.md");
    writeFileSync(f, `a\n${BEGIN}\nold\n${END}\nb\n`);
    emit("| t |", f);
    expect(readFileSync(f, "utf8")).toBe(`a\n${BEGIN}\n| t |\n${END}\nb\n`);
  });

  it("the default (README) without the markers: the error names that file", () => {
    const f = join(dir, "README-x.md");
    writeFileSync(f, "no block\n");
    expect(() => emit("| t |", undefined, f)).toThrow(`${f} has no ${BEGIN}`);
  });
});
