/**
 * The demo lab's node: the file-system agent over `<lab>/nodes/<node>/` (real files, the
 * lab's simulated owners, the node's units), answering as a node would over SSH, wrapped in
 * the demo faults (unreachable, unit states, latency).
 */
import { readFile } from 'node:fs/promises';
import type { Inventory, NodeSpec } from '../config/types.js';
import { demoInventory } from '../demo/inventory.js';
import { demoNodeRoot, demoOwnersPath, type OwnersFile } from '../demo/lab.js';
import { demoExec } from '../demo/node-commands.js';
import { demoForwardSocket, demoForwardTcp } from '../demo/node-sockets.js';
import { demoUnits } from '../demo/pki-plan.js';
import type { ProbeResult } from './agent.js';
import { type FaultOptions, FaultyNodeAgent } from './faulty-agent.js';
import { FsNodeAgent, type OwnerLookup } from './fs-agent.js';

export { refuseNodePath } from './fs-agent.js';

/** Deterministic per node: a LAN hop behind the bastion. */
function demoProbe(node: NodeSpec): ProbeResult {
  const rttMs = Math.round((1.1 + node.index * 0.37 + (node.index % 2) * 0.21) * 100) / 100;
  return { rttMs, route: 'via bastion', os: 'NixOS 25.05 (Warbler)', auth: 'demo' };
}

/** The lab's simulated owners (owners.json); root:root for what it does not list. */
function labOwners(labDir: string, node: string): () => Promise<OwnerLookup> {
  return async () => {
    let files: OwnersFile['files'] = {};
    try {
      const parsed = JSON.parse(await readFile(demoOwnersPath(labDir, node), 'utf8')) as OwnersFile;
      if (parsed && typeof parsed.files === 'object' && parsed.files !== null) files = parsed.files;
    } catch {
      // no owners file: everything root-owned
    }
    return (p) => files[p] ?? { owner: 'root', group: 'root' };
  };
}

export interface DemoNodeOptions extends FaultOptions {
  /** The lab's inventory (default: the embedded demo inventory). */
  inventory?: Inventory;
}

export class DemoNodeAgent extends FaultyNodeAgent {
  declare readonly inner: FsNodeAgent;

  constructor(node: NodeSpec, labDir: string, opts: DemoNodeOptions = {}) {
    const ctx = { inventory: opts.inventory ?? demoInventory(), node, labDir };
    super(
      new FsNodeAgent(node, {
        root: demoNodeRoot(labDir, node.name),
        owners: labOwners(labDir, node.name),
        probe: demoProbe(node),
        units: demoUnits(node),
        exec: demoExec(ctx),
        forwardSocket: demoForwardSocket(ctx),
        forwardTcp: demoForwardTcp(ctx),
      }),
      opts,
    );
  }

  /** Host path of a node path (after validation). */
  hostPath(nodePath: string): string {
    return this.inner.hostPath(nodePath);
  }
}
