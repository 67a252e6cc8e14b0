/**
 * Checking what a library caller passed: the exported functions (src/index.ts) say what is
 * wrong with an argument in a sentence (a UsageError) instead of failing later with a
 * TypeError from deep inside.
 */

/** A short description of a value for a message: `undefined`, `null`, `"abc"`, `5`, `an array`, `an object`, `a function`. */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "..." : v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "undefined" || typeof v === "bigint") return String(v);
  if (typeof v === "function") return "a function";
  return typeof v === "object" ? "an object" : typeof v;
}

/** true for a plain options object (not null, an array, a Map, a string) */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Map);
}
