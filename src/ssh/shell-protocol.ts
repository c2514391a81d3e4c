/**
 * The persistent-shell wire protocol (pure: no I/O, never throws on input).
 *
 * One SSH exec channel runs `exec sh -s`; k8ops writes requests on its stdin and reads
 * framed responses from its stdout and stderr. Per request, a fresh random nonce N
 * (144 bits, never on a command line: the shell reads it from its stdin) gives the marker
 * `K8SH-N`, and the shell is sent one line of constant text plus the script as a single
 * quoted word:
 *
 *   printf '%s b\n' K8SH-N; printf '%s b\n' K8SH-N >&2; ( eval '<script>' ) </dev/null; …
 *   … k8ops_rc=$?; printf '\n%s e %d\n' K8SH-N "$k8ops_rc"; printf '\n%s e\n' K8SH-N >&2
 *
 * so each stream carries one frame per request:
 *
 *   stdout:  K8SH-N b\n <stdout bytes> \nK8SH-N e <exit status>\n
 *   stderr:  K8SH-N b\n <stderr bytes> \nK8SH-N e\n
 *
 * Each stream is ordered on its own (sshd forwards each pipe in order), so a request is
 * complete only when both frames are; nothing of one request can be attributed to
 * another: a response must begin exactly with its own begin line (any other byte is a
 * protocol error) and ends at its own end marker, which the payload cannot contain
 * without knowing N. The script runs in a subshell with stdin from /dev/null: it cannot
 * read the protocol stream, and its functions, variables, `cd`, `exit` and syntax errors
 * stay inside it. Bytes after a frame, or while no request is active, mean something
 * (a background process, a broken shell) writes on its own: the shell is then discarded.
 *
 * Opening handshake: `K8SH-N ready <pid>` on stdout (the shell's `$$`: sshd makes the
 * session's shell a process-group leader, so `kill -KILL -<pid>` ends it and everything it
 * started) and `K8SH-N ready` on stderr; output before them (login noise from rc files)
 * is skipped, up to a bound.
 */
import { randomBytes } from 'node:crypto';
import { type ShellCommand, script, sh, token } from './quote.js';

/** The exec command that starts the persistent shell (run by the user's login shell). */
export const PERSISTENT_SHELL_COMMAND = 'exec sh -s';

/** Login noise tolerated before the handshake line, per stream. */
export const HANDSHAKE_NOISE_LIMIT = 64 * 1024;

/** 144 random bits, [A-Za-z0-9_-]. */
export function shellNonce(): string {
  return randomBytes(18).toString('base64url');
}

function marker(nonce: string): string {
  return token(`K8SH-${nonce}`).quoted; // validates the nonce alphabet
}

/** The handshake text written after the channel opens. */
export function handshakeText(nonce: string): string {
  const m = token(`K8SH-${nonce}`);
  return sh`printf '%s ready %s\\n' ${m} "$$"; printf '%s ready\\n' ${m} >&2
`.text;
}

/** The request text for `cmd` (a POSIX sh script built with `sh`). */
export function requestText(cmd: ShellCommand, nonce: string): string {
  const m = token(`K8SH-${nonce}`);
  return sh`printf '%s b\\n' ${m}; printf '%s b\\n' ${m} >&2; ( eval ${script(cmd)} ) </dev/null; k8ops_rc=$?; printf '\\n%s e %d\\n' ${m} "$k8ops_rc"; printf '\\n%s e\\n' ${m} >&2
`.text;
}

const EMPTY = Buffer.alloc(0);
const MAX_TRAILER = 16;

/**
 * One stream's frame: `<begin line><payload>\n<end marker><trailer>\n`. Feed chunks in
 * order; the payload is kept as chunks (never re-concatenated while reading), the end
 * marker is searched across chunk boundaries.
 */
export class FramedStream {
  private state: 'begin' | 'body' | 'trailer' | 'done' | 'error' = 'begin';
  private readonly begin: Buffer;
  private readonly end: Buffer;
  private matched = 0;
  private readonly chunks: Buffer[] = [];
  /** Possible start of the end marker, held back from the payload. */
  private tail: Buffer = EMPTY;
  private trailerText = '';
  /** Payload bytes committed so far (the held-back tail excluded). */
  payloadBytes = 0;
  /** Bytes received after the frame ended (a protocol violation by the remote side). */
  extraBytes = 0;
  error?: string;

  constructor(nonce: string) {
    const m = marker(nonce);
    this.begin = Buffer.from(`${m} b\n`, 'latin1');
    this.end = Buffer.from(`\n${m} e`, 'latin1');
  }

  get done(): boolean {
    return this.state === 'done';
  }

  get failed(): boolean {
    return this.state === 'error';
  }

  /** Text between the end marker and the newline (stdout: ` <status>`; stderr: empty). */
  get trailer(): string | undefined {
    return this.state === 'done' ? this.trailerText : undefined;
  }

  payload(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }

  /** What arrived so far, held-back bytes included (for errors on an unfinished frame). */
  partial(): Buffer {
    return Buffer.concat([...this.chunks, this.tail]);
  }

  private fail(reason: string): void {
    this.state = 'error';
    this.error = reason;
    this.chunks.length = 0;
    this.tail = EMPTY;
  }

  private commit(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.payloadBytes += b.length;
  }

