/**
 * The process entry: parse argv, run the command, map errors to exit codes (SPEC §1):
 * 2 usage, 3 bad input data (one line `file:line: what`), 70 internal error with its stack.
 * Nothing else calls process.exit.
 */
import { CommanderError } from "commander";
import { DataError, EnvironmentError, InternalError, UsageError } from "../errors.js";
import { WSIM_VERSION } from "../version.js";
import { exitQuietlyOnEpipe } from "./output.js";
import { createProgram } from "./program.js";

export async function main(argv: string[]): Promise<number> {
  exitQuietlyOnEpipe();
  let code = 0;
  const program = createProgram((c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed its message (or the help / version)
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`wsim: ${e.message}\n`);
      return 2;
    }
    if (e instanceof DataError) {
      process.stderr.write(`${e.message}\n`);
      return 3;
    }
    if (e instanceof EnvironmentError) {
      process.stderr.write(`wsim: ${e.message}\n`);
      return 69;
    }
    const internal = e instanceof InternalError;
    process.stderr.write(
      `wsim: internal error${internal ? "" : " (this is a wsim bug)"}: ${(e as Error)?.message ?? e}\n` +
        `${(e as Error)?.stack ?? ""}\n` +
        `wsim ${WSIM_VERSION}, node ${process.version}; command: ${argv.slice(2).join(" ")}\n`,
    );
    return 70;
  }
}
