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
import {
  type CacheZoneOnDisk,
  grepMastersToPgrep,
  NGINX_MASTERS_ARGV,
  type NodeCacheValue,
  parseDu,
  parsePgrepMasters,
  parseProxyCachePaths,
  procRoot,
  safeAbsolute,
} from './cache.js';

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
  bind: ({ kube, clock }, store) => {
    if (!isLiveKubeSource(kube)) return undefined;
    const agg = new NginxAggregator();
    const reader = new RingReader(agg);
    let lastView: unknown;
    let timer: NodeJS.Timeout | undefined;
    let lastWrite = 0;
    let dirty = false;
    const write = () => {
      timer = undefined;
      dirty = false;
      lastWrite = Date.now();
      store.succeed(CLUSTER_SCOPE, NGINX_RING, agg.snapshot(), Date.now());
    };
    const sync = () => {
      const view = kube.snapshot().ingressLog;
      if (view === lastView) return;
      lastView = view;
      if (reader.read(view) === 0) return;
      // With the session's clock: written on its next second (with the countdowns' redraw).
      if (clock) {
        dirty = true;
        return;
      }
      if (timer) return;
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
    const offClock = clock?.subscribe('second', () => {
      if (dirty) write();
    });
    return () => {
      off();
      offClock?.();
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
  // Only the NGINX pane shows it: once a minute while another pane is up (issue 13).
  hiddenIntervalMs: 60_000,
  timeoutMs: 10_000,
  firstScreen: false,
  collect: ({ inventory, agent }, signal) => collectLogFile(inventory, agent, signal),
};

/** At most this many cache directories are measured per node (bounded `du`). */
const MAX_CACHE_DIRS = 16;

/**
 * The proxy cache on this node (cache.ts): nginx's masters, each one's proxy_cache_path
 * directives from its own configuration, and `du` of each directory through
 * `/proc/<pid>/root`. Read-only; three round trips; a node without nginx answers no master.
 */
export async function collectCache(agent: NodeAgent, signal: AbortSignal): Promise<NodeCacheValue> {
  const ps = await agent.exec(NGINX_MASTERS_ARGV, {
    readOnly: true,
    quick: true,
    signal,
    maxOutputBytes: 256 * 1024,
  });
  // grep: 1 = nothing matched (no nginx here); 2 with nothing on stderr = a process ended
  // between the glob and its read (-s); anything else (no grep, a bad option) is a failure.
  if (ps.code === 1) return { masters: [] };
  if (ps.code !== 0 && (ps.code !== 2 || ps.stderr.trim() !== ''))
    throw new Error(`nginx masters: ${ps.stderr.trim().split('\n')[0] || `exit ${ps.code}`}`);
  const masters = parsePgrepMasters(grepMastersToPgrep(ps.stdout));
  if (masters.length === 0) return { masters: [] };
  const confs = await agent.readFiles(
    masters.map((m) => procRoot(m.pid, m.conf)),
    { signal },
  );
  const out: NodeCacheValue = { masters: [] };
  const dirs: string[] = [];
  masters.forEach((m, i) => {
    const f = confs[i];
    if (!f?.ok) {
      out.masters.push({
        pid: m.pid,
        conf: m.conf,
        error: `${m.conf}: ${f && !f.ok ? f.error : 'not read'}`,
        zones: [],
      });
      return;
    }
    const zones: CacheZoneOnDisk[] = [];
    for (const p of parseProxyCachePaths(f.content)) {
      const z: CacheZoneOnDisk = { zone: p.zone, path: p.path };
      if (p.maxBytes !== undefined) z.maxBytes = p.maxBytes;
      if (!safeAbsolute(p.path)) z.error = 'the path has characters k8ops does not send to a node';
      else if (dirs.length >= MAX_CACHE_DIRS)
        z.error = `not measured (over ${MAX_CACHE_DIRS} directories)`;
      else dirs.push(procRoot(m.pid, p.path));
      zones.push(z);
    }
    out.masters.push({ pid: m.pid, conf: m.conf, zones });
  });
  if (dirs.length === 0) return out;
  // -B1: bytes of the blocks on disk (what max_size limits), -x: this file system only.
  const du = await agent.exec(['du', '-s', '-B1', '-x', ...dirs], {
    readOnly: true,
    signal,
    maxOutputBytes: 256 * 1024,
  });
  const sizes = parseDu(du.stdout);
  const why = du.stderr.trim().split('\n');
  for (const m of out.masters)
    for (const z of m.zones) {
      if (z.error) continue;
      const dir = procRoot(m.pid, z.path);
      const bytes = sizes.get(dir);
      if (bytes !== undefined) z.bytes = bytes;
      else
        z.error =
          why.find((l) => l.includes(dir))?.replace(`${dir}`, z.path) ??
          `du: no answer for ${z.path} (exit ${du.code})`;
    }
  return out;
}

export const NGINX_CACHE = 'nginx.cache';

export const nginxCacheSource: NodeSourceDef<NodeCacheValue> = {
  id: NGINX_CACHE,
  scope: 'node',
  intervalMs: 30_000,
  timeoutMs: 15_000,
  initialDelayMs: 2_000,
  firstScreen: false,
  collect: ({ agent }, signal) => collectCache(agent, signal),
};
