/**
 * A TCP listener on 127.0.0.1:<port> inside a network namespace that hands every connection
 * to a unix socket on the shared file system: how a test puts a server that runs in this
 * process (on a unix socket) at a loopback address only that namespace — a lab node — sees.
 * The bridge copies bytes and nothing else (TLS passes through it end to end). A separate
 * `node` process under `ip netns exec`; `close()` kills it by pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';

const BRIDGE = `
const net = require('node:net');
const [port, sock] = process.argv.slice(1);
const srv = net.createServer((c) => {
  const u = net.connect(sock);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
  c.pipe(u).pipe(c);
});
srv.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

export interface NetnsBridge {
  port: number;
  close(): void;
}

export async function startNetnsBridge(
  ns: string,
  port: number,
  socketPath: string,
): Promise<NetnsBridge> {
  const proc: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', ns, process.execPath, '-e', BRIDGE, String(port), socketPath],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('bridge did not start within 10 s')), 10_000);
    proc.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`bridge exited (${code})`));
    });
  });
  return {
    port,
    close: () => {
      if (proc.exitCode === null && proc.pid) proc.kill('SIGKILL');
    },
  };
}
