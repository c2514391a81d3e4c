/**
 * Collect the certificate files of one node's PKI directory through its NodeAgent:
 * one listDir, one readFiles for every certificate file (never key files), parse each.
 */
import { posix } from 'node:path';
import type { NodeAgent } from '../nodes/agent.js';
import type { CertFile } from './types.js';
import { parseCertFile } from './x509.js';

/** Key files are never read: private keys do not leave the node. */
export function isKeyFileName(name: string): boolean {
  const n = name.toLowerCase();
  return n.endsWith('.key') || n === 'key.pem' || /[-_.]key\.pem$/.test(n);
}

/** Certificate files: `*.pem` / `*.crt` that are not key files. */
export function isCertFileName(name: string): boolean {
  const n = name.toLowerCase();
  if (n.startsWith('.')) return false;
  return (n.endsWith('.pem') || n.endsWith('.crt')) && !isKeyFileName(n);
}

/**
 * Read and parse every certificate file in `pkiDir` on the agent's node, in name order.
 * A file that cannot be read becomes a CertFile with a whole-file error; the promise
 * rejects only when the node itself fails (listing the directory, or the read round trip).
 */
export async function collectNodeCerts(
  agent: NodeAgent,
  pkiDir: string,
  signal?: AbortSignal,
): Promise<CertFile[]> {
  const node = agent.node.name;
  const opts = signal ? { signal } : {};
  const names = (await agent.listDir(pkiDir, opts)).filter(isCertFileName).sort();
  if (names.length === 0) return [];
  const paths = names.map((n) => posix.join(pkiDir, n));
  const reads = await agent.readFiles(paths, opts);
  const byPath = new Map(reads.map((r) => [r.path, r]));
  return paths.map((path): CertFile => {
    const r = byPath.get(path);
    if (!r)
      return { node, path, certs: [], errors: [{ block: 0, message: 'not returned by the node' }] };
    if (!r.ok) {
      const message = r.missing
        ? 'file vanished before it could be read'
        : `read failed: ${r.error}`;
      return { node, path, certs: [], errors: [{ block: 0, message }] };
    }
    return parseCertFile(node, path, r.content);
  });
}
