/**
 * Run one program here and hand its output over line by line (stdout and stderr merged,
 * as nixos-rebuild's progress goes to stderr), killed with its whole process group on
 * abort or when it runs past `timeoutMs` (SIGTERM, then SIGKILL after a grace period: a
 * nix build or an ssh child that ignores SIGTERM does not outlive it). Lines are capped in
 * length; nothing is buffered beyond the current line.
 */
import { spawn } from 'node:child_process';

export interface LocalRun {
  code: number | null;
  signal?: string;
  /** Killed because it ran past `timeoutMs`. */
  timedOut?: boolean;
}

const MAX_LINE = 4096;
/** Between SIGTERM and SIGKILL of the process group. */
export const KILL_GRACE_MS = 5000;

export function runLocal(
  argv: readonly string[],
  opts: {
    env?: Record<string, string>;
    signal?: AbortSignal;
    /** Overall bound (none when absent): the process group is killed when it passes. */
    timeoutMs?: number;
    /** SIGTERM → SIGKILL (default KILL_GRACE_MS). */
    killGraceMs?: number;
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
    let timedOut = false;
    let hardKill: NodeJS.Timeout | undefined;
    const group = (sig: NodeJS.Signals): void => {
      try {
        if (p.pid) process.kill(-p.pid, sig);
      } catch {
        // gone
      }
    };
    const kill = (): void => {
      group('SIGTERM');
      hardKill ??= setTimeout(() => group('SIGKILL'), opts.killGraceMs ?? KILL_GRACE_MS);
      hardKill.unref?.();
    };
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            kill();
          }, opts.timeoutMs)
        : undefined;
    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
    };
    opts.signal?.addEventListener('abort', kill, { once: true });
    p.on('error', (e) => {
      cleanup();
      if (hardKill) clearTimeout(hardKill);
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
      cleanup();
      // The leader is gone; anything of its group still alive gets the SIGKILL on time.
      if (hardKill && !timedOut && !opts.signal?.aborted) clearTimeout(hardKill);
      for (const k of ['out', 'err'] as const) if (partial[k]) opts.onLine(partial[k]);
      const r: LocalRun = signal ? { code, signal } : { code };
      if (timedOut) r.timedOut = true;
      resolve(r);
    });
  });
}
