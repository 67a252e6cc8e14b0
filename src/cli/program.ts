/**
 * The command line: declares commands and options, nothing else. Each action loads its
 * command lazily. Options list their defaults in --help.
 */
import { Command, Option, type AddHelpTextContext } from "commander";
import { PRESETS } from "../machine/machine.js";
import { TUNABLES } from "../machine/tunables.js";
import { GENERATORS } from "../generate/generators.js";
import { UsageError } from "../errors.js";
import { WSIM_VERSION } from "../version.js";

const collect = (v: string, prev: string[]) => [...prev, v];
/** `wsim plot` kinds (charts.ts's CHART_KINDS, repeated here so that help loads no chart code) */
const PLOT_KINDS = ["counters", "free-heatmap", "pageblocks", "page-age", "promotion", "promotion-latency", "runs", "compare"];

/**
 * Help text after the options, written as paragraphs with no line break inside one: wrapped
 * when shown to the width commander wraps the rest of the help to (the terminal's, else 80).
 */
export const paragraphs = (text: string) => (ctx: AddHelpTextContext) => {
  const out = ctx.command.configureOutput();
  const width = (ctx.error ? out.getErrHelpWidth?.() : out.getOutHelpWidth?.()) ?? 80;
  return ctx.command.createHelp().boxWrap(text, width);
};
/** The options of cmd given on the command line (not defaults): for "does nothing" checks. */
function givenOptions(cmd: Command): string[] {
  return Object.keys(cmd.opts()).filter((k) => cmd.getOptionValueSource(k) === "cli");
}

