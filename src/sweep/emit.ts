/**
 * A sweep's plan for the engines people already run: the job list (`plan`), a job file GNU
 * parallel runs as it is (`--emit parallel`: one `wsim sweep run SPEC --index I` a line, so
 * the atomic writes and the skip logic are the same as a local run), and a Kubernetes Indexed
 * Job whose pod I runs `wsim sweep run SPEC --index $(JOB_COMPLETION_INDEX)` with the spec, its
 * files and the outputs on a volume (`--emit k8s`).
 */
import { createHash } from "node:crypto";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { Document } from "yaml";
import { PRESETS } from "../machine/machine.js";
import type { Job, Spec } from "./spec.js";

/** A word as a POSIX shell reads it back: bare when safe, else in single quotes. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_/.,:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `ID<TAB>COMMAND` per job; the command changes to the spec's directory first unless `cwd` is it. */
export function planText(spec: Spec, jobs: Job[], wsim: string, cwd = process.cwd()): string {
  const cd = resolve(cwd) === spec.dir ? "" : `cd ${shellQuote(spec.dir)} && `;
  return jobs.map((j) => `${j.id}\t${cd}${wsim} replay ${j.args.map(shellQuote).join(" ")}\n`).join("");
}

/** The plan as JSON: `[{index, id, trace, machine, set, plugins?, cwd, argv, command}]` (plugins only when the spec has any). */
export function planJson(spec: Spec, jobs: Job[], wsim: string): string {
  return (
    JSON.stringify(
      jobs.map((j) => ({
        index: j.index, id: j.id, trace: j.trace, machine: j.machine, set: Object.fromEntries(j.set), ...(j.plugins.length ? { plugins: j.plugins } : {}), cwd: spec.dir,
        argv: ["replay", ...j.args], command: `${wsim} replay ${j.args.map(shellQuote).join(" ")}`,
      })),
      null,
      2,
    ) + "\n"
  );
}

/**
 * 12 hex digits of the sha256 of the plan's job ids in order: a Kubernetes pod passes it with
 * its index, and `sweep run` refuses when the spec (or the files its globs match) now plans
 * other jobs, instead of running whatever job now has that index.
 */
export function planHash(jobs: Job[]): string {
  return createHash("sha256").update(jobs.map((j) => j.id).join("\n")).digest("hex").slice(0, 12);
}

/** GNU parallel's job file: `WSIM sweep run SPEC --index I --out OUT` per job, absolute paths. */
export function parallelJobs(spec: Spec, jobs: Job[], wsim: string, out: string, retry: number): string {
  const specPath = shellQuote(resolve(spec.path));
  const o = shellQuote(resolve(out));
  return jobs.map((j) => `${wsim} sweep run ${specPath} --index ${j.index} --job ${j.id} --out ${o}${retry ? ` --retry ${retry}` : ""}\n`).join("");
}

export interface K8sOptions {
  image: string;
  claim: string;
  parallelism: number;
  retry: number;
  /** JSON instead of YAML (no comments in JSON: the note goes in an annotation) */
  json?: boolean;
}

/** --image's default: a locally loaded image (imagePullPolicy IfNotPresent); push a tagged one to a registry for a real cluster */
export const DEFAULT_IMAGE = "wsim:latest";

/** Where the volume is mounted in the pods; the outputs go to `out` on it. */
export const K8S_MOUNT = "/sweep";

/**
 * The directory to copy onto the volume: the deepest one holding the spec and every file it
 * names (traces, machine files, plugins), so their relative paths hold in the pods.
 */
export function volumeRoot(spec: Spec, jobs: Job[]): string {
  const files = [
    resolve(spec.path),
    ...spec.plugins.map((p) => resolve(spec.dir, p)),
    ...jobs.flatMap((j) => [resolve(spec.dir, j.trace), ...(j.machine !== null && !(j.machine in PRESETS) ? [resolve(spec.dir, j.machine)] : [])]),
  ];
  let root = dirname(files[0]!);
  for (const f of files) while (relative(root, f).startsWith("..") || isAbsolute(relative(root, f))) root = dirname(root);
  return root;
}

/** The Indexed Job's manifest (YAML), with a comment saying what to copy where. */
export function k8sManifest(spec: Spec, jobs: Job[], o: K8sOptions): string {
  const root = volumeRoot(spec, jobs);
  const specIn = `${K8S_MOUNT}/${relative(root, resolve(spec.path)).split(sep).join("/")}`;
  // an Indexed Job's pod's hostname is NAME-INDEX, at most 63 characters: room for the last index
  const name = `wsim-sweep-${spec.name}`.slice(0, 63 - 1 - String(Math.max(0, jobs.length - 1)).length).replace(/-+$/, "");
  const labels = { "app.kubernetes.io/name": "wsim", "wsim.sweep/name": spec.name };
  const job = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, labels },
    spec: {
      completionMode: "Indexed",
      completions: jobs.length,
      parallelism: Math.max(1, Math.min(o.parallelism, jobs.length)),
      // each index is retried alone (a pod lost with its node); a failing index stops no other
      backoffLimitPerIndex: 1,
      podFailurePolicy: {
        rules: [
          // the job failed and its failure is recorded on the volume (OUT/ID.failed.json): no retry
          { action: "FailIndex", onExitCodes: { containerName: "wsim", operator: "In", values: [1] } },
          // a bad spec or command line: every index would fail the same way
          { action: "FailJob", onExitCodes: { containerName: "wsim", operator: "In", values: [2, 3] } },
          // an eviction or preemption is not the job's fault
          { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
        ],
      },
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
          containers: [
            {
              name: "wsim",
              image: o.image,
              // the default image (wsim:latest) is one built and loaded locally (kind load, minikube
              // image load): :latest would otherwise be pulled from docker.io every time
              ...(o.image === DEFAULT_IMAGE ? { imagePullPolicy: "IfNotPresent" } : {}),
              command: ["wsim", "sweep", "run", specIn, "--index", "$(JOB_COMPLETION_INDEX)", "--plan-hash", planHash(jobs), "--out", `${K8S_MOUNT}/out`, ...(o.retry ? ["--retry", String(o.retry)] : [])],
              env: [{ name: "JOB_COMPLETION_INDEX", valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }],
              resources: { requests: { cpu: "1" } },
              volumeMounts: [{ name: "sweep", mountPath: K8S_MOUNT }],
            },
          ],
          volumes: [{ name: "sweep", persistentVolumeClaim: { claimName: o.claim } }],
        },
      },
    },
  };
  const note =
    ` wsim sweep ${spec.name}: ${jobs.length} job${jobs.length === 1 ? "" : "s"} as a Kubernetes Indexed Job (Kubernetes 1.29 or newer).\n` +
    ` Before: build the image from wsim's Dockerfile (docker build -t ${o.image} .) and push it to a\n` +
    ` registry the cluster pulls from${o.image === DEFAULT_IMAGE ? " (this default image is only pulled if not present: load it into\n kind or minikube, or give --image REGISTRY/wsim:TAG)" : ""}; copy the spec and the files it names, from\n` +
    ` ${root}\n` +
    ` to the root of the ReadWriteMany claim ${o.claim}. Outputs go to out/ on the claim;\n` +
    ` copy them back and run wsim sweep merge on them.`;
  if (o.json) {
    (job.metadata as Record<string, unknown>).annotations = { "wsim.sweep/note": note.replace(/\n /g, " ").trim() };
    return JSON.stringify(job, null, 2) + "\n";
  }
  const doc = new Document(job);
  doc.commentBefore = note;
  return doc.toString({ lineWidth: 0 });
}
