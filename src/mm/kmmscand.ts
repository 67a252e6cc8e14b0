/**
 * kmmscand V1 (Raghavendra K T, "[RFC PATCH V1 04/13] mm: Create a separate kernel thread for
 * migration", 2025): a global page-table scanner and kmmmigrated, its migration thread.
 *
 * The scanner runs a round every `scan_sleep_ms`, visiting up to `mms_to_scan` mms whose scan
 * is due (each mm is first scanned 1000 ms after its first event, then every per-mm scan
 * period); a visit walks the mm's regions from where the last one stopped until `scan_size`
 * bytes of them were scanned, clearing each present page's accessed bit; accessed pages on a
 * lower tier go on the scan list (nr_kmmscand_slowtier), accessed top-tier ones are counted
 * (toptier), unaccessed ones too (idlepage); the scan list is then spliced onto the migration
 * list (migadded) with the mm's target: the top-tier node that saw most of its scanned pages,
 * else `kmmscand.target_node`. The scan period and size adapt per mm as V1 does (X = the last
 * scan's useful pages, Y = (X >> 4) + this scan's, Y < 256 counting as 0: both 0 -> period +15%,
 * size / 2; both > 0 -> period -15%, size x 2; X > 0, Y = 0 -> period x 8; X = 0, Y > 0 ->
 * period / 8, size to the maximum; period 500..5000 ms, size 256 MiB..4 GiB).
 *
 * kmmmigrated loops as the seed does: migrate the whole list, msleep(20), then wait
 * `migrate_sleep_ms` (20): 40 ms a cycle by default. With `kmmscand.feed=kpromoted` the scanner
 * feeds kpromoted's record_access (no node) instead of the list. An exiting process's entries
 * are removed from both lists (the seed's cleanup, and its case of a list being "dirty" while
 * kmmmigrated holds it).
 *
 * Huge pages: the RFC walks PTEs only (a pte_entry without pmd_entry), so walk_pmd_range
 * splits a PMD-mapped THP (split_huge_pmd) and every one of its 512 PTEs is visited, each
 * young when the PMD was: every counter here (idlepage, toptier, slowtier, the per-node
 * scanned pages that pick the target, the useful pages that adapt the period) counts PTEs,
 * that is pages, so a THP weighs 512 (a visit that stops inside one counts the PTEs it
 * visited). wsim keeps the PMD mapping (the split is not modelled); the young bit of the
 * visited PTEs is "any subpage accessed", and only the visited subpages' bits are cleared.
 *
 * Busy time (issue 16 item 2): a scan round costs its visits' pages looked at (the present
 * pages counted per node, a THP's visited PTEs each) × cost.compact_scan_ns of virtual time; the
 * next round's sleep starts at its end, in whole jiffies (BusyWindow.waitDelay);
 * wsim_kmmscand_busy_ms.
 *
 * wsim simplification: only mmap'ed regions are scanned (pages mapped implicitly by bare
 * accesses have no region); huge pages are not queued.
 */
import type { Daemon, EngineContext, SteadyAdvance } from "../engine/daemon.js";
import { BusyWindow, JIFFY_SAFE_BELOW, JIFFY_SAFE_NS, type ScanMigrateCosts } from "../engine/busy.js";
import { V } from "../stats/counters.js";
import type { Mm, ProcessTable } from "./process.js";
import { PG_ACCESSED, PG_LRU, type PageArrays } from "./pages.js";

const MIN_PERIOD = 500;
const MAX_PERIOD = 5000;
const MIN_SIZE = 256 * 2 ** 20;
const MAX_SIZE = 4 * 2 ** 30;
const INITIAL_DELAY = 1000; // numa_balancing_scan_delay
const MSLEEP = 20;
/** the longest cycle of dry visits (cursor positions) steady looks for */
const MAX_STEADY_CYCLE = 64;
/** visit rounds steadyUneven simulates at most in one advance */
const MAX_UNEVEN_VISIT_ROUNDS = 200_000;

/** kmmscand.* tunables as the scanner reads them */
export interface KmmscandSettings {
  enabled: () => boolean;
  feed: () => "migrate" | "kpromoted";
  scanPeriodMs: () => number;
  scanSize: () => number;
  scanSleepMs: () => number;
  mmsToScan: () => number;
  migrateSleepMs: () => number;
  targetNode: () => number;
}

