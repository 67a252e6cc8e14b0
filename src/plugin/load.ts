/**
 * Loading `--plugin FILE.mjs` modules (issue 22): FILE resolved against a base directory (the
 * working directory for --plugin and sweep specs' own paths are made absolute by the spec;
 * the trace's directory for a JSON trace's `"plugins"`), imported as an ES module, its bytes
 * hashed (sha256, recorded in the JSON output so a run can be reproduced). Every failure is
 * `plugin FILE: message` (exit 3): a missing file, a module that does not parse or throws at
 * its top level, no `register` export.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { PluginError, type LoadedPlugin } from "./host.js";
import type { WsimPluginApi } from "./api.js";

/** Imports one plugin module; `file` is how messages and the JSON output name it. */
export async function loadPlugin(file: string, base = process.cwd()): Promise<LoadedPlugin> {
  const path = isAbsolute(file) ? file : resolve(base, file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PluginError(file, code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory, not an ES module file" : (e as Error).message);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    throw new PluginError(file, `cannot be loaded as an ES module: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  if (typeof mod.register !== "function") throw new PluginError(file, "exports no register(api) function (export function register(api) { ... })");
  return { file, path, sha256: createHash("sha256").update(bytes).digest("hex"), register: mod.register as (api: WsimPluginApi) => unknown };
}

/** Imports plugin modules in order (duplicates are loaded once each time they are named). */
export async function loadPlugins(files: readonly string[], base = process.cwd()): Promise<LoadedPlugin[]> {
  const out: LoadedPlugin[] = [];
  for (const f of files) out.push(await loadPlugin(f, base));
  return out;
}
