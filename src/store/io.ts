/**
 * The vocabulary of remote calls and their results that every layer shares (nodes, kube,
 * the transports): options of one call, a file read, a stat, a unit's state. Neutral: it
 * imports nothing, so ssh/ and kube/ need not import nodes/ for it.
 */

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Options of NodeAgent.exec: one program with its arguments on the node. */
export interface NodeExecOptions extends CallOptions {
  /** Bytes piped to the program's stdin (none: stdin is empty). */
  stdin?: string;
  /** Cap on stdout + stderr (default 8 MiB); beyond it the call fails with kind `output-limit`. */
  maxOutputBytes?: number;
  /**
   * The program only reads (default false): if the node's shell breaks under it, it is run
   * again within the same deadline. Never set it for a program that changes the node.
   */
  readOnly?: boolean;
  /**
   * A short read (with readOnly; answers in well under a second, e.g. `ip -j -d link show`):
   * it may share one request with the node's other quick reads asked for in the same moment
   * (one refresh), so a refresh of an unchanged node is one round trip. Not with stdin or
   * onOutput.
   */
  quick?: boolean;
  /**
   * Told of the output as it arrives (stdout and stderr chunks, in arrival order), for a
   * long command whose progress is shown live (nixos-rebuild on the node). The result still
   * carries all of it. An agent that cannot stream says nothing here until the end.
   */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
}

/** What one program run on the node gave back. A non-zero exit is a result, not a rejection. */
export interface NodeExecResult {
  stdout: string;
  stderr: string;
  /** Exit status; null when killed by a signal. */
  code: number | null;
}

/** A local TCP listener tunnelled to something on a node (ssh/forward.ts makes them). */
export interface LocalForward {
  /** Always 127.0.0.1. */
  host: string;
  port: number;
  /** `127.0.0.1:port` */
  address: string;
  /** What it forwards to, e.g. `node1:/var/run/cilium/cilium.sock`. */
  target: string;
  /**
   * Why the last tunnelled connection could not be opened (the SSH channel refused: the
   * target refused the connection, no such socket, forwarding not permitted), or undefined
   * when the last one opened. A client that dials the listener only sees its connection
   * close; this says why.
   */
  lastError?(): string | undefined;
  /** Stop listening and close every tunnelled connection. */
  close(): Promise<void>;
}

export type FileRead =
  | { path: string; ok: true; content: string }
  | { path: string; ok: false; error: string; missing: boolean };

export type FileStat =
  | {
      path: string;
      ok: true;
      /** Permission bits, e.g. 0o600. */
      mode: number;
      owner: string;
      group: string;
      size: number;
      kind: 'file' | 'dir' | 'link' | 'other';
    }
  | { path: string; ok: false; error: string; missing: boolean };

export type UnitActiveState =
  | 'active'
  | 'inactive'
  | 'failed'
  | 'activating'
  | 'deactivating'
  | 'unknown';
export interface UnitState {
  unit: string;
  state: UnitActiveState;
}
