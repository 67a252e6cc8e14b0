/**
 * wsim as a library: `import { replay } from "wsim"` returns the RunResult that
 * `wsim replay --format json` serialises; `runKernel` replays the same trace on a real kernel
 * in QEMU and returns `wsim kernel --format json`'s KernelResult.
 */
export { replay, type ReplayConfig } from "./replay.js";
export type { RunResult, NodeResult, ZoneResult } from "./engine/result.js";
export { PRESETS, type Machine, type NodeSpec } from "./machine/machine.js";
export { TUNABLES } from "./machine/tunables.js";
export { COUNTER_NAMES } from "./stats/counters.js";
export { DataError, UsageError, InternalError, EnvironmentError } from "./errors.js";
export { runKernel, type KernelConfig, type KernelResult } from "./kernel/kernel.js";
export { formatVmstat, formatBuddyinfo } from "./procfs/procfs.js";
export { renderVmstat } from "./report/vmstat.js";
export { renderJson } from "./report/json.js";
export { openTrace } from "./trace/open.js";
export { diffCounters, parseTolerances } from "./report/diff.js";
export { GENERATORS } from "./generate/generators.js";
export type { Sample } from "./engine/engine.js";
