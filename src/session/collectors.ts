/**
 * The collectors of the foundation: what each (scope × source) refresh does. Each is a
 * plain async function over a NodeAgent / KubeSource; timing, timeouts and backoff are
 * the scheduler's.
 */
import type { KubeNodeStatus, KubeSource } from '../kube/types.js';
import type { NodeAgent, ProbeResult } from '../nodes/agent.js';
import { prewarmFiles } from '../pki/chain.js';
import { collectNodeCerts } from '../pki/collect.js';
import type { CertFile, PkiStatus } from '../pki/types.js';
import { opensslBatcher } from '../pki/verify-openssl.js';

export interface SourceSpec {
  intervalMs: number;
  timeoutMs: number;
  initialDelayMs?: number;
}

/** Default refresh rates (k9s reconciles tables every 2 s at most; certificates change rarely). */
export const SOURCES = {
  reach: { intervalMs: 10_000, timeoutMs: 8_000 },
  certs: { intervalMs: 60_000, timeoutMs: 20_000 },
  // For the PKI pane and checks, not the first screen: it starts after the Overview's sources.
  'pki-status': { intervalMs: 60_000, timeoutMs: 20_000, initialDelayMs: 500 },
  kube: { intervalMs: 10_000, timeoutMs: 8_000 },
} satisfies Record<string, SourceSpec>;

export type ReachValue = ProbeResult;
export type CertsValue = CertFile[];
/** One status document per directory read (the PKI dir; the CA dir too on the signer). */
export type PkiStatusValue = PkiStatus[];
export type KubeNodesValue = KubeNodeStatus[];

export const collectReach = (agent: NodeAgent, signal: AbortSignal): Promise<ReachValue> =>
  agent.probe({ signal });

const isMissing = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && (e as { kind?: unknown }).kind === 'missing';

/**
 * Certificate files of the node's PKI directories: the first must exist; later ones (the
 * signer's CA dir) may be absent. Signatures are then verified off the UI thread (batches
 * through the system openssl, else node:crypto's thread pool), so the PKI model's checks
 * find their verdicts cached and the UI thread never waits on them.
 */
export async function collectCerts(
  agent: NodeAgent,
  dirs: string | readonly string[],
  signal: AbortSignal,
): Promise<CertsValue> {
  const [first, ...rest] = typeof dirs === 'string' ? [dirs] : dirs;
  if (first === undefined) return [];
  // Every directory at once (over SSH: concurrent requests on the node's shells).
  const [files, ...more] = await Promise.all([
    collectNodeCerts(agent, first, signal),
    ...rest.map((dir) =>
      collectNodeCerts(agent, dir, signal).catch((e: unknown) => {
        if (isMissing(e)) return [];
        throw e;
      }),
    ),
  ]);
  for (const m of more) files.push(...m);
  const batcher = opensslBatcher();
  await prewarmFiles(files, batcher ? (c, i) => batcher.verify(c, i) : undefined);
  signal.throwIfAborted();
  return files;
}

/** The node's status for each directory (first must exist; later ones may be absent). */
export async function collectPkiStatus(
  agent: NodeAgent,
  dirs: readonly string[],
  signal: AbortSignal,
): Promise<PkiStatusValue> {
  const out: PkiStatus[] = [];
  for (const [i, dir] of dirs.entries()) {
    try {
      out.push(await agent.pkiStatus(dir, { signal }));
    } catch (e) {
      if (i === 0 || !isMissing(e)) throw e;
    }
  }
  return out;
}

export const collectKubeNodes = (kube: KubeSource, signal: AbortSignal): Promise<KubeNodesValue> =>
  kube.listNodes({ signal });
