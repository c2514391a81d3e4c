/**
 * One SSH hop: an ssh2 Client connected directly or over a forwarded stream, with
 *  - a host key verifier (always: `connectHop` cannot be called without known_hosts data),
 *  - agent-then-identity-file authentication that never prompts,
 *  - a connect deadline covering the forward, the handshake and authentication,
 *  - keepalive from ServerAliveInterval/CountMax,
 *  - for a direct hop, a TCP socket with TCP_NODELAY whose writes leave once per tick
 *    (socket.ts: ssh2's JavaScript ciphers write a packet in pieces).
 */
import { readFile, stat } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import ssh2, {
  type AnyAuthMethod,
  type AuthenticationType,
  type Client as ClientType,
  type ConnectConfig,
} from 'ssh2';
import { lagAwareTimeout } from '../store/busy-clock.js';
import { RemoteExecError } from './errors.js';
import { connectSshTcp } from './socket.js';

// ssh2 is CommonJS: only its default export is reliable under Node's ESM loader.
const { Client, utils } = ssh2;

import {
  appendKnownHost,
  checkHostKey,
  fingerprintSha256,
  type HostKeyCheck,
  keyTypeOfBlob,
  knownKeyTypes,
  loadKnownHosts,
} from './known-hosts.js';
import type { Route, RouteHop } from './resolve.js';

export type HostKeyStatus = 'ok' | 'added';
export type AuthMethodUsed = 'agent' | 'publickey';

export interface HopConnectOptions {
  route: Route;
  /** Index of the hop in route.hops. */
  index: number;
  /** Stream to the hop from the previous hop (forwardOut); undefined = direct TCP. */
  sock?: Duplex;
  /** Record unknown host keys (`--accept-new`); also implied by StrictHostKeyChecking accept-new/no. */
  acceptNew: boolean;
  /** Agent socket; default process.env.SSH_AUTH_SOCK; 'none' disables the agent. */
  agentSocket?: string;
  /** Keepalive overrides (ms); default from ServerAliveInterval (or 15 s when 0). */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Absolute deadline (epoch ms) for the whole hop connect. */
  deadline: number;
  signal?: AbortSignal;
}

export interface HopConnection {
  client: ClientType;
  authMethod: AuthMethodUsed;
  hostKey: HostKeyStatus;
  fingerprint: string;
  /** Appended known_hosts line when hostKey = added. */
  addedLine?: string;
  /** The forwarded stream this hop runs over (undefined = direct TCP). */
  sock?: Duplex;
}

export const DEFAULT_KEEPALIVE_MS = 15_000;