export interface KmmscandEnv extends KmmscandSettings {
  ev: Float64Array;
  pages: PageArrays;
  procs: ProcessTable;
  nodeOf: (pfn: number) => number;
  isTopTier: (nid: number) => boolean;
  topTierNodes: readonly number[];
  /** kpromoted_record_access(pfn, NUMA_NO_NODE, pgtscan) */
  record: (pfn: number) => void;
  /** migrate_misplaced_folio(pfn, nid) */
  promote: (pfn: number, nid: number) => boolean;
}

interface MmState {
  firstSeen: number;
  nextScan: number;
  period: number;
  size: number;
  /** useful pages of the last scan (X) */
  useful: number;
  /** where the next visit starts (a vpn) */
  cursor: number;
  /** pages scanned per node, for the target node */
  scanned: Map<number, number>;
}

/** What a dry visit of an mm would add (Kmmscand.steady). */
interface DryVisit {
  vmaScans: number;
  idle: number;
  /** pages per node */
  scanned: Map<number, number>;
  /** the cursor the visit would leave */
  cursor: number;
}

/** One entry of the migration list. */
interface Entry {
  pfn: number;
  mmSlot: number;
  vpn: number;
  target: number;
}

export class Kmmscand {
  private readonly mms = new Map<number, MmState>();
  /** the migration list kmmmigrated works on */
  readonly migrationList: Entry[] = [];
  /** virtual times of scan visits [time, pid] and migration cycles, for tests */
  readonly visits: [number, number][] = [];
  readonly cycles: number[] = [];
  keepLog = false;
  /** pages looked at by real visits so far (present pages, a THP's visited PTEs each): the rounds' cost */
  pagesScanned = 0;

  constructor(private readonly env: KmmscandEnv) {}

  /** An mm's first event: register it (kmmscand_add: first scan a second later). */
  register(mm: Mm, now: number): void {
    if (this.mms.has(mm.slot)) return;
    this.mms.set(mm.slot, {
      firstSeen: now,
      nextScan: now + INITIAL_DELAY,
      period: this.env.scanPeriodMs(),
      size: this.env.scanSize(),
      useful: 0,
      cursor: 0,
      scanned: new Map(),
    });
  }

  /** kmmscand_exit: forget the mm, and drop its pages from the migration list. */
  exit(mm: Mm): void {
    this.mms.delete(mm.slot);
    let w = 0;
    const l = this.migrationList;
    for (let r = 0; r < l.length; r++) if (l[r]!.mmSlot !== mm.slot) l[w++] = l[r]!;
    l.length = w;
  }

  /** One scan round; returns the pages its visits looked at (its cost's measure). */
  round(now: number): number {
    const p0 = this.pagesScanned;
    if (!this.env.enabled()) return 0;
    let budget = this.env.mmsToScan();
    for (const [slot, st] of this.mms) {
      if (budget <= 0) break;
      if (st.nextScan > now) continue;
      const mm = this.env.procs.bySlot.get(slot);
      if (!mm) continue;
      budget--;
      this.scanMm(mm, st, now);
    }
    return this.pagesScanned - p0;
  }

  /** kmmscand_scan_mm_slot */
  private scanMm(mm: Mm, st: MmState, now: number): void {
    this.visit(mm, st, now, null);
  }

