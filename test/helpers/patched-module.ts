/**
 * A build patch run beside the module it patches: the patched source is written next to the
 * original (so that its relative and package imports resolve the same way), removed after
 * the file's tests, and both are imported. For the esbuild patches of dependencies
 * (esbuild.ink-output.mjs, esbuild.ansi-tokenize.mjs).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll } from 'vitest';

export function patchedBeside<T>(
  original: string,
  patch: (src: string) => string,
): { original: () => Promise<T>; patched: () => Promise<T> } {
  const patched = join(
    dirname(original),
    `${basename(original, '.js')}.k8ops-test-${process.pid}.js`,
  );
  writeFileSync(patched, patch(readFileSync(original, 'utf8')));
  afterAll(() => rmSync(patched, { force: true }));
  const load = async (p: string) => (await import(pathToFileURL(p).href)) as T;
  return { original: () => load(original), patched: () => load(patched) };
}
