/*
 * wsim-guest: replays a wsim kernel script inside a QEMU guest (see src/kernel/script.ts).
 * Built static by `wsim kernel` at first use; runs as the initramfs's only program.
 *
 * One command a line:
 *   m ADDR LEN FLAGS [NODE]  mmap anonymous private memory at ADDR (hex); FLAGS: 1 MADV_HUGEPAGE,
 *                      2 MADV_NOHUGEPAGE; NODE: mbind(MPOL_PREFERRED) to that node
 *   f ADDR LEN PATH    mmap PATH (a file on the data disk) shared at ADDR, from offset 0: a
 *                      trace's `kind=file` region, whose written pages are dirty page cache
 *                      written back as wsim's are (MAP_SHARED)
 *   u ADDR LEN         munmap
 *   w ADDR / r ADDR    write / read one byte of the page at ADDR
 *   s PATH VALUE       write VALUE to PATH (sysctl or sysfs), as `echo VALUE > PATH`
 *   p TAG PATH         print PATH between markers: "@@wsim begin TAG" ... "@@wsim end"
 *   P TAG PATH         the same for a pipe that blocks when empty (tracefs's trace_pipe):
 *                      read without blocking until nothing is left
 *   t MS               sleep MS milliseconds
 *   K PATH             load the kernel module at PATH (finit_module): wsim_kalloc
 *   k CMD              write CMD to /proc/wsim_kalloc ("a ID ORDER MT NODE" or "f ID"); a
 *                      failed allocation (ENOMEM) is counted, not an error, as in wsim
 *   a ADDR LEN ADVICE  madvise(ADDR, LEN, ADVICE) (ADVICE: the MADV_* number); EINVAL, ENOMEM
 *                      and EAGAIN are the kernel refusing or failing an advice, as wsim counts
 *                      it (nothing), not errors of the replay
 *   l ADDR LEN / L ADDR LEN  mlock / munlock
 *   W DEV              swapon DEV (a block device under /dev; devtmpfs is mounted, and the
 *                      device waited for up to 10 s, since the driver may still be probing)
 *   @ N                route the per-process commands (m f u w r a l L F X) that follow to worker
 *                      N, a process forked earlier (0: this one); the others always run here
 *   F N                fork(2) of the routed-to process: the child becomes worker N, which runs
 *                      the commands routed to it from its own pipe, one at a time (each acked)
 *   X                  the routed-to worker exits; the helper waits until it is a zombie (its mm
 *                      torn down) or gone
 *   M DEV DIR          mount DEV (ext4, noatime) at DIR, creating DIR (devtmpfs mounted and DEV
 *                      waited for as for W)
 *   R PATH OFF LEN     buffered pread(2) of bytes [OFF, OFF + LEN) of PATH, in chunks of at most
 *                      BUF bytes into one buffer touched before the replay (no fault of its own)
 *   V PATH OFF LEN     buffered pwrite(2) of the same (O_CREAT)
 *   Y PATH             fsync(2) (a file that does not exist: nothing)
 *   T PATH LEN         truncate(2) (a file that does not exist: nothing)
 *   D PATH             unlink(2) (a file that does not exist: nothing)
 * Errors go to the console as "@@wsim error LINE: what"; the replay goes on. At the end,
 * "@@wsim elapsed MS": how long the replay took on the guest's monotonic clock, and
 * "@@wsim kalloc ALLOCS FAILED" when there were kernel allocations.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static unsigned long lineno;

static void fail(const char *what, const char *arg) {
  printf("@@wsim error %lu: %s %s: %s\n", lineno, what, arg, strerror(errno));
}

/*
 * the buffers the helper reads files into (iobuf: the trace's file I/O; pbuf: the files it
 * prints), page-aligned and MADV_DONTFORK'd at start: a forked worker never uses them, and were
 * they copied into it, the helper's next write to each page after a fork would be a
 * copy-on-write (or reuse) fault wsim does not have
 */
#define BUF (1 << 20)
static char iobuf[BUF] __attribute__((aligned(4096)));
static char pbuf[1 << 16] __attribute__((aligned(4096)));

static void print_file(const char *tag, const char *path) {
  char *buf = pbuf;
  const size_t bufsize = sizeof pbuf;
  int fd = open(path, O_RDONLY);
  if (fd < 0) return fail("open", path);
  printf("@@wsim begin %s\n", tag);
  fflush(stdout);
  ssize_t n;
  while ((n = read(fd, buf, bufsize)) > 0) fwrite(buf, 1, (size_t)n, stdout);
  close(fd);
  printf("@@wsim end\n");
  fflush(stdout);
}

