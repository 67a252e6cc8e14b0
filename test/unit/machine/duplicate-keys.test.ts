/** A machine file that names a key twice is an error at the second (JSON.parse would keep the last silently). */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadMachine } from "../../../src/machine/machine.js";

const dir = mkdtempSync(join(tmpdir(), "wsim-mdup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("machine files", () => {
  it("a key twice is a data error at the line of the second, with where it is", () => {
    const f = join(dir, "m.json");
    writeFileSync(f, '{"nodes": [{"id": 0,\n  "mem": "64M",\n  "mem": "32M"}]}\n');
    expect(() => loadMachine(f)).toThrow(/m\.json:3: key "mem" appears twice \(in \/nodes\/0\)$/);
    writeFileSync(f, '{"nodes": [{"id": 0, "mem": "64M"}],\n "nodes": []}\n');
    expect(() => loadMachine(f)).toThrow(/m\.json:2: key "nodes" appears twice \(in the machine\)$/);
    writeFileSync(f, '{"nodes": [{"id": 0, "mem": "64M"}]}\n');
    expect(loadMachine(f).nodes[0]!.mem).toBe(16384); // 64 MiB in pages
  });
});