/** Map a key type to the handshake algorithms that produce it. */
function algosForType(t: string): string[] {
  if (t === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [t];
}

const SUPPORTED_HOSTKEY_ALGOS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** Prefer key types already recorded for the host, as ssh(1) does. */
export function preferredHostKeyAlgorithms(known: readonly string[]): string[] {
  const first = known.flatMap(algosForType).filter((a) => SUPPORTED_HOSTKEY_ALGOS.includes(a));
  return [...new Set([...first, ...SUPPORTED_HOSTKEY_ALGOS])];
}

interface IdentityCandidate {
  file: string;
  key: Buffer;
}

/** Read identity files: usable keys, and passphrase-protected ones (reported, never prompted). */
export async function loadIdentities(
  files: readonly string[],
): Promise<{ keys: IdentityCandidate[]; encrypted: string[]; bad: string[] }> {
  const keys: IdentityCandidate[] = [];
  const encrypted: string[] = [];
  const bad: string[] = [];
  for (const file of files) {
    let data: Buffer;
    let id: string;
    try {
      const st = await stat(file);
      id = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
      const hit = identityFiles.get(file);
      if (hit && hit.id === id) {
        if (hit.kind === 'key') keys.push({ file, key: hit.data });
        else (hit.kind === 'encrypted' ? encrypted : bad).push(file);
        continue;
      }
      data = await readFile(file);
    } catch {
      continue; // missing identity files are skipped silently, like ssh
    }
    const parsed = utils.parseKey(data);
    let kind: 'key' | 'encrypted' | 'bad';
    if (parsed instanceof Error) kind = /passphrase/i.test(parsed.message) ? 'encrypted' : 'bad';
    else {
      const k = Array.isArray(parsed) ? parsed[0] : parsed;
      kind = k?.isPrivateKey() ? 'key' : 'bad';
    }
    if (identityFiles.size > 64) identityFiles.clear();
    identityFiles.set(file, { id, kind, data });
    if (kind === 'key') keys.push({ file, key: data });
    else (kind === 'encrypted' ? encrypted : bad).push(file);
  }
  return { keys, encrypted, bad };
}

/**
 * Identity files read and classified, by path, with the identity (inode, size, mtime,
 * ctime) they had: every hop's handshake loads the same files (issue 13: parsing them per
 * hop cost ~7 ms of CPU each at 50 nodes). A changed file is read again. Process memory
 * only, like an agent's.
 */
const identityFiles = new Map<
  string,
  { id: string; kind: 'key' | 'encrypted' | 'bad'; data: Buffer }
>();

/** The name and port known_hosts is consulted with (HostKeyAlias replaces both). */
export function knownHostsTarget(hop: RouteHop): { name: string; port: number } {
  if (hop.hostKeyAlias) return { name: hop.hostKeyAlias, port: 22 };
  return { name: hop.hostname, port: hop.port };
}

function hostKeyError(
  hop: RouteHop,
  opts: HopConnectOptions,
  check: HostKeyCheck,
  key: Buffer,
): RemoteExecError {
  const fp = fingerprintSha256(key);
  const type = keyTypeOfBlob(key) ?? 'unknown';
  const { name, port } = knownHostsTarget(hop);
  const shown = port === 22 ? name : `[${name}]:${port}`;
  const base = {
    host: opts.route.name,
    route: opts.route.description,
    hop: hop.alias,
    fingerprint: fp,
    keyType: type,
  };
  if (check.status === 'mismatch') {
    return new RemoteExecError({
      ...base,
      kind: 'hostkey-changed',
      reason: `host key for ${shown} has CHANGED (now ${type} ${fp}, expected ${check.expectedFingerprint}); refusing to connect`,
      knownHostsFile: check.file,
      knownHostsLine: check.line,
      hint: `Offending key in ${check.file}:${check.line}. If the change is expected, remove that line (ssh-keygen -R '${shown}' -f '${check.file}') and reconnect.`,
    });
  }
  if (check.status === 'revoked') {
    return new RemoteExecError({
      ...base,
      kind: 'hostkey-revoked',
      reason: `host key for ${shown} (${type} ${fp}) is marked @revoked; refusing to connect`,
      knownHostsFile: check.file,
      knownHostsLine: check.line,
    });
  }
  const files = hop.userKnownHostsFiles.join(', ') || '(none)';
  const extra =
    check.status === 'unknown' && check.otherTypes.length
      ? ` (known_hosts has ${check.otherTypes.join(', ')} for it)`
      : '';
  const ca =
    check.status === 'unknown' && check.certAuthorityUnsupported
      ? ' @cert-authority entries match this host but host certificates are not supported.'
      : '';
  return new RemoteExecError({
    ...base,
    kind: 'hostkey-unknown',
    reason: `host key for ${shown} is not known: ${type} ${fp}${extra}; refusing to connect`,
    hint: `Checked ${files}.${ca} Verify the fingerprint out of band, then rerun with --accept-new (records it like StrictHostKeyChecking=accept-new), or in the console type :accept-hostkey NODE.`,
  });
}

/**
 * Connect and authenticate one hop. Rejects with RemoteExecError (kind hostkey-*, auth,
 * timeout, unreachable, aborted).
 */
export async function connectHop(opts: HopConnectOptions): Promise<HopConnection> {
  const hop = opts.route.hops[opts.index];
  if (!hop) throw new Error(`route ${opts.route.name} has no hop ${opts.index}`);
  const errBase = { host: opts.route.name, route: opts.route.description, hop: hop.alias };
  const knownFiles = [...hop.userKnownHostsFiles, ...hop.globalKnownHostsFiles];
  const known = await loadKnownHosts(knownFiles);
  const target = knownHostsTarget(hop);
  const acceptNew =
    opts.acceptNew ||
    hop.strictHostKeyChecking === 'accept-new' ||
    hop.strictHostKeyChecking === 'no';
  const ids = await loadIdentities(hop.identityFiles);
  const envAgent = opts.agentSocket ?? process.env.SSH_AUTH_SOCK;
  const agentPath =
    hop.identityAgent === 'none' || envAgent === 'none' || envAgent === ''
      ? undefined
      : (hop.identityAgent ?? envAgent);
  // IdentitiesOnly: ssh would still use agent keys that match an IdentityFile; k8ops skips
  // the agent entirely then (simpler, never offers an unlisted key).
  const useAgent = !!agentPath && !hop.identitiesOnly;

  const methods: AnyAuthMethod[] = [];
  if (useAgent) methods.push({ type: 'agent', username: hop.user, agent: agentPath! });
  for (const k of ids.keys) methods.push({ type: 'publickey', username: hop.user, key: k.key });

  if (methods.length === 0) {
    const why = ids.encrypted.length
      ? `identity file ${ids.encrypted.join(', ')} is passphrase-protected and no ssh-agent is available: run ssh-add (with SSH_AUTH_SOCK set) first`
      : `no usable credentials: no ssh-agent (SSH_AUTH_SOCK) and none of ${hop.identityFiles.join(', ') || '(no IdentityFile)'} is readable`;
    throw new RemoteExecError({ ...errBase, kind: 'auth', reason: why });
  }

  return new Promise<HopConnection>((resolve, reject) => {
    const client = new Client();
    let settled = false;
    let hostKeyVerdict: RemoteExecError | undefined;
    let hostKeyStatus: HostKeyStatus = 'ok';
    let fingerprint = '';
    let addedLine: string | undefined;
    let lastAuth: AuthMethodUsed | undefined;
    let methodIdx = 0;
    let tcp: Duplex | undefined;
    const started = Date.now();

    const fail = (e: RemoteExecError) => {
      if (settled) return;
      settled = true;
      cleanup();
      client.removeAllListeners('ready');
      client.on('error', () => {}); // late errors after we gave up
      client.end();
      client.destroy();
      opts.sock?.destroy();
      tcp?.destroy();
      reject(e);
    };
    const remaining = Math.max(1, opts.deadline - Date.now());
    // Lag-aware: time this process spent too busy to read the node's answers is not the
    // node's (busy-clock.ts); the message says how long it really took.
    const cancelTimer = lagAwareTimeout(() => {
      fail(
        new RemoteExecError({
          ...errBase,
          kind: 'timeout',
          reason: `connect timed out after ${Date.now() - started} ms (ConnectTimeout ${hop.connectTimeoutMs} ms)`,
        }),
      );
    }, remaining);
    const onAbort = () =>
      fail(new RemoteExecError({ ...errBase, kind: 'aborted', reason: 'connect aborted' }));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      cancelTimer();
      opts.signal?.removeEventListener('abort', onAbort);
    };
    if (opts.signal?.aborted) {
      onAbort();
      return;
    }

    // The verifier: callback form (an async function would return a Promise, which ssh2
    // would take as "accepted" — never do that).
    const hostVerifier = (key: Buffer, verify: (ok: boolean) => void): void => {
      try {
        fingerprint = fingerprintSha256(key);
        const check = checkHostKey(known.entries, target.name, target.port, key);
        if (check.status === 'match') {
          verify(true);
          return;
        }
        if (check.status === 'unknown' && acceptNew) {
          const file = hop.userKnownHostsFiles[0];
          if (!file || file === '/dev/null' || file === 'none') {
            hostKeyVerdict = hostKeyError(hop, opts, check, key);
            verify(false);
            return;
          }
          appendKnownHost(file, target.name, target.port, key, { hash: hop.hashKnownHosts }).then(
            (line) => {
              hostKeyStatus = 'added';
              addedLine = line;
              verify(true);
            },
            (e: unknown) => {
              hostKeyVerdict = new RemoteExecError({
                ...errBase,
                kind: 'hostkey-unknown',
                reason: `could not record host key in ${file}: ${(e as Error).message}`,
                fingerprint,
              });
              verify(false);
            },
          );
          return;
        }
        hostKeyVerdict = hostKeyError(hop, opts, check, key);
        verify(false);
      } catch (e) {
        hostKeyVerdict = new RemoteExecError({
          ...errBase,
          kind: 'hostkey-unknown',
          reason: `host key check failed: ${(e as Error).message}`,
        });
        verify(false);
      }
    };

    const authHandler = (
      _left: AuthenticationType[],
      _partial: boolean,
      next: (m: AnyAuthMethod | false) => void,
    ): void => {
      const m = methods[methodIdx++];
      if (!m) {
        next(false);
        return;
      }
      lastAuth = m.type === 'agent' ? 'agent' : 'publickey';
      next(m);
    };

    const ka =
      opts.keepaliveIntervalMs ??
      (hop.serverAliveInterval > 0 ? hop.serverAliveInterval * 1000 : DEFAULT_KEEPALIVE_MS);
    const cfg: ConnectConfig = {
      username: hop.user,
      hostVerifier,
      authHandler: authHandler as unknown as ConnectConfig['authHandler'],
      keepaliveInterval: ka,
      keepaliveCountMax: opts.keepaliveCountMax ?? hop.serverAliveCountMax,
      readyTimeout: 4 * remaining + 1000, // our own (lag-aware) timer fires first with a better message
      algorithms: {
        serverHostKey: preferredHostKeyAlgorithms(
          knownKeyTypes(known.entries, target.name, target.port),
        ) as NonNullable<ConnectConfig['algorithms']>['serverHostKey'],
      },
    };
    if (process.env.K8OPS_SSH_DEBUG) {
      cfg.debug = (m: string) => process.stderr.write(`[ssh ${hop.alias}] ${m}\n`);
    }
    if (!cfg.hostVerifier) throw new Error('unreachable: no host verifier');
    // A direct hop gets our own TCP socket (TCP_NODELAY, writes coalesced per tick: see
    // socket.ts); a hop behind a jump host runs over the forwarded channel, whose bytes
    // end up corked on the first hop's socket.
    if (opts.sock) cfg.sock = opts.sock;
    else {
      try {
        tcp = connectSshTcp(hop.hostname, hop.port);
      } catch (e) {
        fail(
          new RemoteExecError({
            ...errBase,
            kind: 'config',
            reason: `cannot connect to ${hop.hostname}:${hop.port}: ${(e as Error).message}`,
            cause: e,
          }),
        );
        return;
      }
      cfg.sock = tcp;
    }

    client.on('ready', () => {
      if (settled) {
        client.end();
        return;
      }
      settled = true;
      cleanup();
      const conn: HopConnection = {
        client,
        authMethod: lastAuth ?? 'publickey',
        hostKey: hostKeyStatus,
        fingerprint,
      };
      if (addedLine) conn.addedLine = addedLine;
      if (opts.sock) conn.sock = opts.sock;
      resolve(conn);
    });
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (settled) return;
      if (hostKeyVerdict) {
        fail(hostKeyVerdict);
        return;
      }
      fail(classifyConnectError(err, errBase, ids, useAgent, hop));
    });
    client.on('end', () => {
      if (settled) return;
      fail(
        hostKeyVerdict ??
          new RemoteExecError({
            ...errBase,
            kind: 'unreachable',
            reason: 'connection closed during handshake',
          }),
      );
    });
    client.on('close', () => {
      if (settled) return;
      fail(
        hostKeyVerdict ??
          new RemoteExecError({
            ...errBase,
            kind: 'unreachable',
            reason: 'connection closed during handshake',
          }),
      );
    });
    try {
      client.connect(cfg);
    } catch (e) {
      fail(
        new RemoteExecError({
          ...errBase,
          kind: 'config',
          reason: `cannot connect: ${(e as Error).message}`,
          cause: e,
        }),
      );
    }
  });
}

