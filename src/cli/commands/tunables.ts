/** `wsim tunables`: every tunable with its default, allowed values and help. */
import Table from "cli-table3";
import { loadMachine } from "../../machine/machine.js";
import { Settings } from "../../machine/settings.js";
import { describeAllowed, TUNABLES } from "../../machine/tunables.js";
import { Engine } from "../../engine/engine.js";
import { writeStdout } from "../output.js";

export async function tunablesCommand(o: { machine: string; format?: string }): Promise<void> {
  const machine = loadMachine(o.machine);
  const settings = new Settings(machine);
  for (const [k, v] of Object.entries(machine.tunables)) settings.set(k, v);
  new Engine(settings); // resolves machine-derived defaults (min_free_kbytes)
  const rows = TUNABLES.map((t) => ({
    key: t.key,
    default: t.scope === "memcg" ? (t.key.endsWith("refresh_interval") ? "N<id>=0" : "(empty)") : settings.get(t.key),
    allowed: describeAllowed(t, machine),
    scope: t.scope ?? "global",
    modelled: t.modelled,
    help: t.help,
  }));
  if (o.format === "json") return writeStdout(JSON.stringify(rows, null, 2) + "\n");
  if (o.format === "tsv" || !process.stdout.isTTY) {
    return writeStdout(
      rows.map((r) => [r.key, r.default, r.allowed, r.modelled ? "" : "not modelled yet", r.help].join("\t")).join("\n") + "\n",
    );
  }
  const t = new Table({ head: ["tunable", `default (${machine.name})`, "allowed", "help"], colWidths: [36, 14, 30, 60], wordWrap: true });
  for (const r of rows) t.push([r.key, String(r.default), r.allowed, (r.modelled ? "" : "[not modelled yet] ") + r.help]);
  return writeStdout(t.toString() + "\n");
}
