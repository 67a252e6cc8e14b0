/**
 * Writing results, one writer for every command with `-o` (replay, convert, generate, kernel,
 * compare) and for streamed standard output:
 * - `-o FILE` naming a regular file (or nothing yet) is written to a temporary file beside it,
 *   `.NAME.PID.tmp`, renamed into place at the end: whole or not at all. The temporary file
 *   is removed on an error and on SIGINT/SIGTERM; one left by a killed run (its PID gone) is
 *   removed by the next run writing the same FILE.
 * - a symlink is followed: the file it points to is replaced, the link stays.
 * - a device, FIFO or socket (/dev/null, /dev/stdout, a named pipe) is written directly,
 *   never replaced.
 * - a name ending in `.gz` (in any case: `.GZ`) is gzipped (gzip members of about 1 MiB each, which gunzip and
 *   `zcat` read as one stream).
 * - writes are synchronous and wait while a pipe is full, so a slow reader holds the run
 *   back instead of the output piling up in memory.
 * Standard output stops quietly (exit 0) when the reader of a pipe goes away.
 */
import {
  closeSync, lstatSync, openSync, readdirSync, readlinkSync, realpathSync, renameSync, statSync,
  unlinkSync, writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { DataError, describeErrno } from "../errors.js";

/** temporary files of sinks still open, removed on SIGINT/SIGTERM */
const liveTemps = new Set<string>();
let signalsHooked = false;

function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      for (const t of liveTemps) {
        try {
          unlinkSync(t);
        } catch {
          /* already gone */
        }
      }
      liveTemps.clear();
      // the shell's convention for a death by signal: 128 + its number
      process.exit(128 + (sig === "SIGINT" ? 2 : 15));
    });
  }
}

/** Whether a process with this id exists (EPERM: it exists, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes `.NAME.PID.tmp` files beside `target` whose process is gone (a SIGKILLed run's). */
export function removeStaleTemps(target: string): string[] {
  const dir = dirname(target);
  const base = basename(target);
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  const prefix = `.${base}.`;
  for (const n of names) {
    if (!n.startsWith(prefix) || !n.endsWith(".tmp")) continue;
    const mid = n.slice(prefix.length, -4);
    if (!/^\d+$/.test(mid)) continue;
    const pid = Number(mid);
    if (pid === process.pid || alive(pid)) continue;
    try {
      unlinkSync(join(dir, n));
      removed.push(n);
    } catch {
      /* raced with another run */
    }
  }
  return removed;
}

/** Where `-o path` really writes: the symlink's target (resolved), or the path itself. */
function resolveTarget(path: string): string {
  let p = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return p; // does not exist yet: created by the rename
    }
    if (!st.isSymbolicLink()) return p;
    try {
      return realpathSync(p);
    } catch {
      // a dangling link: create what it points to
      p = resolve(dirname(p), readlinkSync(p));
    }
  }
  return p;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** write(2) all of buf to fd, waiting (1 ms at a time) while a non-blocking pipe is full. */
function writeAll(fd: number, buf: Uint8Array): void {
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Atomics.wait(sleepCell, 0, 0, 1);
    }
  }
}

/**
 * An output being written: to `-o path` (undefined or "-" = standard output). Text is
 * gathered into chunks and written synchronously (bounded memory whatever the output's size).
 * Call `commit()` at the end (renames the temporary file into place) or `abort()` on an error.
 * Errors writing a file are DataError(path, 0, "cannot write: WORDS (CODE)") (exit 3), words by describeErrno.
 */
export class OutputSink {
  /** the path given, for messages; "-" for standard output */
  readonly path: string;
  /** true when the output is gzipped (the name ends in .gz) */
  readonly gzip: boolean;
  private fd: number;
  private readonly temp: string | null;
  private readonly target: string | null;
  private readonly stdout: boolean;
  /** text, or bytes from writeBytes (kept as bytes: a binary .wtrace is not UTF-8) */
  private pending: (string | Buffer)[] = [];
  private pendingLen = 0;
  private readonly chunk: number;
  private done = false;

