/**
 * Inventory problems with file positions: the issue type, rendering of value paths
 * (`nodes[2].roles[0]`), mapping a path to the line/column of its YAML node, and the
 * one-line `file:line:col: path: message` form.
 */

import { relative } from 'node:path';
import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import { visible } from '../store/sanitise.js';

export interface InventoryIssue {
  /** The inventory file as it was named to the loader. */
  file: string;
  /** 1-based; 0 when the problem concerns the file as a whole (e.g. it cannot be read). */
  line: number;
  /** 1-based; 0 with `line` 0. */
  column: number;
  /** Where in the document, e.g. `nodes[2].roles[0]`; `''` for the document itself. */
  path: string;
  message: string;
}

export type PathSegment = string | number;

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['nodes', 2, 'roles', 0]` → `nodes[2].roles[0]`; odd keys are quoted: `ssh["a b"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENT.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export interface Position {
  line: number;
  column: number;
}

function keyMatches(key: unknown, seg: PathSegment): boolean {
  const value = isScalar(key) ? key.value : key;
  return value !== null && value !== undefined && String(value) === String(seg);
}

function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && (node.source ?? '') === '';
}

/**
 * The position of the YAML node at `path`. When the path leads somewhere that does not
 * exist (a missing key, an index past the end), the nearest existing parent is used, so
 * a missing required key points at the mapping that lacks it. With `key: true` the last
 * segment's key is located instead of its value (for unknown keys). A key whose value is
 * empty (`cluster:`) points at the key.
 */
export function locate(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly PathSegment[],
  options: { key?: boolean } = {},
): Position {
  let node: unknown = doc.contents;
  let at: Node | null = isScalar(node) || isMap(node) || isSeq(node) ? (node as Node) : null;
  for (const [i, seg] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyMatches(p.key, seg));
      if (!pair) break;
      const keyNode = isScalar(pair.key) ? pair.key : null;
      if ((last && options.key) || pair.value === null || isEmptyScalar(pair.value)) {
        // The key itself was asked for, or the value is empty and has nothing deeper.
        at = keyNode ?? at;
        break;
      }
      node = pair.value;
      at = pair.value as Node;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined || item === null) break;
      node = item;
      at = item as Node;
    } else {
      break;
    }
  }
  const offset = at?.range?.[0];
  if (offset === undefined) return { line: 1, column: 1 };
  const pos = lineCounter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

export interface FormatIssueOptions {
  /** Show the file relative to this directory when it lies below it. */
  relativeTo?: string;
  /** Prefix the message with `warning: `. */
  warning?: boolean;
}

/**
 * `k8ops.yaml:12:7: nodes[2].roles[0]: unknown role "master"; expected one of …`
 * (position left out when unknown, path left out when empty).
 */
export function formatIssue(issue: InventoryIssue, options: FormatIssueOptions = {}): string {
  let file = issue.file;
  if (options.relativeTo !== undefined && !file.startsWith('<')) {
    const rel = relative(options.relativeTo, file);
    if (rel !== '' && !rel.startsWith('..')) file = rel;
  }
  const where = issue.line > 0 ? `${file}:${issue.line}:${issue.column}` : file;
  const severity = options.warning ? 'warning: ' : '';
  const path = issue.path !== '' ? `${issue.path}: ` : '';
  // The file's own text (keys, values quoted in messages) is outside text: made visible.
  return visible(`${where}: ${severity}${path}${issue.message}`);
}

/** Sort by position, then path; drop exact duplicates. */
export function sortIssues(issues: readonly InventoryIssue[]): InventoryIssue[] {
  const seen = new Set<string>();
  const out: InventoryIssue[] = [];
  for (const issue of issues) {
    const key = `${issue.line}:${issue.column}:${issue.path}:${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue);
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column || a.path.localeCompare(b.path));
}
