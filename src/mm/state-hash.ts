/**
 * A fingerprint of model state, for proving a daemon pass a fixed point: if the fingerprint
 * of what the pass reads and writes is the same before and after it, the pass mapped that
 * state onto itself, so the same pass from the same state repeats it exactly (the model is
 * deterministic) and n further passes only add n times its counter deltas (issue 12 item 13;
 * Memory.compactionFingerprint, kcompactd.ts steady).
 *
 * Two independent 32-bit multiplicative hashes over every word of the arrays, so a false match
 * needs a 64-bit collision. Not on any hot path: taken only around a deferred proactive
 * compaction pass that isolated pages but moved none.
 */

/** An accumulating two-lane hash of typed arrays and numbers. */
export class StateHash {
  private h1 = 0x811c9dc5;
  private h2 = 0x9747b28c;

  /** every element of a typed array (its bytes, word by word) */
  array(a: ArrayBufferView): this {
    const bytes = a.byteLength;
    const words = bytes >>> 2;
    const off = a.byteOffset;
    let h1 = this.h1;
    let h2 = this.h2;
    if ((off & 3) === 0) {
      const w = new Uint32Array(a.buffer, off, words);
      for (let i = 0; i < words; i++) {
        const x = w[i]!;
        h1 = Math.imul(h1 ^ x, 0x01000193);
        h2 = Math.imul(h2 ^ x, 0x5bd1e995);
        h2 ^= h2 >>> 15;
      }
    }
    const b = new Uint8Array(a.buffer, off, bytes);
    for (let i = (off & 3) === 0 ? words << 2 : 0; i < bytes; i++) {
      h1 = Math.imul(h1 ^ b[i]!, 0x01000193);
      h2 = Math.imul(h2 ^ b[i]!, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    this.h1 = h1;
    this.h2 = h2;
    return this;
  }

  /** every byte of `a` ANDed with `mask` (a bit set the hash ignores: flags nobody here reads) */
  maskedBytes(a: Uint8Array, mask: number): this {
    const m4 = (mask & 0xff) * 0x01010101;
    const words = a.byteLength >>> 2;
    let h1 = this.h1;
    let h2 = this.h2;
    let i = 0;
    if ((a.byteOffset & 3) === 0) {
      const w = new Uint32Array(a.buffer, a.byteOffset, words);
      for (; i < words; i++) {
        const x = w[i]! & m4;
        h1 = Math.imul(h1 ^ x, 0x01000193);
        h2 = Math.imul(h2 ^ x, 0x5bd1e995);
        h2 ^= h2 >>> 15;
      }
      i = words << 2;
    }
    for (; i < a.length; i++) {
      const x = a[i]! & mask;
      h1 = Math.imul(h1 ^ x, 0x01000193);
      h2 = Math.imul(h2 ^ x, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    this.h1 = h1;
    this.h2 = h2;
    return this;
  }

  /** numbers (any double, -0 and NaN included, by their bits) */
  numbers(...xs: number[]): this {
    return this.array(Float64Array.from(xs));
  }

  /** the 64-bit result as 16 hex digits */
  digest(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, "0") + (this.h2 >>> 0).toString(16).padStart(8, "0");
  }
}