  /**
   * One visit of an mm (kmmscand_scan_mm_slot). With `dry` set it changes nothing: it fills
   * `dry` with what the visit would add (vma scans, idle pages, pages per node, the cursor it
   * would leave) and returns false as soon as it meets an accessed page (a visit that would
   * clear a bit or count a useful page); a real visit returns true.
   */
  private visit(mm: Mm, st: MmState, now: number, dry: DryVisit | null): boolean {
    const { ev, pages, nodeOf, isTopTier } = this.env;
    if (!dry) {
      ev[V.nr_kmmscand_mm_scans]!++;
      if (this.keepLog) this.visits.push([now, mm.pid]);
    }
    const feedKpromoted = this.env.feed() === "kpromoted";
    const scanList: Entry[] = [];
    let budgetPages = Math.floor(st.size / 4096);
    let newUseful = 0;
    let cursor = st.cursor;
    const vmas = mm.vmas;
    // start at the region holding the cursor, wrap around once
    let i = vmas.findIndex((v) => v.end > cursor);
    if (i < 0) i = 0;
    for (let k = 0; k < vmas.length && budgetPages > 0; k++) {
      const v = vmas[(i + k) % vmas.length]!;
      if (dry) dry.vmaScans++;
      else ev[V.nr_kmmscand_vma_scans]!++;
      let vpn = k === 0 && cursor > v.start ? cursor : v.start;
      for (; vpn < v.end && budgetPages > 0; vpn++) {
        budgetPages--;
        const idx = Math.floor(vpn / 512);
        const leaf = mm.leaf(idx);
        if (!leaf) {
          vpn = Math.min(v.end, (idx + 1) * 512) - 1; // no page table here
          continue;
        }
        const pte = leaf[vpn - idx * 512]!;
        if (pte <= 0) continue;
        const pfn = pte - 1;
        const f = pages.flags[pfn]!;
        if (!(f & PG_LRU)) continue;
        const head = this.env.procs.hugeHead(pfn);
        if (head >= 0) {
          // the PTEs of this THP left in the region and the budget, young if the PMD was
          const n = Math.min(head + 512 - pfn, v.end - vpn, budgetPages + 1);
          let young = false;
          for (let q = head; q < head + 512; q++) if (pages.flags[q]! & PG_ACCESSED) young = true;
          const hnid = nodeOf(head);
          if (dry) {
            if (young) return false;
            dry.scanned.set(hnid, (dry.scanned.get(hnid) ?? 0) + n);
            dry.idle += n;
            vpn += n - 1;
            budgetPages -= n - 1;
            continue;
          }
          for (let q = pfn; q < pfn + n; q++) pages.flags[q]! &= ~PG_ACCESSED;
          this.pagesScanned += n;
          st.scanned.set(hnid, (st.scanned.get(hnid) ?? 0) + n);
          if (!young) ev[V.nr_kmmscand_idlepage]! += n;
          else if (isTopTier(hnid)) ev[V.nr_kmmscand_toptier]! += n;
          else {
            ev[V.nr_kmmscand_slowtier]! += n;
            newUseful += n;
          }
          vpn += n - 1;
          budgetPages -= n - 1;
          continue;
        }
        const nid = nodeOf(pfn);
        if (dry) {
          if (f & PG_ACCESSED) return false;
          dry.scanned.set(nid, (dry.scanned.get(nid) ?? 0) + 1);
          dry.idle++;
          continue;
        }
        st.scanned.set(nid, (st.scanned.get(nid) ?? 0) + 1);
        this.pagesScanned++;
        if (!(f & PG_ACCESSED)) {
          ev[V.nr_kmmscand_idlepage]!++;
          continue;
        }
        pages.flags[pfn] = f & ~PG_ACCESSED;
        if (isTopTier(nid)) {
          ev[V.nr_kmmscand_toptier]!++;
          continue;
        }
        ev[V.nr_kmmscand_slowtier]!++;
        newUseful++;
        if (feedKpromoted) this.env.record(pfn);
        else scanList.push({ pfn, mmSlot: mm.slot, vpn, target: -1 });
      }
      cursor = vpn >= v.end ? (vmas[(i + k + 1) % vmas.length]?.start ?? 0) : vpn;
    }
    if (dry) {
      dry.cursor = cursor;
      return true;
    }
    st.cursor = cursor;
    // splice the scan list onto the migration list, with the mm's target node
    if (scanList.length) {
      const target = this.targetNode(st);
      for (const e of scanList) e.target = target;
      this.migrationList.push(...scanList);
      ev[V.nr_kmmscand_migadded]! += scanList.length;
    }
    this.adapt(st, newUseful, mm.pid);
    st.nextScan = now + st.period;
    return true;
  }

  /** the top-tier node that saw most of the mm's scanned pages, else kmmscand.target_node */
  private targetNode(st: MmState): number {
    let best = -1;
    let most = 0;
    for (const nid of this.env.topTierNodes) {
      const n = st.scanned.get(nid) ?? 0;
      if (n > most) {
        most = n;
        best = nid;
      }
    }
    return best >= 0 ? best : this.env.targetNode();
  }

  /**
   * The kmmscand.scan_period policy point: a plugin's replacement of the adaptation, given the
   * mm's pid and state and the visit's useful pages; it sets st.period, st.size, st.useful.
   * Null runs adaptScan. With one, the scanner is never fast-forwarded as steady.
   */
  periodPolicy: ((pid: number, st: { period: number; size: number; useful: number }, newUseful: number) => void) | null = null;

