/**
 * A sweep's spec (src/sweep/spec.ts): the grid's cartesian product, lists, exclusions, stable
 * job ids, YAML beside JSON, and `SPEC:line: what` for every mistake. Also merge's table and
 * run's retry of crashes (exit 70) only, with a stand-in for wsim.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { DataError } from "../../../src/errors.js";
import { mergeTable, readJobResults, tableCsv } from "../../../src/sweep/merge.js";
import { runJobs } from "../../../src/sweep/run.js";
import { expandJobs, jobId, readSpec } from "../../../src/sweep/spec.js";

const dir = mkdtempSync(join(tmpdir(), "wsim-sweep-spec-"));
mkdirSync(join(dir, "traces"));
for (const t of ["a.csv", "b.csv.gz", "notes.txt"]) writeFileSync(join(dir, "traces", t), "time_ms,op,pid,addr\n");
writeFileSync(join(dir, "m.machine.json"), '{"nodes": [{"id": 0, "mem": "64M"}]}');
const spec = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
/** the DataError message readSpec throws for this spec text */
const specError = (text: string, name = "bad.json") => {
  try {
    readSpec(spec(name, text));
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return (e as Error).message.replace(dir + "/", "");
  }
  throw new Error("no error");
};

const GRID = {
  traces: ["traces/*.csv", "traces/*.csv.gz"],
  machines: ["m.machine.json"],
  grid: { "vm.compaction_proactiveness": [0, 20, 40], "vm.watermark_scale_factor": [10, 50, 100, 200] },
};

