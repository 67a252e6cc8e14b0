/**
 * `wsim sweep` as users run it (spawns bin/wsim; build first): a 3 × 4 grid over 2 traces is
 * 24 jobs; `run --jobs 2` gives the JSONs the 24 replays give by hand; a run killed halfway
 * finishes the rest without redoing any; a failing job is reported and stops no other; merge
 * gives the table computed here by hand; GNU parallel runs the emitted job file (skipped with a
 * SKIPPED: line where parallel is missing); the Kubernetes manifest validates as a batch/v1 Job.
 */
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Job as K8sJob } from "kubernetes-models/batch/v1/Job";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const tmp = mkdtempSync(join(tmpdir(), "wsim-sweep-"));

function wsim(args: string[], cwd = tmp) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
/** runs commands `n` at a time; resolves with each one's stdout */
async function pool(cmds: { args: string[]; cwd: string }[], n: number): Promise<string[]> {
  const out: string[] = new Array(cmds.length);
  let next = 0;
  const one = async () => {
    for (let i = next++; i < cmds.length; i = next++)
      out[i] = await new Promise<string>((done, fail) => {
        const c = spawn(process.execPath, [BIN, ...cmds[i]!.args], { cwd: cmds[i]!.cwd, stdio: ["ignore", "pipe", "inherit"] });
        const chunks: Buffer[] = [];
        c.stdout.on("data", (b: Buffer) => chunks.push(b));
        c.on("close", (code) => (code === 0 ? done(Buffer.concat(chunks).toString("utf8")) : fail(new Error(`${cmds[i]!.args.join(" ")}: exit ${code}`))));
      });
  };
  await Promise.all(Array.from({ length: n }, one));
  return out;
}
const withoutSweep = (text: string) => {
  const { sweep: _s, ...rest } = JSON.parse(text);
  return rest;
};

// the sweep: two small traces, one small machine, proactiveness × watermark_scale_factor
mkdirSync(join(tmp, "traces"));
copyFileSync(join(ROOT, "traces/faults.csv"), join(tmp, "traces/faults.csv"));
writeFileSync(join(tmp, "traces/zipf.csv"), wsim(["generate", "zipf", "--events", "3000", "--pages", "2048", "--seed", "7"], ROOT).out);
copyFileSync(join(ROOT, "traces/small128.machine.json"), join(tmp, "small128.machine.json"));
const SPEC = join(tmp, "sweep.json");
writeFileSync(
  SPEC,
  JSON.stringify(
    {
      traces: ["traces/*.csv"],
      machines: ["small128.machine.json"],
      grid: { "vm.compaction_proactiveness": [0, 20, 40], "vm.watermark_scale_factor": [10, 50, 100, 200] },
    },
    null,
    2,
  ),
);
const OUT = join(tmp, "out");

interface PlanJob { index: number; id: string; argv: string[]; cwd: string; set: Record<string, string>; trace: string }
const planned = wsim(["sweep", "plan", SPEC, "-f", "json"]);
const plan: PlanJob[] = JSON.parse(planned.out || "[]");
// the 24 replays by hand, two at a time, as plan prints them (in the spec's directory)
const byHand = pool(plan.map((j) => ({ args: j.argv, cwd: j.cwd })), 2);

