/**
 * Process entry point (bin/k8ops.js loads the compiled file). It hands src/cli.ts the
 * console runner; the Ink/React graph is only loaded when the console actually starts,
 * so `k8ops overview --json` stays fast.
 */
import { main as cliMain } from '../src/cli.js';
import { tuneConsoleHeap } from './heap.js';

export function main(argv: readonly string[]): Promise<number> {
  return cliMain(argv, {
    // Before the console's first refresh: a large inventory's heap sized for what it holds.
    beforeConsole: (nodeCount) => {
      tuneConsoleHeap(process.env, nodeCount);
    },
    runConsole: async (session, opts) => {
      // Ink draws only the last frame when it believes it runs in CI (is-in-ci reads CI and
      // CONTINUOUS_INTEGRATION once, when Ink loads). The console only starts on a terminal,
      // so it is interactive whatever the environment says.
      for (const key of ['CI', 'CONTINUOUS_INTEGRATION']) {
        if (key in process.env) process.env[key] = 'false';
      }
      return (await import('./console.js')).runConsole(session, opts);
    },
  });
}
