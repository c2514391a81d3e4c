/**
 * Drive the built k8ops in a real terminal: a private tmux server (own socket), a session of
 * a given size, send-keys, capture-pane. Every wait is bounded.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export function haveTmux(): boolean {
  return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
}

export class TmuxTerm {
  private readonly socket: string;
  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
  ) {
    this.socket = `k8ops-e2e-${process.pid}-${name}`;
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], {
      encoding: 'utf8',
      env: { ...process.env, TERM: 'xterm-256color', ...this.env },
      timeout: 10_000,
    });
  }

  /** Start `command` (a shell line) in a detached session of columns×rows. */
  start(command: string, columns: number, rows: number): void {
    this.tmux(
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-s',
      'e2e',
      '-x',
      String(columns),
      '-y',
      String(rows),
      command,
    );
    this.tmux('set-option', '-s', 'escape-time', '0');
  }

  send(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'e2e', ...keys);
  }

  /** Literal text (no key-name lookup). */
  type(text: string): void {
    this.tmux('send-keys', '-t', 'e2e', '-l', text);
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', 'e2e');
  }

  alternateOn(): boolean {
    return this.tmux('display-message', '-p', '-t', 'e2e', '#{alternate_on}').trim() === '1';
  }

  async waitFor(
    pred: (screen: string) => boolean,
    what: string,
    timeoutMs = 15_000,
  ): Promise<string> {
    const end = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < end) {
      last = this.screen();
      if (pred(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; screen was:\n${last}`);
  }

  /** PID of the process the pane runs (the shell of `start`'s command line). */
  panePid(): number {
    return Number(this.tmux('display-message', '-p', '-t', 'e2e', '#{pane_pid}').trim());
  }

  resize(columns: number, rows: number): void {
    this.tmux('resize-window', '-t', 'e2e', '-x', String(columns), '-y', String(rows));
  }

  /**
   * End the tmux server and wait (bounded) until every process the pane ran has exited, so
   * that a test's cleanup does not race a k8ops still writing its cache or state under the
   * test's home (an `rmSync` of that home failed with ENOTEMPTY in CI). What is still alive
   * after 10 s gets SIGKILL.
   */
  kill(): void {
    let tree: number[] = [];
    try {
      tree = processTree(this.panePid());
    } catch {
      // No session (never started, or already gone): nothing of ours to wait for.
    }
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { stdio: 'ignore' });
    if (!waitGone(tree, 10_000)) {
      for (const pid of tree) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      waitGone(tree, 5_000);
    }
  }
}

/** `pid` and its descendants (Linux /proc; elsewhere just `pid`). */
export function processTree(pid: number): number[] {
  if (!Number.isInteger(pid) || pid <= 0) return [];
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [pid];
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const stat = procStat(Number(e));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(e));
    children.set(stat.ppid, list);
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop() as number;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/** State and parent of a process from /proc/<pid>/stat, or undefined when it is gone. */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) is in parentheses and may hold spaces or ')'; fields 3 and 4 follow the last ')'.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '', ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** A process counts as gone when /proc has no entry for it or it is a zombie. */
export function alive(pid: number): boolean {
  const st = procStat(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X';
}

function waitGone(pids: number[], timeoutMs: number): boolean {
  const end = Date.now() + timeoutMs;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    if (!pids.some(alive)) return true;
    if (Date.now() >= end) return false;
    Atomics.wait(nap, 0, 0, 50);
  }
}
