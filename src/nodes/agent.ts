/**
 * NodeAgent: the typed operations a node answers. No raw shell crosses this boundary:
 * implementations (SSH, demo lab) validate and quote every value themselves.
 * Every method takes an AbortSignal and must settle promptly when it aborts.
 */
import type { NodeSpec } from '../config/types.js';
import type { PkiStatus } from '../pki/types.js';
import type {
  CallOptions,
  FileRead,
  FileStat,
  LocalForward,
  NodeExecOptions,
  NodeExecResult,
  UnitState,
} from '../store/io.js';

export type {
  CallOptions,
  FileRead,
  FileStat,
  LocalForward,
  NodeExecOptions,
  NodeExecResult,
  UnitActiveState,
  UnitState,
} from '../store/io.js';

export interface ProbeResult {
  /** Round-trip time of a trivial remote call, ms. */
  rttMs: number;
  /** Route description, e.g. `via bastion` or `direct`. */
  route: string;
  /** PRETTY_NAME from /etc/os-release, if known. */
  os?: string;
  /** Auth method used (`agent`, `publickey`, `demo`). */
  auth?: string;
}

/** A directory that does not exist (or is not one, or cannot be entered) on the node. */
export class MissingDirectoryError extends Error {
  override name = 'MissingDirectoryError';
  readonly kind = 'missing';
  constructor(readonly path: string) {
    super(`${path}: not a directory or not accessible`);
  }
}

export interface NodeAgent {
  readonly node: NodeSpec;
  /** Cheap reachability check with latency and OS; rejects when unreachable. */
  probe(opts?: CallOptions): Promise<ProbeResult>;
  /** Read many files in one round trip; a missing/unreadable file is a per-file error, not a rejection. */
  readFiles(paths: readonly string[], opts?: CallOptions): Promise<FileRead[]>;
  /** stat many paths in one round trip. */
  stat(paths: readonly string[], opts?: CallOptions): Promise<FileStat[]>;
  /** Names of the entries of a directory (not recursive), sorted. */
  listDir(path: string, opts?: CallOptions): Promise<string[]>;
  /**
   * The certificate files of a directory (isCertFileName: never a key file), in name order,
   * each read or with its own error — in one round trip where the transport allows. Rejects
   * when the directory cannot be listed; with kind `missing` (MissingDirectoryError) when
   * it does not exist.
   */
  readCertFiles(dir: string, opts?: CallOptions): Promise<FileRead[]>;
  /** systemd ActiveState of units. */
  unitStates(units: readonly string[], opts?: CallOptions): Promise<UnitState[]>;
  /**
   * The node's PKI status for `pkiDir` (nix/pki/status: every file with kind, mode, owner,
   * size and the SHA-256 of its public key; private keys never leave the node). Rejects
   * when the node cannot be reached or the answer does not parse.
   */
  pkiStatus(pkiDir: string, opts?: CallOptions): Promise<PkiStatus>;
  /**
   * Run one program with its arguments on the node: `argv[0]` is a program name or an
   * absolute path (validated: isSafeProgram), every argument is passed as one quoted word
   * (never a shell string), under a node-side deadline as long as the call. A non-zero
   * exit resolves (`code`); the call rejects only when the node cannot be reached, the
   * argv is refused, the output exceeds its cap or the deadline passes.
   * Features use it for node tools (`ip -j -d link show`, `gobgp -j neighbor`, `birdc`…).
   * The demo lab answers from src/demo/node-commands.ts.
   */
  exec(argv: readonly string[], opts?: NodeExecOptions): Promise<NodeExecResult>;
  /**
   * A local TCP listener (127.0.0.1:port) whose every connection is tunnelled to the unix
   * socket `path` on the node (OpenSSH streamlocal), for clients that dial their own
   * connections (gRPC to hubble.sock, HTTP to cilium.sock). The caller closes it.
   * The demo lab answers from src/demo/node-sockets.ts.
   */
  forwardSocket(path: string, opts?: CallOptions): Promise<LocalForward>;
  /**
   * A local TCP listener (127.0.0.1:port) whose every connection is tunnelled to
   * `host:port` as the node sees it (SSH direct-tcpip: the node's sshd connects, so a
   * ClusterIP that only the nodes route — hubble-relay's Service — is reachable). `host` is
   * validated (isSafeHost) and `port` must be 1–65535. Why a tunnelled connection could not
   * be opened is in the forward's `lastError()`. The caller closes it.
   * The demo lab answers from src/demo/node-sockets.ts (DEMO_TCP_TARGETS).
   */
  forwardTcp(host: string, port: number, opts?: CallOptions): Promise<LocalForward>;
  close(): Promise<void>;
}

/** The operations of a NodeAgent (every method but `close`). */
export type NodeOp = Exclude<keyof NodeAgent, 'node' | 'close'>;

/**
 * Every operation, for the agents that only wrap another (deferred, demo faults): they
 * forward each one through forwardingAgent, so a new operation is written in this
 * interface, this list, and the two real agents (SSH, file system) — nowhere else.
 */
export const NODE_OPS = [
  'probe',
  'readFiles',
  'stat',
  'listDir',
  'readCertFiles',
  'unitStates',
  'pkiStatus',
  'exec',
  'forwardSocket',
  'forwardTcp',
] as const satisfies readonly NodeOp[];

// A compile-time check that NODE_OPS lists every operation.
type UnlistedOps = Exclude<NodeOp, (typeof NODE_OPS)[number]>;
const _everyOpListed: [UnlistedOps] extends [never] ? true : UnlistedOps = true;
void _everyOpListed;

/** The options argument of an operation (always its last parameter). */
const optsOf = (args: readonly unknown[]): CallOptions | undefined =>
  args.at(-1) as CallOptions | undefined;

/**
 * A NodeAgent whose every operation goes through `around(op, args, call)`: `call(agent)`
 * runs the operation with the same arguments on the agent given. The wrapper decides which
 * agent, and what happens before and after.
 */
export function forwardingAgent(
  node: NodeSpec,
  around: (
    op: NodeOp,
    opts: CallOptions | undefined,
    call: (agent: NodeAgent) => Promise<unknown>,
  ) => Promise<unknown>,
  close: () => Promise<void>,
): NodeAgent {
  const agent = { node, close } as Record<string, unknown>;
  for (const op of NODE_OPS) {
    agent[op] = (...args: unknown[]) =>
      around(op, optsOf(args), (a) => (a[op] as (...x: unknown[]) => Promise<unknown>)(...args));
  }
  return agent as unknown as NodeAgent;
}
