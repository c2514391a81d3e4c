/** Open a Session on a real cluster from a validated inventory. */
import type { Inventory } from '../config/types.js';
import type { NodeAgent } from '../nodes/agent.js';
import { createSession, type Session } from './session.js';

export interface LiveSessionOptions {
  inventory: Inventory;
  readOnly: boolean;
}

export function openLiveSession(opts: LiveSessionOptions): Session {
  // TEMP: SSH agents are wired in once src/ssh lands.
  const agents = new Map<string, NodeAgent>();
  return createSession({
    mode: 'live',
    inventory: opts.inventory,
    agents,
    readOnly: opts.readOnly,
    context: opts.inventory.kube.context,
  });
}