  /** kmmscand_update_mmslot_info: V1's period and size adaptation, or the policy's */
  private adapt(st: MmState, newUseful: number, pid: number): void {
    if (this.periodPolicy !== null) this.periodPolicy(pid, st, newUseful);
    else adaptScan(st, newUseful);
  }

  /** kmmmigrated's work: migrate the whole list. Returns the entries it took (its work, with nr_kmmscand_migrated: BusyWindow). */
  migrate(now: number): number {
    if (this.keepLog) this.cycles.push(now);
    const { ev, procs, pages } = this.env;
    const list = this.migrationList.splice(0);
    for (const e of list) {
      // the page must still be the one the scanner saw
      const mm = procs.bySlot.get(e.mmSlot);
      const leaf = mm?.leaf(Math.floor(e.vpn / 512));
      const pte = leaf ? leaf[e.vpn % 512]! : 0;
      if (pte !== e.pfn + 1 || !(pages.flags[e.pfn]! & PG_LRU)) {
        ev[V.nr_kmmscand_migrate_failed]!++;
        continue;
      }
      if (this.env.promote(e.pfn, e.target)) ev[V.nr_kmmscand_migrated]!++;
      else ev[V.nr_kmmscand_migrate_failed]!++;
    }
    return list.length;
  }

  /**
   * Until when the scanner's rounds change nothing, given the state now: Infinity while it is
   * disabled or has no mm, else the earliest scan due (a round before it skips every mm).
   */
  quietUntil(): number {
    if (!this.env.enabled()) return Infinity;
    let q = Infinity;
    for (const [slot, st] of this.mms) if (st.nextScan < q && this.env.procs.bySlot.has(slot)) q = st.nextScan;
    return q;
  }

