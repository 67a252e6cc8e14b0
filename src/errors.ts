/**
 * The errors a user can see. Library code throws; only cli/main.ts maps them to exit codes
 * (SPEC §1): UsageError 2, DataError 3, InternalError (a wsim bug) 70 with its stack.
 */

/** Longest message an error prints (characters); the input it quotes is cut well before. */
export const MAX_MESSAGE = 1000;
/** Longest piece of input a message quotes (characters). */
export const MAX_QUOTE = 60;

/** C0 and C1 control characters, DEL, and the Unicode line/paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Escapes control characters as `\n`, `\t`, `\r` or `\u001b`, so that text from the input
 * cannot break the one-line message or drive the user's terminal (`\x1b[2J`).
 */
export function escapeControls(s: string): string {
  return s.replace(CONTROL, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0");
  });
}

/** Cuts `s` to at most `max` characters (not inside a surrogate pair), marking the cut with `…`. */
export function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return s.slice(0, end) + "…";
}

/**
 * A piece of input as an error message quotes it: in double quotes, cut to `max` characters
 * (MAX_QUOTE) and control characters escaped. `quoteInput("a\x1b[2J")` is `"a\u001b[2J"`.
 */
export function quoteInput(s: string, max = MAX_QUOTE): string {
  return `"${escapeControls(cut(s, max).replace(/["\\]/g, (c) => "\\" + c))}"`;
}

/**
 * A JSON value as a message names it, without serialising it whole (a value nested 10,000
 * deep would overflow JSON.stringify's stack): strings quoted by quoteInput, numbers,
 * booleans and null as written, arrays and objects by kind.
 */
export function describeValue(v: unknown): string {
  if (typeof v === "string") return quoteInput(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  if (Array.isArray(v)) return v.length ? "an array" : "[]";
  if (typeof v === "object") return Object.keys(v).length ? "an object" : "{}";
  return typeof v;
}

/** A message made safe to print on one line: control characters escaped, at most MAX_MESSAGE characters. */
export function safeMessage(s: string): string {
  return cut(escapeControls(s), MAX_MESSAGE);
}

/** A bad command line: option, --set key or value, --machine name. Exit 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  override name = "UsageError";
  constructor(message: string) {
    super(safeMessage(message));
  }
}

/**
 * Bad input data: a trace, its set events, a machine file. Message is `file:line: what`
 * (`file: what` when line is 0), one line: control characters escaped, cut to MAX_MESSAGE.
 * Exit 3.
 */
export class DataError extends Error {
  readonly exitCode = 3;
  override name = "DataError";
  constructor(
    readonly file: string,
    readonly line: number,
    readonly what: string,
  ) {
    super(safeMessage(line > 0 ? `${file}:${line}: ${what}` : `${file}: ${what}`));
  }
}

/** Something that should never happen: an invariant broke. Exit 70 (EX_SOFTWARE), stack shown. */
export class InternalError extends Error {
  readonly exitCode = 70;
  override name = "InternalError";
}

/** A value that failed validation, before we know whether it came from argv or a trace. */
export class ValueError extends Error {
  override name = "ValueError";
}

/**
 * The guest could not run: something the host lacks (QEMU, gcc, a kernel image; the message
 * names what to install), or a guest that panicked or did not finish. Exit 69 (EX_UNAVAILABLE).
 */
export class EnvironmentError extends Error {
  readonly exitCode = 69;
  override name = "EnvironmentError";
}

/** Words for the errno codes a user meets reading or writing files. */
const ERRNO_WORDS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
  ENOSPC: "no space left on device",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  EEXIST: "file exists",
  EMFILE: "too many open files",
  ENAMETOOLONG: "file name too long",
  ELOOP: "too many levels of symbolic links",
  EIO: "input/output error",
  EPIPE: "broken pipe",
  EFBIG: "file too large",
  EDQUOT: "disk quota exceeded",
  EBADF: "bad file descriptor",
  ENXIO: "no such device or address",
};

/**
 * What a failed file operation says, for messages: words then the code,
 * `describeErrno({code: "ENOENT"})` = "no such file or directory (ENOENT)"; an error without
 * a code gives its message; an unknown code gives itself.
 */
export function describeErrno(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === "string") {
    const w = ERRNO_WORDS[code];
    return w ? `${w} (${code})` : code;
  }
  return (e as Error)?.message ?? String(e);
}

/** The name messages give standard input and standard output. */
export const STDIO_NAME = "-";
