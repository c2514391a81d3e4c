/**
 * The TCP socket under direct SSH hops (src/ssh/socket.ts): TCP_NODELAY requested before
 * connecting, and the writes of one tick (ssh2's JavaScript ciphers write a packet in 3–4
 * pieces) held back and handed to the kernel together, in order, tick after tick.
 */
import { createServer, type Server, Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connectSshTcp } from '../../../src/ssh/socket.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

let server: Server | undefined;
let client: Socket | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  client?.destroy();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
  client = undefined;
});

/** A loopback server collecting what one client sends; resolves with its port. */
async function sink(): Promise<{ port: number; received: () => Buffer }> {
  const chunks: Buffer[] = [];
  server = createServer((s) => s.on('data', (d) => chunks.push(d)));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  return { port: addr.port, received: () => Buffer.concat(chunks) };
}

describe('connectSshTcp', () => {
  it('asks for TCP_NODELAY and connects', async () => {
    const { port } = await sink();
    const noDelay = vi.spyOn(Socket.prototype, 'setNoDelay');
    const s = connectSshTcp('127.0.0.1', port);
    client = s;
    expect(noDelay).toHaveBeenCalledWith(true);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    expect(s.remotePort).toBe(port);
  });

  it('holds the writes of one tick and sends them together, in order, every tick', async () => {
    const { port, received } = await sink();
    const s = connectSshTcp('127.0.0.1', port);
    client = s;
    await new Promise<void>((r) => s.once('connect', r));
    for (const round of ['a', 'b']) {
      // a packet as ssh2's JavaScript AES-GCM writes it: length, payload, tag
      s.write(Buffer.from(`${round}-len|`));
      s.write(Buffer.from(`${round}-payload|`));
      s.write(`${round}-tag|`, 'utf8');
      expect(s.writableCorked).toBe(1); // nothing reached the kernel yet
      expect(s.writableLength).toBe(`${round}-len|${round}-payload|${round}-tag|`.length);
      await tick();
      expect(s.writableCorked).toBe(0);
    }
    const want = 'a-len|a-payload|a-tag|b-len|b-payload|b-tag|';
    for (let i = 0; i < 100 && received().length < want.length; i++) await tick();
    expect(received().toString()).toBe(want);
  });

  it('end() flushes what is held; write callbacks run', async () => {
    const { port, received } = await sink();
    const s = connectSshTcp('127.0.0.1', port);
    client = s;
    await new Promise<void>((r) => s.once('connect', r));
    const done = vi.fn();
    s.write('bye', done);
    s.end();
    await new Promise<void>((r) => s.once('finish', r));
    expect(done).toHaveBeenCalledWith(null);
    for (let i = 0; i < 100 && received().length < 3; i++) await tick();
    expect(received().toString()).toBe('bye');
  });
});
