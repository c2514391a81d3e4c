/**
 * The timeline's cells: a pure mapping of the schedule's times onto columns (no domain
 * rule here: every time comes from the planner). One row per node and per intermediate;
 * a "now" line; day labels on an axis. Time is bucketed per column, so the picture only
 * changes when the hour (the origin) or the schedule does.
 */
import type { Schedule } from '../../../src/features/rotation/plan.js';

export type Tone = 'ok' | 'warn' | 'bad' | 'accent' | 'dim';
/** A stretch of cells of one tone (one styled Text). */
export interface Run {
  text: string;
  tone: Tone;
}
/** Marks drawn over the grid: a stretch of cells of one tone from column `col`. */
export interface Mark extends Run {
  col: number;
}
export interface TimelineRow {
  key: string;
  label: string;
  kind: 'node' | 'intermediate' | 'keypair';
  /**
   * Where the track differs from the empty grid (gridRuns): every row draws the same grid
   * string, then its few marks over it, so a frame costs Ink the grid once, not a
   * 180-character line per row (Ink tokenises every distinct string of every frame).
   */
  marks: Mark[];
  /** Label, kind and marks as one string: equal signatures draw the same row. */
  sig: string;
}

export const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * ASCII on purpose: one non-ASCII character in a line sends Ink's width measurement down
 * its grapheme path for the whole line; measured here, a 180-column row of dots costs
 * 61 ms per 46-row frame with `·` and 10 ms with `.` (test/bench/rotation.mjs).
 */
export const MARK = {
  rotation: '*',
  conflict: 'X',
  now: '|',
  bundle: '+',
  due: '^',
  expiry: 'x',
  before: '<',
  after: '>',
  empty: '.',
} as const;

/** The legend, as the rule under the timeline shows it. */
export const LEGEND = `${MARK.rotation} rotation  ${MARK.conflict} conflict  ${MARK.now} now  ${MARK.bundle} successor in bundles  ${MARK.due} intermediate switches  ${MARK.expiry} expires  ${MARK.before} earlier`;

export interface Window {
  /** First instant shown: the hour of `now`, one day back (overdue rotations stay visible). */
  start: number;
  end: number;
  cols: number;
  now: number;
}

export function timelineWindow(now: number, days: number, cols: number): Window {
  const hour = Math.floor(now / HOUR) * HOUR;
  const start = hour - DAY;
  return { start, end: hour + days * DAY, cols: Math.max(1, cols), now: hour };
}

/** The column of `t` (clamped: −1 before the window, cols after it). */
export function columnOf(w: Window, t: number): number {
  if (t < w.start) return -1;
  if (t >= w.end) return w.cols;
  return Math.min(w.cols - 1, Math.floor(((t - w.start) * w.cols) / (w.end - w.start)));
}

const PRIO: Record<string, number> = {
  ' ': 0,
  [MARK.empty]: 0,
  [MARK.now]: 1,
  [MARK.expiry]: 2,
  [MARK.bundle]: 3,
  [MARK.due]: 4,
  [MARK.rotation]: 5,
  [MARK.conflict]: 6,
};

/** A track being drawn: characters and tones by column. */
interface Track {
  chs: string[];
  tones: Tone[];
}

function put(track: Track, w: Window, t: number, ch: string, tone: Tone): void {
  let c = columnOf(w, t);
  let mark = ch;
  if (c < 0) {
    c = 0;
    mark = ch === MARK.conflict ? ch : MARK.before;
  } else if (c >= w.cols) {
    return;
  }
  const p = (m: string) => PRIO[m] ?? PRIO[MARK.rotation]!;
  if (p(mark) >= p(track.chs[c]!)) {
    track.chs[c] = mark;
    track.tones[c] = tone;
  }
}

/**
 * An empty track: blank, with a faint dot at each UTC midnight (each week's when days are
 * narrower than two columns). Blanks cost Ink far less per frame than a row of dots. One
 * template per window, copied per row (two arrays of primitives, no object per cell).
 */
let blankOf: { w: Window; track: Track } | undefined;
function blank(w: Window): Track {
  const b = blankOf;
  if (b && b.w.start === w.start && b.w.end === w.end && b.w.cols === w.cols && b.w.now === w.now)
    return { chs: b.track.chs.slice(), tones: b.track.tones.slice() };
  const chs: string[] = new Array<string>(w.cols).fill(' ');
  const tones: Tone[] = new Array<Tone>(w.cols).fill('dim');
  const colsPerDay = (w.cols * DAY) / (w.end - w.start);
  const step = colsPerDay >= 2 ? DAY : 7 * DAY;
  for (let t = Math.ceil(w.start / step) * step; t < w.end; t += step) {
    const c = columnOf(w, t);
    if (c >= 0 && c < w.cols) chs[c] = MARK.empty;
  }
  const n = columnOf(w, w.now);
  if (n >= 0 && n < w.cols) {
    chs[n] = MARK.now;
    tones[n] = 'accent';
  }
  blankOf = { w, track: { chs, tones } };
  return { chs: chs.slice(), tones: tones.slice() };
}