describe("sweep spec: jobs", () => {
  it("a 3 × 4 grid over 2 traces is 24 jobs: traces, then the grid's first key outermost; ids stable and distinct", () => {
    const s = readSpec(spec("grid.json", JSON.stringify(GRID, null, 2)));
    const jobs = expandJobs(s);
    expect(jobs).toHaveLength(24);
    expect(new Set(jobs.map((j) => j.id)).size).toBe(24);
    expect(jobs.map((j) => j.index)).toEqual([...Array(24).keys()]);
    expect(jobs[0]!.args).toEqual(["traces/a.csv", "-m", "m.machine.json", "--set", "vm.compaction_proactiveness=0", "--set", "vm.watermark_scale_factor=10", "-f", "json"]);
    expect(jobs[5]!.set).toEqual([["vm.compaction_proactiveness", "20"], ["vm.watermark_scale_factor", "50"]]);
    expect(jobs[12]!.trace).toBe("traces/b.csv.gz");
    // pinned: the id is sha256 of the canonical inputs, the same on every machine and run
    expect(jobs[0]!.id).toBe(jobId("traces/a.csv", "m.machine.json", [["vm.watermark_scale_factor", "10"], ["vm.compaction_proactiveness", "0"]]));
    expect(jobs[0]!.id).toMatch(/^a-[0-9a-f]{12}$/);
    expect(jobs[0]!.id).toBe("a-7ba50fabb40d");
    // the same spec with its keys in another order, in YAML: the same ids
    const yaml = spec(
      "grid.yaml",
      "# the same sweep\nmachines: [m.machine.json]\ngrid:\n  vm.watermark_scale_factor: [10, 50, 100, 200]\n  vm.compaction_proactiveness: [0, 20, 40]\ntraces:\n  - traces/*.csv\n  - traces/*.csv.gz\n",
    );
    expect(new Set(expandJobs(readSpec(yaml)).map((j) => j.id))).toEqual(new Set(jobs.map((j) => j.id)));
  });

  it("list, set and exclude: the grid times the list, set on every job, a job dropped when every key of an exclusion matches", () => {
    const s = readSpec(
      spec(
        "list.json",
        JSON.stringify({
          traces: ["traces/a.csv", "./traces/b.csv.gz"],
          set: { "vm.swappiness": 100 },
          grid: { "vm.compaction_proactiveness": [0, 40] },
          list: [{ "transparent_hugepage.enabled": "always" }, { "transparent_hugepage.enabled": "never", "vm.watermark_scale_factor": 50 }],
          exclude: [{ "vm.compaction_proactiveness": 40, "transparent_hugepage.enabled": "never" }, { trace: "traces/*.gz" }],
          replay: { drain: 1000, lenient: true },
        }),
      ),
    );
    const jobs = expandJobs(s);
    expect(jobs.map((j) => j.set.map(([k, v]) => `${k}=${v}`).join(" "))).toEqual([
      "vm.swappiness=100 vm.compaction_proactiveness=0 transparent_hugepage.enabled=always",
      "vm.swappiness=100 vm.compaction_proactiveness=0 transparent_hugepage.enabled=never vm.watermark_scale_factor=50",
      "vm.swappiness=100 vm.compaction_proactiveness=40 transparent_hugepage.enabled=always",
    ]);
    expect(jobs[0]!.machine).toBeNull();
    expect(jobs[0]!.args.slice(-5)).toEqual(["--drain", "1000", "--lenient", "-f", "json"]);
  });

  it("mistakes are SPEC:line: what, at the value's line, in JSON and YAML", () => {
    expect(specError('{\n  "traces": ["traces/a.csv"],\n  "grdi": {}\n}')).toBe('bad.json:3: unknown key "grdi": a spec has name, description, traces, machines, set, grid, list, exclude, replay, plugins');
    expect(specError('{\n  "traces": ["traces/a.csv"],\n  "seeds": [1, 2]\n}')).toMatch(/^bad\.json:3: seeds: wsim replay has no --seed: nothing in the model is random/);
    expect(specError('{\n  "traces": ["traces/a.csv"],\n  "grid": {\n    "vm.compaction_proactivenes": [1]\n  }\n}')).toBe(
      'bad.json:4: unknown tunable "vm.compaction_proactivenes" (did you mean vm.compaction_proactiveness?); `wsim tunables` lists them all',
    );
    expect(specError('{"traces": ["traces/a.csv"],\n "grid": {"vm.compaction_proactiveness": [0,\n 101]}}')).toBe('bad.json:3: vm.compaction_proactiveness: expected an integer 0..100, got "101"');
    expect(specError('{"traces": [\n "traces/a.csv",\n "traces/*.ndjson"]}')).toMatch(/^bad\.json:3: traces: "traces\/\*\.ndjson" matches no file/);
    expect(specError('{"traces": ["traces/a.csv"], "machines": [\n"nope"]}')).toMatch(/^bad\.json:2: machine "nope" is no preset \(default, .*\) and no file beside the spec/);
    expect(specError('{"traces": ["traces/a.csv"],\n"grid": {"vm.swappiness": [1]},\n"exclude": [{"vm.swappiness": 1}]}')).toBe("bad.json:3: exclude: every job is excluded: the sweep has nothing to run");
    expect(specError('{"traces": ["traces/a.csv"],\n"set": {"vm.swappiness": 1},\n"grid": {"vm.swappiness": [1, 2]}}')).toBe('bad.json:3: grid vm.swappiness: also in "set": give each tunable in one place');
    expect(specError('{"traces": ["traces/a.csv"],\n"replay": {"interval": "soon"}}')).toBe('bad.json:2: replay.interval: expected a number of ms (like 1000 or 0.5, not in quotes), got "soon"');
    expect(specError('{"traces": ["traces/a.csv"],,}')).toMatch(/^bad\.json:1: invalid JSON/);
    expect(specError("traces: [traces/a.csv]\ngrid:\n  vm.swappiness: [1, x]\n", "bad.yaml")).toBe('bad.yaml:3: vm.swappiness: expected an integer 0..200, got "x"');
    expect(specError("traces: [traces/a.csv\ngrid: {", "bad2.yaml")).toMatch(/^bad2\.yaml:\d+: invalid YAML: /);
    expect(specError("{}")).toBe('bad.json:1: traces: missing: give the traces to replay, e.g. "traces": ["traces/*.csv"]');
  });
});