  /**
   * The scanner at a steady state (issue 12 item 13): every live mm is at the fixed point of
   * V1's adaptation with nothing found (period MAX_PERIOD, size MIN_SIZE, no useful pages
   * last time); its next visits would meet no accessed page and bring its cursor back where
   * it is within MAX_STEADY_CYCLE visits (a cycle: a region larger than scan_size is walked
   * in several visits, each with its own counts); and every round from `due` on can visit all
   * the mms due in it: counting each mm's first round j0 (the first at or after its
   * nextScan), no more than mms_to_scan of them share a residue of j0 modulo
   * ceil(MAX_PERIOD / period), the rounds between two visits of an mm. Each further visit
   * then adds the counts of the cycle's next visit (mm_scans 1, vma_scans, idlepage, the
   * pages per node) and moves only the mm's cursor along the cycle and its next scan time, so
   * rounds can be skipped in closed form. (More mms due at once than the budget take turns
   * for a few rounds first; those are ticked.) Returns the fast-forward of `n` rounds of
   * `period` ms from firstDue (see SteadyFn), or null. A visit happens at round j0, then
   * every ceil(MAX_PERIOD / period) rounds.
   *
   * With `busy` (the scanner's busy window, and `scanNs` = cost.compact_scan_ns), each
   * skipped visit's pages looked at × scanNs add to it as ticking charges them, round by round.
   * The rounds stay `period` apart only while each ends within the jiffy it started in: the
   * fast-forward is refused when the mms' costliest visits together (the most a round can
   * hold) exceed JIFFY_SAFE_NS (0.999 ms), or `due` is not a whole ms or is at or above half
   * JIFFY_SAFE_BELOW (2^42 ms; a fast-forward from below that past 2^43 ms, 139 years of
   * trace in one idle gap, is not covered by this check). The window's end is set to the last round that visited any mm
   * (its start + its visits' ms); it only matters while that round runs.
   */
  steady(period: number, due: number, busy: BusyWindow | null = null, scanNs = 0): ((n: number, firstDue: number) => void) | null {
    const env = this.env;
    if (!env.enabled() || this.keepLog || this.periodPolicy !== null) return null;
    const budget = env.mmsToScan();
    const visits: { st: MmState; cycle: DryVisit[] }[] = [];
    for (const [slot, st] of this.mms) {
      const mm = env.procs.bySlot.get(slot);
      if (!mm) continue;
      if (budget <= 0) return () => {}; // no round visits any mm
      if (st.period !== MAX_PERIOD || st.size !== MIN_SIZE || st.useful !== 0) return null;
      // the visits from the cursor on, until the cursor is back where it is now
      const cycle: DryVisit[] = [];
      let cursor = st.cursor;
      do {
        const d: DryVisit = { vmaScans: 0, idle: 0, scanned: new Map(), cursor };
        if (cycle.length === MAX_STEADY_CYCLE || !this.visit(mm, { ...st, cursor }, 0, d)) return null;
        cycle.push(d);
        cursor = d.cursor;
      } while (cursor !== st.cursor);
      visits.push({ st, cycle });
    }
    const visitNs = (d: DryVisit) => {
      let p = 0;
      for (const c of d.scanned.values()) p += c;
      return p * scanNs;
    };
    if (busy !== null) {
      let worst = 0;
      for (const { cycle } of visits) worst += Math.max(0, ...cycle.map(visitNs));
      if (worst > JIFFY_SAFE_NS || due >= JIFFY_SAFE_BELOW / 2 || !Number.isInteger(due) || !Number.isInteger(period)) return null;
    }
    const every = Math.ceil(MAX_PERIOD / period);
    const firstRound = (st: MmState, from: number) => (st.nextScan <= from ? 0 : Math.ceil((st.nextScan - from) / period));
    if (visits.length > budget) {
      const perResidue = new Map<number, number>();
      for (const { st } of visits) {
        const r = firstRound(st, due) % every;
        const c = (perResidue.get(r) ?? 0) + 1;
        if (c > budget) return null;
        perResidue.set(r, c);
      }
    }
    const ev = env.ev;
    return (n, firstDue) => {
      // the last round that visits an mm, and its visits' ns
      let lastRound = -1;
      let lastNs = 0;
      for (const { st, cycle } of visits) {
        const j0 = firstRound(st, firstDue);
        if (j0 >= n) continue;
        const k = Math.floor((n - 1 - j0) / every) + 1;
        if (busy !== null) {
          const jl = j0 + (k - 1) * every;
          const ns = visitNs(cycle[(k - 1) % cycle.length]!);
          if (jl > lastRound) [lastRound, lastNs] = [jl, ns];
          else if (jl === lastRound) lastNs += ns;
        }
        // k visits: whole cycles, then the first k mod L of the next
        const L = cycle.length;
        const whole = Math.floor(k / L);
        const rest = k % L;
        ev[V.nr_kmmscand_mm_scans]! += k;
        for (let m = 0; m < L; m++) {
          const d = cycle[m]!;
          const times = whole + (m < rest ? 1 : 0);
          if (!times) continue;
          ev[V.nr_kmmscand_vma_scans]! += times * d.vmaScans;
          ev[V.nr_kmmscand_idlepage]! += times * d.idle;
          if (busy !== null) busy.ns += times * visitNs(d); // integers: ticking's sum
          for (const [nid, c] of d.scanned) st.scanned.set(nid, (st.scanned.get(nid) ?? 0) + times * c);
        }
        if (rest) st.cursor = cycle[rest - 1]!.cursor; // where the (rest)th visit of the cycle left it
        st.nextScan = firstDue + (j0 + (k - 1) * every) * period + st.period;
      }
      if (busy !== null && lastRound >= 0 && lastNs > 0) busy.until = firstDue + lastRound * period + lastNs / 1e6;
    };
  }

