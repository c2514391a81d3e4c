/**
 * `metav1.LabelSelector` as Cilium reads it (its slim copy of apimachinery's
 * `LabelSelectorAsSelector`): parsed defensively, matched and printed. An absent selector
 * selects nothing; an empty one (`{}`) selects everything; an invalid one (an unknown
 * operator, `In`/`NotIn` without values, `Exists` with values) makes Cilium fail that
 * reconcile, so it selects nothing here and is reported.
 */
import type { KubeLabelSelector } from '../types.js';
import { arr, clip, isObj, type Obj, obj, shown } from './meta.js';

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);
/** Bound on what one selector may hold (a label key is at most 317 characters). */
const MAX_ENTRIES = 64;

/**
 * `v` as a selector; undefined when absent or invalid (then `problems` says why, naming
 * `path`). Never throws.
 */
export function parseLabelSelector(
  v: unknown,
  path: string,
  problems: string[],
): KubeLabelSelector | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) {
    problems.push(`${path}: not a label selector`);
    return undefined;
  }
  const matchLabels: Record<string, string> = {};
  const ml = v.matchLabels;
  if (ml !== undefined && ml !== null && !isObj(ml)) {
    problems.push(`${path}.matchLabels: not a map`);
    return undefined;
  }
  const entries = Object.entries(obj(ml));
  if (entries.length > MAX_ENTRIES) {
    problems.push(`${path}.matchLabels: more than ${MAX_ENTRIES} labels`);
    return undefined;
  }
  for (const [k, val] of entries) {
    // Not a valid label key, and assigning it would replace the map's prototype.
    if (k === '__proto__') continue;
    if (typeof val !== 'string') {
      problems.push(`${path}.matchLabels.${clip(k, 64)}: not a string`);
      return undefined;
    }
    matchLabels[clip(k, 317)!] = clip(val, 253)!;
  }
  const me = v.matchExpressions;
  if (me !== undefined && me !== null && !Array.isArray(me)) {
    problems.push(`${path}.matchExpressions: not a list`);
    return undefined;
  }
  const exprs = arr(me);
  if (exprs.length > MAX_ENTRIES) {
    problems.push(`${path}.matchExpressions: more than ${MAX_ENTRIES} expressions`);
    return undefined;
  }
  const matchExpressions: KubeLabelSelector['matchExpressions'] = [];
  for (const [i, e] of exprs.entries()) {
    const o: Obj = obj(e);
    const at = `${path}.matchExpressions[${i}]`;
    const key = typeof o.key === 'string' && o.key !== '' ? clip(o.key, 317)! : undefined;
    const operator = typeof o.operator === 'string' ? o.operator : undefined;
    if (!key || !operator || !OPERATORS.has(operator)) {
      problems.push(
        `${at}: ${!key ? 'no key' : `operator ${shown(o.operator ?? '')} is not In, NotIn, Exists or DoesNotExist`}`,
      );
      return undefined;
    }
    const rawValues = o.values === undefined || o.values === null ? [] : o.values;
    if (!Array.isArray(rawValues) || rawValues.some((x) => typeof x !== 'string')) {
      problems.push(`${at}.values: not a list of strings`);
      return undefined;
    }
    if (rawValues.length > MAX_ENTRIES) {
      problems.push(`${at}.values: more than ${MAX_ENTRIES} values`);
      return undefined;
    }
    const values = (rawValues as string[]).map((x) => clip(x, 253)!);
    const wantsValues = operator === 'In' || operator === 'NotIn';
    if (wantsValues && values.length === 0) {
      problems.push(`${at}: ${operator} needs at least one value`);
      return undefined;
    }
    if (!wantsValues && values.length > 0) {
      problems.push(`${at}: ${operator} takes no values`);
      return undefined;
    }
    matchExpressions.push({ key, operator, values });
  }
  return { matchLabels, matchExpressions };
}

/** Whether `sel` selects an object with these labels (absent selector: nothing). */
export function selectorMatches(
  sel: KubeLabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (!sel) return false;
  const has = (k: string) => Object.hasOwn(labels, k);
  for (const [k, v] of Object.entries(sel.matchLabels))
    if (!has(k) || labels[k] !== v) return false;
  for (const e of sel.matchExpressions) {
    const present = has(e.key);
    switch (e.operator) {
      case 'In':
        if (!present || !e.values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (present && e.values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** `advertise=bgp, bgp in (blue), somekey notin (x)`; `{} (everything)`; `none`. */
export function formatSelector(sel: KubeLabelSelector | undefined): string {
  if (!sel) return 'none';
  const parts = [
    ...Object.entries(sel.matchLabels).map(([k, v]) => `${k}=${v}`),
    ...sel.matchExpressions.map((e) =>
      e.operator === 'Exists'
        ? e.key
        : e.operator === 'DoesNotExist'
          ? `!${e.key}`
          : `${e.key} ${e.operator.toLowerCase()} (${e.values.join(',')})`,
    ),
  ];
  return parts.length === 0 ? '{} (everything)' : parts.join(', ');
}