/* trace_pipe consumes what it prints and blocks when the ring buffer is empty */
static void drain_pipe(const char *tag, const char *path) {
  char *buf = pbuf;
  const size_t bufsize = sizeof pbuf;
  int fd = open(path, O_RDONLY | O_NONBLOCK);
  if (fd < 0) return fail("open", path);
  printf("@@wsim begin %s\n", tag);
  fflush(stdout);
  ssize_t n;
  while ((n = read(fd, buf, bufsize)) > 0) fwrite(buf, 1, (size_t)n, stdout);
  if (n < 0 && errno != EAGAIN) fail("read", path);
  close(fd);
  printf("@@wsim end\n");
  fflush(stdout);
}

static void write_file(const char *path, const char *value) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return fail("open", path);
  if (write(fd, value, strlen(value)) < 0) fail("write", path);
  close(fd);
}

static unsigned long kalloc_allocs, kalloc_failed;

static void load_module(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("open", path);
  if (syscall(SYS_finit_module, fd, "", 0) != 0) fail("finit_module", path);
  close(fd);
}

static void kalloc(const char *cmd) {
  static int fd = -1;
  if (fd < 0 && (fd = open("/proc/wsim_kalloc", O_WRONLY)) < 0) return fail("open", "/proc/wsim_kalloc");
  int alloc = cmd[0] == 'a';
  if (alloc) kalloc_allocs++;
  if (write(fd, cmd, strlen(cmd)) >= 0) return;
  if (alloc && errno == ENOMEM) kalloc_failed++;
  else if (!(errno == ENOENT && !alloc)) fail("kalloc", cmd); /* ENOENT: the free of a failed allocation */
}

/* mounts devtmpfs once and waits up to 10 s for dev (its driver may still be probing); 0 when it is there */
static int wait_device(const char *dev) {
  static int dev_mounted;
  if (!dev_mounted) {
    if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) != 0 && errno != EBUSY) return fail("mount devtmpfs", "/dev"), -1;
    dev_mounted = 1;
  }
  struct stat st;
  for (int i = 0; i < 200 && stat(dev, &st) != 0; i++) {
    struct timespec ts = {0, 50000000L};
    nanosleep(&ts, NULL);
  }
  return 0;
}

static void enable_swap(const char *dev) {
  if (wait_device(dev) == 0 && swapon(dev, 0) != 0) fail("swapon", dev);
}

static void mount_data(const char *dev, const char *dir) {
  if (wait_device(dev) != 0) return;
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) return fail("mkdir", dir);
  if (mount(dev, dir, "ext4", MS_NOATIME, NULL) != 0) fail("mount ext4", dev);
}

/* buffered read (write) of [off, off + len) of path, BUF bytes at a time */
static void file_io(const char *path, unsigned long off, unsigned long len, int write_) {
  int fd = open(path, write_ ? O_WRONLY | O_CREAT : O_RDONLY, 0644);
  if (fd < 0) return fail("open", path);
  while (len > 0) {
    size_t n = len < BUF ? (size_t)len : BUF;
    ssize_t k = write_ ? pwrite(fd, iobuf, n, (off_t)off) : pread(fd, iobuf, n, (off_t)off);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) {
      fail(write_ ? "pwrite" : "pread", path);
      break;
    }
    if (k == 0) break; /* end of file */
    off += (unsigned long)k;
    len -= (unsigned long)k;
  }
  close(fd);
}

static void file_sync(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    if (errno != ENOENT) fail("open", path);
    return;
  }
  if (fsync(fd) != 0) fail("fsync", path);
  close(fd);
}

/* forked workers: worker n reads commands from cmdp[n] and acks each on ackp[n] */
#define MAXW 16
static int cmdp[MAXW][2], ackp[MAXW][2];
static pid_t wpid[MAXW];
static int pipes_made;

static void worker(int n);