  /**
   * The steady state of `steady` when visits take 1 ms or more (issue 16 item 2): each round
   * that visits an mm is busy its visits' pages × scanNs, and the next round comes at
   * floor(its start + its ms) + sleepMs (BusyWindow.waitDelay), so rounds are uneven. Every
   * live mm at V1's fixed point with a cycle of dry visits (as `steady`), and no more of them
   * than mms_to_scan (every mm due in a round is visited). Rounds from `due` on are simulated
   * visit round by visit round with ticking's arithmetic (quiet rounds between are skipped
   * sleepMs apart: they change nothing); more than MAX_UNEVEN_VISIT_ROUNDS in one advance:
   * null (ticked). Null when not steady.
   */
  steadyUneven(due: number, busy: BusyWindow, scanNs: number, sleepMs: number): SteadyAdvance | null {
    const env = this.env;
    if (!env.enabled() || this.keepLog || this.periodPolicy !== null || !Number.isInteger(due)) return null;
    const visits: { st: MmState; cycle: DryVisit[]; ns: number[] }[] = [];
    for (const [slot, st] of this.mms) {
      const mm = env.procs.bySlot.get(slot);
      if (!mm) continue;
      if (st.period !== MAX_PERIOD || st.size !== MIN_SIZE || st.useful !== 0) return null;
      const cycle: DryVisit[] = [];
      let cursor = st.cursor;
      do {
        const d: DryVisit = { vmaScans: 0, idle: 0, scanned: new Map(), cursor };
        if (cycle.length === MAX_STEADY_CYCLE || !this.visit(mm, { ...st, cursor }, 0, d)) return null;
        cycle.push(d);
        cursor = d.cursor;
      } while (cursor !== st.cursor);
      let p = 0;
      const ns = cycle.map((d) => {
        p = 0;
        for (const c of d.scanned.values()) p += c;
        return p * scanNs;
      });
      visits.push({ st, cycle, ns });
    }
    if (visits.length === 0 || visits.length > env.mmsToScan()) return null;
    return {
      advance: (last: number) => {
        // per mm: visits made, next scan time; busy total; rounds (ticks)
        const made = visits.map(() => 0);
        const next = visits.map((v) => v.st.nextScan);
        let x = due;
        let prev = due - sleepMs;
        let ticks = 0;
        let rounds = 0;
        let addNs = 0;
        let until = busy.until;
        while (x <= last) {
          let m = Infinity;
          for (const t of next) if (t < m) m = t;
          if (x < m) {
            // quiet rounds up to the first at or after m (or past last)
            const k = Math.min(Math.ceil((m - x) / sleepMs), Math.floor((last - x) / sleepMs) + 1);
            ticks += k;
            prev = x + (k - 1) * sleepMs;
            x += k * sleepMs;
            continue;
          }
          if (++rounds > MAX_UNEVEN_VISIT_ROUNDS || x >= JIFFY_SAFE_BELOW) return null;
          let ns = 0;
          for (let i = 0; i < visits.length; i++) {
            if (next[i]! > x) continue;
            const v = visits[i]!;
            ns += v.ns[made[i]! % v.cycle.length]!;
            made[i]!++;
            next[i] = x + MAX_PERIOD;
          }
          ticks++;
          prev = x;
          if (ns > 0) {
            // BusyWindow.charge and waitDelay, as ticking computes them
            addNs += ns;
            until = x + ns / 1e6;
            x = x + (Math.floor(until) + sleepMs - x);
          } else x += sleepMs;
        }
        const ev = env.ev;
        return {
          ticks,
          due: x,
          prev,
          apply: () => {
            busy.ns += addNs;
            busy.until = until;
            for (let i = 0; i < visits.length; i++) {
              const k = made[i]!;
              if (k === 0) continue;
              const { st, cycle } = visits[i]!;
              const L = cycle.length;
              ev[V.nr_kmmscand_mm_scans]! += k;
              for (let j = 0; j < L; j++) {
                const d = cycle[j]!;
                const times = Math.floor(k / L) + (j < k % L ? 1 : 0);
                if (!times) continue;
                ev[V.nr_kmmscand_vma_scans]! += times * d.vmaScans;
                ev[V.nr_kmmscand_idlepage]! += times * d.idle;
                for (const [nid, c] of d.scanned) st.scanned.set(nid, (st.scanned.get(nid) ?? 0) + times * c);
              }
              if (k % L) st.cursor = cycle[(k % L) - 1]!.cursor;
              st.nextScan = next[i]!;
            }
          },
        };
      },
    };
  }

  /** kmmmigrated has nothing to do: disabled, or an empty list (and no cycle log kept). */
  migrateQuiet(): boolean {
    return !this.keepLog && (!this.env.enabled() || this.migrationList.length === 0);
  }

  /** scan state of an mm (tests) */
  stateOf(slot: number): Readonly<MmState> | undefined {
    return this.mms.get(slot);
  }
}

/**
 * The scanner thread: a round every scan_sleep_ms, after the round's busy time (its pages
 * looked at × cost.compact_scan_ns; none with `costs` null).
 */
