/**
 * The BGP feature's values: one side of a BGP session as a source reports it (Cilium's
 * agent on a node, or an upstream router), normalised from every format (Cilium's
 * `/v1/bgp/peers`, `gobgp -j neighbor`, `birdc show protocols all`).
 */

/** RFC 4271 FSM states, as Cilium names them; `unknown` when a source says nothing usable. */
export type BgpState =
  | 'idle'
  | 'connect'
  | 'active'
  | 'opensent'
  | 'openconfirm'
  | 'established'
  | 'unknown';

export interface SideSession {
  /** The other end's address (the router for Cilium's side, the node for a router's). */
  peerAddress: string;
  /** This end's address, when the source says (gobgp transport, BIRD "Source address"). */
  localAddress?: string;
  localAsn?: number;
  peerAsn?: number;
  state: BgpState;
  /** The source's own words for the state (e.g. `Active Socket: Connection refused`). */
  stateText?: string;
  /** Epoch ms the session came up (established sessions only). */
  upSince?: number;
  received?: number;
  accepted?: number;
  advertised?: number;
  /** Negotiated (applied) hold time, seconds. */
  holdTimeSeconds?: number;
  lastError?: string;
  /** Name of the session on its side (BIRD protocol name, Cilium peer name). */
  name?: string;
  /** Established → not (or a new "up since" while established) seen over this console's lifetime. */
  flaps: number;
}

/** A parser's answer: a value, or why the text could not be read (shown in the pane). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Cilium's side of one node: its peers, and the prefixes it advertises to each. */
export interface CiliumBgpValue {
  peers: SideSession[];
  /** Prefixes in each peer's adj-rib-out (`/v1/bgp/routes`), by peer address. */
  advertised: Record<string, string[]>;
  /** Why a peer's advertised routes are unknown, by peer address. */
  routeErrors: Record<string, string>;
  /** The agent runs without the BGP control plane (501 Disabled). */
  disabled?: boolean;
}

/** One router's side: its sessions (to nodes) and the prefixes received from each neighbor. */
export interface RouterBgpResult {
  router: string;
  kind: 'gobgp' | 'bird';
  /** Collection time, epoch ms. */
  at: number;
  sessions: SideSession[];
  /** Prefixes the router holds from each neighbor (its RIB), by neighbor address. */
  received: Record<string, string[]>;
  /** The router could not be read: unreachable, command failed, unparsable output. */
  error?: string;
  /** The query ran out of time (a frozen daemon): its own state, not "down". */
  timedOut?: boolean;
  /** The router's own addresses seen on its sessions over the console's lifetime (names its rows while it cannot be read). */
  addresses: string[];
}

export type RoutersValue = RouterBgpResult[];

export const ESTABLISHED: BgpState = 'established';

/** Map a state word from any source to a BgpState. */
export function stateOf(word: string | undefined): BgpState {
  const w = (word ?? '').toLowerCase().replace(/[\s_-]/g, '');
  switch (w) {
    case 'idle':
    case 'idleadmin':
    case 'idlepfxct':
      return 'idle';
    case 'connect':
      return 'connect';
    case 'active':
    case 'passive':
      return 'active';
    case 'opensent':
    case 'sent':
      return 'opensent';
    case 'openconfirm':
    case 'confirm':
      return 'openconfirm';
    case 'established':
    case 'establ':
      return 'established';
    default:
      return 'unknown';
  }
}

/** A host route (/32, /128): how a LoadBalancer VIP is advertised. */
export const isHostRoute = (prefix: string): boolean => /\/(32|128)$/.test(prefix);