function classifyConnectError(
  err: Error & { level?: string; code?: string },
  base: { host: string; route: string; hop: string },
  ids: { keys: IdentityCandidate[]; encrypted: string[] },
  usedAgent: boolean,
  hop: RouteHop,
): RemoteExecError {
  if (err.level === 'client-authentication') {
    const tried = [...(usedAgent ? ['ssh-agent'] : []), ...ids.keys.map((k) => k.file)].join(', ');
    const enc = ids.encrypted.length
      ? ` (passphrase-protected, not tried: ${ids.encrypted.join(', ')}; load it into ssh-agent)`
      : '';
    return new RemoteExecError({
      ...base,
      kind: 'auth',
      reason: `permission denied (publickey) for ${hop.user}@${hop.hostname}; tried ${tried || 'nothing'}${enc}`,
      cause: err,
    });
  }
  if (err.level === 'client-timeout') {
    return new RemoteExecError({ ...base, kind: 'timeout', reason: err.message, cause: err });
  }
  const code = err.code ?? '';
  const reason = code ? `${code} connecting to ${hop.hostname}:${hop.port}` : err.message;
  return new RemoteExecError({
    ...base,
    kind: code === 'ETIMEDOUT' ? 'timeout' : 'unreachable',
    reason,
    cause: err,
  });
}
