/**
 * Run one program here and hand its output over line by line (stdout and stderr merged,
 * as nixos-rebuild's progress goes to stderr), killed with its process group on abort.
 * Lines are capped in length; nothing is buffered beyond the current line.
 */
import { spawn } from 'node:child_process';

export interface LocalRun {
  code: number | null;
  signal?: string;
}

const MAX_LINE = 4096;

export function runLocal(
  argv: readonly string[],
  opts: {
    env?: Record<string, string>;
    signal?: AbortSignal;
    onLine(line: string): void;
  },
): Promise<LocalRun> {
  return new Promise((resolve, reject) => {
    let p: ReturnType<typeof spawn>;
    try {
      p = spawn(argv[0]!, argv.slice(1), {
        env: { ...process.env, ...opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (e) {
      reject(e);
      return;
    }
    const partial = { out: '', err: '' };
    const feed = (key: 'out' | 'err', chunk: Buffer): void => {
      const text = partial[key] + chunk.toString('utf8');
      const lines = text.split('\n');
      partial[key] = (lines.pop() ?? '').slice(-MAX_LINE);
      for (const l of lines) opts.onLine(l.slice(0, MAX_LINE));
    };
    p.stdout!.on('data', (c: Buffer) => feed('out', c));
    p.stderr!.on('data', (c: Buffer) => feed('err', c));
    const kill = (): void => {
      try {
        if (p.pid) process.kill(-p.pid, 'SIGTERM');
      } catch {
        // gone
      }
    };
    opts.signal?.addEventListener('abort', kill, { once: true });
    p.on('error', (e) => {
      opts.signal?.removeEventListener('abort', kill);
      reject(
        Object.assign(
          new Error(
            `${argv[0]}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found on PATH' : e.message}`,
          ),
          {
            kind: 'spawn',
          },
        ),
      );
    });
    p.on('close', (code, signal) => {
      opts.signal?.removeEventListener('abort', kill);
      for (const k of ['out', 'err'] as const) if (partial[k]) opts.onLine(partial[k]);
      resolve(signal ? { code, signal } : { code });
    });
  });
}
