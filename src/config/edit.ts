/**
 * Editing the `rotation` settings of k8ops.yaml in place (the Rotation pane's `w`): the
 * file is located with the `yaml` Document API and only the changed scalars are spliced
 * into its text, so every other byte — comments, blank lines, key order, quoting, flow
 * lists, line endings — stays as it was. A missing key is added under `rotation` with the
 * mapping's own indentation; a missing `rotation` section is appended at the end.
 *
 * The result is parsed again with the loader and refused unless it loads, carries exactly
 * the requested settings, and leaves every other value of the inventory equal: an anchor
 * shared with another key, a `rotation` merged from elsewhere, a block scalar or any other
 * shape this cannot edit safely is refused with a reason, never written half-right.
 * Pure: text in, text out (src/config/save.ts reads and writes the file).
 */
import {
  isAlias,
  isMap,
  isScalar,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  type YAMLMap,
} from 'yaml';
import { formatDuration, parseDuration } from './duration.js';
import { formatIssue, type InventoryIssue, type LoadOptions, parseInventory } from './load.js';
import type { Inventory, RotationSettings } from './types.js';

/** The settings to write; absent keys are left as they are. */
export interface RotationEdit {
  spreadMs?: number;
  /** `auto`: a third of each certificate's lifetime. */
  renewBeforeMs?: number | 'auto';
}

export type RotationKey = 'spread' | 'renewBefore';

export interface RotationChange {
  key: RotationKey;
  /** The value as the file wrote it, or undefined when the key was absent (the default). */
  fromText: string | undefined;
  /** The value the inventory had (ms, or `auto`). */
  from: number | 'auto';
  /** What is written (with the quotes the file's value had). */
  toText: string;
  to: number | 'auto';
  /** The key is added (it was absent), not replaced. */
  added: boolean;
}

export type EditResult =
  | {
      ok: true;
      text: string;
      changes: RotationChange[];
      /** The inventory the new text loads as. */
      inventory: Inventory;
      /** Warnings the new text loads with (e.g. renewBefore not longer than minRemaining). */
      warnings: InventoryIssue[];
    }
  | { ok: false; message: string; nothingToDo?: boolean };

const H = 3_600_000;

/**
 * A duration as k8ops.yaml writes it. Spread reads best in hours (`26h`, as the example's
 * `24h`), a renew window in days (`5d4h`, as the documented `4d16h`); a value already in
 * the file keeps its way: days only when it used them.
 */
export function durationText(ms: number, key: RotationKey, like?: string): string {
  if (ms === 0) return '0s';
  const days =
    like !== undefined && parseDuration(like).ok ? /d/.test(like) : key === 'renewBefore';
  if (days) return formatDuration(ms);
  const h = Math.floor(ms / H);
  const rest = ms - h * H;
  if (h === 0) return formatDuration(rest);
  return `${h}h${rest > 0 ? formatDuration(rest) : ''}`;
}

const settingOf = (r: RotationSettings, key: RotationKey): number | 'auto' =>
  key === 'spread' ? r.spreadMs : (r.renewBeforeMs ?? 'auto');

const show = (v: number | 'auto'): string => (v === 'auto' ? 'auto' : formatDuration(v));

interface Splice {
  at: number;
  end: number;
  text: string;
}

const refuse = (message: string): EditResult => ({ ok: false, message });

/**
 * Apply `edit` to the text of an inventory (`sourcePath` names it in messages and anchors
 * its relative paths, as for the loader). Never throws.
 */
