/**
 * The TCP socket under a direct SSH hop.
 *
 * ssh2 hands each encrypted packet to its transport with `write()`, and how many writes a
 * packet takes depends on the cipher code that loaded: its optional native binding
 * (`sshcrypto.node`) writes a packet in one piece; the JavaScript fallback writes the
 * length, the payload and the MAC separately (3–4 writes per packet). The fallback is what
 * runs wherever the binding is missing: installed without a compiler, built for another
 * Node ABI, or on Node 26, whose V8 the binding (NAN) does not compile against.
 *
 * On a socket with Nagle's algorithm (Node's default: `noDelay` false) the second small
 * write of a packet waits until the first is acknowledged, and sshd delays that ACK
 * (~40 ms on Linux) because it cannot act on a partial packet: every request stalls. So:
 *  - TCP_NODELAY, like ssh(1) on interactive sessions: a packet goes out when written;
 *  - the writes of one tick are corked and leave as one `writev`, so a packet (and a burst
 *    of packets, and every packet of a jump chain relayed over this hop) is one segment,
 *    not one per piece.
 */
import { Socket } from 'node:net';

/**
 * Cork `sock` at its first write in a tick and uncork it on the next tick: the tick's
 * writes reach the kernel together (net.Socket implements `_writev`). `end()` uncorks at
 * once. Install after `connect()`, which resets an instance's `write`.
 */
export function coalesceWritesPerTick(sock: Socket): void {
  const write = sock.write;
  let queued = false;
  const flush = () => {
    queued = false;
    sock.uncork();
  };
  sock.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
    if (!queued && !this.destroyed) {
      queued = true;
      this.cork();
      process.nextTick(flush);
    }
    return write.apply(this, args);
  } as Socket['write'];
}

/** Start a TCP connection for an SSH hop (TCP_NODELAY, one segment per tick of writes). */
export function connectSshTcp(host: string, port: number): Socket {
  const sock = new Socket();
  sock.setNoDelay(true);
  sock.connect({ host, port });
  coalesceWritesPerTick(sock);
  return sock;
}
