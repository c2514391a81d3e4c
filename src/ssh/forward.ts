/**
 * Local forwards for libraries that dial their own connections (gRPC, HTTP clients):
 * a TCP listener on 127.0.0.1:0 whose every accepted socket is tunnelled to a remote
 * `host:port` (direct-tcpip / forwardOut) or to a unix socket on the node
 * (OpenSSH streamlocal, `direct-streamlocal@openssh.com`). Closed on `close()`.
 */
import { createServer, type Socket } from 'node:net';
import type { ClientChannel } from 'ssh2';
import type { LocalForward } from '../store/io.js';
import { visible } from '../store/sanitise.js';
import { RemoteExecError } from './errors.js';
import type { SshPool } from './pool.js';
import { isSafeHost, isSafePort, isSafeRemotePath } from './quote.js';
import type { Route } from './resolve.js';

export type { LocalForward } from '../store/io.js';

type Opener = (
  client: NonNullable<Awaited<ReturnType<SshPool['ensure']>>['client']>,
  cb: (err: Error | undefined, ch: ClientChannel | undefined) => void,
) => void;

async function listen(
  pool: SshPool,
  name: string,
  route: Route,
  target: string,
  open: Opener,
): Promise<LocalForward> {
  const sockets = new Set<Socket>();
  const channels = new Set<ClientChannel>();
  let lastError: string | undefined;
  const failed = (e: unknown) => {
    // sshd's reason text comes from the remote side: made visible where it enters.
    lastError = visible(e instanceof Error ? e.message : String(e));
  };
  // noDelay: a reply relayed from the channel in several chunks must not wait for the local
  // client's delayed ACK between them (Nagle), as on the SSH hops (socket.ts).
  const server = createServer({ noDelay: true }, (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.pause();
    pool
      .ensure(route, name)
      .then((conn) => {
        const client = conn.client;
        if (!client) throw new Error('connection lost');
        pool.primeNoDelay(conn);
        open(client, (err, ch) => {
          if (err || !ch) {
            failed(err ?? new Error('channel not opened'));
            sock.destroy();
            return;
          }
          lastError = undefined;
          if (sock.destroyed) {
            ch.close();
            return;
          }
          channels.add(ch);
          ch.on('close', () => {
            channels.delete(ch);
            sock.destroy();
          });
          ch.on('error', () => sock.destroy());
          sock.on('close', () => ch.close());
          sock.pipe(ch).pipe(sock);
          sock.resume();
        });
      })
      .catch((e: unknown) => {
        failed(e);
        sock.destroy();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('forward: no local address');
  return {
    host: '127.0.0.1',
    port: addr.port,
    address: `127.0.0.1:${addr.port}`,
    target,
    lastError: () => lastError,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ch of channels) ch.close();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function forwardTcp(
  pool: SshPool,
  name: string,
  route: Route,
  remoteHost: string,
  remotePort: number,
): Promise<LocalForward> {
  if (!isSafeHost(remoteHost) || !isSafePort(remotePort)) {
    return Promise.reject(
      new RemoteExecError({
        kind: 'config',
        host: name,
        reason: `refused forward target ${JSON.stringify(`${remoteHost}:${remotePort}`)}`,
      }),
    );
  }
  return listen(pool, name, route, `${name}:${remoteHost}:${remotePort}`, (client, cb) => {
    client.forwardOut('127.0.0.1', 0, remoteHost, remotePort, (err, ch) => cb(err, ch));
  });
}

export function forwardUnix(
  pool: SshPool,
  name: string,
  route: Route,
  socketPath: string,
): Promise<LocalForward> {
  if (!isSafeRemotePath(socketPath)) {
    return Promise.reject(
      new RemoteExecError({
        kind: 'config',
        host: name,
        reason: `refused unix socket path ${JSON.stringify(socketPath)}`,
      }),
    );
  }
  return listen(pool, name, route, `${name}:${socketPath}`, (client, cb) => {
    client.openssh_forwardOutStreamLocal(socketPath, (err, ch) => cb(err, ch));
  });
}
