/**
 * The errors a user can see. Library code throws; only cli/main.ts maps them to exit codes
 * (SPEC §1): UsageError 2, DataError 3, InternalError (a wsim bug) 70 with its stack.
 */

/** A bad command line: option, --set key or value, --machine name. Exit 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  override name = "UsageError";
}

/** Bad input data: a trace, its set events, a machine file. Message is `file:line: what`. Exit 3. */
export class DataError extends Error {
  readonly exitCode = 3;
  override name = "DataError";
  constructor(
    readonly file: string,
    readonly line: number,
    readonly what: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${what}` : `${file}: ${what}`);
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
