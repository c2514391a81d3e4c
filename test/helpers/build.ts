import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'k8ops.js');

/** Make sure dist/ exists (npm test builds first; a lone `vitest run test/e2e` may not have). */
export function ensureBuilt(): void {
  const entry = join(ROOT, 'dist', 'views', 'main.js');
  if (existsSync(entry) && statSync(entry).size > 0) return;
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
    timeout: 120_000,
  });
}
