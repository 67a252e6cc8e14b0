/**
 * Issue 12 item 22, found again by the new-user review: the hint after "node N does not exist"
 * names the way the trace's own format names a machine, and says when --machine overrode the
 * machine the trace names.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const BIN = join(new URL("../../", import.meta.url).pathname, "bin/wsim");
const dir = mkdtempSync(join(tmpdir(), "wsim-i12-hints-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wsim = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8" });

describe("the machine hint follows the trace", () => {
  it("a JSON document is told about its \"machine\" key, CSV and NDJSON about theirs", () => {
    writeFileSync(join(dir, "n.json"), JSON.stringify({ events: [{ time_ms: 0, op: "access", pid: 1, addr: "0x1000", node: 1 }] }));
    writeFileSync(join(dir, "n.csv"), "time_ms,op,pid,addr,node\n0,access,1,0x1000,1\n");
    writeFileSync(join(dir, "n.ndjson"), '{"time_ms":0,"op":"access","pid":1,"addr":"0x1000","node":1}\n');
    const want: Record<string, RegExp> = {
      "n.json": /"machine": "NAME" \(or a machine object\) in the JSON document$/,
      "n.csv": /a line "# wsim: machine=NAME" before the CSV header$/,
      "n.ndjson": /a first line \{"machine": "NAME"\} in NDJSON$/,
    };
    for (const [f, re] of Object.entries(want)) {
      const r = wsim(["replay", f]);
      expect(r.status).toBe(3);
      expect(r.stderr.trim()).toMatch(new RegExp(`^${f.replace(".", "\\.")}:\\d+: node 1 does not exist \\(machine "default": nodes 0\\.\\.0, CPUs on 0\\); replay on another with --machine`));
      expect(r.stderr.trim()).toMatch(re);
    }
  });

  it("--machine over the trace's own machine is named as such, with how to go back", () => {
    writeFileSync(join(dir, "own.csv"), "# wsim: machine=numa2\ntime_ms,op,pid,addr,node\n0,access,1,0x1000,1\n");
    expect(wsim(["replay", "own.csv", "--format", "vmstat"]).status).toBe(0); // numa2 has node 1
    const r = wsim(["replay", "own.csv", "--machine", "default"]);
    expect(r.status).toBe(3);
    expect(r.stderr.trim()).toBe(
      'own.csv:3: node 1 does not exist (machine "default", given by --machine over the trace\'s own "numa2": nodes 0..0, CPUs on 0); ' +
        "drop --machine to replay on the trace's own, or give another with --machine NAME|FILE (presets that would do: tiered, numa2)",
    );
  });

  // the third new-user session: the hints offered what would not do
  it("names only the presets that have the node, says when the trace named the machine, and offers its own only if it would do", () => {
    writeFileSync(join(dir, "tier2.csv"), "# wsim: machine=tiered\ntime_ms,op,pid,addr,len,node\n0,mmap,1,0x10000000,4096,2\n");
    let r = wsim(["replay", "tier2.csv"]);
    expect(r.stderr.trim()).toBe(
      'tier2.csv:3: node 2 does not exist (machine "tiered", named by the trace: nodes 0..1, CPUs on 0); give another with --machine NAME|FILE ' +
        '(no preset would do: give a machine file (README: Machines and tunables)), or change the trace\'s own (a line "# wsim: machine=NAME" before the CSV header)',
    );
    r = wsim(["replay", "tier2.csv", "--machine", "numa2"]);
    expect(r.stderr.trim()).toMatch(/; give another with --machine NAME\|FILE \(no preset would do: .*; the trace's own "tiered" would not do either\)$/);
    // an access from node 1 of tiered, which has no CPUs: numa2's node 1 has them
    writeFileSync(join(dir, "cpu1.csv"), "# wsim: machine=tiered\ntime_ms,op,pid,addr,node\n0,access,1,0x1000,1\n");
    r = wsim(["replay", "cpu1.csv"]);
    expect(r.stderr.trim()).toMatch(/node 1 has no CPUs, so no access can come from it \(machine "tiered", named by the trace: .*\(presets that would do: numa2\)/);
  });
});
