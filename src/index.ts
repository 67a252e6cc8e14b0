/**
 * wsim as a library: `import { replay } from "wsim"` returns the RunResult that
 * `wsim replay --format json` serialises; `runKernel` replays the same trace on a real kernel
 * in QEMU and returns `wsim kernel --format json`'s KernelResult. Every function checks its
 * arguments (src/library.ts): a wrong or missing one is a UsageError saying what it takes.
 */
export { replay, runKernel, openTrace, formatVmstat, formatBuddyinfo, renderVmstat, renderJson, GENERATORS, type LibraryGenerator } from "./library.js";
export type { ReplayConfig } from "./replay.js";
export type { RunResult, NodeResult, ZoneResult } from "./engine/result.js";
export { PRESETS, type Machine, type NodeSpec } from "./machine/machine.js";
export { TUNABLES } from "./machine/tunables.js";
export { COUNTER_NAMES } from "./stats/counters.js";
export { DataError, UsageError, InternalError, EnvironmentError } from "./errors.js";
export type { KernelConfig, KernelResult } from "./kernel/kernel.js";
export type { OpenedTrace, OpenOptions } from "./trace/open.js";
export { diffCounters, parseTolerances, type DiffCountersOptions, type DiffResult, type DiffRow, type Tolerances } from "./report/diff.js";
export type { Sample } from "./engine/engine.js";
