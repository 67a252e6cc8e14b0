/**
 * `wsim stat` of a trace with file I/O and fork (new-user check of issue 15): fread and fwrite
 * get their own summary (bytes, files, distinct file pages), and the access pages are counted
 * per process, which the text says when the trace forks.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const wsim = (args: string[], input: string) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", input });

// data: [0, 40960) = pages 0..9, then [4000, 4100) = pages 0 and 1 again, then [40000, 50000)
// = pages 9..12 (9 seen): 13 distinct; log: [100, 8292) = pages 0..2: 3 distinct. 16 in all.
// Bytes read 40960 + 100 + 10000 = 51060; written 8192. An ftruncate counts as an op only.
const TRACE = `time_ms,op,pid,file,off,len
0,fread,1,data,0,40960
1,fread,1,data,4000,100
2,fread,,data,40000,10000
3,fwrite,1,log,100,8192
4,ftruncate,,log,,0
`;

describe("wsim stat: file I/O", () => {
  it("counts freads, fwrites, bytes, files and distinct file pages (hand-counted)", () => {
    const r = wsim(["stat", "-f", "json", "-"], TRACE);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.file_io).toEqual({ reads: 3, writes: 1, bytes_read: 51060, bytes_written: 8192, files: 2, distinct_pages: 16 });
    expect(j.distinct_pages).toBe(0);
    const t = wsim(["stat", "-"], TRACE);
    expect(t.stdout).toContain("file I/O: 3 freads (49.9 KiB), 1 fwrite (8 KiB); 2 files, 16 distinct file pages (64 KiB)");
    // no access: no access lines
    expect(t.stdout).not.toContain("footprint");
  });

  it("has no file_io for a trace without file ops, and says pages count per process when it forks", () => {
    // pid 1 touches 2 pages, forks 2, which touches one of them: 3 (pid, page) pairs
    const fork = `time_ms,op,pid,addr,len,rw,child
0,mmap,1,0x10000,8192,,
1,access,1,0x10000,,w,
2,access,1,0x11000,,w,
3,fork,1,,,,2
4,access,2,0x10000,,r,
`;
    const j = JSON.parse(wsim(["stat", "-f", "json", "-"], fork).stdout);
    expect(j.file_io).toBeUndefined();
    expect(j.distinct_pages).toBe(3);
    expect(wsim(["stat", "-"], fork).stdout).toContain("distinct pages: 3 (0.0 MiB, per process: a forked child's count apart from its parent's)");
  });
});
