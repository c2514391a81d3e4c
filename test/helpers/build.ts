import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'k8ops.js');

/** Make sure the build exists (npm test builds first; a lone `vitest run test/e2e` may not have). */
export function ensureBuilt(): void {
  const entry = join(ROOT, 'dist', 'k8ops.mjs');
  if (existsSync(entry) && statSync(entry).size > 0) return;
  execFileSync('npm', ['run', 'build', '--silent'], {
    cwd: ROOT,
    stdio: 'inherit',
    timeout: 120_000,
  });
}
