/**
 * Writing results: `-o FILE` is written whole or not at all (a temporary file beside it,
 * renamed into place); standard output stops quietly when the reader of a pipe goes away.
 */
import { renameSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { DataError } from "../errors.js";

export function writeWhole(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing was written */
    }
    throw new DataError(path, 0, `cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
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

export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once("drain", resolve);
  });
}