  push(chunk: Buffer): void {
    let rest = chunk;
    if (this.state === 'error') return;
    if (this.state === 'done') {
      this.extraBytes += rest.length;
      return;
    }
    if (this.state === 'begin') {
      const n = Math.min(this.begin.length - this.matched, rest.length);
      if (!rest.subarray(0, n).equals(this.begin.subarray(this.matched, this.matched + n))) {
        this.fail('unexpected output before the response frame');
        return;
      }
      this.matched += n;
      rest = rest.subarray(n);
      if (this.matched < this.begin.length) return;
      this.state = 'body';
    }
    if (this.state === 'body') {
      if (rest.length === 0) return;
      const win = this.tail.length ? Buffer.concat([this.tail, rest]) : rest;
      const i = win.indexOf(this.end);
      if (i < 0) {
        const keep = Math.min(win.length, this.end.length - 1);
        this.commit(win.subarray(0, win.length - keep));
        // copy: do not pin a large chunk for a few bytes
        this.tail = keep ? Buffer.from(win.subarray(win.length - keep)) : EMPTY;
        return;
      }
      this.commit(win.subarray(0, i));
      this.tail = EMPTY;
      this.state = 'trailer';
      rest = win.subarray(i + this.end.length);
    }
    if (this.state === 'trailer') {
      const nl = rest.indexOf(0x0a);
      const part = rest.subarray(0, nl < 0 ? rest.length : nl).toString('latin1');
      this.trailerText += part;
      if (this.trailerText.length > MAX_TRAILER) {
        this.fail('malformed end marker');
        return;
      }
      if (nl < 0) return;
      this.state = 'done';
      this.extraBytes += rest.length - nl - 1;
    }
  }
}

export type ResponseState =
  | { state: 'pending' }
  | {
      state: 'done';
      exitCode: number;
      stdout: Buffer;
      stderr: Buffer;
      /** Bytes arrived after a frame: the result stands, the shell must be discarded. */
      trailing: boolean;
    }
  | { state: 'output-limit'; stderr: Buffer }
  | { state: 'protocol'; reason: string };

/** Both frames of one request, with the output cap (stdout + stderr payload bytes). */
export class ResponseReader {
  readonly stdout: FramedStream;
  readonly stderr: FramedStream;

  constructor(
    nonce: string,
    readonly maxOutputBytes: number,
  ) {
    this.stdout = new FramedStream(nonce);
    this.stderr = new FramedStream(nonce);
  }

  pushStdout(chunk: Buffer): ResponseState {
    this.stdout.push(chunk);
    return this.state();
  }

  pushStderr(chunk: Buffer): ResponseState {
    this.stderr.push(chunk);
    return this.state();
  }

  state(): ResponseState {
    for (const [name, f] of [
      ['stdout', this.stdout],
      ['stderr', this.stderr],
    ] as const) {
      if (f.failed) return { state: 'protocol', reason: `${name}: ${f.error}` };
    }
    if (this.stdout.payloadBytes + this.stderr.payloadBytes > this.maxOutputBytes) {
      return { state: 'output-limit', stderr: this.stderr.partial() };
    }
    if (!this.stdout.done || !this.stderr.done) return { state: 'pending' };
    const status = /^ (\d{1,3})$/.exec(this.stdout.trailer ?? '');
    if (!status || Number(status[1]) > 255) {
      return { state: 'protocol', reason: 'stdout: malformed exit status' };
    }
    if (this.stderr.trailer !== '') return { state: 'protocol', reason: 'stderr: malformed end' };
    return {
      state: 'done',
      exitCode: Number(status[1]),
      stdout: this.stdout.payload(),
      stderr: this.stderr.payload(),
      trailing: this.stdout.extraBytes > 0 || this.stderr.extraBytes > 0,
    };
  }
}

/** Waits for the handshake line on both streams, skipping bounded login noise before it. */
export class HandshakeReader {
  private readonly line: { stdout: RegExp; stderr: RegExp };
  private readonly seen = { stdout: '', stderr: '' };
  private readonly ready = { stdout: false, stderr: false };
  private extra = { stdout: 0, stderr: 0 };
  /** The remote shell's pid (its process group), from the stdout line. */
  pid?: number;
  error?: string;

  constructor(nonce: string) {
    const m = marker(nonce);
    this.line = {
      stdout: new RegExp(`${m} ready (\\d{1,10})\n`),
      stderr: new RegExp(`${m} ready\n`),
    };
  }

  push(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    if (this.error) return;
    if (this.ready[stream]) {
      this.extra[stream] += chunk.length;
      return;
    }
    const text = this.seen[stream] + chunk.toString('latin1');
    const m = this.line[stream].exec(text);
    if (m) {
      this.ready[stream] = true;
      this.seen[stream] = '';
      this.extra[stream] += text.length - m.index - m[0].length;
      if (m[1] !== undefined) {
        const pid = Number(m[1]);
        if (pid > 1 && Number.isSafeInteger(pid)) this.pid = pid;
      }
      return;
    }
    if (text.length > HANDSHAKE_NOISE_LIMIT) {
      this.error = `${stream}: no handshake within ${HANDSHAKE_NOISE_LIMIT} bytes of output`;
      return;
    }
    this.seen[stream] = text;
  }

  /** 'ready' once both lines arrived and nothing followed them. */
  get state(): 'pending' | 'ready' | 'error' {
    if (this.error) return 'error';
    if (this.extra.stdout || this.extra.stderr) {
      this.error = 'unexpected output after the handshake';
      return 'error';
    }
    return this.ready.stdout && this.ready.stderr ? 'ready' : 'pending';
  }
}
