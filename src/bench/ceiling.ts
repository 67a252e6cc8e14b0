/**
 * The bench's byte-level CSV parse ceiling (issue 20 item 5): what reading a CSV trace costs
 * when nothing is done but finding its fields and their values. One reused 1 MiB buffer read
 * with readSync; every line split on commas; a field that starts with a digit is parsed as
 * a decimal (digits and one `.`), `0x` as hex; any other field is hashed by its first and
 * last byte. No validation, no batches, no strings, no quotes or comments (the bench's traces
 * have none). The values are summed so that the work cannot be optimised away.
 */
import { closeSync, openSync, readSync } from "node:fs";

/** Rows (lines after the header) of a CSV file and a checksum of its field values. */
export function parseCeiling(path: string): { rows: number; sum: number } {
  const fd = openSync(path, "r");
  const buf = Buffer.allocUnsafe(1 << 20);
  let carry = 0; // bytes of a partial line moved to the start of buf
  let lines = 0;
  let sum = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, carry, buf.length - carry, null);
      const end = carry + n;
      if (n === 0 && carry === 0) break;
      let ls = 0;
      for (;;) {
        let nl = buf.indexOf(10, ls);
        if (nl < 0 || nl >= end) {
          if (n === 0 && ls < end) nl = end; // the last line, without a newline
          else break;
        }
        // one line: fields between commas
        let fs = ls;
        for (let k = ls; k <= nl; k++) {
          const c = k < nl ? buf[k]! : 44;
          if (c !== 44) continue;
          if (k > fs) {
            const f0 = buf[fs]!;
            if (f0 === 48 && k - fs > 2 && buf[fs + 1] === 120) {
              let v = 0;
              for (let j = fs + 2; j < k; j++) {
                const d = buf[j]!;
                v = v * 16 + (d <= 57 ? d - 48 : (d | 32) - 87);
              }
              sum += v;
            } else if (f0 >= 48 && f0 <= 57) {
              let v = 0;
              let scale = 0;
              for (let j = fs; j < k; j++) {
                const d = buf[j]!;
                if (d === 46) scale = 1;
                else {
                  v = v * 10 + d - 48;
                  if (scale) scale *= 10;
                }
              }
              sum += scale ? v / scale : v;
            } else sum += f0 + buf[k - 1]!;
          }
          fs = k + 1;
        }
        lines++;
        ls = nl + 1;
        if (nl === end) break;
      }
      if (n === 0) break;
      carry = end - ls;
      buf.copy(buf, 0, ls, end);
    }
  } finally {
    closeSync(fd);
  }
  return { rows: Math.max(0, lines - 1), sum };
}