describe("wsim sweep plan and run", () => {
  it("the plan of a 3 × 4 grid over 2 traces is 24 jobs with stable ids, one line each: id and the exact replay command", () => {
    expect(planned.code).toBe(0);
    expect(plan).toHaveLength(24);
    const text = wsim(["sweep", "plan", SPEC]);
    expect(text.code).toBe(0);
    const lines = text.out.trimEnd().split("\n");
    expect(lines).toHaveLength(24);
    expect(lines[0]).toBe(`${plan[0]!.id}\t${BIN} replay traces/faults.csv -m small128.machine.json --set vm.compaction_proactiveness=0 --set vm.watermark_scale_factor=10 -f json`);
    expect(plan[23]).toMatchObject({ trace: "traces/zipf.csv", set: { "vm.compaction_proactiveness": "40", "vm.watermark_scale_factor": "200" } });
    // stable: the same ids from another directory, and from a copy of the spec elsewhere with its files
    const other = wsim(["sweep", "plan", SPEC], ROOT);
    expect(other.out.split("\n").map((l) => l.split("\t")[0])).toEqual(text.out.split("\n").map((l) => l.split("\t")[0]));
    expect(other.out.split("\n")[0]).toContain(`\tcd ${tmp} && ${BIN} replay `);
    expect(new Set(plan.map((j) => j.id)).size).toBe(24);
  });

  it("run --jobs 2 writes the JSONs the 24 replays give by hand (plus each job's sweep record); a second run skips them all", async () => {
    const r = wsim(["sweep", "run", SPEC, "--jobs", "2", "--out", OUT]);
    expect(r.code).toBe(0);
    expect(r.err).toBe(`wsim sweep: 24 jobs: 24 ran, 0 up to date, 0 failed; outputs in ${OUT}\n`);
    const hand = await byHand;
    expect(readdirSync(OUT).sort()).toEqual(plan.map((j) => `${j.id}.json`).sort());
    plan.forEach((j, i) => {
      const text = readFileSync(join(OUT, `${j.id}.json`), "utf8");
      expect(withoutSweep(text)).toEqual(JSON.parse(hand[i]!));
      // the replay's output byte for byte, the record after it
      expect(text.startsWith(hand[i]!.trimEnd().replace(/\n}$/, ""))).toBe(true);
      expect(JSON.parse(text).sweep).toMatchObject({ id: j.id, index: i, trace: j.trace, machine: "small128.machine.json", set: j.set, command: j.argv });
    });
    const again = wsim(["sweep", "run", SPEC, "--jobs", "2", "--out", OUT]);
    expect(again.err).toBe(`wsim sweep: 24 jobs: 0 ran, 24 up to date, 0 failed; outputs in ${OUT}\n`);
  }, 60_000);

  it("killed halfway, run starts again and finishes the rest without redoing any; nothing partial is left", async () => {
    // the grid over one trace: 12 of the 24 jobs, the same ids
    const spec = join(tmp, "one-trace.json");
    writeFileSync(spec, JSON.stringify({ ...JSON.parse(readFileSync(SPEC, "utf8")), traces: ["traces/faults.csv"] }));
    const out = join(tmp, "killed");
    const child = spawn(process.execPath, [BIN, "sweep", "run", spec, "--jobs", "2", "--out", out], { cwd: tmp, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (b: Buffer) => (err += b));
    const closed = new Promise<number | null>((done) => child.on("close", (code) => done(code)));
    const count = () => (existsSync(out) ? readdirSync(out).filter((n) => n.endsWith(".json") && !n.startsWith(".")).length : 0);
    while (count() < 4) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGINT");
    expect(await closed).toBe(130);
    expect(err).toContain("wsim sweep: SIGINT: stopping the running jobs");
    const first = readdirSync(out);
    expect(first.filter((n) => n.startsWith(".") || n.endsWith(".tmp"))).toEqual([]);
    expect(first.length).toBeGreaterThanOrEqual(4);
    expect(first.length).toBeLessThan(12);
    const before = new Map(first.map((n) => [n, statSync(join(out, n))]));
    const r = wsim(["sweep", "run", spec, "--jobs", "2", "--out", out]);
    expect(r.code).toBe(0);
    expect(r.err).toBe(`wsim sweep: 12 jobs: ${12 - first.length} ran, ${first.length} up to date, 0 failed; outputs in ${out}\n`);
    for (const [n, st] of before) {
      const now = statSync(join(out, n));
      expect([now.ino, now.mtimeMs]).toEqual([st.ino, st.mtimeMs]);
    }
    expect(readdirSync(out)).toHaveLength(12);
    // the same bytes as the uninterrupted run's (faults.csv's jobs are 0..11 in both plans), but
    // for the spec's sha256 each records (another spec)
    const noSpec = (f: string) => readFileSync(f, "utf8").replace(/\n\s*"spec_sha256": "[0-9a-f]{64}",/, "");
    for (const j of plan.slice(0, 12)) expect(noSpec(join(out, `${j.id}.json`))).toBe(noSpec(join(OUT, `${j.id}.json`)));
  }, 60_000);

  it("a failing job is recorded with its exit code and stderr's last line, and the others go on; run exits 1", () => {
    const dir = join(tmp, "failing");
    mkdirSync(dir);
    copyFileSync(join(ROOT, "traces/faults.csv"), join(dir, "a.csv"));
    writeFileSync(join(dir, "b.csv"), "time_ms,op,pid,addr\n0,access,1,0x1000\n1,fly,1,0x2000\n");
    writeFileSync(join(dir, "s.yaml"), "traces: ['*.csv']\ngrid:\n  vm.swappiness: [10, 60]\n");
    const r = wsim(["sweep", "run", "s.yaml", "--jobs", "2"], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain('wsim sweep: job 2 b-444133360a38 failed (exit 3): b.csv:3: unknown op "fly" (known: access,');
    expect(r.err).toMatch(/wsim sweep: 4 jobs: 2 ran, 0 up to date, 2 failed; outputs in .*\/s\.out \(failures in ID\.failed\.json; wsim sweep merge .* lists them\)\n$/);
    const m = wsim(["sweep", "merge", "s.out", "--counters", "pgfault"], dir);
    expect(m.code).toBe(0);
    const rows = m.out.trimEnd().split("\n").map((l) => l.replace(/^[^,]+,/, ""));
    expect(rows[0]).toBe("trace,machine,vm.swappiness,status,exit_code,error,pgfault");
    expect(rows.slice(1)).toEqual([
      expect.stringMatching(/^a\.csv,,10,ok,0,,\d+$/),
      expect.stringMatching(/^a\.csv,,60,ok,0,,\d+$/),
      'b.csv,,10,failed,3,"b.csv:3: unknown op ""fly"" (known: access, mmap, munmap, exit, alloc, free, set, read, compact, madvise, mlock, munlock, fork, fread, fwrite, fsync, ftruncate, fdelete)",',
      'b.csv,,60,failed,3,"b.csv:3: unknown op ""fly"" (known: access, mmap, munmap, exit, alloc, free, set, read, compact, madvise, mlock, munlock, fork, fread, fwrite, fsync, ftruncate, fdelete)",',
    ]);
    // a changed trace makes its jobs stale (its sha256 is in their records), failed jobs run again
    writeFileSync(join(dir, "a.csv"), readFileSync(join(dir, "a.csv"), "utf8") + "# one more comment\n");
    writeFileSync(join(dir, "b.csv"), "time_ms,op,pid,addr\n0,access,1,0x1000\n");
    expect(wsim(["sweep", "run", "s.yaml"], dir)).toMatchObject({ code: 0, err: expect.stringContaining("4 jobs: 4 ran, 0 up to date, 0 failed") });
    expect(readdirSync(join(dir, "s.out")).filter((n) => n.endsWith(".failed.json"))).toEqual([]);
    expect(wsim(["sweep", "run", "s.yaml"], dir).err).toContain("4 jobs: 0 ran, 4 up to date, 0 failed");
    expect(wsim(["sweep", "run", "s.yaml", "--force", "--index", "1"], dir).err).toContain("1 job: 1 ran, 0 up to date, 0 failed");
  });
});

describe("wsim sweep merge", () => {
  it("gives the table computed by hand from the jobs' outputs, as CSV and JSON; --html overlays the runs", async () => {
    const hand = (await byHand).map((t) => JSON.parse(t));
    const counters = ["nr_free_pages", "pgfree", "pgfault"]; // in the kernel's order, as /proc/vmstat lists them
    const expected =
      ["id,trace,machine,vm.compaction_proactiveness,vm.watermark_scale_factor,status,exit_code,error," + counters.join(",")]
        .concat(plan.map((j, i) => [j.id, j.trace, "small128.machine.json", j.set["vm.compaction_proactiveness"], j.set["vm.watermark_scale_factor"], "ok", 0, "", ...counters.map((c) => hand[i].vmstat[c])].join(",")))
        .join("\n") + "\n";
    const csv = wsim(["sweep", "merge", OUT, "--counters", "nr_free_pages,pg*", "--counters", "pgfault"]);
    expect(csv.code).toBe(0);
    const exact = wsim(["sweep", "merge", OUT, "--counters", "pgfault,nr_free_pages,pgfree"]);
    expect(exact.out).toBe(expected);
    // globs, comma-separated or repeated: nr_free_pages and every pg* counter, once each, in the kernel's order
    const head = csv.out.split("\n")[0]!.split(",").slice(8);
    expect(head[0]).toBe("nr_free_pages");
    expect(head.slice(1).every((c) => c.startsWith("pg"))).toBe(true);
    expect(head.filter((c) => c === "pgfault")).toHaveLength(1);
    const json = wsim(["sweep", "merge", OUT, "--counters", "pgfault,nr_free_pages,pgfree", "-f", "json"]);
    const t = JSON.parse(json.out);
    expect(t.counters).toEqual(counters);
    expect(t.rows[3]).toEqual({
      id: plan[3]!.id, index: 3, trace: "traces/faults.csv", machine: "small128.machine.json", set: Object.fromEntries(Object.entries(plan[3]!.set).map(([k, v]) => [k, Number(v)])), status: "ok", exit_code: 0, error: "",
      counters: Object.fromEntries(counters.map((c) => [c, hand[3].vmstat[c]])),
    });
    const html = join(tmp, "sweep.html");
    expect(wsim(["sweep", "merge", OUT, "--counters", "pgfault", "--html", html, "-o", join(tmp, "t.csv")]).code).toBe(0);
    const page = readFileSync(html, "utf8");
    // each run named by what tells it apart: the trace and the tunables (one machine: not named)
    expect(page).toContain("faults vm.compaction_proactiveness=0 vm.watermark_scale_factor=10");
    expect(page).toContain("zipf vm.compaction_proactiveness=40 vm.watermark_scale_factor=200");
    expect(readFileSync(join(tmp, "t.csv"), "utf8").split("\n")).toHaveLength(26);
    const bad = wsim(["sweep", "merge", OUT, "--counters", "nope_*"]);
    expect([bad.code, bad.err]).toEqual([2, expect.stringMatching(/^wsim: --counters: nope_\* matches no counter/)]);
  }, 60_000);
});

describe("wsim sweep on other engines", () => {
  it("GNU parallel runs the emitted job file as it is, writing the same outputs as run", () => {
    // four of the 24 jobs (the same inputs, so the same ids)
    const spec = join(tmp, "small.json");
    writeFileSync(spec, JSON.stringify({ traces: ["traces/faults.csv"], machines: ["small128.machine.json"], grid: { "vm.compaction_proactiveness": [0, 20], "vm.watermark_scale_factor": [10, 50] } }));
    const jobs = join(tmp, "jobs.txt");
    const out = join(tmp, "parallel-out");
    expect(wsim(["sweep", "plan", spec, "--emit", "parallel", "--out", out, "-o", jobs]).code).toBe(0);
    const lines = readFileSync(jobs, "utf8").trimEnd().split("\n");
    const small = JSON.parse(wsim(["sweep", "plan", spec, "-f", "json"]).out) as { id: string }[];
    expect(lines).toEqual([0, 1, 2, 3].map((i) => `${BIN} sweep run ${spec} --index ${i} --job ${small[i]!.id} --out ${out}`));
    if (spawnSync("parallel", ["--version"]).status !== 0) {
      console.warn("SKIPPED: GNU parallel is not installed (Debian: apt-get install parallel; .ci/run installs it)");
      return;
    }
    const r = spawnSync("parallel", ["--will-cite", "-j2", "-a", jobs], { cwd: tmp, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stderr.match(/1 job: 1 ran/g)).toHaveLength(4);
    const ids = [0, 1, 4, 5].map((i) => plan[i]!.id);
    expect(readdirSync(out).sort()).toEqual(ids.map((id) => `${id}.json`).sort());
    for (const id of ids) expect(withoutSweep(readFileSync(join(out, `${id}.json`), "utf8"))).toEqual(withoutSweep(readFileSync(join(OUT, `${id}.json`), "utf8")));
  }, 60_000);

  it("the Kubernetes manifest is a valid batch/v1 Job: Indexed, one completion per job, the index from JOB_COMPLETION_INDEX", () => {
    const r = wsim(["sweep", "plan", SPEC, "--emit", "k8s", "--parallelism", "6", "--image", "registry.example/wsim:0.1.0"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`# ${tmp}\n`); // what to copy onto the volume
    const doc = parseYaml(r.out);
    new K8sJob(doc).validate(); // throws on a schema violation
    expect(doc.spec).toMatchObject({ completionMode: "Indexed", completions: 24, parallelism: 6 });
    const c = doc.spec.template.spec.containers[0];
    expect(c.image).toBe("registry.example/wsim:0.1.0");
    expect(c.command).toEqual(["wsim", "sweep", "run", "/sweep/sweep.json", "--index", "$(JOB_COMPLETION_INDEX)", "--plan-hash", expect.stringMatching(/^[0-9a-f]{12}$/), "--out", "/sweep/out"]);
    expect(c.env).toContainEqual({ name: "JOB_COMPLETION_INDEX", valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } });
    expect(c.volumeMounts).toEqual([{ name: "sweep", mountPath: "/sweep" }]);
    expect(doc.spec.template.spec.volumes).toEqual([{ name: "sweep", persistentVolumeClaim: { claimName: "wsim-sweep" } }]);
    expect(doc.spec.template.spec.restartPolicy).toBe("Never");
    // the schema rejects what Kubernetes would
    expect(() => new K8sJob({ ...doc, spec: { ...doc.spec, completions: "24" } }).validate()).toThrow(/completions must be integer/);
  });

  it("usage errors exit 2 and a bad spec exits 3 with SPEC:line", () => {
    expect(wsim(["sweep", "run", SPEC, "--index", "24"])).toMatchObject({ code: 2, err: "wsim: --index 24: the sweep has 24 jobs, 0..23\n" });
    expect(wsim(["sweep", "plan", SPEC, "--image", "x"])).toMatchObject({ code: 2, err: "wsim: --image is for --emit k8s: it does nothing with --emit plan\n" });
    expect(wsim(["sweep", "run", SPEC, "--jobs", "0"])).toMatchObject({ code: 2, err: 'wsim: --jobs: expected an integer 1 or more, got "0"\n' });
    writeFileSync(join(tmp, "bad.json"), '{\n  "traces": ["traces/*.csv"],\n  "grid": {"vm.swappiness": "60"}\n}\n');
    expect(wsim(["sweep", "plan", "bad.json"])).toMatchObject({ code: 3, err: 'bad.json:3: grid vm.swappiness: expected a non-empty list of values, got "60"\n' });
    expect(wsim(["sweep", "merge", join(tmp, "traces")])).toMatchObject({ code: 3 });
  });
});

describe("the README's sweep", () => {
  it("its spec plans: every trace of traces/*.csv and fragmentation, two machines, the grid, less the exclusions", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const text = readme.slice(readme.indexOf("## Sweeps")).match(/```json\n([\s\S]*?)```/)![1]!;
    // saved outside the checkout: its paths, relative to the spec's directory, made this checkout's
    const spec = join(tmp, "readme-sweep.json");
    writeFileSync(spec, text.replace(/"traces\//g, `"${ROOT}traces/`));
    const r = wsim(["sweep", "plan", spec, "-f", "json"], ROOT);
    expect(r.code, r.err).toBe(0);
    const jobs = JSON.parse(r.out) as PlanJob[];
    const traces = readdirSync(join(ROOT, "traces")).filter((n) => n.endsWith(".csv")).length + 1;
    // 12 grid points on small128, 9 on numa2 (watermark_scale_factor 200 excluded there)
    expect(jobs).toHaveLength(traces * (12 + 9));
    expect(jobs[0]!.argv.slice(-4)).toEqual(["--drain", "1000", "-f", "json"]);
  });
});

describe("findings of a new user", () => {
  it("--claim must be a PersistentVolumeClaim's name (a DNS-1123 subdomain): a usage error", () => {
    const r = wsim(["sweep", "plan", SPEC, "--emit", "k8s", "--claim", "My_Claim"]);
    expect(r).toMatchObject({ code: 2, err: 'wsim: --claim: a PersistentVolumeClaim\'s name is lowercase letters, digits, - and . (a DNS-1123 subdomain, at most 253 characters, starting and ending with a letter or digit), got "My_Claim"\n' });
    expect(wsim(["sweep", "plan", SPEC, "--emit", "k8s", "--claim", "shared.sweep-1"]).code).toBe(0);
  });

  it("a spec on standard input (-): plan reads it with paths relative to the current directory and names it - in errors; run needs --out; --emit refuses it", () => {
    const stdin = (args: string[], input: string) => {
      const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, input, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const p = stdin(["sweep", "plan", "-"], '{"traces": ["traces/faults.csv"], "grid": {"vm.swappiness": [1, 2]}}');
    expect(p.code, p.err).toBe(0);
    expect(p.out).toMatch(/^faults-[0-9a-f]{12}\t\S+ replay traces\/faults\.csv --set vm\.swappiness=1 -f json\n/);
    expect(stdin(["sweep", "plan", "-"], 'traces: [traces/faults.csv]\ngrid: {vm.swappiness: [1, 999]}\n')).toMatchObject({ code: 3, err: '-:2: vm.swappiness: expected an integer 0..200, got "999"\n' });
    expect(stdin(["sweep", "run", "-"], '{"traces": ["traces/faults.csv"]}')).toMatchObject({ code: 2, err: "wsim: sweep run -: a spec on standard input has no name to name the output directory by: add --out DIR\n" });
    expect(stdin(["sweep", "plan", "-", "--emit", "parallel"], '{"traces": ["traces/faults.csv"]}')).toMatchObject({ code: 2 });
    const r = stdin(["sweep", "run", "-", "--out", join(tmp, "stdin.out"), "--jobs", "1"], '{"traces": ["traces/faults.csv"]}');
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(join(tmp, "stdin.out"))).toEqual([expect.stringMatching(/^faults-[0-9a-f]{12}\.json$/)]);
  });

  it("merge --spec keeps only the spec's current jobs in its order; without it, outputs of two versions of a spec are warned about", () => {
    const d = join(tmp, "versions");
    mkdirSync(d);
    const spec = join(d, "v.json");
    writeFileSync(spec, JSON.stringify({ traces: [join(tmp, "traces/faults.csv")], grid: { "vm.swappiness": [1, 2] } }));
    expect(wsim(["sweep", "run", spec, "--jobs", "2"]).code).toBe(0);
    writeFileSync(spec, JSON.stringify({ traces: [join(tmp, "traces/faults.csv")], grid: { "vm.swappiness": [3, 2] } }));
    expect(wsim(["sweep", "run", spec, "--jobs", "2"]).code).toBe(0);
    const out = join(d, "v.out");
    const all = wsim(["sweep", "merge", out, "--counters", "pgfault"]);
    expect(all.code).toBe(0);
    expect(all.out.trimEnd().split("\n")).toHaveLength(4); // 1, 2, 3
    expect(all.err).toMatch(/^wsim sweep merge: warning: .*v\.out holds outputs run from 2 specs \(or versions of one\)/);
    const only = wsim(["sweep", "merge", out, "--spec", spec, "--counters", "pgfault", "-f", "json"]);
    expect(only.code, only.err).toBe(0);
    expect(JSON.parse(only.out).rows.map((r: { set: Record<string, unknown>; index: number }) => [r.index, r.set["vm.swappiness"]])).toEqual([[0, 3], [1, 2]]);
    expect(only.err).toBe(`wsim sweep merge: 1 output of jobs not in ${spec} (an earlier version of it, or another spec) left out\n`);
  });

  it("-o's extension names the format, as for wsim replay: merge .csv/.json, plan .txt/.json, k8s .yaml/.yml/.json; another, or one contradicting -f, is a usage error", () => {
    expect(wsim(["sweep", "merge", OUT, "-o", join(tmp, "t.txt")])).toMatchObject({ code: 2, err: `wsim: -o ${join(tmp, "t.txt")}: the table is csv or json: name it .csv, .json (optionally + .gz), not .txt\n` });
    expect(wsim(["sweep", "merge", OUT, "-f", "csv", "-o", join(tmp, "t.json")])).toMatchObject({ code: 2, err: `wsim: -o ${join(tmp, "t.json")}: --format csv contradicts the extension .json (json): name it for csv, or drop --format\n` });
    expect(wsim(["sweep", "plan", SPEC, "-o", join(tmp, "jobs.xyz")]).code).toBe(2);
    expect(wsim(["sweep", "plan", SPEC, "--emit", "parallel", "-o", join(tmp, "jobs.json")]).code).toBe(2);
    expect(existsSync(join(tmp, "jobs.xyz")) || existsSync(join(tmp, "t.txt"))).toBe(false);
    const j = wsim(["sweep", "plan", SPEC, "--emit", "k8s", "-o", join(tmp, "job.json")]);
    expect(j.code, j.err).toBe(0);
    const doc = JSON.parse(readFileSync(join(tmp, "job.json"), "utf8"));
    new K8sJob(doc).validate();
    expect(doc.metadata.annotations["wsim.sweep/note"]).toMatch(/^wsim sweep sweep: 24 jobs as a Kubernetes Indexed Job/);
    expect(wsim(["sweep", "plan", SPEC, "--emit", "k8s", "-o", join(tmp, "job.yml")]).code).toBe(0);
    // the same Job in YAML, its note a comment instead of an annotation
    delete doc.metadata.annotations;
    expect(parseYaml(readFileSync(join(tmp, "job.yml"), "utf8"))).toEqual(doc);
  });

  it("merge --html when every job failed: the table of failures anyway, exit 0, the report left out with a warning", () => {
    const d = join(tmp, "allfail");
    mkdirSync(d);
    writeFileSync(join(d, "bad.csv"), "time_ms,op,pid,addr\n1,nope,1,0x1000\n");
    writeFileSync(join(d, "s.json"), JSON.stringify({ traces: ["bad.csv"] }));
    expect(wsim(["sweep", "run", "s.json", "--jobs", "1"], d).code).toBe(1);
    const m = wsim(["sweep", "merge", "s.out", "--html", "r.html"], d);
    expect(m.code).toBe(0);
    expect(m.out).toMatch(/^id,trace,machine,status,exit_code,error\nbad-[0-9a-f]{12},bad\.csv,,failed,3,/);
    expect(m.err).toBe("wsim sweep merge: warning: every job failed: no run to draw, r.html not written; the table lists the failures\n");
    expect(existsSync(join(d, "r.html"))).toBe(false);
  });

  it("--emit k8s refuses a spec with absolute paths (the pods see only the claim), naming each", () => {
    const r = wsim(["sweep", "plan", join(tmp, "versions", "v.json"), "--emit", "k8s"]);
    expect(r).toMatchObject({ code: 2, err: `wsim: --emit k8s: the pods see only the claim, at /sweep, so these absolute paths in the spec would not exist in them: ${join(tmp, "traces/faults.csv")}; name them relative to the spec's directory (and copy them onto the claim with it)\n` });
    expect(existsSync(join(tmp, "versions", "job.yaml"))).toBe(false);
  });

  it("merge -f json gives an integer tunable's values as numbers; run --out names a file: not a directory; the summary names OUT absolute", () => {
    const t = JSON.parse(wsim(["sweep", "merge", OUT, "--counters", "pgfault", "-f", "json"]).out);
    expect(t.rows[0].set).toEqual({ "vm.compaction_proactiveness": 0, "vm.watermark_scale_factor": 10 });
    writeFileSync(join(tmp, "afile"), "");
    expect(wsim(["sweep", "run", SPEC, "--out", "afile"])).toMatchObject({ code: 2, err: "wsim: --out afile: is not a directory (the outputs go in it, one ID.json a job)\n" });
    const r = wsim(["sweep", "run", SPEC, "--index", "0", "--out", "rel.out"]);
    expect(r.err).toBe(`wsim sweep: 1 job: 1 ran, 0 up to date, 0 failed; outputs in ${join(tmp, "rel.out")}\n`);
  });
});

describe("wsim sweep: new-user findings (2)", () => {
  const d = join(tmp, "nu2");
  mkdirSync(d);
  copyFileSync(join(ROOT, "traces/faults.csv"), join(d, "faults.csv"));
  const put = (name: string, v: unknown) => writeFileSync(join(d, name), typeof v === "string" ? v : JSON.stringify(v));

  it("a job file's line or a pod whose spec changed since it was emitted refuses (exit 2) instead of running another job", () => {
    put("g.json", { traces: ["faults.csv"], grid: { "vm.swappiness": [10, 60, 100] } });
    expect(wsim(["sweep", "plan", "g.json", "--emit", "parallel", "-o", "jobs.txt"], d).code).toBe(0);
    const lines = readFileSync(join(d, "jobs.txt"), "utf8").trimEnd().split("\n");
    const k8s = parseYaml(wsim(["sweep", "plan", "g.json", "--emit", "k8s"], d).out).spec.template.spec.containers[0].command as string[];
    const hash = k8s[k8s.indexOf("--plan-hash") + 1]!;
    const id0 = / --job (\S+)/.exec(lines[0]!)![1]!;
    put("g.json", { traces: ["faults.csv"], grid: { "vm.swappiness": [60, 100] } });
    const now = JSON.parse(wsim(["sweep", "plan", "g.json", "-f", "json"], d).out) as { id: string }[];
    expect(wsim(["sweep", "run", "g.json", "--index", "0", "--job", id0], d)).toMatchObject({ code: 2, err: `wsim: --job ${id0}: the spec changed since this job file was emitted: job 0 is now ${now[0]!.id}, not ${id0}; emit it again\n` });
    expect(wsim(["sweep", "run", "g.json", "--index", "2", "--job", "x"], d)).toMatchObject({ code: 2, err: expect.stringContaining("the spec changed since this job file was emitted: it now has 2 jobs") });
    expect(wsim(["sweep", "run", "g.json", "--index", "0", "--plan-hash", hash], d)).toMatchObject({ code: 2, err: expect.stringContaining("the spec changed since this job file was emitted") });
    expect(wsim(["sweep", "run", "g.json", "--job", id0], d)).toMatchObject({ code: 2 });
    expect(existsSync(join(d, "g.out"))).toBe(false);
  });

  it("output paths: --out through a file, merge of a file or a missing directory, --emit parallel --out a file are usage errors (exit 2, one line)", () => {
    put("o.json", { traces: ["faults.csv"] });
    writeFileSync(join(d, "afile"), "");
    expect(wsim(["sweep", "run", "o.json", "--out", "afile/sub"], d)).toMatchObject({ code: 2, err: "wsim: --out afile/sub: a part of the path is a file, not a directory: cannot make the output directory there\n" });
    expect(wsim(["sweep", "run", "o.json", "--out", "afile"], d)).toMatchObject({ code: 2 });
    expect(wsim(["sweep", "merge", "afile"], d)).toMatchObject({ code: 2, err: "wsim: afile: not a directory (give the output directory of wsim sweep run, not a file in it)\n" });
    expect(wsim(["sweep", "merge", "nodir"], d)).toMatchObject({ code: 2, err: "wsim: nodir: no such directory (give the output directory of wsim sweep run)\n" });
    expect(wsim(["sweep", "plan", "o.json", "--emit", "parallel", "--out", "afile", "-o", "jj.txt"], d)).toMatchObject({ code: 2, err: "wsim: --out afile: is not a directory (the outputs go in it, one ID.json a job)\n" });
    expect(existsSync(join(d, "jj.txt"))).toBe(false);
  });

  it("-o without an extension, .gz alone, or .gz for a job file or manifest is a usage error naming the extensions; a device is written as - is", () => {
    put("x.json", { traces: ["faults.csv"] });
    expect(wsim(["sweep", "run", "x.json", "--jobs", "1"], d).code).toBe(0);
    expect(wsim(["sweep", "merge", "x.out", "-o", "t"], d)).toMatchObject({ code: 2, err: "wsim: -o t: the table is csv or json: name it .csv, .json (optionally + .gz) (or - for standard output)\n" });
    expect(wsim(["sweep", "merge", "x.out", "-o", "t.gz"], d)).toMatchObject({ code: 2, err: "wsim: -o t.gz: the table is csv or json: name it .csv, .json (optionally + .gz), not .gz alone (or - for standard output)\n" });
    expect(wsim(["sweep", "plan", "x.json", "-o", "pl"], d).code).toBe(2);
    expect(wsim(["sweep", "plan", "x.json", "--emit", "k8s", "-o", "kk"], d)).toMatchObject({ code: 2, err: "wsim: -o kk: --emit k8s writes a manifest as YAML or JSON: name it .yaml, .yml, .json (or - for standard output)\n" });
    expect(wsim(["sweep", "plan", "x.json", "--emit", "parallel", "-o", "pj.txt.gz"], d)).toMatchObject({ code: 2, err: "wsim: -o pj.txt.gz: --emit parallel writes a job file (one command a line) as text, read by other tools as it is: name it .txt, not .txt.gz\n" });
    for (const f of ["t", "t.gz", "pl", "kk", "pj.txt.gz"]) expect(existsSync(join(d, f))).toBe(false);
    expect(wsim(["sweep", "merge", "x.out", "-o", "/dev/null"], d)).toMatchObject({ code: 0 });
  });
});
