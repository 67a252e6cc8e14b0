/**
 * A perf script memory sample whose `|OP …|` decoding follows one field: that field is data_src
 * when its mem_op bits (data_src & 0x1f) decode to the OP shown, else it is the data address
 * printed without the raw data_src (a new user's hand-trimmed line read as "without a data
 * address" and was dropped, exit 0).
 */
import { describe, expect, it } from "vitest";
import { perfLine } from "../../../src/convert/perf-samples.js";

const head = "          stress    4242 [002]  1523.123456:      10007 cpu/mem-loads,ldlat=30/P: ";
const decode = " |OP LOAD|LVL L1 hit|SNP None|TLB L1 or L2 hit|LCK No|BLK  N/A      35    401136 main+0x16 (/tmp/stress)";

describe("perf script: one field before |OP", () => {
  it("an address (0x…c40 & 0x1f = 0: No, not LOAD) is the data address", () => {
    const l = perfLine(head + "    7ffd1a2b3c40" + decode);
    expect(l).toMatchObject({ kind: "sample", pid: 4242, addr: "7ffd1a2b3c40", op: "LOAD" });
  });
  it("data_src 68100142 (0x42 & 0x1f = 2: LOAD, as shown) is data_src: no address", () => {
    const l = perfLine(head + "        68100142" + decode);
    expect(l).toMatchObject({ kind: "sample", addr: null, op: "LOAD" });
  });
  it("a store's data_src 48080144 (0x44 & 0x1f = 4: STORE) against a store's decoding is data_src", () => {
    const l = perfLine(head + "        48080144" + decode.replace("OP LOAD", "OP STORE"));
    expect(l).toMatchObject({ kind: "sample", addr: null, op: "STORE" });
  });
  it("address and data_src both given: the first is the address, as before", () => {
    const l = perfLine(head + "    7ffd1a2b3c40        68100142" + decode);
    expect(l).toMatchObject({ kind: "sample", addr: "7ffd1a2b3c40", op: "LOAD" });
  });
});
