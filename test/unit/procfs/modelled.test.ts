/** The list `wsim compare` marks counters by must be the kernel counters the engine really updates. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { KERNEL_VMSTAT, MODELLED_KERNEL_COUNTERS } from "../../../src/stats/counters.js";

const SRC = new URL("../../../src/", import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

it("MODELLED_KERNEL_COUNTERS is exactly the Linux 6.1 counters the source updates through V", () => {
  const used = new Set<string>();
  for (const f of sources(SRC)) for (const m of readFileSync(f, "utf8").matchAll(/\bV\.([a-z_0-9]+)/g)) used.add(m[1]!);
  const kernelUsed = (KERNEL_VMSTAT as readonly string[]).filter((n) => used.has(n));
  expect([...MODELLED_KERNEL_COUNTERS].sort()).toEqual(kernelUsed.sort());
});