export class KmmscandDaemon implements Daemon {
  readonly name = "kmmscand";
  /** the busy window of its rounds (wsim_kmmscand_busy_ms) */
  readonly busy = new BusyWindow();
  constructor(private readonly k: Kmmscand, private readonly sleepMs: () => number, private readonly costs: ScanMigrateCosts | null = null) {}
  start(ctx: EngineContext): void {
    // idle (disabled, no mm due) its rounds change nothing: the engine may skip them
    const quiet = (period: number) => (period === Math.max(1, this.sleepMs()) ? this.k.quietUntil() : -Infinity);
    // scanning live mms that touch nothing, its rounds can be fast-forwarded
    // a round that took time: its period is not scan_sleep_ms, so quiet and steady refuse it
    // visits of 1 ms or more: rounds uneven (steadyUneven), also from the round after one
    const steady = (period: number, due: number) => {
      const sleep = Math.max(1, this.sleepMs());
      const ns = this.costs?.compactScan() ?? 0;
      const even = period === sleep ? this.k.steady(period, due, this.costs === null ? null : this.busy, ns) : null;
      if (even !== null || this.costs === null) return even;
      return this.k.steadyUneven(due, this.busy, ns, sleep);
    };
    const tick = () => {
      const pages = this.k.round(ctx.now());
      const ns = this.costs === null ? 0 : pages * this.costs.compactScan();
      if (ns > 0) this.busy.charge(ctx.now(), ns);
      ctx.schedule(this.busy.waitDelay(ctx.now(), Math.max(1, this.sleepMs())), tick, quiet, steady);
    };
    ctx.schedule(Math.max(1, this.sleepMs()), tick, quiet, steady);
  }
}

/**
 * kmmmigrated: migrate the list, msleep(20), wait migrate_sleep_ms. A cycle costs its entries
 * × cost.compact_scan_ns + pages migrated × cost.migrate_ns of virtual time (issue 16 item 2):
 * the sleeps start at its end (in whole jiffies: BusyWindow.waitDelay).
 */
export class KmmmigratedDaemon implements Daemon {
  readonly name = "kmmmigrated";
  /** the busy window of its cycles (wsim_kmmmigrated_busy_ms) */
  readonly busy = new BusyWindow();
  constructor(
    private readonly k: Kmmscand,
    private readonly sleepMs: () => number,
    private readonly enabled: () => boolean,
    private readonly ev: Float64Array | null = null,
    private readonly costs: ScanMigrateCosts | null = null,
  ) {}
  start(ctx: EngineContext): void {
    // a cycle that took time: its period is not MSLEEP + migrate_sleep_ms, so quiet refuses it
    const quiet = (period: number) => (period === MSLEEP + this.sleepMs() && this.k.migrateQuiet() ? Infinity : -Infinity);
    const cycle = () => {
      if (this.enabled()) {
        const m0 = this.ev ? this.ev[V.nr_kmmscand_migrated]! : 0;
        const took = this.k.migrate(ctx.now());
        if (this.costs && this.ev) {
          const ns = took * this.costs.compactScan() + (this.ev[V.nr_kmmscand_migrated]! - m0) * this.costs.migrate();
          if (ns > 0) this.busy.charge(ctx.now(), ns);
        }
      }
      ctx.schedule(this.busy.waitDelay(ctx.now(), MSLEEP + this.sleepMs()), cycle, quiet);
    };
    ctx.schedule(MSLEEP + this.sleepMs(), cycle, quiet);
  }
}

/**
 * kmmscand_update_mmslot_info (V1): an mm's scan period (ms) and size (PTEs) after a visit
 * that found newUseful accessed slow-tier pages, with x = st.useful and y = (x >> 4) +
 * newUseful (below 256 counted 0); clamped to [MIN_PERIOD, MAX_PERIOD] and [MIN_SIZE, MAX_SIZE].
 */
export function adaptScan(st: { period: number; size: number; useful: number }, newUseful: number): void {
  const x = st.useful;
  let y = (x >> 4) + newUseful;
  if (y < 256) y = 0;
  if (!x && !y) {
    st.period = Math.floor((st.period * 115) / 100);
    st.size = Math.floor(st.size / 2);
  } else if (x && y) {
    st.period = Math.floor((st.period * 85) / 100);
    st.size *= 2;
  } else if (x && !y) st.period *= 8;
  else {
    st.period = Math.floor(st.period / 8);
    st.size = MAX_SIZE;
  }
  st.period = Math.min(Math.max(st.period, MIN_PERIOD), MAX_PERIOD);
  st.size = Math.min(Math.max(st.size, MIN_SIZE), MAX_SIZE);
  st.useful = y;
}
