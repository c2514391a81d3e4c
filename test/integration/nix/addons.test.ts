/**
 * The addon manifest (nix/addons/addons.json) and its evaluation-time check
 * (nix/lib/addons.nix, evaluated by nix-instantiate): the module refuses to build any
 * addon whose sha256 is empty or malformed, with a message telling the operator to run the
 * addon sync.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWith, NIX_DIR, nixEval, nixEvalRaw } from './helpers.js';

interface Addon {
  name: string;
  version: string;
  format: 'yaml' | 'helm' | 'tarball' | 'cli';
  url: string;
  sha256: string;
  namespace?: string;
  paths?: string[];
  [k: string]: unknown;
}
interface Manifest {
  version: number;
  addons: Addon[];
}

const text = readFileSync(join(NIX_DIR, 'addons', 'addons.json'), 'utf8');
const manifest = JSON.parse(text) as Manifest;
// A syntactically valid Nix base32 sha256 and an SRI one (not real hashes of anything).
const BASE32 = '0v6y7h3gq7zbkv4v1vb1zj1rkd0ldd6rw8a2jgxwhfqlw5c0mxw9';
const SRI = 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
const pinned = (m: Manifest, pin = BASE32): Manifest => ({
  ...m,
  addons: m.addons.map((a) => ({ ...a, sha256: pin })),
});
const CHECK = 'import ./nix/lib/addons.nix { manifest = args.manifest; }';

it('addons.json: the six addons of the design, at the versions of the issue', () => {
  expect(manifest.version).toBe(1);
  expect(Object.fromEntries(manifest.addons.map((a) => [a.name, a.version]))).toEqual({
    'cert-manager': '1.19.1',
    cilium: '1.17.8',
    hubble: '1.18.0',
    'kubernetes-dashboard': '7.13.0',
    'ingress-nginx': '1.13.3',
    'kube-prometheus': '0.16.0',
  });
  for (const a of manifest.addons) {
    expect(a.url, a.name).toMatch(/^https:\/\//);
    expect(a.url, `${a.name}: url names its version`).toContain(a.version);
    expect(['yaml', 'helm', 'tarball', 'cli']).toContain(a.format);
    expect(typeof a.sha256).toBe('string');
  }
});

it('addons.json: upstream URLs that exist (not the seed design’s invented release assets)', () => {
  const url = (n: string) => manifest.addons.find((a) => a.name === n)!.url;
  expect(url('cert-manager')).toBe(
    'https://github.com/cert-manager/cert-manager/releases/download/v1.19.1/cert-manager.yaml',
  );
  // No cilium.yaml / hubble.yaml / nginx-ingress.yaml / kube-prometheus.yaml release assets.
  expect(url('cilium')).toBe('https://helm.cilium.io/cilium-1.17.8.tgz');
  expect(url('hubble')).toBe(
    'https://github.com/cilium/hubble/releases/download/v1.18.0/hubble-linux-amd64.tar.gz',
  );
  expect(url('ingress-nginx')).toBe(
    'https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.13.3/deploy/static/provider/cloud/deploy.yaml',
  );
  expect(url('kube-prometheus')).toBe(
    'https://github.com/prometheus-operator/kube-prometheus/archive/refs/tags/v0.16.0.tar.gz',
  );
  expect(manifest.addons.find((a) => a.name === 'kube-prometheus')!.paths).toEqual([
    'manifests/setup',
    'manifests',
  ]);
});

describeWith(['nix-instantiate'], 'nix/lib/addons.nix: no build from an unpinned download', () => {
  it('the manifest as committed (empty pins) fails evaluation with "run the addon sync"', () => {
    const r = nixEvalRaw(`(${CHECK}).check`, { manifest });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Run the addon sync/);
    for (const a of manifest.addons)
      expect(r.stderr).toContain(`${a.name} ${a.version}: sha256 is empty (not pinned yet)`);
  });

  it('reports every unpinned addon, and the pin of one throws the same message', () => {
    const half = {
      ...manifest,
      addons: manifest.addons.map((a, i) => ({ ...a, sha256: i % 2 ? BASE32 : '' })),
    };
    const r = nixEval<{ ok: boolean; unpinned: string[]; errors: string[] }>(
      `let c = ${CHECK}; in { inherit (c) ok unpinned errors; }`,
      { manifest: half },
    );
    expect(r.ok).toBe(false);
    expect(r.unpinned).toEqual(half.addons.filter((a) => a.sha256 === '').map((a) => a.name));
    const pin = nixEvalRaw(`let c = ${CHECK}; in c.pinOf (builtins.elemAt c.addons 1)`, {
      manifest: half,
    });
    expect(pin.status).not.toBe(0);
    expect(pin.stderr).toMatch(/Run the addon sync/);
  });

  it.each([
    ['Nix base32', BASE32],
    ['"sha256:" + base32', `sha256:${BASE32}`],
    ['SRI', SRI],
  ])('accepts %s pins', (_label, pin) => {
    const r = nixEval<{ ok: boolean; check: boolean; pin: string }>(
      `let c = ${CHECK}; in { inherit (c) ok check; pin = c.pinOf (builtins.head c.addons); }`,
      { manifest: pinned(manifest, pin) },
    );
    expect(r).toEqual({ ok: true, check: true, pin });
  });

  it.each([
    ['too short', 'abc123', 'is neither a Nix base32 sha256 nor an SRI'],
    ['hex sha256 (not what nix-prefetch-url prints)', 'a'.repeat(64), 'is neither'],
    ['base32 with a letter Nix never uses (e)', `e${BASE32.slice(1)}`, 'is neither'],
  ])('rejects a malformed pin: %s', (_label, pin, message) => {
    const r = nixEvalRaw(`(${CHECK}).check`, { manifest: pinned(manifest, pin) });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/Run the addon sync/);
  });

  it('rejects a version bump without the URL, a duplicate, a helm addon without namespace', () => {
    const m = pinned(manifest);
    const broken: Manifest = {
      ...m,
      addons: [
        { ...m.addons[0]!, version: '1.20.0' },
        ...m.addons.slice(1).map((a) => (a.name === 'cilium' ? { ...a, namespace: undefined } : a)),
        m.addons[1]!,
      ],
    };
    const r = nixEval<{ ok: boolean; errors: string[] }>(
      `let c = ${CHECK}; in { inherit (c) ok errors; }`,
      {
        manifest: JSON.parse(JSON.stringify(broken)),
      },
    );
    expect(r.ok).toBe(false);
    expect(r.errors).toEqual(
      expect.arrayContaining([
        'addon "cilium" is declared more than once',
        'cert-manager 1.20.0: url does not mention version 1.20.0 (bump both together)',
        'cilium 1.17.8: a helm addon needs a namespace',
      ]),
    );
  });

  it('checks only the selected addons, and names unknown ones', () => {
    const partly = {
      ...manifest,
      addons: manifest.addons.map((a) =>
        a.name === 'cert-manager' ? { ...a, sha256: BASE32 } : a,
      ),
    };
    const ok = nixEval<{ ok: boolean }>(
      'let c = import ./nix/lib/addons.nix { manifest = args.manifest; names = [ "cert-manager" ]; }; in { inherit (c) ok; }',
      { manifest: partly },
    );
    expect(ok.ok).toBe(true);
    const unknown = nixEval<{ errors: string[] }>(
      'let c = import ./nix/lib/addons.nix { manifest = args.manifest; names = [ "cert-manager" "linkerd" ]; }; in { inherit (c) errors; }',
      { manifest: partly },
    );
    expect(unknown.errors).toEqual(['addon "linkerd" is selected but not declared']);
  });
});