  constructor(path: string | undefined) {
    this.path = path === undefined ? "-" : path;
    this.stdout = this.path === "-";
    this.gzip = !this.stdout && /\.gz$/i.test(this.path);
    this.chunk = this.gzip ? 1 << 20 : 1 << 16;
    if (this.stdout) {
      this.fd = 1;
      this.temp = this.target = null;
      return;
    }
    const target = resolveTarget(this.path);
    // /dev/stdout, /dev/fd/N, /proc/self/fd/N: the file descriptor's file, whatever it is
    const viaFd = /^\/(dev|proc)\//.test(resolve(this.path)) || /^\/(dev|proc)\//.test(target);
    let special = viaFd;
    try {
      if (!statSync(target).isFile()) special = true;
    } catch {
      /* not there yet: a regular file */
    }
    try {
      if (special) {
        // a device, FIFO or socket: written directly, never replaced (appending: a shell's
        // `>` already emptied a regular file behind /dev/stdout, `>>` wants it kept)
        this.fd = openSync(viaFd ? this.path : target, "a");
        this.temp = this.target = null;
      } else {
        removeStaleTemps(target);
        this.target = target;
        this.temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
        this.fd = openSync(this.temp, "w", 0o666);
        liveTemps.add(this.temp);
        hookSignals();
      }
    } catch (e) {
      throw this.fail(e);
    }
  }

  private fail(e: unknown): DataError {
    if (e instanceof DataError) return e;
    return new DataError(this.path, 0, `cannot write: ${describeErrno(e)}`);
  }

  /** Adds text to the output; writes a chunk when enough has gathered. */
  write(text: string): void {
    if (this.done) return;
    this.pending.push(text);
    this.pendingLen += text.length;
    if (this.pendingLen >= this.chunk) this.flush();
  }

  /**
   * Adds bytes to the output (the caller may reuse `bytes` once this returns): what is pending
   * goes first, then these, gathered as write() gathers text (no string made of them).
   */
  writeBytes(bytes: Uint8Array): void {
    if (this.done) return;
    if (this.gzip || bytes.length < this.chunk) {
      this.pending.push(Buffer.from(bytes));
      this.pendingLen += bytes.length;
      if (this.pendingLen >= this.chunk) this.flush();
      return;
    }
    this.flush();
    try {
      writeAll(this.fd, bytes);
    } catch (e) {
      if (this.stdout && (e as NodeJS.ErrnoException).code === "EPIPE") process.exit(0);
      this.abort();
      throw this.fail(e);
    }
  }

  private flush(): void {
    if (!this.pendingLen) return;
    const p = this.pending;
    const buf = p.every((x) => typeof x === "string") ? Buffer.from(p.join("")) : Buffer.concat(p.map((x) => (typeof x === "string" ? Buffer.from(x) : x)));
    this.pending = [];
    this.pendingLen = 0;
    try {
      writeAll(this.fd, this.gzip ? gzipSync(buf) : buf);
    } catch (e) {
      if (this.stdout && (e as NodeJS.ErrnoException).code === "EPIPE") process.exit(0);
      this.abort();
      throw this.fail(e);
    }
  }

  /** Writes what is left and puts the file in place. */
  commit(): void {
    if (this.done) return;
    this.flush();
    this.done = true;
    if (this.stdout) return;
    try {
      if (this.temp !== null) {
        closeSync(this.fd);
        renameSync(this.temp, this.target!);
        liveTemps.delete(this.temp);
      } else closeSync(this.fd);
    } catch (e) {
      this.done = false;
      this.abort();
      throw this.fail(e);
    }
  }

  /** Drops the output: the temporary file is removed, FILE is left as it was. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.pending = [];
    if (this.stdout) return;
    try {
      closeSync(this.fd);
    } catch {
      /* closed already */
    }
    if (this.temp !== null) {
      try {
        unlinkSync(this.temp);
      } catch {
        /* nothing was written */
      }
      liveTemps.delete(this.temp);
    }
  }

}

/** `-o path`: writes text whole or not at all (see OutputSink). */
export function writeWhole(path: string, text: string): void {
  const s = new OutputSink(path);
  try {
    s.write(text);
    s.commit();
  } catch (e) {
    s.abort();
    throw e;
  }
}

let epipeHandled = false;
/** Ends the process quietly (exit 0) on EPIPE from stdout. */
export function exitQuietlyOnEpipe(): void {
  if (epipeHandled) return;
  epipeHandled = true;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
}

/**
 * Writes a whole output (replay's report, stat, tunables, diff) to standard output through
 * the same writer as streamed output: a failed write (a full disk, /dev/full) is
 * DataError("-", 0, "cannot write: …") (exit 3, one line), a reader gone (EPIPE) ends quietly.
 */
export function writeStdout(text: string): Promise<void> {
  const s = new OutputSink(undefined);
  s.write(text);
  s.commit();
  return Promise.resolve();
}

/** true when `path` is there and is not a regular file or a directory (a device, FIFO or socket: written as - is, whatever its name) */
export function isSpecial(path: string): boolean {
  try {
    const st = statSync(path);
    return !st.isFile() && !st.isDirectory();
  } catch {
    return false;
  }
}
