/** The package entry (`import … from "wsim"`): what a library user gets. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as wsim from "../../src/index.js";

const ROOT = new URL("../../", import.meta.url).pathname;

describe("the library entry", () => {
  it("replays a bundled trace to the counters the CLI prints (the golden vmstat)", async () => {
    const r = await wsim.replay({ trace: `${ROOT}traces/faults.csv` });
    const golden = readFileSync(`${ROOT}test/golden/__expected__/faults.csv.vmstat.txt`, "utf8");
    expect(wsim.renderVmstat(r)).toBe(golden);
    expect(JSON.parse(wsim.renderJson(r)).vmstat).toEqual(r.vmstat);
  });

  it("exports the kernel runner and the errors a caller maps to exit codes", async () => {
    expect(typeof wsim.runKernel).toBe("function");
    // bad input is a DataError naming file and line, as on the command line
    const err = await wsim.replay({ trace: `${ROOT}package.json`, format: "csv" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(wsim.DataError);
    expect(String((err as Error).message)).toMatch(/package\.json:1: /);
    expect(new wsim.EnvironmentError("x")).toBeInstanceOf(Error);
  });
});
