/**
 * Process entry point (bin/k8ops.js loads the compiled file). It hands src/cli.ts the
 * console runner; the Ink/React graph is only loaded when the console actually starts,
 * so `k8ops overview --json` stays fast.
 */
import { main as cliMain } from '../src/cli.js';

export function main(argv: readonly string[]): Promise<number> {
  return cliMain(argv, {
    runConsole: async (session, opts) => (await import('./console.js')).runConsole(session, opts),
  });
}