/** `setExitCode` lets a command end with 1 (a difference beyond tolerance) without throwing. */
export function createProgram(setExitCode: (code: number) => void = () => {}): Command {
  const program = new Command("wsim")
    .description(
      "Replays page-access and allocation traces through a deterministic model of Linux memory " +
        "management and prints what the kernel would have counted.",
    )
    .version(WSIM_VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  program
    .command("replay")
    .description("replay a trace (CSV, NDJSON or JSON; .gz read transparently; - for stdin)")
    .argument("<trace>", "trace file, or - for standard input")
    .option("-m, --machine <name|file>", `machine preset (${Object.keys(PRESETS).join(", ")}), JSON file or a saved /proc/zoneinfo; default: the trace's own, else default`)
    .option("-s, --set <key=value>", "set a tunable (repeatable); see `wsim tunables`", collect, [])
    .option("--plugin <file.mjs>", "load a plug-in module (repeatable): daemons, observe hooks, policy replacements; see the README's \"Write your own policy\"", collect, [])
    .option("--start-state <dir>", "start from a real machine's free memory: DIR holds buddyinfo and pagetypeinfo (and zoneinfo, then the machine unless --machine is given, and lru_gen, a copy of /sys/kernel/debug/lru_gen: the generations of the used pages) copied from its /proc, under these names; see the README's \"Start from a real machine's state\"")
    .option("--zones <layout>", "the machine's zones: x86 (DMA, DMA32, Normal as a QEMU x86-64 guest of that size has them: every preset's) or flat (one Normal zone per node: a machine file's default); overrides the machine's \"zones\"")
    .addOption(
      new Option("-f, --format <format>", "output: text (default on a terminal), vmstat (default on a pipe), json; with --interval also csv, ndjson (streamed)").choices([
        "text", "vmstat", "json", "csv", "ndjson",
      ]),
    )
    .option("--interval <ms>", "sample every counter (and free/reported blocks per order) every MS of virtual time: JSON \"series\", or --format csv/ndjson")
    .option("-o, --output <file>", "write the output to FILE, whole or not at all; its extension names the format (any case, optionally + .gz): .json, .txt (text), .vmstat, .csv, .ndjson or .jsonl; no extension: vmstat; another extension: usage error")
    .option("--until <ms>", "stop at this virtual time, ignoring later events")
    .option("--drain <ms>", "let daemons run this many ms after the last event", "0")
    // replay has nothing random: --seed is refused with a message (not "unknown option")
    .addOption(new Option("--seed <n>").hideHelp())
    .option("--check", "after every event check the allocator's invariants and that page tables, reverse map and LRU agree (slow: O(pages) each)")
    .option("--lenient", "count and skip frees of unknown or failed handles instead of failing")
    .option("--closed-loop", "a pid's stalls (direct reclaim, direct compaction: docs/costs.md) push its later events back by the stall; JSON \"closed_loop\" has the delay per pid (default: open loop, trace times are kept)")
    .option("--no-idle-jumps", "tick every daemon through idle virtual time instead of skipping it (slow; gives the same output byte for byte: for checking that)")
    .addOption(new Option("--input-format <format>", "trace format when the file name does not say").choices(["csv", "ndjson", "json"]))
    .option("--expect <file>", "compare the run's counters with FILE (a JSON or vmstat output) as `wsim diff` does; exit 1 outside tolerance")
    .option("--tolerance <spec>", "with --expect: 2% or an absolute number globally, or counter=tol,... (repeatable)", collect, [])
    .option("--only <glob>", "with --expect: compare only counters matching (repeatable)", collect, [])
    .option("--ignore <glob>", "with --expect: skip counters matching (repeatable)", collect, [])
    .addOption(new Option("--csv-parser <parser>", "CSV parser: the fast byte scanner or csv-parse for everything").choices(["fast", "csv-parse"]).default("fast"))
    .option("--no-worker", "parse the trace on the main thread (default: a CSV or NDJSON file of 4 MiB or more is parsed in a worker thread when there are 2+ CPUs; WSIM_WORKER=0 turns it off too, WSIM_WORKER=1 forces it)")
    .option("--report <file.html>", "also write an HTML report of the run (charts; see `wsim report`), whole or not at all; with --interval it has the counters over time")
    .option("--pageblock-map", "keep every pageblock's migratetype and free pages at the end (JSON \"pageblock_map\", the report's pageblock map); implied by --report")
    .option("--pageblock-map-at <ms,...>", "also keep the map at these times (each at the first --interval sample at or after it; JSON \"pageblock_snapshots\"); needs --interval")
    .option("-q, --quiet", "do not print the notes on standard error (e.g. regions NUMA balancing did not scan)")
    .addHelpText(
      "after",
      paragraphs(
        `\nTunables for --set (defaults on the default machine; \`wsim tunables\` shows allowed values):\n` +
          TUNABLES.map((t) => `  ${t.key}${t.modelled ? "" : " (not modelled yet)"}`).join("\n") +
          `\n\nExit codes: 0 ok, 2 usage error, 3 bad input data (file:line: message).`,
      ),
    )
    .action(async (trace: string, opts) => {
      const { replayCommand } = await import("./commands/replay.js");
      setExitCode(await replayCommand(trace, opts));
    });

  const deltaFlags = new Set<string>();
  program
    .command("diff")
    .description("compare two runs counter by counter: JSON or vmstat outputs, or traces (replayed); or a kernel's vmstat deltas (--delta BEFORE AFTER [REPLAY])")
    .argument("<a>", "the baseline: a JSON or vmstat output, or a trace; - reads standard input")
    .argument("<b>", "the run to check (- for standard input, if A is not)")
    .argument("[replay]", "with --delta: a run (JSON or vmstat output, or a trace) whose counters are compared with AFTER - BEFORE")
    .option("--delta", "A and B are BEFORE and AFTER /proc/vmstat snapshots of one kernel: print AFTER - BEFORE per counter (gauges marked), or compare it with REPLAY; detected when both are raw /proc/vmstat")
    .option("--no-delta", "compare two raw /proc/vmstat files as two runs")
    .option("-t, --tolerance <spec>", "2% or an absolute number globally, or counter=tol,... per counter (repeatable); none: any difference counts", collect, [])
    .option("--only <glob>", "compare only counters matching GLOB (* and ?; repeatable)", collect, [])
    .option("--ignore <glob>", "skip counters matching GLOB (repeatable)", collect, [])
    .addOption(new Option("-f, --format <format>", "table or json").choices(["table", "json"]))
    .option("-m, --machine <name|file>", "machine for traces given as A or B")
    .option("-s, --set <key=value>", "tunables for traces given as A or B (repeatable)", collect, [])
    .option("--plugin <file.mjs>", "plug-in modules for traces given as A or B (repeatable)", collect, [])
    .addHelpText("after", paragraphs("\nExit codes: 0 within tolerance, 1 outside, 2 usage error, 3 unreadable input."))
    .on("option:delta", () => deltaFlags.add("--delta"))
    .on("option:no-delta", () => deltaFlags.add("--no-delta"))
    .action(async (a: string, b: string, replay: string | undefined, opts) => {
      // both set one value (the last given wins in commander): say they conflict instead
      if (deltaFlags.size === 2) throw new UsageError("--delta and --no-delta conflict: --delta takes A and B as BEFORE and AFTER /proc/vmstat snapshots, --no-delta compares them as two runs; give one");
      const { diffCommand } = await import("./commands/diff.js");
      setExitCode(await diffCommand(a, b, opts, replay));
    });

  program
    .command("report")
    .description("write runs (wsim replay --format json outputs) as one self-contained HTML report with charts")
    .argument("<run...>", "runs' JSON (optionally .gz; - for standard input, once): several are overlaid and diffed; one `wsim compare --format json` output may be added")
    .option("-o, --output <file.html>", "the report (required; - for standard output), written whole or not at all")
    .addHelpText(
      "after",
      paragraphs(
        "\nSections, each when the runs have the data: counters over time (--interval), free memory per order (heatmap), " +
          "pageblock map (--pageblock-map), page age (kernel view and exact), promotion, several runs overlaid with a diff table, " +
          "wsim beside the kernel (compare output). Charts by Apache ECharts, inlined: the file needs no network.\n\n" +
          "Exit codes: 0 ok, 2 usage error, 3 bad input data (not a wsim run).",
      ),
    )
    .action(async (runs: string[], opts) => {
      const { reportCommand } = await import("./commands/report.js");
      await reportCommand(runs, opts);
    });

  program
    .command("plot")
    .description("draw one chart of a run as SVG, without a browser: " + PLOT_KINDS.join(", "))
    .argument("<kind>", `what to draw: ${PLOT_KINDS.join(", ")}`)
    .argument("<run...>", "runs' JSON (wsim replay --format json; - for standard input, once), or a wsim compare --format json output for compare")
    .option("-o, --output <file.svg>", "the SVG (required; - for standard output), written whole or not at all")
    .option("--chart <id>", "which chart when the runs have several of KIND (e.g. counters:compaction, free-heatmap:n1); default the first; a wrong id lists them")
    .addHelpText("after", paragraphs("\nExit codes: 0 ok, 2 usage error (unknown KIND or --chart), 3 bad input data (not a wsim run, or no data for KIND)."))
    .action(async (kind: string, runs: string[], opts) => {
      const { plotCommand } = await import("./commands/report.js");
      await plotCommand(kind, runs, opts);
    });

  const sweep = program
    .command("sweep")
    .description("many independent replays from one spec (traces, machines, a grid or list of --set values): plan them, run them on this machine's cores, merge the outputs into one table")
    .addHelpText(
      "after",
      paragraphs(
        '\nSPEC (JSON, or YAML named .yaml/.yml): {"traces": ["traces/*.csv"], "machines": ["small128.machine.json", "numa2"], ' +
          '"grid": {"vm.compaction_proactiveness": [0, 20, 40]}, "list": [{...}], "set": {...}, "exclude": [{...}], "replay": {"drain": 1000}}; ' +
          "paths are relative to the spec's directory. GNU parallel: wsim sweep plan SPEC --emit parallel -o jobs.txt, then " +
          "parallel -a jobs.txt (--sshloginfile hosts for other machines). Kubernetes: wsim sweep plan SPEC --emit k8s -o job.yaml. " +
          "Then, whatever ran the jobs: wsim sweep merge OUT.",
      ),
    );
  sweep
    .command("plan")
    .description("print the jobs, one line each: its id and the exact wsim replay command (run in the spec's directory); or a job file for GNU parallel, or a Kubernetes Indexed Job")
    .argument("<spec>", "the sweep's spec (JSON or YAML; - reads standard input, its paths relative to the current directory)")
    .addOption(new Option("--emit <what>", "plan (the job list), parallel (GNU parallel's job file: a `wsim sweep run SPEC --index I --job ID` a line), k8s (an Indexed Job manifest; its pods pass --plan-hash); emit again after any change to the spec or to the files its globs match").choices(["plan", "parallel", "k8s"]).default("plan"))
    .addOption(new Option("-f, --format <format>", "the plan as text (ID<TAB>command) or json (default: from -o's extension, else text)").choices(["text", "json"]))
    .option("-o, --output <file>", "write it to FILE, whole or not at all (default: standard output); its extension names the format: .txt or .json, with --emit parallel .txt, with --emit k8s .yaml/.yml (YAML) or .json (JSON)")
    .option("--wsim <cmd>", "how the commands call wsim (default: this wsim's bin/wsim, absolute; with --emit parallel over ssh, where it is installed on the hosts)")
    .option("--out <dir>", "with --emit parallel: the output directory in the commands (default: SPEC's name + .out, beside it)")
    .option("--retry <n>", "with --emit parallel or k8s: the commands' --retry")
    .option("--image <image>", "with --emit k8s: the container image (built from wsim's Dockerfile), pushed to a registry the cluster pulls from; the default, for an image loaded into kind or minikube, gets imagePullPolicy IfNotPresent", "wsim:latest")
    .option("--claim <name>", "with --emit k8s: the ReadWriteMany PersistentVolumeClaim holding the spec, its files and the outputs", "wsim-sweep")
    .option("--parallelism <n>", "with --emit k8s: pods at a time", "10")
    .addHelpText("after", paragraphs("\nExit codes: 0 ok, 2 usage error, 3 bad spec (SPEC:line: what is wrong)."))
    .action(async (spec: string, opts, cmd: Command) => {
      const { sweepPlanCommand } = await import("./commands/sweep.js");
      await sweepPlanCommand(spec, { ...opts, given: givenOptions(cmd) });
    });
  sweep
    .command("run")
    .description("run the jobs on this machine's cores, one JSON per job written whole into OUT; jobs whose output is there for the same inputs are skipped (resumable after a crash or Ctrl-C)")
    .argument("<spec>", "the sweep's spec (JSON or YAML; - reads standard input, with --out)")
    .option("--out <dir>", "the output directory: ID.json per job, ID.failed.json per failed job (default: SPEC's name + .out, beside it)")
    .option("-j, --jobs <n>", "replays at a time (default: this machine's cores)")
    .option("--index <i>", "run only job I (0-based, in plan order): for GNU parallel's and Kubernetes' job files")
    .option("--job <id>", "with --index: refuse (exit 2) unless job I is this id: the spec changed since the job file was emitted")
    .option("--plan-hash <h>", "with --index: refuse (exit 2) unless the plan's job ids hash to H (--emit k8s passes it)")
    .option("--retry <n>", "run a job again up to N times when it crashes (exit 70, a wsim bug); other failures are recorded at once", "0")
    .option("--force", "run every job, even those whose output is up to date")
    .addHelpText(
      "after",
      paragraphs(
        "\nA job's output is its wsim replay --format json output plus a \"sweep\" record of its inputs (id, the trace's and machine file's sha256, wsim's version); " +
          "a job is skipped when its output records the same. A failed job leaves ID.failed.json (exit code, stderr's last line) and the others go on.\n\n" +
          "Exit codes: 0 every job ran or was up to date, 1 some job failed, 2 usage error, 3 bad spec, 130/143 interrupted (SIGINT/SIGTERM).",
      ),
    )
    .action(async (spec: string, opts) => {
      const { sweepRunCommand } = await import("./commands/sweep.js");
      setExitCode(await sweepRunCommand(spec, opts));
    });
  sweep
    .command("merge")
    .description("one table (CSV or JSON) of chosen counters per job from a sweep's output directory, failed jobs with their exit code and error; --html overlays the runs in one report")
    .argument("<dir>", "the output directory of wsim sweep run (or of GNU parallel's or Kubernetes' runs)")
    .option("--counters <globs>", "counters to tabulate, comma-separated globs (repeatable; as wsim diff --only); default: those that differ between jobs", collect, [])
    .addOption(new Option("-f, --format <format>", "csv or json (default: from -o's extension, else csv)").choices(["csv", "json"]))
    .option("-o, --output <file>", "write the table to FILE, whole or not at all (default: standard output); .csv or .json names the format")
    .option("--html <file.html>", "also write a report of the jobs' runs overlaid (as wsim report)")
    .option("--spec <spec>", "keep only this spec's current jobs, in its plan order (outputs of jobs it no longer has are left out; without it a directory holding several specs' outputs is warned about)")
    .addHelpText("after", paragraphs("\nExit codes: 0 ok, 2 usage error, 3 unreadable outputs."))
    .action(async (dir: string, opts) => {
      const { sweepMergeCommand } = await import("./commands/sweep.js");
      await sweepMergeCommand(dir, opts);
    });

  program
    .command("convert")
    .description("convert a trace between CSV, NDJSON and JSON, or import lackey, ucsd, lirs, damon or libcachesim traces, the kmem page events of ftrace, trace-cmd report or perf script text, or perf mem samples with data addresses (perf script, perf mem report -D; sampled: each row stands for its sample's period)")
    .argument("<in>", "input (- for standard input; gzip read transparently)")
    .argument("<out>", "output: .csv, .ndjson/.jsonl or .json, each optionally .gz (gzipped: out.csv.gz), or .wtrace (binary, also .gz) (- for CSV on standard output)")
    .addOption(new Option("--to <format>", "the output's format, whatever its name says (- included)").choices(["csv", "ndjson", "json", "wtrace"]))
    .addOption(new Option("--from <format>", "the input's format, if sniffing it fails").choices(["lackey", "ucsd", "lirs", "damon", "libcachesim", "ftrace", "perf-mem"]))
    .option("--refs-per-ms <n>", "lackey, lirs, perf-mem (perf mem report -D, which has no time): references per ms of virtual time", "1000")
    .option("--instr-per-ms <n>", "ucsd: instructions per ms of virtual time", "1000")
    .option("--instructions", "lackey: keep instruction fetches (as reads)")
    .option("--pid <n>", "lackey, ucsd, lirs, damon, libcachesim: the process the accesses belong to (perf-mem keeps each sample's pid; ftrace's kernel allocations have none)", "1")
    .addOption(new Option("--time-unit <unit>", "libcachesim: the unit of its time column").choices(["s", "ms", "us", "ns"]).default("s"))
    .option("-q, --quiet", "do not print the notes: an importer's mapping and what it skipped, a document's tunables written as set events (a machine OUT cannot carry is still reported)")
    .action(async (input: string, output: string, opts, cmd: Command) => {
      const { convertCommand } = await import("./commands/convert.js");
      await convertCommand(input, output, { ...opts, given: givenOptions(cmd) });
    });

  program
    .command("stat")
    .description("summarise a trace: events per op, processes, duration, distinct pages, footprint, reuse; for kernel trace text (ftrace, trace-cmd report, perf script of the kmem page events), perf kmem stat --page's summary")
    .argument("<trace>", "trace file, or - for standard input")
    .addOption(new Option("-f, --format <format>", "text or json").choices(["text", "json"]))
    .addOption(new Option("--input-format <format>", "trace format when the file name does not say").choices(["csv", "ndjson", "json"]))
    .option("--replay <run>", "kernel trace only: set a replay's counters beside the events the trace observed (a run's JSON or vmstat output, or a trace, replayed with --machine/--set), e.g. mm_page_alloc_extfrag beside wsim_extfrag_fallbacks")
    .option("-m, --machine <name|file>", "with --replay TRACE: the machine to replay it on", undefined)
    .option("-s, --set <key=value>", "with --replay TRACE: set a tunable (repeatable)", collect, [])
    .option("--plugin <file.mjs>", "with --replay TRACE: load a plug-in module (repeatable)", collect, [])
    .action(async (trace: string, opts) => {
      const { statCommand } = await import("./commands/stat.js");
      await statCommand(trace, opts);
    });

  const gen = program
    .command("generate")
    .description("write a seeded synthetic trace: " + Object.keys(GENERATORS).join(", "));
  for (const spec of Object.values(GENERATORS)) {
    const c = gen
      .command(spec.kind)
      .description(spec.help)
      .option("--seed <n>", spec.seeded ? "seed of the generator" : "(none: this generator draws no random number)", spec.seeded ? "1" : undefined)
      .addOption(new Option("-f, --format <format>", "csv or ndjson").choices(["csv", "ndjson"]).default("csv"))
      .option("-o, --output <file>", "write the trace to FILE whole (default: stream to standard output)");
    for (const [k, [def, help]] of Object.entries(spec.options)) c.option(`--${k.replace(/_/g, "-")} <n>`, help, String(def));
    c.action(async (opts, cmd: Command) => {
      const { generateCommand } = await import("./commands/generate.js");
      await generateCommand(spec.kind, { ...opts, formatGiven: givenOptions(cmd).includes("format") ? "1" : undefined });
    });
  }

  program
    .command("tunables")
    .description("list every tunable with its default, allowed values and help")
    .option("-m, --machine <name|file>", "machine whose defaults to show", "default")
    .addOption(new Option("-f, --format <format>", "table (terminal), tsv (pipe) or json").choices(["table", "tsv", "json"]))
    .action(async (opts) => {
      const { tunablesCommand } = await import("./commands/tunables.js");
      await tunablesCommand(opts);
    });

  /** options `wsim kernel` and `wsim compare` share */
  const guestOptions = (c: Command) =>
    c
      .argument("<trace>", "trace file, or - for standard input")
      .option("--kernel <bzImage>", "kernel to boot (e.g. your patched build); default: Debian's 6.1 cloud kernel, fetched with apt-get once and cached in ~/.cache/wsim")
      .option("--mem <size>", "guest memory of node 0", "256M")
      .option("--numa <size>", "add a memory-only NUMA node of SIZE (repeatable), a lower tier for promotion traces", collect, [])
      .option("--swap <size>", "size of the guest's swap disk, 0 for none (default: twice the guest's memory, as wsim's machines default to twice theirs)")
      .addOption(new Option("--lru <lru>", "the guest's LRU: mglru turns multi-gen LRU on; classic keeps the kernel's boot choice; default: as the replay, mglru unless lru_gen.enabled=0, which turns MGLRU off (the two-list LRU)").choices(["mglru", "classic"]))
      .option("--no-kalloc", "do not build and load wsim_kalloc.ko; the trace's alloc/free events are then skipped (counted)")
      .option("--fill-dma", "have wsim_kalloc take ZONE_DMA's free pages before the first snapshot: 6.1 counts a node balanced when any zone is, and free order-9 blocks in DMA would make the guest's node unlike wsim's one zone")
      .option("--append <params>", "add kernel command-line parameters, e.g. movablecore=128M or transparent_hugepage=never (repeatable)", collect, [])
      .option("--timeout <s>", "give up on the guest after S seconds", "600")
      .option("--max-gap <ms>", "sleep at most MS for one gap between events; the rest is skipped and reported", "10000")
      .option("--keep", "keep the initramfs, the script and the guest's console log, and print where")
      .option("-m, --machine <name|file>", "machine whose tunables to apply (the guest's memory is --mem/--numa)")
      .option("-s, --set <key=value>", "set a tunable (repeatable); those with a sysctl/sysfs file are written in the guest", collect, [])
      .option("-o, --output <file>", "write the output to FILE, whole or not at all")
      .addOption(new Option("--input-format <format>", "trace format when the file name does not say").choices(["csv", "ndjson", "json"]))
      .addHelpText(
        "after",
        paragraphs(
          "\nNeeds qemu-system-x86_64 (Debian: qemu-system-x86), gcc and a static libc (gcc, libc6-dev), " +
            "and apt-get for the default kernel. Runs under TCG (no KVM). Kernel allocations (alloc/free) " +
            "are made by a small module, wsim_kalloc, built with make against the default kernel's headers " +
            "(fetched with apt-get once). A trace with file I/O (fread, fwrite...) gets an ext4 data disk made with " +
            "mke2fs (Debian: e2fsprogs). Memcg files and wsim-only tunables cannot be replayed: they are " +
            "counted and reported on stderr and in the JSON's kernel.unsupported.\n\n" +
            "Exit codes: 0 ok, 2 usage error, 3 bad input data, 69 the guest could not run (something to " +
            "install is missing, or the guest panicked or did not finish: the message says which).",
        ),
      );

  guestOptions(program.command("kernel"))
    .description("replay a trace on a real Linux kernel in QEMU; print its counters (changes during the replay)")
    .addOption(new Option("-f, --format <format>", "vmstat, or json in the shape of `wsim replay --format json`").choices(["vmstat", "json"]))
    .option("--events <list>", "record these tracepoints in the guest during the replay: comma-separated SYSTEM:EVENT or SYSTEM (default with --events-out: kmem's mm_page_alloc, mm_page_free, mm_page_free_batched and mm_page_alloc_extfrag)")
    .option("--events-out <file>", "write the recorded events there as the guest's trace_pipe printed them (- for standard output when -o takes the counters); `wsim convert` reads it")
    .option("--events-buffer <size>", "the guest's trace ring buffer (tracefs buffer_size_kb; the guest has one CPU); it comes out of the guest's memory; when it is full the newest events are dropped and counted", "8M")
    .action(async (trace: string, opts) => {
      const { kernelCommand } = await import("./commands/kernel.js");
      setExitCode(await kernelCommand(trace, opts));
    });

  guestOptions(program.command("compare"))
    .description("replay a trace on a real kernel and in wsim (started from the guest's boot state: its zones, free blocks and used pages); print counters side by side")
    .addOption(new Option("-f, --format <format>", "table, or json: {wsim, kernel, rows, pageblock_changes} (and kernel_runs with --runs)").choices(["table", "json"]))
    .option("--all", "list every counter, not only those that moved")
    .option("--runs <n>", "boot the kernel N times and show its range (its counters vary from boot to boot); wsim runs once", "1")
    .addOption(
      new Option("--start <state>", "wsim's start: boot = the first guest's boot zoneinfo, buddyinfo, pagetypeinfo and lru_gen (its zones, free blocks and used pages, as --start-state; the used ones in use: wsim.boot_in_use=100 unless --set gives it); free = only the guest's free pages, as zones of their own")
        .choices(["boot", "free"])
        .default("boot"),
    )
    .option("--kernel-runs <file>", "take the guest's runs from FILE, an earlier `wsim compare --format json` or `wsim kernel --format json` of the same trace (no QEMU): re-check a changed model against saved guests")
    .addOption(
      new Option("--pace <clock>", "when wsim's events run: guest = as late as the guest ran them (event k at its trace time + k × the guest's time per event: its replay time less its sleeps, over the events; the median of the runs); trace = at the trace's times")
        .choices(["guest", "trace"])
        .default("guest"),
    )
    .addOption(
      new Option("--memcgs <where>", "wsim's memcgs: root = every pid in the root memcg, as the guest's helper runs them (the trace's cg dropped; set/read of other memcgs' memory.* files not replayed); trace = the trace's memcgs")
        .choices(["root", "trace"])
        .default("root"),
    )
    .action(async (trace: string, opts) => {
      const { compareCommand } = await import("./commands/kernel.js");
      setExitCode(await compareCommand(trace, opts));
    });

  return program;
}
