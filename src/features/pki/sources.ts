/**
 * The PKI feature's sources: `certs` (every certificate file of the node's PKI dirs, read
 * in one round trip and parsed; key files never read) and `pki-status` (nix/pki/status on
 * the node: modes, owners and public-key digests, so key↔cert is checked without a private
 * key leaving the node). `certs` also feeds the Overview's countdowns.
 */
import type { Inventory, NodeSpec } from '../../config/types.js';
import type { NodeAgent } from '../../nodes/agent.js';
import { type AsyncVerifier, EarlyPrewarm, prewarmFiles } from '../../pki/chain.js';
import type { Layout } from '../../pki/layout.js';
import { defaultLayout } from '../../pki/layout-data.js';
import type { CertFile, PkiStatus } from '../../pki/types.js';
import { opensslBatcher } from '../../pki/verify-openssl.js';
import { parseCertFile } from '../../pki/x509.js';
import { trace } from '../../store/trace.js';
import type { NodeSourceDef } from '../types.js';

export type CertsValue = CertFile[];
/** One status document per directory read (the PKI dir; the CA dir too on the signer). */
export type PkiStatusValue = PkiStatus[];

/** The directories a node's PKI sources read: the PKI dir, plus the CA dir on the signer. */
export function pkiDirsOf(inv: Inventory, layout: Layout, node: NodeSpec): string[] {
  const dirs = [inv.pki.dir];
  if (inv.pki.signer === node.name && layout.caDir !== inv.pki.dir) dirs.push(layout.caDir);
  return dirs;
}

const isMissing = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && (e as { kind?: unknown }).kind === 'missing';

/**
 * Read and parse every certificate file in `pkiDir` on the agent's node, in name order.
 * A file that cannot be read becomes a CertFile with a whole-file error; the promise
 * rejects only when the node itself fails (listing the directory, or the read round trip).
 */
export async function collectNodeCerts(
  agent: NodeAgent,
  pkiDir: string,
  signal?: AbortSignal,
  onParsed?: (files: readonly CertFile[]) => void,
): Promise<CertFile[]> {
  const node = agent.node.name;
  const reads = await agent.readCertFiles(pkiDir, signal ? { signal } : {});
  // A file whose content is what it was at the last read of this directory is not parsed
  // again (issue 13: parsing was most of k8ops' CPU in a warm refresh): the same CertFile.
  const memos = parsedByAgent.get(agent) ?? new Map<string, Map<string, ParsedMemo>>();
  parsedByAgent.set(agent, memos);
  const last = memos.get(pkiDir);
  const next = new Map<string, ParsedMemo>();
  const parse = (r: (typeof reads)[number]): CertFile => {
    if (!r.ok) {
      const message = r.missing
        ? 'file vanished before it could be read'
        : `read failed: ${r.error}`;
      return { node, path: r.path, certs: [], errors: [{ block: 0, message }] };
    }
    const memo = last?.get(r.path);
    const file =
      memo && memo.content === r.content && memo.file.node === node
        ? memo.file
        : parseCertFile(node, r.path, r.content);
    next.set(r.path, { content: r.content, file });
    return file;
  };
  const out: CertFile[] = [];
  // In chunks, each handed to `onParsed` before the next is parsed, with a turn of the
  // microtask queue between them: the signatures of the first chunk are being verified
  // (batches through openssl start from there) while the rest is parsed.
  for (let i = 0; i < reads.length; i += PARSE_CHUNK) {
    const chunk = reads.slice(i, i + PARSE_CHUNK).map(parse);
    out.push(...chunk);
    if (onParsed) {
      onParsed(chunk);
      await null;
    }
  }
  memos.set(pkiDir, next);
  return out;
}

/** Files parsed before their signatures are queued (collectNodeCerts' onParsed). */
const PARSE_CHUNK = 1000;

interface ParsedMemo {
  content: string;
  file: CertFile;
}

/** Per agent and directory, each certificate file's last content and what it parsed to. */
const parsedByAgent = new WeakMap<NodeAgent, Map<string, Map<string, ParsedMemo>>>();

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
  const batcher = opensslBatcher();
  const verify: AsyncVerifier | undefined = batcher ? (c, i) => batcher.verify(c, i) : undefined;
  const early = new EarlyPrewarm(verify);
  const onParsed = (chunk: readonly CertFile[]) => early.feed(chunk);
  const [files, ...more] = await Promise.all([
    collectNodeCerts(agent, first, signal, onParsed),
    ...rest.map((dir) =>
      collectNodeCerts(agent, dir, signal, onParsed).catch((e: unknown) => {
        if (isMissing(e)) return [];
        throw e;
      }),
    ),
  ]);
  for (const m of more) files.push(...m);
  trace('certs:parsed', { node: agent.node.name, files: files.length });
  // Every pair of the whole index (those queued while parsing are in flight or cached).
  await Promise.all([early.settled(), prewarmFiles(files, verify)]);
  trace('certs:verified', { node: agent.node.name });
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

/** Certificates change rarely: once a minute. */
export const certsSource: NodeSourceDef<CertsValue> = {
  id: 'certs',
  scope: 'node',
  intervalMs: 60_000,
  timeoutMs: 20_000,
  collect: ({ inventory, node, agent }, signal) =>
    collectCerts(agent, pkiDirsOf(inventory, defaultLayout(), node), signal),
};

/** For the PKI pane and checks, not the first screen: it starts after the Overview's sources. */
export const pkiStatusSource: NodeSourceDef<PkiStatusValue> = {
  id: 'pki-status',
  scope: 'node',
  intervalMs: 60_000,
  timeoutMs: 20_000,
  initialDelayMs: 500,
  firstScreen: false,
  collect: ({ inventory, node, agent }, signal) =>
    collectPkiStatus(agent, pkiDirsOf(inventory, defaultLayout(), node), signal),
};
