/**
 * The README's comparison with a real kernel is what scripts/compare-table.mjs makes of the
 * guests' runs kept in docs/compare-runs (issue 13 item 6: the table is generated, never edited
 * by hand). wsim is replayed again against each saved run (`wsim compare --kernel-runs`, no
 * QEMU), so a change to the model that moves a row fails here until the table is regenerated
 * with `node scripts/compare-table.mjs --reuse` (and its explanations still hold).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without types
import { BEGIN, END } from "../../scripts/compare-table.mjs";

const ROOT = new URL("../../", import.meta.url).pathname;

it("README.md's compare table equals compare-table.mjs --reuse's output", () => {
  const r = spawnSync(process.execPath, [join(ROOT, "scripts/compare-table.mjs"), "--reuse", "--out", "-"], { cwd: ROOT, encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = readme.slice(readme.indexOf(BEGIN) + BEGIN.length + 1, readme.indexOf(END));
  expect(block).toBe(r.stdout);
  // the saved runs are real guests' (a release, three boots per case)
  expect(r.stdout).toMatch(/^Measured on Linux 6\.1\.\d+-\d+-cloud-amd64 .*, 3 boots per case,$/m);
}, 300_000);