describe("sweep run's retries and merge's table (a stand-in for wsim)", () => {
  // prints a run's JSON; exits 70 (a crash) while ./crashes has a count left, 3 for a trace named bad*
  const fake = join(dir, "fake-wsim.mjs");
  writeFileSync(
    fake,
    `import { existsSync, readFileSync, writeFileSync } from "node:fs";
const trace = process.argv[3];
if (trace.includes("bad")) { process.stderr.write("first line\\n" + trace + ":2: unknown op \\"x\\"\\n"); process.exit(3); }
const left = existsSync("crashes") ? Number(readFileSync("crashes", "utf8")) : 0;
if (left > 0) { writeFileSync("crashes", String(left - 1)); process.stderr.write("wsim: internal error: boom\\n"); process.exit(70); }
process.stdout.write(JSON.stringify({ schema: 1, vmstat: { pgfault: trace.length, pgfree: 7 } }, null, 2) + "\\n");
`,
  );
  const sdir = join(dir, "fake");
  mkdirSync(sdir);
  for (const t of ["ok.csv", "bad.csv"]) writeFileSync(join(sdir, t), "time_ms,op\n");
  writeFileSync(join(sdir, "s.json"), JSON.stringify({ traces: ["bad.csv", "ok.csv"], set: { "vm.swappiness": 10 } }));
  const s = readSpec(join(sdir, "s.json"));

  it("exit 70 is retried --retry times; another failure is recorded at once, the other jobs go on", async () => {
    writeFileSync(join(sdir, "crashes"), "2");
    const jobs = expandJobs(s);
    const logs: string[] = [];
    const r1 = await runJobs(s, jobs, { out: join(sdir, "out1"), jobs: 1, retry: 1, bin: fake, log: (l) => logs.push(l) });
    // ok.csv crashed twice: one retry was not enough; bad.csv failed with exit 3, not retried
    expect([r1.ran, r1.failed]).toEqual([0, 2]);
    expect(logs.filter((l) => l.includes("retrying"))).toHaveLength(1);
    writeFileSync(join(sdir, "crashes"), "1");
    const r2 = await runJobs(s, jobs, { out: join(sdir, "out2"), jobs: 2, retry: 1, bin: fake });
    expect([r2.ran, r2.failed]).toEqual([1, 1]);
    const failed = JSON.parse(readFileSync(join(sdir, "out2", `${jobs[0]!.id}.failed.json`), "utf8"));
    expect(failed).toMatchObject({ exit_code: 3, signal: null, error: 'bad.csv:2: unknown op "x"', attempts: 1 });
    expect(readdirSync(join(sdir, "out2")).sort()).toEqual([`${jobs[0]!.id}.failed.json`, `${jobs[1]!.id}.json`].sort());
    // the table: the failed job with its exit code and error, the other with its counters
    const t = mergeTable(readJobResults(join(sdir, "out2")).results, ["pg*"]);
    expect(tableCsv(t)).toBe(
      "id,trace,machine,vm.swappiness,status,exit_code,error,pgfault,pgfree\n" +
        `${jobs[0]!.id},bad.csv,,10,failed,3,"bad.csv:2: unknown op ""x""",,\n` +
        `${jobs[1]!.id},ok.csv,,10,ok,0,,6,7\n`,
    );
  });
});

