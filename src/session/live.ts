/**
 * Open a Session on a real cluster from a validated inventory: one SSH pool for the run
 * (one connection per host, bastions shared), one SshNodeAgent per node, and the
 * Kubernetes API through the user's kubeconfig — tunnelled over the same SSH chain when
 * the inventory says so or when the API server is not reachable directly. A connection
 * that drops marks its node's reachability failed at once (not at the next poll), and a
 * reconnect refreshes the node.
 */

import { existsSync } from 'node:fs';
import type { Inventory } from '../config/types.js';
import { routerSpec } from '../features/bgp/sources.js';
import type { SourceSet } from '../features/types.js';
import { forwardVia, kubeconfigFiles, type OpenForward, openKubeSource } from '../kube/index.js';
import type { NodeAgent } from '../nodes/agent.js';
import { SshNodeAgent } from '../nodes/ssh-agent.js';
import { SshPool } from '../ssh/pool.js';
import { parseJumpSpec, type RouteRequest, routeRequestForNode } from '../ssh/resolve.js';
import { createSession, type Session } from './session.js';

export interface LiveSessionOptions {
  inventory: Inventory;
  readOnly: boolean;
  /** `ssh -F FILE`. */
  sshConfigFile?: string;
  /** Record unknown host keys, like StrictHostKeyChecking=accept-new. */
  acceptNew?: boolean;
  /** `--context`: wins over the inventory's kube.context. */
  context?: string;
  /** The features whose sources run (default: every feature). */
  features?: readonly SourceSet[];
  /** Jobs and audit log (default `$XDG_STATE_HOME/k8ops`). */
  stateDir?: string;
  /** Extra CA certificates (PEM) trusted for addon downloads (a private mirror's; tests). */
  fetchCa?: string;
}

/**
 * Where the API tunnel starts: the last hop of the inventory's jump chain (the bastion),
 * or else the first control-plane node itself (its route includes any ssh-config jumps).
 */
export function tunnelRoute(
  inventory: Inventory,
): { name: string; request: RouteRequest } | undefined {
  const jump = inventory.ssh.jump;
  const last = jump.at(-1);
  if (last !== undefined) {
    const spec = parseJumpSpec(last);
    if ('error' in spec) return undefined;
    const request: RouteRequest = { host: spec.host, jump: jump.slice(0, -1) };
    if (spec.user) request.user = spec.user;
    if (spec.port) request.port = spec.port;
    if (inventory.ssh.knownHosts) request.knownHosts = inventory.ssh.knownHosts;
    return { name: `tunnel:${spec.host}`, request };
  }
  const cp = inventory.nodes.find((n) => n.roles.includes('control-plane'));
  return cp
    ? { name: `tunnel:${cp.name}`, request: routeRequestForNode(inventory, cp) }
    : undefined;
}

export async function openLiveSession(opts: LiveSessionOptions): Promise<Session> {
  const pool = new SshPool({ sshConfigFile: opts.sshConfigFile, acceptNew: opts.acceptNew });
  const sshAgents = new Map<string, SshNodeAgent>(
    opts.inventory.nodes.map((n) => [
      n.name,
      new SshNodeAgent(n, { pool, inventory: opts.inventory }),
    ]),
  );
  const routerAgents = new Map<string, NodeAgent>(
    opts.inventory.network.bgpRouters.map((r) => [
      r.name,
      new SshNodeAgent(routerSpec(r), { pool, inventory: opts.inventory }),
    ]),
  );
  const agents: ReadonlyMap<string, NodeAgent> = sshAgents;
  const route = tunnelRoute(opts.inventory);
  const openForward: OpenForward | undefined = route
    ? forwardVia(pool.host(route.name, route.request))
    : undefined;
  // No kubeconfig anywhere and none asked for: the cluster has no kube source ("no
  // source" on screen), which is not an error. A configured one that fails is shown as such.
  const kc = kubeconfigFiles(
    opts.inventory.kube.kubeconfig ? { path: opts.inventory.kube.kubeconfig } : {},
  );
  const wanted =
    kc.origin !== 'default' ||
    kc.files.some((f) => existsSync(f)) ||
    !!(opts.context ?? opts.inventory.kube.context);
  const kube = wanted
    ? await openKubeSource({
        inventory: opts.inventory,
        ...(opts.context ? { context: opts.context } : {}),
        ...(openForward ? { openForward } : {}),
      })
    : undefined;
  const kubeOptions =
    kube === undefined
      ? {}
      : kube.ok
        ? { kube: kube.source }
        : { kubeError: { kind: kube.error.kind, message: kube.error.message } };
  /**
   * `:accept-hostkey NODE`: a separate pool that may append unknown keys, for this node's
   * route only (a changed key is still refused); then the node reconnects.
   */
  const acceptHostKey = async (
    name: string,
    session: Session,
  ): Promise<{ ok: boolean; message: string }> => {
    const node = opts.inventory.nodes.find((n) => n.name === name);
    if (!node) return { ok: false, message: `no node named "${name}"` };
    const once = new SshPool({ sshConfigFile: opts.sshConfigFile, acceptNew: true });
    try {
      const agent = new SshNodeAgent(node, { pool: once, inventory: opts.inventory });
      await agent.probe({ timeoutMs: 15_000 });
      const status = agent.host.hostKeyStatus;
      void session.scheduler.refresh({ scope: name });
      return {
        ok: true,
        message:
          status === 'added'
            ? `${name}: host key recorded in known_hosts; reconnecting`
            : `${name}: host keys already known; reconnecting`,
      };
    } catch (e) {
      const err = e as { shortMessage?: string; message?: string };
      return { ok: false, message: `${name}: ${err.shortMessage ?? err.message ?? String(e)}` };
    } finally {
      await once.close();
    }
  };
  const session = createSession({
    mode: 'live',
    inventory: opts.inventory,
    agents,
    routerAgents,
    ...kubeOptions,
    readOnly: opts.readOnly,
    context: opts.context ?? opts.inventory.kube.context,
    ...(opts.features ? { features: opts.features } : {}),
    ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
    ...(opts.fetchCa ? { fetchCa: opts.fetchCa } : {}),
    acceptHostKey,
    ...(opts.sshConfigFile ? { sshConfigFile: opts.sshConfigFile } : {}),
    // A node's sources wait for its connection outside their timeouts: the pool bounds
    // concurrent handshakes, and a node queued behind others is not unreachable.
    nodeReady: async (name, signal) => {
      await sshAgents.get(name)?.host.connect(signal);
    },
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
  return session;
}
