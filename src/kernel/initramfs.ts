/**
 * A gzip'd initramfs in the kernel's "newc" cpio format (Documentation/driver-api/
 * early-userspace/buffer-format.rst), written directly so that no cpio tool is needed.
 * Timestamps are 0: the same files make the same bytes.
 */
import { gzipSync } from "node:zlib";

export interface InitramfsEntry {
  path: string;
  /** directory when absent */
  data?: Buffer;
  /** permission bits; default 0755 for directories and executables, as given */
  mode?: number;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function pad4(n: number): Buffer {
  return Buffer.alloc((4 - (n % 4)) % 4);
}

function record(ino: number, name: string, mode: number, data: Buffer): Buffer[] {
  const nameBytes = Buffer.from(name + "\0");
  const header =
    "070701" +
    [ino, mode, 0, 0, mode & 0o040000 ? 2 : 1, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0].map(hex8).join("");
  const head = Buffer.concat([Buffer.from(header, "ascii"), nameBytes]);
  return [head, pad4(head.length), data, pad4(data.length)];
}

export function buildInitramfs(entries: readonly InitramfsEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((e, i) => {
    const dir = e.data === undefined;
    const mode = (dir ? 0o040000 : 0o100000) | (e.mode ?? 0o755);
    parts.push(...record(i + 1, e.path.replace(/^\//, ""), mode, e.data ?? Buffer.alloc(0)));
  });
  parts.push(...record(0, "TRAILER!!!", 0, Buffer.alloc(0)));
  return gzipSync(Buffer.concat(parts), { level: 6 });
}
