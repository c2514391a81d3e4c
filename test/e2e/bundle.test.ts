/**
 * The built bundle's shape: what `k8ops certs`, `overview --json` or `--version` load before
 * they run is the entry file and the chunks it imports statically. The console (Ink, React),
 * the live path (ssh2, yaml, zod, the kube client) and the demo generator (@peculiar/x509)
 * must stay behind dynamic imports, or every headless command compiles them at start.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../helpers/build.js';

const ENTRY = join(ROOT, 'dist', 'k8ops.mjs');

/** Relative module specifiers of static `import … from "./x.mjs"` / `import "./x.mjs"`. */
function staticImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s*"(\.[^"]+)";?$/gms))
    out.push(m[1]!);
  for (const m of text.matchAll(/^import\s*"(\.[^"]+)";?$/gm)) out.push(m[1]!);
  return out;
}

/** Relative specifiers of dynamic `import("./x.mjs")` calls. */
const dynamicImports = (text: string): string[] =>
  [...text.matchAll(/import\("(\.[^"]+)"\)/g)].map((m) => m[1]!);

/**
 * The files reachable from `entry` by the imports `follow` returns, transitively: the
 * static ones are what loads before the entry runs; with the dynamic ones, everything.
 */
function graph(entry: string, follow: (text: string) => string[]): Map<string, string> {
  const seen = new Map<string, string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    const text = readFileSync(file, 'utf8');
    seen.set(file, text);
    for (const spec of follow(text)) todo.push(resolve(dirname(file), spec));
  }
  return seen;
}

/** The npm packages whose code a file carries (esbuild marks each with `// node_modules/…`). */
function packagesIn(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/^\/\/ node_modules\/((?:@[^/\s]+\/)?[^/\s]+)\//gm)) out.add(m[1]!);
  return out;
}

describe('bundle (dist/k8ops.mjs)', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it('the entry loads no console, live-path or generator package before it runs', () => {
    const loads = graph(ENTRY, staticImports);
    expect(loads.size).toBeGreaterThan(1); // the shared chunks are found (the regex works)
    const loaded = new Set([...loads.values()].flatMap((t) => [...packagesIn(t)]));
    for (const heavy of [
      'ink',
      'react',
      'ssh2',
      'yaml',
      'zod',
      '@kubernetes/client-node',
      '@peculiar/x509',
      '@grpc/grpc-js',
      'protobufjs',
    ])
      expect(loaded, `${heavy} is loaded statically`).not.toContain(heavy);
  });

  it('those packages are in the build, behind dynamic imports', () => {
    const all = graph(ENTRY, (t) => [...staticImports(t), ...dynamicImports(t)]);
    const loaded = new Set([...all.values()].flatMap((t) => [...packagesIn(t)]));
    for (const pkg of ['ink', 'react', 'ssh2', 'yaml', 'zod', '@peculiar/x509'])
      expect(loaded, `${pkg} is in a dynamic chunk`).toContain(pkg);
  });

  it("Ink's frame grid is built from one shared blank cell (esbuild.config.mjs; issue 13, memory)", () => {
    const all = graph(ENTRY, (t) => [...staticImports(t), ...dynamicImports(t)]);
    const ink = [...all.values()].filter((t) => t.includes('// node_modules/ink/build/output.js'));
    expect(ink).toHaveLength(1);
    const text = ink[0]!;
    expect(text).toMatch(/BLANK_CELL = Object\.freeze\(\{ type: "char", value: " "/);
    // Output.get(): no blank cell object made per cell, per frame.
    const get = text.slice(
      text.indexOf('  get() {', text.indexOf('// node_modules/ink/build/output.js')),
    );
    const body = get.slice(0, get.indexOf('const clips = []'));
    expect(body).toMatch(/\.push\(BLANK_CELL\)/);
    expect(body).not.toMatch(/type: "char"/);
  });
});
