/**
 * Open the session a command (or the console) runs on: the demo lab, or the inventory's
 * cluster over SSH and the kube API. The live path (yaml + zod, ssh2, the kube client) is
 * loaded only when it is used.
 */
import { resolveInventoryPath, stateDir } from '../config/paths.js';
import type { SourceSet } from '../features/types.js';
import { demoStateDir, openDemoSession } from '../session/demo.js';
import type { Session } from '../session/session.js';
import type { Out } from './common.js';

/** The flags that choose and open the session, shared by every subcommand's parser. */
export const SESSION_OPTIONS = {
  demo: { type: 'boolean' },
  inventory: { type: 'string', short: 'i' },
  context: { type: 'string' },
  'read-only': { type: 'boolean' },
  'ssh-config': { type: 'string' },
  'accept-new': { type: 'boolean' },
} as const;

export interface OpenArgs {
  demo: boolean;
  inventory?: string;
  context?: string;
  readOnly: boolean;
  sshConfig?: string;
  acceptNew: boolean;
  /** A subcommand (progress goes to stderr) or the console (it owns the screen). */
  sub?: string;
}

/** OpenArgs from a subcommand's parsed SESSION_OPTIONS values. */
export function sessionArgs(
  v: Readonly<Record<string, unknown>>,
  sub: string,
  over: Partial<OpenArgs> = {},
): OpenArgs {
  const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
  const a: OpenArgs = {
    demo: v.demo === true,
    readOnly: v['read-only'] === true,
    acceptNew: v['accept-new'] === true,
    sub,
    ...over,
  };
  const inventory = str(v.inventory);
  if (inventory !== undefined) a.inventory = inventory;
  const context = str(v.context);
  if (context !== undefined) a.context = context;
  const sshConfig = str(v['ssh-config']);
  if (sshConfig !== undefined) a.sshConfig = sshConfig;
  return a;
}

export async function openSession(
  a: OpenArgs,
  err: Out,
  env: NodeJS.ProcessEnv,
  features?: readonly SourceSet[],
): Promise<{ ok: true; session: Session } | { ok: false }> {
  if (a.demo) {
    // Progress goes to stderr for subcommands only: the console owns the screen.
    const log = a.sub ? (line: string) => err.write(`k8ops: ${line}\n`) : undefined;
    return {
      ok: true,
      session: openDemoSession({
        readOnly: a.readOnly,
        log,
        stateDir: demoStateDir(env),
        ...(features ? { features } : {}),
      }),
    };
  }
  const where = resolveInventoryPath({ flag: a.inventory, env, cwd: process.cwd() });
  if (!where.found) {
    err.write(
      `k8ops: no inventory found (looked at ${where.searched.join(', ')}).\n` +
        'Write one (see k8ops.example.yaml), pass --inventory FILE, or try the demo lab with --demo.\n',
    );
    return { ok: false };
  }
  const { formatIssue, loadInventory } = await import('../config/load.js');
  const { openLiveSession } = await import('../session/live.js');
  const loaded = await loadInventory(where.path);
  if (!loaded.ok) {
    for (const issue of loaded.errors) err.write(`${formatIssue(issue)}\n`);
    err.write(`k8ops: ${loaded.errors.length} error(s) in the inventory; nothing was contacted.\n`);
    return { ok: false };
  }
  for (const w of loaded.warnings) err.write(`warning: ${formatIssue(w)}\n`);
  const session = await openLiveSession({
    inventory: loaded.inventory,
    readOnly: a.readOnly,
    sshConfigFile: a.sshConfig,
    acceptNew: a.acceptNew,
    context: a.context,
    stateDir: stateDir(env),
    ...(features ? { features } : {}),
  });
  return { ok: true, session };
}
