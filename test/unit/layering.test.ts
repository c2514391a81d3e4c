/** DESIGN.md's layering: src/ never imports views/; views/ components do no I/O. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? files(join(dir, e.name))
      : /\.(ts|tsx)$/.test(e.name)
        ? [join(dir, e.name)]
        : [],
  );
}
const imports = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map(
    (m) => m[1]!,
  );

describe('layering', () => {
  it('nothing under src/ imports from views/', () => {
    const offenders = files(join(ROOT, 'src')).flatMap((f) =>
      imports(f)
        .filter((i) => /(^|\/)views\//.test(i))
        .map((i) => `${relative(ROOT, f)} → ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  it('views/ imports no I/O modules (fs, child_process, net, ssh2, kube client)', () => {
    const io =
      /^(node:)?(fs|fs\/promises|child_process|net|tls|dgram|http|https)$|^ssh2|^@kubernetes\//;
    const offenders = files(join(ROOT, 'views')).flatMap((f) =>
      imports(f)
        .filter((i) => io.test(i))
        .map((i) => `${relative(ROOT, f)} → ${i}`),
    );
    expect(offenders).toEqual([]);
  });
});

/**
 * DESIGN.md's "imports point down only": views → commands/session → features → actions →
 * pki/nodes/kube → ssh/store/config. What each folder of src/ may import from the others.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  config: ['store'],
  store: [],
  ssh: ['config', 'store'],
  kube: ['config', 'store', 'ssh'],
  pki: ['config', 'store'],
  hubble: [],
  demo: ['config', 'store', 'pki', 'hubble'],
  nodes: ['config', 'store', 'ssh', 'pki', 'demo'],
  actions: ['config', 'store', 'ssh', 'kube', 'pki', 'nodes'],
  features: ['config', 'store', 'ssh', 'kube', 'pki', 'nodes', 'actions', 'hubble'],
  session: ['config', 'store', 'ssh', 'kube', 'pki', 'nodes', 'demo', 'actions', 'features'],
  commands: [
    'config',
    'store',
    'ssh',
    'kube',
    'pki',
    'nodes',
    'demo',
    'actions',
    'features',
    'session',
  ],
};

/** The src/ folder an import of `file` lands in (undefined: outside src/ or a package). */
function targetFolder(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const abs = join(file, '..', spec);
  const rel = relative(join(ROOT, 'src'), abs);
  if (rel.startsWith('..')) return undefined;
  const [first, second] = rel.split('/');
  return second === undefined ? '.' : first;
}

describe('layering inside src/', () => {
  const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);

  it('every folder of src/ has a rule', () => {
    expect(folders.filter((f) => !(f in MAY_IMPORT))).toEqual([]);
  });

  it('imports point down only (pki/ never imports session/ or nodes/; ssh/ and kube/ never nodes/)', () => {
    const offenders: string[] = [];
    for (const folder of folders) {
      const allowed = new Set([folder, ...(MAY_IMPORT[folder] ?? [])]);
      for (const f of files(join(ROOT, 'src', folder))) {
        for (const spec of imports(f)) {
          const to = targetFolder(f, spec);
          if (to !== undefined && !allowed.has(to))
            offenders.push(`${relative(ROOT, f)} → ${spec}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the rule catches an upward import (the checker itself works)', () => {
    const f = join(ROOT, 'src', 'pki', 'x.ts');
    expect(targetFolder(f, '../session/session.js')).toBe('session');
    expect(MAY_IMPORT.pki).not.toContain('session');
    expect(targetFolder(f, './chain.js')).toBe('pki');
    expect(targetFolder(f, 'node:fs')).toBeUndefined();
  });

  it('the session is the composition root only: no Object.assign onto it, no duck-typed casts', () => {
    const offenders = files(join(ROOT, 'src')).flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      const bad = [
        /Object\.assign\(\s*session\b/.test(text) && 'Object.assign(session, …)',
        /as\s+LiveSession\b/.test(text) && 'cast to LiveSession',
        /kube\s+as\s+\{/.test(text) && 'duck-typed kube cast',
      ].filter(Boolean);
      return bad.map((b) => `${relative(ROOT, f)}: ${b}`);
    });
    expect(offenders).toEqual([]);
  });
});
