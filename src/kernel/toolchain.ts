/**
 * What `wsim kernel` needs on the host: QEMU, gcc with a static libc, a kernel image, and for
 * traces with kernel allocations the kernel's headers and make to build wsim_kalloc.ko.
 * Each missing piece is named with the Debian package that provides it; the default kernel
 * (Debian's 6.1 cloud image) is fetched with `apt-get download` and cached on first use.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { EnvironmentError } from "../errors.js";

/** the guest helper's source, beside this module's source (dist/kernel -> src/kernel) */
export const GUEST_SOURCE = fileURLToPath(new URL("../../src/kernel/guest.c", import.meta.url));

export function cacheDir(): string {
  const d = process.env.WSIM_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "wsim");
  mkdirSync(d, { recursive: true });
  return d;
}

export function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

export function findQemu(): string {
  const q = which("qemu-system-x86_64");
  if (!q) throw new EnvironmentError("qemu-system-x86_64 not found: install Debian's package qemu-system-x86 (apt-get install qemu-system-x86)");
  return q;
}

/** Builds the static guest helper once per source version; returns its path. */
export function buildHelper(log: (msg: string) => void): string {
  const src = readFileSync(GUEST_SOURCE);
  const out = join(cacheDir(), `wsim-guest-${createHash("sha256").update(src).digest("hex").slice(0, 12)}`);
  if (existsSync(out)) return out;
  if (!which("gcc")) throw new EnvironmentError("gcc not found: install Debian's package gcc (apt-get install gcc libc6-dev)");
  log(`wsim kernel: building the guest helper (${out})`);
  const tmp = `${out}.tmp${process.pid}`;
  try {
    execFileSync("gcc", ["-static", "-O2", "-o", tmp, GUEST_SOURCE], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    const err = String((e as { stderr?: Buffer }).stderr ?? e);
    throw new EnvironmentError(
      `gcc could not build the static guest helper${/cannot find -lc|libc\.a/.test(err) ? ": install Debian's package libc6-dev" : ""}:\n${err.trim()}`,
    );
  }
  renameSync(tmp, out);
  return out;
}

/**
 * The default kernel: the newest linux-image-*-cloud-amd64 that apt knows, unpacked into the
 * cache. Returns the bzImage's path.
 */
export function defaultKernel(log: (msg: string) => void): string {
  const dir = join(cacheDir(), "kernel");
  const found = existsSync(join(dir, "boot")) ? readdirSync(join(dir, "boot")).find((f) => f.startsWith("vmlinuz-")) : undefined;
  if (found) return join(dir, "boot", found);
  if (!which("apt-get") || !which("dpkg-deb"))
    throw new EnvironmentError("no kernel: pass --kernel PATH to a bzImage (fetching Debian's cloud kernel needs apt-get and dpkg-deb)");
  let pkg: string | undefined;
  try {
    const deps = execFileSync("apt-cache", ["depends", "linux-image-cloud-amd64"], { encoding: "utf8" });
    pkg = /Depends: (linux-image-[^\s]+-cloud-amd64)\b/.exec(deps)?.[1];
  } catch {
    /* reported below */
  }
  if (!pkg) throw new EnvironmentError("no kernel: apt knows no linux-image-cloud-amd64 (run apt-get update), or pass --kernel PATH");
  log(`wsim kernel: fetching ${pkg} with apt-get download into ${dir} (once)`);
  fetchDebs([pkg], dir);
  return defaultKernel(log);
}

/**
 * apt-get download PKGS and unpack them all (dpkg-deb -x) into DIR, replacing what was there;
 * `fix` may edit the unpacked tree, at its temporary place, before it moves in. Errors name
 * the first package.
 */
function fetchDebs(pkgs: readonly string[], dir: string, fix: (tree: string) => void = () => {}): void {
  const tmp = mkdtempSync(join(cacheDir(), "fetch-"));
  try {
    execFileSync("apt-get", ["download", "-q", ...pkgs], { cwd: tmp, stdio: ["ignore", "ignore", "pipe"] });
    const debs = readdirSync(tmp).filter((f) => f.endsWith(".deb"));
    if (!debs.length) throw new Error("apt-get download left no .deb");
    for (const deb of debs) execFileSync("dpkg-deb", ["-x", join(tmp, deb), join(tmp, "x")]);
    fix(join(tmp, "x"));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(join(tmp, "x"), dir);
  } catch (e) {
    throw new EnvironmentError(`could not fetch ${pkgs[0]}: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim()}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** wsim_kalloc's source, beside guest.c */
export const KALLOC_SOURCE = fileURLToPath(new URL("../../src/kernel/kalloc.c", import.meta.url));

/** The kernel release of an image wsim fetched (`…/kernel/boot/vmlinuz-RELEASE`), else null. */
export function defaultKernelRelease(image: string): string | null {
  const dir = join(cacheDir(), "kernel", "boot");
  const m = /^vmlinuz-(.+)$/.exec(image.slice(dir.length + 1));
  return image.startsWith(dir + "/") && m ? m[1]! : null;
}

/**
 * The headers the module builds against: Debian's linux-headers-RELEASE with the common
 * headers and kbuild it depends on, unpacked into the cache once. The arch Makefile includes
 * the common one by its absolute /usr/src path; the unpacked copy points at its neighbour.
 */
function kernelHeaders(release: string, log: (msg: string) => void): string {
  const dir = join(cacheDir(), "headers", release);
  const tree = join(dir, "usr", "src", `linux-headers-${release}`);
  if (existsSync(join(tree, "Makefile"))) return tree;
  if (!which("apt-get") || !which("dpkg-deb"))
    throw new EnvironmentError(`no headers for ${release}: fetching them needs apt-get and dpkg-deb (or pass --no-kalloc)`);
  const pkg = `linux-headers-${release}`;
  let pkgs: string[];
  try {
    const deps = execFileSync("apt-cache", ["depends", pkg], { encoding: "utf8" });
    pkgs = [pkg, ...[...deps.matchAll(/Depends: (linux-(?:headers|kbuild)-[^\s]+)/g)].map((m) => m[1]!)];
  } catch {
    throw new EnvironmentError(`no headers: apt knows no ${pkg} (run apt-get update), or pass --no-kalloc`);
  }
  log(`wsim kernel: fetching ${pkgs.join(", ")} with apt-get download into ${dir} (once)`);
  fetchDebs(pkgs, dir, (root) => {
    const mk = join(root, "usr", "src", `linux-headers-${release}`, "Makefile");
    writeFileSync(mk, readFileSync(mk, "utf8").replace(/^include \/usr\/src\//m, `include ${join(dir, "usr", "src")}/`));
  });
  return tree;
}

/**
 * The build tree of a kernel passed as `--kernel …/arch/x86/boot/bzImage`, when it has what an
 * external module needs (its Makefile and Module.symvers); else null.
 */
export function kernelBuildTree(image: string): string | null {
  if (!/(^|\/)arch\/x86\/boot\/bzImage$/.test(image)) return null;
  const tree = resolve(dirname(image), "..", "..", "..");
  return existsSync(join(tree, "Makefile")) && existsSync(join(tree, "Module.symvers")) ? tree : null;
}

/**
 * Builds wsim_kalloc.ko once per source version and kernel: against the default kernel's
 * headers, or against `--kernel`'s own build tree (rebuilt when its bzImage changes).
 */
export function buildKallocModule(image: string, log: (msg: string) => void): string {
  const release = defaultKernelRelease(image);
  const own = release === null ? kernelBuildTree(image) : null;
  if (release === null && own === null) throw new EnvironmentError(`no build tree for ${image}: wsim_kalloc cannot be built (pass --no-kalloc)`);
  const src = readFileSync(KALLOC_SOURCE);
  const key = release ?? `${own}@${statSync(image).mtimeMs}`;
  const hash = createHash("sha256").update(src).update(key).digest("hex").slice(0, 12);
  const out = join(cacheDir(), `wsim_kalloc-${hash}.ko`);
  if (existsSync(out)) return out;
  for (const [tool, pkg] of [["make", "make"], ["gcc", "gcc"]])
    if (!which(tool)) throw new EnvironmentError(`${tool} not found: install Debian's package ${pkg} to build wsim's kernel module (or pass --no-kalloc)`);
  const tree = own ?? kernelHeaders(release!, log);
  log(`wsim kernel: building the wsim_kalloc module against ${tree} (${out})`);
  const tmp = mkdtempSync(join(cacheDir(), "kalloc-"));
  try {
    writeFileSync(join(tmp, "wsim_kalloc.c"), src);
    writeFileSync(join(tmp, "Kbuild"), "obj-m := wsim_kalloc.o\n");
    execFileSync("make", ["-s", "-C", tree, `M=${tmp}`, "modules"], { stdio: ["ignore", "ignore", "pipe"] });
    renameSync(join(tmp, "wsim_kalloc.ko"), out);
  } catch (e) {
    throw new EnvironmentError(`could not build wsim's kernel module: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim()}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}