/** A track as runs of one tone. */
function runsOf(track: Track): Run[] {
  const runs: Run[] = [];
  let start = 0;
  for (let c = 1; c <= track.chs.length; c++) {
    if (c < track.chs.length && track.tones[c] === track.tones[start]) continue;
    runs.push({ text: track.chs.slice(start, c).join(''), tone: track.tones[start]! });
    start = c;
  }
  return runs;
}

/** The empty grid of `w` as runs (the same for every row). */
export function gridRuns(w: Window): Run[] {
  return runsOf(blank(w));
}

/** Where `track` differs from the empty grid, as marks. */
function marksOf(track: Track, grid: Track): Mark[] {
  const marks: Mark[] = [];
  const differs = (c: number) => track.chs[c] !== grid.chs[c] || track.tones[c] !== grid.tones[c];
  for (let c = 0; c < track.chs.length; c++) {
    if (!differs(c)) continue;
    let e = c + 1;
    while (e < track.chs.length && differs(e) && track.tones[e] === track.tones[c]) e++;
    marks.push({ col: c, text: track.chs.slice(c, e).join(''), tone: track.tones[c]! });
    c = e - 1;
  }
  return marks;
}

function row(
  key: string,
  label: string,
  kind: TimelineRow['kind'],
  track: Track,
  grid: Track,
): TimelineRow {
  const marks = marksOf(track, grid);
  let sig = `${kind}\u0000${label}`;
  for (const m of marks) sig += `\u0000${m.col}\u0000${m.tone}\u0000${m.text}`;
  return { key, label, kind, marks, sig };
}

/**
 * The row keys in display order: nodes (as given), then the current intermediates, then
 * the key pairs given (`sa:<id>`: the service-account keys, a row to select and rotate).
 */
export function timelineKeys(
  s: Schedule,
  nodes: readonly string[],
  keypairs: readonly string[] = [],
): string[] {
  return [
    ...nodes.map((n) => `node:${n}`),
    ...s.intermediates.filter((c) => !c.superseded).map((c) => `ca:${c.fingerprint}`),
    ...keypairs.map((k) => `sa:${k}`),
  ];
}

/** The rows of `keys` (timelineKeys; only those on screen need computing). */
export function timelineRows(s: Schedule, keys: readonly string[], w: Window): TimelineRow[] {
  const rows: TimelineRow[] = [];
  const show = new Set(keys);
  const grid = blank(w);
  const conflictAt = new Map<string, number[]>();
  for (const c of s.conflicts) {
    const list = conflictAt.get(c.subject) ?? [];
    list.push(c.at);
    conflictAt.set(c.subject, list);
    if (c.kind === 'cp-gap' && c.other !== undefined) {
      const o = conflictAt.get(c.other) ?? [];
      o.push(c.at);
      conflictAt.set(c.other, o);
    }
  }
  for (const n of s.nodes) {
    if (!show.has(`node:${n.name}`)) continue;
    const track = blank(w);
    for (const e of n.events)
      put(track, w, e.at, MARK.rotation, e.overdue ? 'warn' : n.controlPlane ? 'accent' : 'ok');
    for (const t of conflictAt.get(n.name) ?? []) put(track, w, t, MARK.conflict, 'bad');
    rows.push(row(`node:${n.name}`, n.name, 'node', track, grid));
  }
  for (const c of s.intermediates) {
    if (c.superseded || !show.has(`ca:${c.fingerprint}`)) continue;
    const track = blank(w);
    put(track, w, c.notAfter, MARK.expiry, 'bad');
    put(track, w, c.bundleByMs, MARK.bundle, 'accent');
    put(track, w, c.dueMs, MARK.due, 'warn');
    for (const t of conflictAt.get(c.cn) ?? []) put(track, w, t, MARK.conflict, 'bad');
    rows.push(row(`ca:${c.fingerprint}`, c.cn, 'intermediate', track, grid));
  }
  // Key pairs have no expiry: a blank track (their state is read by the rotation itself).
  for (const k of keys)
    if (k.startsWith('sa:')) rows.push(row(k, keypairLabel(k.slice(3)), 'keypair', blank(w), grid));
  return rows;
}

/** A key pair's row label (short: the label column is at most 16 wide). */
export const keypairLabel = (id: string): string =>
  id === 'service-account' ? 'sa keys' : `${id} keys`;

/** The axis: `MM-DD` at UTC midnights, as many as fit without touching. */
export function axisLine(w: Window): string {
  const out = Array.from({ length: w.cols }, () => ' ');
  const firstDay = Math.ceil(w.start / DAY) * DAY;
  const colsPerDay = (w.cols * DAY) / (w.end - w.start);
  const every = Math.max(1, Math.ceil(6 / colsPerDay));
  let lastEnd = -1;
  for (let t = firstDay, i = 0; t < w.end; t += DAY, i++) {
    if (i % every !== 0) continue;
    const c = columnOf(w, t);
    const label = new Date(t).toISOString().slice(5, 10);
    if (c <= lastEnd || c + label.length > w.cols) continue;
    for (let k = 0; k < label.length; k++) out[c + k] = label[k]!;
    lastEnd = c + label.length;
  }
  return out.join('');
}
