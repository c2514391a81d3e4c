/**
 * Open a Session on a real cluster from a validated inventory: one SSH pool for the run
 * (one connection per host, bastions shared), one SshNodeAgent per node. A connection
 * that drops marks its node's reachability failed at once (not at the next poll), and a
 * reconnect refreshes the node.
 */
import type { Inventory } from '../config/types.js';
import type { NodeAgent } from '../nodes/agent.js';
import { SshNodeAgent } from '../nodes/ssh-agent.js';
import { SshPool } from '../ssh/pool.js';
import { createSession, type Session } from './session.js';

export interface LiveSessionOptions {
  inventory: Inventory;
  readOnly: boolean;
  /** `ssh -F FILE`. */
  sshConfigFile?: string;
  /** Record unknown host keys, like StrictHostKeyChecking=accept-new. */
  acceptNew?: boolean;
}

export interface LiveSession extends Session {
  /** The run's SSH pool (closed with the session). */
  readonly pool: SshPool;
}

export function openLiveSession(opts: LiveSessionOptions): LiveSession {
  const pool = new SshPool({ sshConfigFile: opts.sshConfigFile, acceptNew: opts.acceptNew });
  const agents = new Map<string, NodeAgent>(
    opts.inventory.nodes.map((n) => [
      n.name,
      new SshNodeAgent(n, { pool, inventory: opts.inventory }),
    ]),
  );
  const session = createSession({
    mode: 'live',
    inventory: opts.inventory,
    agents,
    readOnly: opts.readOnly,
    context: opts.inventory.kube.context,
    onClose: () => pool.close(),
  });
  pool.onStateChange((ev) => {
    if (!agents.has(ev.host)) return;
    if (ev.state === 'down') {
      const e = ev.error;
      session.store.fail(
        ev.host,
        'reach',
        { kind: e?.kind ?? 'unreachable', message: e?.shortMessage ?? 'connection lost' },
        ev.at,
      );
    } else if (ev.state === 'ready') {
      void session.scheduler.refresh({ scope: ev.host });
    }
  });
  return Object.assign(session, { pool });
}
