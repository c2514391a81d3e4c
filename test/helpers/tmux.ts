/**
 * Drive the built k8ops in a real terminal: a private tmux server (own socket), a session of
 * a given size, send-keys, capture-pane. Every wait is bounded.
 */
import { execFileSync, spawnSync } from 'node:child_process';

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

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { stdio: 'ignore' });
  }
}
