/**
 * The NGINX feature's sources. The access log comes from one of two places:
 *
 * - `nginx.ring` (cluster): the ingress-nginx controller logs the kube layer already
 *   follows into its bounded ring (`kube.ingress-log`). Bound to the live kube source: each
 *   change is read by sequence number (each line once; lines evicted before they were read
 *   are counted as missed) into one aggregator, whose snapshot is written at most once a
 *   second.
 * - `nginx.file` (per node): when the inventory names `ingress.logFile`, `tail -n N <path>`
 *   through NodeAgent.exec on the nodes of `ingress.logNodes` (every node by default); each
 *   read keeps only the lines after the previous one's.
 *
 * The ACME certificates come from the kube watches `kube.certificates` and `kube.ingresses`
 * (src/kube/watches/certificates.ts), read by the model.
 */
import type { Inventory, NodeSpec } from '../../config/types.js';
import { isLiveKubeSource } from '../../kube/types.js';
import type { NodeAgent } from '../../nodes/agent.js';
import { CLUSTER_SCOPE } from '../../store/types.js';
import type { ClusterSourceDef, NodeSourceDef } from '../types.js';
import { NginxAggregator, type NginxStats, RingReader, TailReader } from './aggregate.js';

export const NGINX_RING = 'nginx.ring';
export const NGINX_FILE = 'nginx.file';
/** Lines asked of `tail -n` per read. */
export const TAIL_LINES = 5000;
const WRITE_EVERY_MS = 1000;

/** A log file path sent to the node: absolute, plain characters, no `..` segment. */
export function validLogPath(p: string): boolean {
  return /^\/[A-Za-z0-9._\-/]+$/.test(p) && !p.split('/').includes('..') && p.length <= 4096;
}

/** Whether this node's log file is read (the inventory names a file, and this node). */
export function readsFileOn(inv: Inventory, node: NodeSpec): boolean {
  const file = inv.ingress.logFile;
  if (!file) return false;
  const only = inv.ingress.logNodes;
  return !only || only.length === 0 || only.includes(node.name);
}

export const nginxRingSource: ClusterSourceDef<NginxStats> = {
  id: NGINX_RING,
  scope: 'cluster',
  intervalMs: 60_000,
  timeoutMs: 5_000,
  firstScreen: false,
  enabled: ({ kube, inventory }) => isLiveKubeSource(kube) && !inventory.ingress.logFile,
  bind: ({ kube }, store) => {
    if (!isLiveKubeSource(kube)) return undefined;
    const agg = new NginxAggregator();
    const reader = new RingReader(agg);
    let lastView: unknown;
    let timer: NodeJS.Timeout | undefined;
    let lastWrite = 0;
    const write = () => {
      timer = undefined;
      lastWrite = Date.now();
      store.succeed(CLUSTER_SCOPE, NGINX_RING, agg.snapshot(), Date.now());
    };
    const sync = () => {
      const view = kube.snapshot().ingressLog;
      if (view === lastView) return;
      lastView = view;
      if (reader.read(view) === 0 || timer) return;
      const wait = Math.max(0, lastWrite + WRITE_EVERY_MS - Date.now());
      if (wait === 0) write();
      else {
        timer = setTimeout(write, wait);
        timer.unref?.();
      }
    };
    sync();
    write();
    const off = kube.onChange(sync);
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  },
  collect: () => Promise.reject(new Error('the ingress log ring is read from a live kube source')),
};

const tails = new WeakMap<NodeAgent, TailReader>();

/** One `tail -n` of the node's log file into that node's aggregator. */
export async function collectLogFile(
  inv: Inventory,
  agent: NodeAgent,
  signal: AbortSignal,
  opts: { now?: () => number; lines?: number } = {},
): Promise<NginxStats | null> {
  const file = inv.ingress.logFile;
  if (!file || !readsFileOn(inv, agent.node)) return null;
  if (!validLogPath(file))
    throw new Error(`ingress.logFile ${JSON.stringify(file)} is not a plain absolute path`);
  let reader = tails.get(agent);
  if (!reader) {
    reader = new TailReader(new NginxAggregator(opts.now ? { now: opts.now } : {}));
    tails.set(agent, reader);
  }
  const lines = opts.lines ?? TAIL_LINES;
  const r = await agent.exec(['tail', '-n', String(lines), file], {
    readOnly: true,
    signal,
    maxOutputBytes: 32 * 1024 * 1024,
  });
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n')[0] ?? '';
    throw new Error(`tail ${file}: ${why || `exit ${r.code}`}`);
  }
  reader.read(r.stdout, lines);
  return reader.agg.snapshot();
}

export const nginxFileSource: NodeSourceDef<NginxStats | null> = {
  id: NGINX_FILE,
  scope: 'node',
  intervalMs: 5_000,
  timeoutMs: 10_000,
  firstScreen: false,
  collect: ({ inventory, agent }, signal) => collectLogFile(inventory, agent, signal),
};