export function editRotation(
  text: string,
  sourcePath: string,
  edit: RotationEdit,
  options: LoadOptions = {},
): EditResult {
  try {
    return editUnsafe(text, sourcePath, edit, options);
  } catch (e) {
    return refuse(`cannot edit the file: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function editUnsafe(
  text: string,
  sourcePath: string,
  edit: RotationEdit,
  options: LoadOptions,
): EditResult {
  const before = parseInventory(text, sourcePath, options);
  if (!before.ok)
    return refuse(
      `the file does not load as it is (${before.errors.length} error(s); first: ${formatIssue(before.errors[0]!)}); fix it first`,
    );

  // The wanted values, and which differ from the file's.
  const want: Array<{ key: RotationKey; to: number | 'auto' }> = [];
  if (edit.spreadMs !== undefined) want.push({ key: 'spread', to: edit.spreadMs });
  if (edit.renewBeforeMs !== undefined) want.push({ key: 'renewBefore', to: edit.renewBeforeMs });
  for (const w of want)
    if (w.to !== 'auto' && !(Number.isSafeInteger(w.to) && w.to >= 0))
      return refuse(`rotation.${w.key}: ${String(w.to)} is not a duration`);
  const todo = want.filter((w) => settingOf(before.inventory.rotation, w.key) !== w.to);
  if (todo.length === 0)
    return {
      ok: false,
      nothingToDo: true,
      message: `nothing to save: the file already has ${want
        .map((w) => `${w.key} ${show(w.to)}`)
        .join(', ')}`,
    };

  // The parser's offsets are those of the text without a byte-order mark (as the loader).
  const bom = text.startsWith('\uFEFF') ? '\uFEFF' : '';
  const body = text.slice(bom.length);
  const eol = /\r\n/.test(body) ? '\r\n' : '\n';
  const lines = new LineCounter();
  const doc = parseDocument(body, { lineCounter: lines, uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) return refuse(`YAML: ${doc.errors[0]!.message}`);
  const root = doc.contents;
  if (!isMap(root) || root.flow)
    return refuse('the inventory is not a block mapping; add the rotation settings by hand');
  const col = (offset: number): number => lines.linePos(offset).col - 1;
  /** End of the line holding `offset` (before its line break), or the end of the text. */
  const lineEnd = (offset: number): number => {
    const nl = body.indexOf('\n', offset);
    if (nl < 0) return body.length;
    return nl > 0 && body[nl - 1] === '\r' ? nl - 1 : nl;
  };
  const unit = indentUnit(root, col);
  const splices: Splice[] = [];
  const changes: RotationChange[] = [];
  const toTextOf = (key: RotationKey, to: number | 'auto', like?: string) =>
    to === 'auto' ? 'auto' : durationText(to, key, like);

  const section = root.items.find((p) => keyIs(p, 'rotation'));
  if (!section) {
    // No section: append one, at the root's indentation, after everything else.
    const indent = ' '.repeat(col(rangeOf(root.items[0]!.key)[0]));
    const pairs = todo.map((w) => {
      const toText = toTextOf(w.key, w.to);
      changes.push(change(before.inventory.rotation, w.key, undefined, toText, w.to, true));
      return `${indent}${' '.repeat(unit)}${w.key}: ${toText}${eol}`;
    });
    const lead = body.length === 0 || body.endsWith('\n') ? '' : eol;
    splices.push({
      at: body.length,
      end: body.length,
      text: `${lead}${eol}${indent}# Certificate rotation schedule (added by k8ops; see k8ops.example.yaml).${eol}${indent}rotation:${eol}${pairs.join('')}`,
    });
  } else {
    const v = section.value as Node | null;
    if (isAlias(v))
      return refuse(
        `rotation is an alias (*${v.source}) of a mapping used elsewhere; edit that mapping by hand`,
      );
    if (v === null || (isScalar(v) && (v.value === null || v.value === undefined))) {
      // `rotation:` with nothing (or `~`): the keys become its block.
      const keyEnd = rangeOf(section.key)[1];
      const indent = ' '.repeat(col(rangeOf(section.key)[0]) + unit);
      if (isScalar(v) && v.range && v.range[1] > v.range[0]) {
        const from = body[v.range[0] - 1] === ' ' ? v.range[0] - 1 : v.range[0];
        splices.push({ at: from, end: v.range[1], text: '' });
      }
      const pairs = todo.map((w) => {
        const toText = toTextOf(w.key, w.to);
        changes.push(change(before.inventory.rotation, w.key, undefined, toText, w.to, true));
        return `${eol}${indent}${w.key}: ${toText}`;
      });
      const at = lineEnd(isScalar(v) && v.range ? v.range[1] : keyEnd);
      splices.push({ at, end: at, text: pairs.join('') });
    } else if (isMap(v)) {
      const map = v as YAMLMap;
      const added: string[] = [];
      for (const w of todo) {
        const pair = map.items.find((p) => keyIs(p, w.key));
        const val = pair?.value as Node | null | undefined;
        if (pair && isScalar(val) && val.range) {
          if (val.type === 'BLOCK_LITERAL' || val.type === 'BLOCK_FOLDED')
            return refuse(`rotation.${w.key} is a block scalar; edit it by hand`);
          const [a, b] = val.range;
          const old = body.slice(a, b);
          const empty = a === b;
          const isNull = val.value === null || val.value === undefined;
          const like = typeof val.value === 'string' && !empty ? val.value : undefined;
          const toText = toTextOf(w.key, w.to, like);
          const quoted =
            val.type === 'QUOTE_DOUBLE'
              ? `"${toText}"`
              : val.type === 'QUOTE_SINGLE'
                ? `'${toText}'`
                : toText;
          changes.push(
            change(
              before.inventory.rotation,
              w.key,
              isNull ? undefined : old,
              quoted,
              w.to,
              isNull,
            ),
          );
          splices.push({ at: a, end: b, text: empty ? ` ${quoted}` : quoted });
        } else if (pair && isAlias(val) && val.range) {
          // `spread: *x`: this key gets its own value; the anchor stays where it is.
          const toText = toTextOf(w.key, w.to);
          changes.push(
            change(
              before.inventory.rotation,
              w.key,
              body.slice(val.range[0], val.range[1]),
              toText,
              w.to,
              false,
            ),
          );
          splices.push({ at: val.range[0], end: val.range[1], text: toText });
        } else if (pair) {
          return refuse(`rotation.${w.key} is not a plain value; edit it by hand`);
        } else {
          const toText = toTextOf(w.key, w.to);
          changes.push(change(before.inventory.rotation, w.key, undefined, toText, w.to, true));
          added.push(`${w.key}: ${toText}`);
        }
      }
      if (added.length > 0) {
        if (map.flow) {
          // `{spread: 24h}`: before the closing brace.
          const close = rangeOf(map)[1] - 1;
          if (body[close] !== '}') return refuse('cannot find the end of rotation: {…}');
          const inner = body.slice(rangeOf(map)[0] + 1, close).trim();
          const sep = inner === '' ? '' : inner.endsWith(',') ? ' ' : ', ';
          let at = close;
          while (at > 0 && /[ \t]/.test(body[at - 1]!)) at--;
          splices.push({ at, end: at, text: `${sep}${added.join(', ')}` });
        } else {
          const first = map.items[0];
          const last = map.items.at(-1);
          if (!first || !last) return refuse('rotation is an empty mapping; edit it by hand');
          const indent = ' '.repeat(col(rangeOf(first.key)[0]));
          const lastVal = last.value as Node | null;
          const end =
            lastVal && rangeOf(lastVal)[1] > 0 ? rangeOf(lastVal)[1] : rangeOf(last.key)[1];
          const at = lineEnd(end);
          splices.push({ at, end: at, text: added.map((a) => `${eol}${indent}${a}`).join('') });
        }
      }
    } else {
      return refuse('rotation is not a mapping; edit it by hand');
    }
  }

  splices.sort((a, b) => b.at - a.at);
  let out = body;
  for (const s of splices) out = out.slice(0, s.at) + s.text + out.slice(s.end);
  out = bom + out;

  // Refuse unless the result loads, says exactly what was asked, and nothing else moved.
  const after = parseInventory(out, sourcePath, options);
  if (!after.ok)
    return refuse(
      `the edited file would not load (${formatIssue(after.errors[0]!)}); nothing written — edit it by hand`,
    );
  for (const w of want)
    if (settingOf(after.inventory.rotation, w.key) !== w.to)
      return refuse(
        `the edited file would load with rotation.${w.key} ${show(settingOf(after.inventory.rotation, w.key))}, not ${show(w.to)} (an anchor or a merge key?); nothing written — edit it by hand`,
      );
  // Every other value, including every other rotation setting, as before.
  const others = (inv: Inventory): string =>
    JSON.stringify({
      ...inv,
      rotation: {
        ...inv.rotation,
        spreadMs: edit.spreadMs !== undefined ? undefined : inv.rotation.spreadMs,
        renewBeforeMs: edit.renewBeforeMs !== undefined ? undefined : inv.rotation.renewBeforeMs,
      },
    });
  if (others(before.inventory) !== others(after.inventory))
    return refuse(
      'the edit would change other values of the inventory too (a shared anchor?); nothing written — edit it by hand',
    );
  return { ok: true, text: out, changes, inventory: after.inventory, warnings: after.warnings };
}

function change(
  r: RotationSettings,
  key: RotationKey,
  fromText: string | undefined,
  toText: string,
  to: number | 'auto',
  added: boolean,
): RotationChange {
  return { key, fromText, from: settingOf(r, key), toText, to, added };
}

function keyIs(p: Pair<unknown, unknown>, name: string): boolean {
  return isScalar(p.key) && p.key.value === name;
}

function rangeOf(n: unknown): [number, number, number] {
  const r = (n as { range?: [number, number, number] | null }).range;
  if (!r) throw new Error('a node without a source position');
  return r;
}

/** The indentation step of the file: the first nested block mapping's, else 2. */
function indentUnit(root: YAMLMap, col: (offset: number) => number): number {
  for (const p of root.items) {
    const v = p.value;
    if (isMap(v) && !v.flow && v.items[0]) {
      const d = col(rangeOf(v.items[0].key)[0]) - col(rangeOf(p.key)[0]);
      if (d > 0) return d;
    }
  }
  return 2;
}
