/**
 * NodeAgent.readCertFiles for agents whose calls cost nothing (the local machine, the demo
 * lab): list the directory, then read the certificate files of the listing.
 */
import { posix } from 'node:path';
import { isCertFileName } from '../pki/file-names.js';
import type { CallOptions, FileRead, NodeAgent } from './agent.js';

export async function readCertFilesByListing(
  agent: Pick<NodeAgent, 'listDir' | 'readFiles'>,
  dir: string,
  opts?: CallOptions,
): Promise<FileRead[]> {
  const names = (await agent.listDir(dir, opts)).filter(isCertFileName).sort();
  if (names.length === 0) return [];
  return agent.readFiles(
    names.map((n) => posix.join(dir, n)),
    opts,
  );
}