/* one command, run by this process */
static void run(char *line) {
  char a[2048], b[2048];
  unsigned long addr, len, flags;
  static volatile unsigned char sink = 0;
  switch (line[0]) {
    case 'w':
      if (sscanf(line + 2, "%lx", &addr) == 1) *(volatile unsigned char *)addr = 1;
      break;
    case 'r':
      if (sscanf(line + 2, "%lx", &addr) == 1) sink += *(volatile unsigned char *)addr;
      break;
    case 'm': {
      long node = -1;
      if (sscanf(line + 2, "%lx %lu %lu %ld", &addr, &len, &flags, &node) < 3) break;
      if (mmap((void *)addr, len, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0) == MAP_FAILED) {
        fail("mmap", "");
        break;
      }
      if (flags & 1) madvise((void *)addr, len, MADV_HUGEPAGE);
      if (flags & 2) madvise((void *)addr, len, MADV_NOHUGEPAGE);
      if (node >= 0 && node < 64) {
        unsigned long mask = 1UL << node;
        if (syscall(SYS_mbind, addr, len, 1 /* MPOL_PREFERRED */, &mask, 64UL, 0U) != 0) fail("mbind", "");
      }
      break;
    }
    case 'f': {
      if (sscanf(line + 2, "%lx %lu %2047s", &addr, &len, a) != 3) break;
      int fd = open(a, O_RDWR);
      if (fd < 0) {
        fail("open", a);
        break;
      }
      if (mmap((void *)addr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0) == MAP_FAILED) fail("mmap", a);
      close(fd);
      break;
    }
    case 'u':
      if (sscanf(line + 2, "%lx %lu", &addr, &len) == 2 && munmap((void *)addr, len) != 0) fail("munmap", "");
      break;
    case 'a': {
      int advice;
      if (sscanf(line + 2, "%lx %lu %d", &addr, &len, &advice) == 3 && madvise((void *)addr, len, advice) != 0 &&
          errno != EINVAL && errno != ENOMEM && errno != EAGAIN)
        fail("madvise", "");
      break;
    }
    case 'l':
      if (sscanf(line + 2, "%lx %lu", &addr, &len) == 2 && mlock((void *)addr, len) != 0) fail("mlock", "");
      break;
    case 'L':
      if (sscanf(line + 2, "%lx %lu", &addr, &len) == 2 && munlock((void *)addr, len) != 0) fail("munlock", "");
      break;
    case 's':
      if (sscanf(line + 2, "%2047s %2047[^\n]", a, b) == 2) write_file(a, b);
      break;
    case 'p':
      if (sscanf(line + 2, "%2047s %2047s", a, b) == 2) print_file(a, b);
      break;
    case 'P':
      if (sscanf(line + 2, "%2047s %2047s", a, b) == 2) drain_pipe(a, b);
      break;
    case 'K':
      if (sscanf(line + 2, "%2047s", a) == 1) load_module(a);
      break;
    case 'k':
      if (sscanf(line + 2, "%2047[^\n]", a) == 1) kalloc(a);
      break;
    case 'W':
      if (sscanf(line + 2, "%2047s", a) == 1) enable_swap(a);
      break;
    case 'M':
      if (sscanf(line + 2, "%2047s %2047s", a, b) == 2) mount_data(a, b);
      break;
    case 'R':
    case 'V': {
      unsigned long off;
      if (sscanf(line + 2, "%2047s %lu %lu", a, &off, &len) == 3) file_io(a, off, len, line[0] == 'V');
      break;
    }
    case 'Y':
      if (sscanf(line + 2, "%2047s", a) == 1) file_sync(a);
      break;
    case 'T':
      if (sscanf(line + 2, "%2047s %lu", a, &len) == 2 && truncate(a, (off_t)len) != 0 && errno != ENOENT) fail("truncate", a);
      break;
    case 'D':
      if (sscanf(line + 2, "%2047s", a) == 1 && unlink(a) != 0 && errno != ENOENT) fail("unlink", a);
      break;
    case 'c': { /* run on CPU n from here on (the CPU wsim runs the next events on) */
      int cpu;
      cpu_set_t set;
      if (sscanf(line + 2, "%d", &cpu) != 1 || cpu < 0 || cpu >= CPU_SETSIZE) break;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      if (sched_setaffinity(0, sizeof set, &set) != 0) fail("sched_setaffinity", "");
      break;
    }
    case 't': {
      unsigned long ms;
      if (sscanf(line + 2, "%lu", &ms) == 1) {
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
      }
      break;
    }
    case 'F': {
      int n;
      if (sscanf(line + 2, "%d", &n) != 1 || n <= 0 || n >= MAXW) break;
      fflush(stdout);
      pid_t pid = fork();
      if (pid < 0) fail("fork", "");
      else if (pid == 0) worker(n); /* never returns */
      break;
    }
    default:
      break;
  }
}

