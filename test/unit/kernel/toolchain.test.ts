/** Which kernel wsim_kalloc can be built for (no build here: that needs headers or a tree). */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildKallocModule, defaultKernelRelease, kernelBuildTree } from "../../../src/kernel/toolchain.js";

describe("wsim_kalloc's kernel", () => {
  let cache: string;
  const saved = process.env.WSIM_CACHE;
  beforeEach(() => {
    cache = mkdtempSync(join(tmpdir(), "wsim-cache-"));
    process.env.WSIM_CACHE = cache;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.WSIM_CACHE;
    else process.env.WSIM_CACHE = saved;
  });

  it("knows the release of the kernel it fetched, and only of that one", () => {
    expect(defaultKernelRelease(join(cache, "kernel/boot/vmlinuz-6.1.0-50-cloud-amd64"))).toBe("6.1.0-50-cloud-amd64");
    expect(defaultKernelRelease("/boot/vmlinuz-6.1.0-50-cloud-amd64")).toBeNull();
    expect(defaultKernelRelease(join(cache, "kernel/boot/System.map-6.1.0-50-cloud-amd64"))).toBeNull();
  });

  it("finds a --kernel's build tree when it has a Makefile and Module.symvers", () => {
    const tree = mkdtempSync(join(tmpdir(), "linux-"));
    mkdirSync(join(tree, "arch/x86/boot"), { recursive: true });
    writeFileSync(join(tree, "arch/x86/boot/bzImage"), "");
    writeFileSync(join(tree, "Makefile"), "");
    expect(kernelBuildTree(join(tree, "arch/x86/boot/bzImage"))).toBeNull(); // not built with modules yet
    writeFileSync(join(tree, "Module.symvers"), "");
    expect(kernelBuildTree(join(tree, "arch/x86/boot/bzImage"))).toBe(tree);
    expect(kernelBuildTree(join(tree, "vmlinux"))).toBeNull();
  });

  it("names the package to install when make is missing (exit 69)", () => {
    const image = join(cache, "kernel/boot/vmlinuz-6.1.0-50-cloud-amd64");
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      expect(() => buildKallocModule(image, () => {})).toThrow(
        expect.objectContaining({ exitCode: 69, message: "make not found: install Debian's package make to build wsim's kernel module (or pass --no-kalloc)" }),
      );
    } finally {
      process.env.PATH = path;
    }
  });

  it("refuses, naming --no-kalloc, a kernel it has no headers or tree for (exit 69)", () => {
    expect(() => buildKallocModule("/boot/vmlinuz-6.1.0-50-cloud-amd64", () => {})).toThrow(
      expect.objectContaining({ exitCode: 69, message: expect.stringMatching(/--no-kalloc/) }),
    );
  });
});
