#!/usr/bin/env node
/**
 * docs/convert.md's examples, run: every fenced block tagged `file=NAME` is written to a
 * temporary directory, every `sh run=ID` block (one `wsim convert ...` line) is run there with
 * bin/wsim, and what it printed is set against the blocks tagged `stdout=ID` and `stderr=ID`
 * (`exit=N` on the stderr block: the exit status, 0 without it; no stdout block: nothing on
 * standard output). test/e2e/convert-doc.test.ts checks the doc with it, so the doc cannot go
 * stale; after a change to an importer's output, rewrite the blocks from a fresh build with
 *
 *   npx tsc -p tsconfig.json && node scripts/convert-doc.mjs --write
 *
 * and read the diff: the doc's prose explains each example's numbers. Without --write it
 * prints the examples that differ and exits 1 (0 when all agree).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const DOC = join(ROOT, "docs/convert.md");

/**
 * The fenced blocks of markdown `text` that carry tags: `{lang, tags: {file|run|stdout|stderr|exit: string}, body, start, end}`,
 * body without its final newline, start and end the body's offsets in `text`.
 */
export function taggedBlocks(text) {
  const out = [];
  const re = /^```([^\n`]*)\n/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const words = m[1].trim().split(/\s+/);
    const start = m.index + m[0].length;
    const close = text.indexOf("\n```", start - 1);
    if (close < 0) throw new Error(`unclosed block at offset ${m.index}`);
    const end = close < start ? start : close;
    re.lastIndex = close + 4;
    const tags = {};
    for (const w of words.slice(1)) {
      const eq = w.indexOf("=");
      if (eq > 0) tags[w.slice(0, eq)] = w.slice(eq + 1);
    }
    if (Object.keys(tags).length) out.push({ lang: words[0] ?? "", tags, body: text.slice(start, end), start, end });
  }
  return out;
}

/**
 * Runs every example of `text` (docs/convert.md): `[{id, command, want: {stdout, stderr, status}, got: {...}}]`.
 * Throws when a run has no expected block, or an expected block no run.
 */
export function runExamples(text) {
  const blocks = taggedBlocks(text);
  const dir = mkdtempSync(join(tmpdir(), "wsim-convert-doc-"));
  try {
    for (const b of blocks) if (b.tags.file) writeFileSync(join(dir, b.tags.file), b.body + "\n");
    const runs = blocks.filter((b) => b.tags.run);
    const ids = new Set(runs.map((b) => b.tags.run));
    for (const b of blocks) {
      const id = b.tags.stdout ?? b.tags.stderr;
      if (id !== undefined && !ids.has(id)) throw new Error(`a ${b.tags.stdout ? "stdout" : "stderr"} block for run ${id}, which has no sh run=${id} block`);
    }
    return runs.map((b) => {
      const id = b.tags.run;
      const argv = b.body.trim().split(/\s+/);
      if (b.body.includes("\n") || argv[0] !== "wsim" || argv[1] !== "convert") throw new Error(`run=${id}: one line, \`wsim convert ...\`, expected`);
      const out = blocks.find((x) => x.tags.stdout === id);
      const err = blocks.find((x) => x.tags.stderr === id);
      if (!out && !err) throw new Error(`run=${id} has neither a stdout=${id} nor a stderr=${id} block`);
      const r = spawnSync(process.execPath, [join(ROOT, "bin/wsim"), ...argv.slice(1)], { cwd: dir, encoding: "utf8" });
      return {
        id,
        command: b.body.trim(),
        want: { stdout: out ? out.body + "\n" : "", stderr: err ? err.body + "\n" : "", status: Number(err?.tags.exit ?? 0) },
        got: { stdout: r.stdout, stderr: r.stderr, status: r.status },
        blocks: { out, err },
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `text` with every example's stdout and stderr blocks (and exit tag) replaced by what it printed. */
export function rewrite(text) {
  const edits = [];
  for (const e of runExamples(text)) {
    for (const [which, b] of [["stdout", e.blocks.out], ["stderr", e.blocks.err]]) {
      const got = e.got[which];
      if (!b) {
        if (got !== "" || (which === "stderr" && e.got.status !== 0)) throw new Error(`run=${e.id} printed on ${which} (exit ${e.got.status}): add a \`${which}=${e.id}\` block`);
        continue;
      }
      edits.push({ start: b.start, end: b.end, body: got.replace(/\n$/, "") });
    }
    if (e.blocks.err) {
      // the info string's exit tag
      const line = text.lastIndexOf("```", e.blocks.err.start);
      const info = text.slice(line, e.blocks.err.start - 1);
      const fixed = info.replace(/\s+exit=\d+/, "") + (e.got.status !== 0 ? ` exit=${e.got.status}` : "");
      edits.push({ start: line, end: e.blocks.err.start - 1, body: fixed });
    }
  }
  edits.sort((a, b) => b.start - a.start);
  for (const x of edits) text = text.slice(0, x.start) + x.body + text.slice(x.end);
  return text;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = readFileSync(DOC, "utf8");
  if (process.argv.includes("--write")) {
    writeFileSync(DOC, rewrite(text));
  } else {
    let bad = 0;
    for (const e of runExamples(text))
      if (JSON.stringify(e.want) !== JSON.stringify(e.got)) {
        bad++;
        process.stdout.write(`run=${e.id}: ${e.command}\n  want ${JSON.stringify(e.want)}\n  got  ${JSON.stringify(e.got)}\n`);
      }
    process.exit(bad ? 1 : 0);
  }
}