/* the commands a worker runs for the process it stands for; the rest run in the helper */
static int per_process(char c) {
  return c == 'm' || c == 'f' || c == 'u' || c == 'w' || c == 'r' || c == 'a' || c == 'l' || c == 'L' || c == 'F' || c == 'X';
}

static void read_full(int fd, void *buf, size_t n) {
  char *p = buf;
  while (n > 0) {
    ssize_t k = read(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return fail("read", "worker pipe");
    p += k;
    n -= (size_t)k;
  }
}

/* a forked worker: announce its pid, then run each command it is sent and ack it; X ends it */
static void worker(int n) {
  pid_t me = getpid();
  if (write(ackp[n][1], &me, sizeof me) != (ssize_t)sizeof me) _exit(1);
  FILE *in = fdopen(cmdp[n][0], "r");
  char line[4096];
  while (in && fgets(line, sizeof line, in)) {
    if (line[0] == 'X') {
      fflush(stdout);
      if (write(ackp[n][1], "x", 1) != 1) _exit(1);
      _exit(0);
    }
    run(line);
    fflush(stdout);
    if (write(ackp[n][1], "k", 1) != 1) _exit(1);
  }
  _exit(0);
}

/* wait until process pid is a zombie (exit_mm done) or gone */
static void wait_exited(pid_t pid) {
  char path[64], st[256];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  for (;;) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return;
    ssize_t k = read(fd, st, sizeof st - 1);
    close(fd);
    if (k <= 0) return;
    st[k] = 0;
    char *p = strrchr(st, ')');
    if (!p || p[1] == 0 || p[2] == 'Z' || p[2] == 'X') return;
    struct timespec ts = {0, 1000000L};
    nanosleep(&ts, NULL);
  }
}

static void replay(FILE *f) {
  char line[4096];
  int target = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    if (line[0] == '@') {
      int n;
      if (sscanf(line + 2, "%d", &n) == 1 && n >= 0 && n < MAXW) target = n;
      continue;
    }
    int fork_n = -1;
    if (line[0] == 'F' && (sscanf(line + 2, "%d", &fork_n) != 1 || fork_n <= 0 || fork_n >= MAXW)) continue;
    if (fork_n > 0 && !pipes_made) {
      /* every worker's pipes before the first fork: each process inherits them all */
      for (int i = 1; i < MAXW; i++)
        if (pipe(cmdp[i]) != 0 || pipe(ackp[i]) != 0) fail("pipe", "");
      pipes_made = 1;
    }
    if (target == 0 || !per_process(line[0])) {
      if (line[0] != 'X') run(line);
    } else {
      char c;
      if (write(cmdp[target][1], line, strlen(line)) < 0) fail("write", "worker pipe");
      read_full(ackp[target][0], &c, 1);
      if (line[0] == 'X') wait_exited(wpid[target]);
    }
    if (fork_n > 0) read_full(ackp[fork_n][0], &wpid[fork_n], sizeof(pid_t));
  }
}

int main(int argc, char **argv) {
  const char *script = argc > 1 ? argv[1] : "/script";
  if (getpid() == 1) {
    mount("proc", "/proc", "proc", 0, NULL);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
    mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
    mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  memset(iobuf, 'w', sizeof iobuf); /* its pages are boot's, not the replay's */
  memset(pbuf, 0, sizeof pbuf);
  if (madvise(iobuf, sizeof iobuf, MADV_DONTFORK) != 0 || madvise(pbuf, sizeof pbuf, MADV_DONTFORK) != 0) fail("madvise", "MADV_DONTFORK");
  FILE *f = fopen(script, "r");
  if (!f) {
    fail("open", script);
  } else {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    printf("@@wsim start\n");
    replay(f);
    fclose(f);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (kalloc_allocs) printf("@@wsim kalloc %lu %lu\n", kalloc_allocs, kalloc_failed);
    printf("@@wsim elapsed %ld\n", (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
    printf("@@wsim done\n");
  }
  fflush(stdout);
  if (getpid() == 1) {
    /* the console is a UART: let it send everything before the machine goes away */
    tcdrain(STDOUT_FILENO);
    struct timespec ts = {0, 200000000L};
    nanosleep(&ts, NULL);
    sync();
    reboot(RB_POWER_OFF);
  }
  return 0;
}
