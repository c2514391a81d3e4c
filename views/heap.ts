/**
 * The console's V8 heap settings (issue 13: "at 200 nodes … RSS under 200 MB").
 *
 * What the console holds at 200 nodes is ~60 MB of live heap (after a full GC: code ~10 MB,
 * the bundle's source text ~6 MB, every node's connection, shells, caches and snapshots).
 * Its RSS was 330–375 MB because V8 sized the heap for throughput, not for what is live:
 *  - the old generation was allowed to grow to ~4× the live heap between full GCs (V8's
 *    dynamic growing factor goes up to 4 when its GC is fast), ~170–230 MB of which most
 *    was garbage of the first refresh (frames, models rebuilt per store change);
 *  - the young generation grew to its 2 × 16 MB maximum and stayed there;
 *  - pages V8 had once used stayed resident (it does not hand them back while busy).
 * The console's allocation pattern — a steady stream of short-lived frames and models,
 * a live set that changes slowly — does not need either: it sets a growing factor of 1.25
 * (a full GC when the old generation is 25 % above what was live after the last one) and
 * stops the young generation from growing (it stays at the 2 × 1–2 MB it has when the
 * console starts). Measured: README, "Fan-out" (the console's memory at 200 nodes).
 * `k8ops certs`/`nodes --json` and the other subcommands keep V8's defaults.
 *
 * Only from LEAN_HEAP_NODES nodes on: the settings cost CPU (a small young generation is
 * scavenged more often: the console's first refresh at 200 nodes took 15–35 % more CPU, and
 * the demo's Flows pane idled at 24 % of a core with them against 14.5 % without), and a
 * smaller inventory stays under 200 MB with V8's defaults (175–179 MB at 50 nodes).
 *
 * Both flags are read by V8 whenever it sizes a generation, so setting them at run time
 * takes effect; cli.ts calls this (CliDeps.beforeConsole) once the console's session is
 * open and before its first refresh, once per process.
 */
import { setFlagsFromString } from 'node:v8';

/** The V8 flags the console sets (and why: see above). */
export const CONSOLE_HEAP_FLAGS = ['--heap-growing-percent=25', '--semi-space-growth-factor=1'];

/** From this many nodes the console sets CONSOLE_HEAP_FLAGS (at 50 it holds ~175 MB). */
export const LEAN_HEAP_NODES = 64;

let done = false;

/**
 * Apply CONSOLE_HEAP_FLAGS (once) for an inventory of `nodeCount` ≥ LEAN_HEAP_NODES nodes;
 * K8OPS_V8_DEFAULTS=1 keeps V8's defaults whatever the size (measuring).
 */
export function tuneConsoleHeap(env: NodeJS.ProcessEnv, nodeCount: number): boolean {
  if (done || env.K8OPS_V8_DEFAULTS === '1' || !(nodeCount >= LEAN_HEAP_NODES)) return false;
  done = true;
  for (const flag of CONSOLE_HEAP_FLAGS) setFlagsFromString(flag);
  return true;
}
