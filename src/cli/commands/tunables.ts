/**
 * `wsim tunables`: every tunable with its default on a machine, allowed values and help. On a
 * terminal a table that fits its width (one block per tunable when a table would not); on a
 * pipe plain tab-separated lines, one per tunable, for grep and cut; `--format json` the rows.
 */
import Table from "cli-table3";
import { loadMachine, type Machine } from "../../machine/machine.js";
import { Settings } from "../../machine/settings.js";
import { describeAllowed, TUNABLES } from "../../machine/tunables.js";
import { Engine } from "../../engine/engine.js";
import { writeStdout } from "../output.js";

/** One tunable as `wsim tunables` lists it. */
export interface TunableRow {
  key: string;
  /** the default on the machine (machine-derived ones, like vm.min_free_kbytes, resolved) */
  default: string | number;
  /** the values it takes, in words */
  allowed: string;
  scope: "global" | "memcg";
  /** false: accepted and recorded, but nothing in the model reacts to it yet */
  modelled: boolean;
  help: string;
}

/** The rows of every tunable, with its default on `machine` (a preset name or JSON file). */
export function tunableRows(machine: Machine): TunableRow[] {
  const settings = new Settings(machine);
  for (const [k, v] of Object.entries(machine.tunables)) settings.set(k, v);
  new Engine(settings); // resolves machine-derived defaults (min_free_kbytes)
  return TUNABLES.map((t) => ({
    key: t.key,
    default: t.type === "limit" ? String(t.def) : t.scope === "memcg" ? (t.key.endsWith("refresh_interval") ? "N<id>=0" : "(empty)") : settings.get(t.key),
    allowed: describeAllowed(t, machine),
    scope: t.scope ?? "global",
    modelled: t.modelled,
    help: t.help,
  }));
}

/** Tab-separated: key, default, allowed, `not modelled yet` or nothing, help; one line each. */
export function renderTunablesTsv(rows: readonly TunableRow[]): string {
  return rows.map((r) => [r.key, r.default, r.allowed, r.modelled ? "" : "not modelled yet", r.help].join("\t")).join("\n") + "\n";
}

/** the help column's narrowest width in a table; below it each tunable gets a block */
const MIN_HELP = 40;
/** the allowed column's width in a table (it wraps) */
const ALLOWED = 24;

/**
 * The listing for a terminal `width` columns wide: a borderless table (tunable, default,
 * allowed, help; the last two wrapped) when the help column gets at least 40 columns, else a
 * block per tunable (`key = default`, then allowed values and help indented). No line is
 * longer than `width` (for width >= 40). `color` bolds the header.
 */
export function renderTunablesTable(rows: readonly TunableRow[], machineName: string, width: number, color = false): string {
  const help = (r: TunableRow) => (r.modelled ? "" : "[not modelled yet] ") + r.help;
  const title = wrap(`Tunables and their defaults on machine ${machineName}:`, width, "").join("\n") + "\n\n";
  const keyW = Math.max(...rows.map((r) => r.key.length)) + 2;
  const defW = Math.max(7, ...rows.map((r) => String(r.default).length)) + 2;
  const helpW = width - keyW - defW - (ALLOWED + 2);
  if (helpW >= MIN_HELP) {
    const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[22m` : s);
    const t = new Table({
      head: ["tunable", "default", "allowed", "help"].map(bold),
      colWidths: [keyW, defW, ALLOWED + 2, helpW],
      wordWrap: true,
      chars: NO_BORDER,
      style: { "padding-left": 0, "padding-right": 2, head: [], border: [], compact: true },
    });
    for (const r of rows) t.push([r.key, String(r.default), r.allowed, help(r)]);
    return title + t.toString().split("\n").map((l) => l.trimEnd()).join("\n") + "\n";
  }
  const blocks = rows.map((r) =>
    [...wrap(`${r.key} = ${r.default}`, width, ""), ...wrap(`allowed: ${r.allowed}`, width, "    "), ...wrap(help(r), width, "    ")].join("\n"),
  );
  return title + blocks.join("\n\n") + "\n";
}

export async function tunablesCommand(o: { machine: string; format?: string }): Promise<void> {
  const machine = loadMachine(o.machine);
  const rows = tunableRows(machine);
  if (o.format === "json") return writeStdout(JSON.stringify(rows, null, 2) + "\n");
  if (o.format === "tsv" || (o.format === undefined && !process.stdout.isTTY)) return writeStdout(renderTunablesTsv(rows));
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb";
  return writeStdout(renderTunablesTable(rows, machine.name, terminalWidth(), color));
}

// --- internal ---

/** the terminal's columns; on a pipe (--format table) $COLUMNS, else 80 */
function terminalWidth(): number {
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : 80;
}

/** Words of `text` in lines of at most `width` columns, each starting with `indent`; a word longer than a line is cut. */
function wrap(text: string, width: number, indent: string): string[] {
  const room = Math.max(10, width - indent.length);
  const lines: string[] = [];
  let line = "";
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while (word.length > room) {
      if (line) lines.push(line);
      lines.push(word.slice(0, room));
      word = word.slice(room);
      line = "";
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= room) line += " " + word;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l);
}

const NO_BORDER = {
  top: "", "top-mid": "", "top-left": "", "top-right": "",
  bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
  left: "", "left-mid": "", mid: "", "mid-mid": "", right: "", "right-mid": "", middle: "",
};
