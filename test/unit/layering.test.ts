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
