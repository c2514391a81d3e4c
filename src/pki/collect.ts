/**
 * Collect the certificate files of one node's PKI directory through its NodeAgent: one
 * readCertFiles call (list + read, one round trip over SSH; never key files), parse each.
 */
import type { NodeAgent } from '../nodes/agent.js';
import type { CertFile } from './types.js';
import { parseCertFile } from './x509.js';

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
  const reads = await agent.readCertFiles(pkiDir, signal ? { signal } : {});
  return reads.map((r): CertFile => {
    if (!r.ok) {
      const message = r.missing
        ? 'file vanished before it could be read'
        : `read failed: ${r.error}`;
      return { node, path: r.path, certs: [], errors: [{ block: 0, message }] };
    }
    return parseCertFile(node, r.path, r.content);
  });
}
