/**
 * The check groups and the id table stay in step: every group file is registered, every id
 * a group emits is in CHECK_IDS under that group, and the ids themselves do not change
 * (`k8ops certs --json`, the Prometheus metrics and scripts match on them).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CheckGroup } from '../../../src/pki/checks/context.js';
import { CHECK_GROUPS } from '../../../src/pki/checks/registry.js';
import { CHECK_IDS } from '../../../src/pki/checks.js';

const DIR = join(import.meta.dirname, '..', '..', '..', 'src', 'pki', 'checks');
/** Files of src/pki/checks/ that are not groups. */
const SHARED = ['context.ts', 'format.ts', 'ids.ts', 'registry.ts'];
const groupFiles = readdirSync(DIR)
  .filter((f) => f.endsWith('.ts') && !SHARED.includes(f))
  .sort();

const isGroup = (v: unknown): v is CheckGroup =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as CheckGroup).name === 'string' &&
  typeof (v as CheckGroup).run === 'function';

/** The ids a group file passes to `add` (every call names its id as a literal). */
function emittedIds(file: string): string[] {
  const src = readFileSync(join(DIR, file), 'utf8');
  const calls = [...src.matchAll(/(?<![.\w])add\(\s*(\S)/g)];
  const literal = [...src.matchAll(/(?<![.\w])add\(\s*'([a-z-]+)'/g)].map((m) => m[1]!);
  expect(literal, `${file}: every add(...) names its id as a string literal`).toHaveLength(
    calls.length,
  );
  return [...new Set(literal)].sort();
}

describe('check groups', () => {
  it('each group file exports one CheckGroup named like the file, and it is registered', async () => {
    const registered = new Set(CHECK_GROUPS);
    for (const f of readdirSync(DIR).filter((x) => x.endsWith('.ts'))) {
      const mod: Record<string, unknown> = await import(pathToFileURL(join(DIR, f)).href);
      const groups = Object.values(mod).filter(isGroup);
      if (SHARED.includes(f)) {
        expect(groups, f).toEqual([]);
        continue;
      }
      expect(groups, `${f} exports one CheckGroup`).toHaveLength(1);
      expect(groups[0]!.name).toBe(f.replace(/\.ts$/, ''));
      expect(registered.has(groups[0]!), `${f} is in CHECK_GROUPS`).toBe(true);
    }
    expect(CHECK_GROUPS.map((g) => `${g.name}.ts`).sort()).toEqual(groupFiles);
  });

  it('CHECK_IDS names, for every id, the group that emits it, and nothing else emits it', () => {
    const byGroup = new Map<string, string[]>();
    for (const [id, info] of Object.entries(CHECK_IDS))
      byGroup.set(info.group, [...(byGroup.get(info.group) ?? []), id]);
    expect([...byGroup.keys()].sort()).toEqual(CHECK_GROUPS.map((g) => g.name).sort());
    for (const g of CHECK_GROUPS)
      expect(emittedIds(`${g.name}.ts`), g.name).toEqual(byGroup.get(g.name)!.sort());
  });

  it('every id has a severity and a one-line description', () => {
    for (const [id, info] of Object.entries(CHECK_IDS)) {
      expect(['critical', 'warning', 'info'], id).toContain(info.severity);
      expect(info.when, id).toMatch(/^[^\n]{10,}$/);
    }
  });

  it('the ids and their severities are stable', () => {
    const table = Object.fromEntries(
      Object.entries(CHECK_IDS).map(([id, info]) => [id, info.severity]),
    );
    expect(table).toEqual({
      expired: 'critical',
      'not-yet-valid': 'critical',
      'bad-signature': 'critical',
      'issuer-missing': 'critical',
      'self-signed': 'critical',
      'issuer-not-ca': 'critical',
      'outlives-issuer': 'critical',
      'key-mismatch': 'critical',
      'root-key-online': 'critical',
      'key-exposed': 'critical',
      'key-in-cert-file': 'warning',
      'renew-window': 'warning',
      'rotation-late': 'warning',
      'key-algorithm': 'warning',
      'signature-algorithm': 'warning',
      cn: 'warning',
      o: 'warning',
      'san-missing': 'warning',
      'san-extra': 'info',
      'key-usage': 'warning',
      'key-usage-extra': 'info',
      'wrong-ca': 'warning',
      'ca-constraints': 'warning',
      unverifiable: 'warning',
      'chain-incomplete': 'warning',
      'chain-order': 'warning',
      'bundle-missing-ca': 'warning',
      'bundle-foreign-ca': 'warning',
      'key-mode': 'warning',
      'key-owner': 'warning',
      'missing-file': 'warning',
      'unknown-file': 'warning',
      'unlisted-file': 'info',
      unparseable: 'warning',
      'status-error': 'warning',
      'sa-key-differs': 'warning',
      'previous-mismatch': 'warning',
      'previous-file': 'info',
      'root-unavailable': 'info',
      'status-unavailable': 'info',
      'file-changed': 'info',
    });
  });
});