describe("sweep run's progress bar", () => {
  it("on a terminal only, after a second: jobs done of all, the note, the time left at this pace", async () => {
    const { Progress } = await import("../../../src/cli/progress.js");
    let t = 0;
    const pipe: string[] = [];
    new Progress({ isTTY: false, write: (s: string) => pipe.push(s) }, () => t).bar(1, 4, "", true);
    expect(pipe).toEqual([]);
    const tty: string[] = [];
    const p = new Progress({ isTTY: true, columns: 100, write: (s: string) => tty.push(s) }, () => t);
    t = 500;
    p.bar(1, 4, "2 running");
    expect(tty).toEqual([]);
    t = 3000;
    p.bar(1, 4, "1 failed, 2 running");
    expect(tty[0]).toMatch(/^\rwsim: \[#####---------------\] 1\/4 1 failed, 2 running, ~9 s left +$/);
  });
});

describe("sweep plan's outputs", () => {
  it("commands are shell-quoted; a spec elsewhere is run from its directory; the volume root holds the spec and every file it names", async () => {
    const { k8sManifest, parallelJobs, planText, shellQuote, volumeRoot } = await import("../../../src/sweep/emit.js");
    expect(shellQuote("vm.x=1")).toBe("vm.x=1");
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
    const sd = join(dir, "my sweep");
    mkdirSync(join(sd, "specs"), { recursive: true });
    writeFileSync(join(sd, "specs", "s.json"), JSON.stringify({ name: "frag", traces: ["../../traces/a.csv"], machines: ["default"], grid: { "transparent_hugepage.defrag": ["always", "defer+madvise"] } }));
    const s = readSpec(join(sd, "specs", "s.json"));
    const jobs = expandJobs(s);
    expect(planText(s, jobs, "wsim", dir)).toBe(
      jobs.map((j) => `${j.id}\tcd '${sd}/specs' && wsim replay ../../traces/a.csv -m default --set transparent_hugepage.defrag=${j.set[0]![1]} -f json\n`).join(""),
    );
    expect(planText(s, jobs, "wsim", join(sd, "specs")).startsWith(`${jobs[0]!.id}\twsim replay `)).toBe(true);
    expect(parallelJobs(s, jobs, "/opt/wsim/bin/wsim", join(sd, "out"), 2)).toBe(
      `/opt/wsim/bin/wsim sweep run '${sd}/specs/s.json' --index 0 --job ${jobs[0]!.id} --out '${sd}/out' --retry 2\n` + `/opt/wsim/bin/wsim sweep run '${sd}/specs/s.json' --index 1 --job ${jobs[1]!.id} --out '${sd}/out' --retry 2\n`,
    );
    // the trace is two levels up: the volume gets their common directory, the spec at its place in it
    expect(volumeRoot(s, jobs)).toBe(dir);
    const yaml = k8sManifest(s, jobs, { image: "wsim:1", claim: "c", parallelism: 10, retry: 0 });
    expect(yaml).toContain("name: wsim-sweep-frag\n");
    expect(yaml).toContain("- /sweep/my sweep/specs/s.json\n");
    expect(yaml).toMatch(/completions: 2\n\s+parallelism: 2\n/); // no more pods than jobs
  });
});

describe("sweep spec: checked as the jobs would check it (findings of a new user)", () => {
  it("replay options: what wsim replay refuses is refused at its line; an interval past the sample cap is refused, or the cap said", () => {
    expect(specError('{"traces": ["traces/a.csv"],\n"replay": {"interval": 0}}')).toBe('bad.json:2: replay.interval: expected a positive decimal number of ms like 1000 or 0.5 (no sign, no exponent), got "0"');
    expect(specError('{"traces": ["traces/a.csv"],\n"replay": {"drain": -1}}')).toMatch(/^bad\.json:2: replay\.drain: expected a non-negative decimal number/);
    expect(specError('{"traces": ["traces/a.csv"],\n"replay": {"until": 1e300}}')).toMatch(/^bad\.json:2: replay\.until: (expected|.* beyond the latest time)/);
    expect(specError('{"traces": ["traces/a.csv"],\n"replay": {"interval": 0.0001, "drain": 1000}}')).toMatch(/^bad\.json:2: replay\.interval: 0\.0001 ms gives 10,000,001 samples or more per job, more than the 50,000/);
    const s = readSpec(spec("cap.json", '{"traces": ["traces/a.csv"],\n"replay": {"interval": 0.0001}}'));
    expect(s.notes).toEqual([`${join(dir, "cap.json")}:2: replay.interval 0.0001: a job's JSON keeps at most 50,000 samples, so a job whose run (the trace's last event + drain) ends after 4.9999 ms fails; raise interval or set until if a trace is longer`]);
    expect(readSpec(spec("capok.json", '{"traces": ["traces/a.csv"], "replay": {"interval": 1, "until": 1000}}')).notes).toEqual([]);
    // a plain CSV's last event is read from its tail: the samples are known at plan time
    mkdirSync(join(dir, "long"), { recursive: true });
    writeFileSync(join(dir, "long", "t.csv"), "# a comment\ntime_ms,op,pid,addr\n0,access,1,0x1000\n532,exit,1,\n");
    expect(specError('{"traces": ["long/t.csv"],\n"replay": {"interval": 0.01}}')).toBe(
      "bad.json:2: replay.interval: 0.01 ms gives 53,201 samples for long/t.csv (its run ends at 532 ms: its last event), more than the 50,000 a job's JSON keeps: raise interval or set until",
    );
    expect(readSpec(spec("long-ok.json", '{"traces": ["long/t.csv"], "replay": {"interval": 0.1, "drain": 100}}')).notes).toEqual([]);
  });
});

describe("sweep plan --emit k8s: the Job's name", () => {
  it("a spec's file name becomes a DNS-1123 label: lowercase, [a-z0-9-], at most 63 with the prefix, a hash when nothing is left", async () => {
    const { k8sManifest } = await import("../../../src/sweep/emit.js");
    const name = (file: string) => {
      const s = readSpec(spec(file, '{"traces": ["traces/a.csv"]}'));
      return (parseYaml(k8sManifest(s, expandJobs(s), { image: "wsim:1", claim: "c", parallelism: 1, retry: 0 })) as { metadata: { name: string } }).metadata.name;
    };
    expect(name("My_Sweep.V2.json")).toBe("wsim-sweep-my-sweep-v2");
    expect(name("s p.json")).toBe("wsim-sweep-s-p");
    expect(name("-x-.yaml".replace(".yaml", ".json"))).toBe("wsim-sweep-x");
    expect(name("__.json")).toMatch(/^wsim-sweep-sweep-[0-9a-f]{6}$/);
    const long = name(`${"Ab".repeat(40)}.json`);
    expect(long.length).toBeLessThanOrEqual(63);
    const one = readSpec(spec("one.json", '{"traces": ["traces/a.csv"]}'));
    expect(k8sManifest(one, expandJobs(one), { image: "wsim:1", claim: "c", parallelism: 1, retry: 0 })).toContain("# wsim sweep one: 1 job as a Kubernetes Indexed Job");
    for (const n of [name("My_Sweep.V2.json"), long]) expect(n).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});

describe("sweep spec: what a job cannot be told apart by", () => {
  it("a list entry given twice, a machine given twice (./ or not): SPEC:line, as grid's value given twice", () => {
    expect(specError('{"traces": ["traces/a.csv"],\n"list": [{"vm.swappiness": 1},\n {"vm.swappiness": 2},\n {"vm.swappiness": "1"}]}')).toBe(
      "bad.json:4: list[2]: the same combination as list[0]: its jobs would be planned twice (two jobs writing one output)",
    );
    expect(specError('{"traces": ["traces/a.csv"],\n"machines": ["m.machine.json",\n "./m.machine.json"]}')).toBe(
      'bad.json:3: machines[1]: "m.machine.json" is given twice (also machines[0]): its jobs would be planned twice',
    );
  });

  it("an exclude entry that matches no job is an error at its line; machines are named as traces are (no ./)", () => {
    expect(specError('{"traces": ["traces/a.csv"],\n"grid": {"vm.swappiness": [1, 2]},\n"exclude": [{"vm.swappiness": 1},\n {"vm.swappiness": 7}]}')).toBe(
      "bad.json:4: exclude[1] matches no job: each of its keys must be a job's (a trace glob, a machine as \"machines\" names it, a tunable's value from set, grid or list)",
    );
    const s = readSpec(spec("dot.json", '{"traces": ["traces/a.csv", "traces/b.csv.gz"], "machines": ["./m.machine.json", "default"], "exclude": [{"machine": "m.machine.json", "trace": "./traces/a.csv"}]}'));
    expect(expandJobs(s).map((j) => `${j.trace} ${j.machine}`)).toEqual(["traces/a.csv default", "traces/b.csv.gz m.machine.json", "traces/b.csv.gz default"]);
  });

  it("a key repeated in a JSON object is an error at its second line, as in YAML", () => {
    expect(specError('{"traces": ["traces/a.csv"],\n "grid": {"vm.swappiness": [1]},\n "traces": ["traces/b.csv.gz"]}')).toBe(
      'bad.json:3: key "traces" is given twice in one object (JSON would keep the last silently): give each key once',
    );
    expect(specError('{"traces": ["traces/a.csv"],\n "grid": {"vm.swappiness": [1],\n  "vm.swappiness": [2]}}')).toMatch(/^bad\.json:3: key "vm\.swappiness" is given twice/);
  });
});

describe("sweep merge: a corrupt output", () => {
  it("is FILE:LINE: not a sweep job's output, at the JSON error's line", () => {
    const d = join(dir, "corrupt");
    mkdirSync(d);
    writeFileSync(join(d, "x-000000000000.json"), '{\n  "schema": 1,\n  "a": "b\tc"\n}\n');
    expect(() => readJobResults(d)).toThrow(DataError);
    expect(() => readJobResults(d)).toThrow(new RegExp(`^${d}/x-000000000000\\.json:3: not a sweep job's output: invalid JSON: Bad control character`));
  });
});

describe("sweep spec: a trace glob", () => {
  it("leaves out the spec itself and machine files (\"*\" beside them); a glob that finds only those says so", () => {
    const d = join(dir, "star");
    mkdirSync(d);
    writeFileSync(join(d, "a.csv"), "time_ms,op,pid,addr\n");
    writeFileSync(join(d, "m.machine.json"), '{"nodes": [{"id": 0, "mem": "64M"}]}');
    writeFileSync(join(d, "s.json"), '{"traces": ["*"]}');
    expect(expandJobs(readSpec(join(d, "s.json"))).map((j) => j.trace)).toEqual(["a.csv"]);
    writeFileSync(join(d, "t.json"), '{"traces": ["[mt]*.json"]}');
    expect(() => readSpec(join(d, "t.json"))).toThrow(/t\.json:1: traces: "\[mt\]\*\.json" matches no trace \(a glob leaves out the spec, machine files/);
  });

  it("leaves out the sweep's own outputs: OUT directories, a merged table.csv, a report, a job file", () => {
    const d = join(dir, "own");
    mkdirSync(join(d, "s.out"), { recursive: true });
    writeFileSync(join(d, "a.csv"), "# a trace\ntime_ms,op,pid,addr\n");
    writeFileSync(join(d, "s.json"), '{"traces": ["*", "*.csv"]}');
    writeFileSync(join(d, "table.csv"), "id,status,trace\n");
    writeFileSync(join(d, "r.html"), "<html>");
    writeFileSync(join(d, "jobs.txt"), "wsim sweep run\n");
    writeFileSync(join(d, "s.out", "a-0123456789ab.json"), "{}");
    writeFileSync(join(d, "s.out", "a-0123456789ab.failed.json"), "{}");
    expect(expandJobs(readSpec(join(d, "s.json"))).map((j) => j.trace)).toEqual(["a.csv"]);
  });
});

describe("sweep spec: types and repeated traces", () => {
  it("traces and machines must be lists, replay times numbers: at their line, exit 3", () => {
    expect(specError('{"machines": ["default"],\n"traces": "traces/a.csv"}')).toBe('bad.json:2: traces: expected a list of paths or globs, like ["traces/*.csv"], got "traces/a.csv"');
    expect(specError('{"traces": ["traces/a.csv"],\n"machines": "default"}')).toBe('bad.json:2: machines: expected a list of preset names or machine files, like ["default"], got "default"');
    expect(expandJobs(readSpec(spec("nullm.json", '{"traces": ["traces/a.csv"], "machines": null}'))).map((j) => j.machine)).toEqual([null]);
    expect(specError('{"traces": ["traces/a.csv"],\n"replay": {\n"drain": "1000"}}')).toBe('bad.json:3: replay.drain: expected a number of ms (like 1000 or 0.5, not in quotes), got "1000"');
  });

  it("a trace given twice as written (./ aside) is an error at its line; overlapping globs count a file once", () => {
    expect(specError('{"traces": ["traces/a.csv",\n "traces/a.csv"]}')).toBe('bad.json:2: traces[1]: "traces/a.csv" is given twice (also traces[0]): give each once');
    expect(specError('{"traces": ["traces/a.csv",\n "./traces/a.csv"]}')).toBe('bad.json:2: traces[1]: "./traces/a.csv" is given twice (also traces[0]): give each once');
    expect(expandJobs(readSpec(spec("overlap.json", '{"traces": ["traces/*.csv", "traces/a.csv"]}'))).map((j) => j.trace)).toEqual(["traces/a.csv"]);
  });
});

describe("sweep merge: outputs of two specs", () => {
  it("are grouped by spec, the one with the older outputs first, each in plan order (not interleaved by index)", () => {
    const d = join(dir, "twospecs");
    mkdirSync(d);
    const put = (id: string, index: number, spec: string, age: number) => {
      const f = join(d, `${id}.json`);
      writeFileSync(f, JSON.stringify({ vmstat: {}, sweep: { id, index, spec_sha256: spec, set: {}, replay: {}, trace: "t.csv", machine: null } }));
      utimesSync(f, 1e9 - age, 1e9 - age);
    };
    put("t-000000000003", 0, "new", 10); // the edited spec's job 0
    put("t-000000000001", 0, "old", 100);
    put("t-000000000002", 1, "old", 90);
    put("t-000000000004", 1, "new", 5);
    expect(readJobResults(d).results.map((r) => r.record.id)).toEqual(["t-000000000001", "t-000000000002", "t-000000000003", "t-000000000004"]);
  });
});

describe("sweep plan --emit k8s: names and the image", () => {
  it("the Job's name leaves room for -INDEX in a pod's hostname (63); the default image is not pulled when present", async () => {
    const { k8sManifest, DEFAULT_IMAGE } = await import("../../../src/sweep/emit.js");
    const s = readSpec(spec(`${"x".repeat(52)}.json`, '{"traces": ["traces/a.csv"], "grid": {"vm.swappiness": [0,1,2,3,4,5,6,7,8,9,10]}}'));
    const jobs = expandJobs(s);
    const doc = parseYaml(k8sManifest(s, jobs, { image: DEFAULT_IMAGE, claim: "c", parallelism: 1, retry: 0 }));
    expect(`${doc.metadata.name}-${jobs.length - 1}`.length).toBeLessThanOrEqual(63);
    expect(doc.spec.template.spec.containers[0].imagePullPolicy).toBe("IfNotPresent");
    const other = parseYaml(k8sManifest(s, jobs, { image: "registry.example/wsim:0.1.0", claim: "c", parallelism: 1, retry: 0 }));
    expect(other.spec.template.spec.containers[0].imagePullPolicy).toBeUndefined();
  });
});
