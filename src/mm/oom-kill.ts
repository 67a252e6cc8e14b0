/**
 * The OOM killer (mm/oom_kill.c, 6.1) for a global OOM: out_of_memory -> select_bad_process ->
 * oom_kill_process, as KERNEL-REFERENCE-2 §4 gives them. The allocator calls it when
 * __alloc_pages_may_oom lets an allocation through (page-alloc.ts); a memcg OOM
 * (mem_cgroup_out_of_memory, memcg-limits.ts) calls `outOfMemory` with its memcg, which
 * limits the candidates to the memcg's subtree and totalpages to its limit.
 *
 * wsim simplifications: the victim's memory is freed at the kill, as exit frees it (the
 * oom_reaper's effect without its 2 s delay), so no victim is ever still in flight: the
 * abort rule for an earlier victim (chosen = -1) never applies and the next OOM chooses among
 * the living. The victim's ALLOC_OOM attempt is not modelled: when the allocating process is
 * the victim its allocation fails and its fault is dropped (the kernel's would die on return to
 * user space anyway). No OOM notifiers, no task_will_free_mem(current), no cpuset or mempolicy
 * constraint, vm.panic_on_oom and vm.oom_kill_allocating_task at 0; every gfp that reaches
 * here has __GFP_FS. With no killable process 6.1 panics ("System is deadlocked on memory");
 * wsim counts wsim_oom_no_victim and fails the allocation.
 */
import { V } from "../stats/counters.js";
import type { Memcg } from "./memcg.js";
import type { Mm, ProcessTable } from "./process.js";
import { PTE_TABLE } from "./process.js";

/** OOM_SCORE_ADJ_MIN: never killed */
export const OOM_SCORE_ADJ_MIN = -1000;
export const OOM_SCORE_ADJ_MAX = 1000;

/**
 * mm_pgtables_bytes(mm) / PAGE_SIZE on x86-64 with 4 levels: its PTE tables (mm_inc_nr_ptes),
 * PMD tables (mm_inc_nr_pmds) and PUD tables (mm_inc_nr_puds), one page each; not the PGD.
 */
export function pgtablePages(mm: Mm): number {
  let ptes = 0;
  for (const leaf of mm.pt.values()) if (leaf[PTE_TABLE]! >= 0) ptes++;
  return ptes + mm.pmdTables.size + mm.pudTables.size;
}

/**
 * oom_badness(p, totalpages): LONG_MIN (here -Infinity) for oom_score_adj -1000, else
 * get_mm_rss (anon + file pages mapped) + MM_SWAPENTS + page-table pages, plus
 * oom_score_adj * (totalpages / 1000) with the division first (integer).
 */
export function oomBadness(mm: Mm, totalpages: number): number {
  if (mm.oomScoreAdj === OOM_SCORE_ADJ_MIN) return -Infinity;
  const points = mm.rssAnon + mm.rssFile + mm.swapEnts + pgtablePages(mm);
  return points + mm.oomScoreAdj * Math.floor(totalpages / 1000);
}

/**
 * select_bad_process: the candidate with the largest badness, in task-list order (creation
 * order: `candidates` iterates so); oom_evaluate_task skips LONG_MIN and lower scores, so a
 * tie goes to the later task. Returns the victim or null.
 */
export function selectBadProcess(candidates: Iterable<Mm>, totalpages: number): Mm | null {
  let chosen: Mm | null = null;
  let chosenPoints = -Infinity;
  for (const mm of candidates) {
    const points = oomBadness(mm, totalpages);
    if (points === -Infinity || points < chosenPoints) continue;
    chosen = mm;
    chosenPoints = points;
  }
  return chosen;
}

export interface OomContext {
  procs: ProcessTable;
  ev: Float64Array;
  /** totalram_pages(): managed pages of every zone */
  totalram: () => number;
  /** total_swap_pages */
  totalSwap: () => number;
  now: () => number;
  /** told of each kill (memory.events oom_kill of the victim's memcg and ancestors: item 5) */
  onKill?: (victim: Mm, memcg: Memcg | null) => void;
}

/**
 * out_of_memory(oc) for a global OOM (memcg null) or a memcg's (memcg-limits.ts, with
 * mem_cgroup_get_max as memcgMax; a memcg OOM never panics): select_bad_process
 * over the processes (of the memcg's subtree), then oom_kill_process: oom_kill counted once,
 * the victim's pages, swap entries and page tables freed as exit frees them, its pid
 * remembered so that its later trace events are refused. Returns true when the allocation
 * should retry: a victim was killed and it was not the allocating process (`current`).
 */
export function outOfMemory(c: OomContext, memcg: Memcg | null = null, memcgMax = 0): boolean {
  const procs = c.procs;
  // constrained_alloc: totalram + total swap for a global OOM, mem_cgroup_get_max (memcgMax) for a memcg
  const totalpages = memcg !== null ? memcgMax : c.totalram() + c.totalSwap();
  let candidates: Iterable<Mm> = procs.byPid.values();
  if (memcg !== null) {
    const inTree = new Set(memcg.subtree());
    candidates = [...procs.byPid.values()].filter((mm) => inTree.has(mm.memcg));
  }
  const victim = selectBadProcess(candidates, totalpages);
  if (victim === null) {
    c.ev[V.wsim_oom_no_victim]!++;
    return false;
  }
  // __oom_kill_process: count_vm_event(OOM_KILL), memcg_memory_event_mm(MEMCG_OOM_KILL), SIGKILL, reap
  c.ev[V.oom_kill]!++;
  c.onKill?.(victim, memcg);
  procs.oomKilled.set(victim.pid, c.now());
  const current = procs.current;
  procs.exit(victim);
  return victim !== current;
}
