/**
 * The live values of every tunable: defaults from the table (some depend on the machine or
 * on other tunables), then the machine's own, the trace's, `--set`, and `set` events at
 * their time. Keys a user wrote are "explicit": derived defaults never overwrite them.
 * memory.* tunables are per memcg and per node (`N0=...` writes).
 */
import type { Machine } from "./machine.js";
import { defaultOf, parseValue, TUNABLES, TUNABLE_BY_KEY, type TunableValue } from "./tunables.js";

export class Settings {
  private readonly vals = new Map<string, TunableValue>();
  private readonly explicit = new Set<string>();
  /** memcg -> key -> node -> normalised `N<id>=...` text */
  readonly memcg = new Map<string, Map<string, Map<number, string>>>();
  /**
   * where the machine came from, for hints in errors about it: the trace's format (so a hint
   * names the way that format names a machine) and, when --machine overrode a machine the
   * trace names, that machine's name
   */
  machineOrigin: { format?: "csv" | "ndjson" | "json" | "wtrace"; overrode?: string; named?: boolean } = {};
  /** called after a value changes (not for memory.* keys) */
  onChange: ((key: string) => void) | null = null;

  constructor(readonly machine: Machine) {
    for (const t of TUNABLES) if (t.scope !== "memcg") this.vals.set(t.key, defaultOf(t, machine, this.vals));
  }

  get(key: string): TunableValue {
    const v = this.vals.get(key);
    if (v === undefined) throw new Error(`no tunable ${key}`);
    return v;
  }

  num(key: string): number {
    return this.get(key) as number;
  }

  str(key: string): string {
    return this.get(key) as string;
  }

  isExplicit(key: string): boolean {
    return this.explicit.has(key);
  }

  /** Writes so far (set), successful or not: what a cached decision on tunables checks. */
  version = 0;

  /** Sets a value computed by the model (e.g. min_free_kbytes) unless the user wrote one. */
  setDerived(key: string, v: TunableValue): void {
    if (!this.explicit.has(key)) this.vals.set(key, v);
  }

  /** Writes a tunable as a user would. Throws Error (message names key and allowed values). */
  set(key: string, raw: TunableValue, cg = "/"): TunableValue {
    const v = parseValue(key, raw, this.machine);
    this.version++;
    const t = TUNABLE_BY_KEY.get(key)!;
    if (t.scope === "memcg") {
      if (t.type === "limit") {
        // a cgroup v2 memory.* file: one value per memcg (kept as node 0's)
        if (cg === "/") throw new Error(`${key}: the root memcg has no ${key} file (cgroup v2): give the memcg (cg)`);
        let byKey = this.memcg.get(cg);
        if (!byKey) this.memcg.set(cg, (byKey = new Map()));
        byKey.set(key, new Map([[0, String(v)]]));
        return v;
      }
      const m = /^N(\d+)=(.*)$/.exec(String(v))!;
      let byKey = this.memcg.get(cg);
      if (!byKey) this.memcg.set(cg, (byKey = new Map()));
      let byNode = byKey.get(key);
      if (!byNode) byKey.set(key, (byNode = new Map()));
      byNode.set(Number(m[1]), String(v));
      return v;
    }
    this.vals.set(key, v);
    this.explicit.add(key);
    // re-derive defaults that depend on others
    for (const d of TUNABLES)
      if (typeof d.def === "function" && d.scope !== "memcg" && !this.explicit.has(d.key) && d.key !== "vm.min_free_kbytes")
        this.vals.set(d.key, d.def(this.machine, this.vals));
    this.onChange?.(key);
    return v;
  }

  /** The text a read of the tunable's file shows. */
  readText(key: string, cg = "/"): string {
    const t = TUNABLE_BY_KEY.get(key);
    if (!t) throw new Error(`unknown tunable "${key}"`);
    if (t.type === "limit") return `${this.memcg.get(cg)?.get(key)?.get(0) ?? (cg === "/" ? "" : String(t.def))}\n`;
    if (t.scope === "memcg") {
      const byNode = this.memcg.get(cg)?.get(key);
      // refresh_interval shows every node; the interval lists only the nodes that have some
      const parts = this.machine.nodes.flatMap((n) => {
        const s = byNode?.get(n.id);
        if (key.endsWith("refresh_interval")) return [s ?? `N${n.id}=0`];
        return s && !s.endsWith("=") ? [s] : [];
      });
      return parts.map((p) => p + " ").join("") + "\n";
    }
    const v = this.get(key);
    if (key.startsWith("transparent_hugepage.") && t.values)
      return t.values.map((x) => (x === v ? `[${x}]` : x)).join(" ") + "\n";
    return `${v}\n`;
  }

  /** Every global tunable's value, in table order, plus memcg ones that were written. */
  resolved(): Record<string, TunableValue | Record<string, string>> {
    const out: Record<string, TunableValue | Record<string, string>> = {};
    for (const t of TUNABLES) {
      if (t.scope === "memcg") {
        const per: Record<string, string> = {};
        for (const [cg, byKey] of [...this.memcg].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
          const byNode = byKey.get(t.key);
          if (byNode) per[cg] = [...byNode.values()].join(" ");
        }
        out[t.key] = per;
      } else out[t.key] = this.vals.get(t.key)!;
    }
    return out;
  }
}
