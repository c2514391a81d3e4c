/** The addons model: declared vs running (drift, charts, v-prefixes), pins, problems. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../../src/actions/addons/manifest.js';
import { DEMO_ADDONS, demoAddonsManifest } from '../../../../src/demo/addons.js';
import { rowFor } from '../../../../src/features/addons/model.js';
import type { AddonVersion } from '../../../../src/kube/types.js';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
const PIN = `sha256-${'A'.repeat(43)}=`;

const decl = (over: Record<string, unknown> = {}) => {
  const m = parseManifest(
    JSON.stringify({
      version: 1,
      addons: [
        {
          name: 'cert-manager',
          version: '1.19.1',
          format: 'yaml',
          url: 'https://example.invalid/v1.19.1/cert-manager.yaml',
          sha256: PIN,
          ...over,
        },
      ],
    }),
  );
  if (!m.ok) throw new Error(m.error);
  return m.addons[0]!;
};
const w = (o: Partial<AddonVersion>): AddonVersion => ({
  addon: 'cert-manager',
  namespace: 'cert-manager',
  kind: 'Deployment',
  name: 'cert-manager',
  images: [],
  ...o,
});

describe('addon rows', () => {
  it('in sync across a v prefix; drift names the running version', () => {
    expect(rowFor(decl(), [w({ version: 'v1.19.1', versionSource: 'label' })])).toMatchObject({
      state: 'in-sync',
      verdict: 'ok',
      pinned: true,
    });
    const d = rowFor(decl(), [w({ version: 'v1.18.0', versionSource: 'label' })]);
    expect(d).toMatchObject({ state: 'drift', verdict: 'warning' });
    expect(d.detail).toBe('declared 1.19.1, running v1.18.0');
  });

  it('a helm addon is judged by its chart label, not its components’ own versions', () => {
    const dash = decl({
      name: 'kubernetes-dashboard',
      version: '7.13.0',
      format: 'helm',
      namespace: 'kubernetes-dashboard',
      url: 'https://example.invalid/kubernetes-dashboard-7.13.0.tgz',
    });
    const web = w({
      addon: 'kubernetes-dashboard',
      name: 'kubernetes-dashboard-web',
      version: '1.7.0',
      chart: { name: 'kubernetes-dashboard', version: '7.13.0' },
    });
    expect(rowFor(dash, [web]).state).toBe('in-sync');
    expect(
      rowFor(dash, [{ ...web, chart: { name: 'kubernetes-dashboard', version: '7.12.0' } }]).state,
    ).toBe('drift');
  });

  it('not running, no kube, a node binary, and an unpinned addon', () => {
    expect(rowFor(decl(), [w({ addon: 'other' })])).toMatchObject({
      state: 'not-running',
      verdict: 'warning',
    });
    expect(rowFor(decl(), undefined)).toMatchObject({ state: 'no-kube', verdict: 'unknown' });
    expect(rowFor(decl({ format: 'cli', system: 'x86_64-linux' }), [])).toMatchObject({
      state: 'not-deployed',
      verdict: 'ok',
    });
    const u = rowFor(decl({ sha256: '' }), [w({ version: '1.19.1' })]);
    expect(u).toMatchObject({ pinned: false, verdict: 'warning' });
    expect(u.detail).toBe('sha256 is empty (not pinned yet)');
  });

  it('manifest problems are nix/lib/addons.nix’s, hostile text is escaped', () => {
    const bad = decl({ url: 'http://x/1.19.1', sha256: 'nope', name: 'Evil\u001b[2J' });
    expect(bad.name).toBe('Evil\\x1b[2J');
    expect(bad.problems).toEqual([
      'Evil\\x1b[2J 1.19.1: name must be a lowercase id',
      'Evil\\x1b[2J 1.19.1: url must be an https:// URL',
      'Evil\\x1b[2J 1.19.1: sha256 "nope" is neither a Nix base32 sha256 nor an SRI sha256-… hash',
    ]);
    expect(parseManifest('{').ok).toBe(false);
    expect(parseManifest('[]')).toEqual({ ok: false, error: 'not a JSON object' });
  });
});

describe('the demo manifest', () => {
  it('declares what nix/addons/addons.json declares (names, versions, formats, URLs)', () => {
    const repo = JSON.parse(readFileSync(join(ROOT, 'nix', 'addons', 'addons.json'), 'utf8')) as {
      addons: Array<Record<string, string>>;
    };
    const pick = (a: Record<string, unknown>) => [a.name, a.version, a.format, a.url];
    expect(DEMO_ADDONS.map(pick)).toEqual(repo.addons.map(pick));
    const demo = parseManifest(demoAddonsManifest());
    if (!demo.ok) throw new Error(demo.error);
    expect(demo.addons.filter((a) => a.problems.length).map((a) => a.name)).toEqual([
      'kube-prometheus',
    ]);
  });
});
