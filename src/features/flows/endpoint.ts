/**
 * Where a Hubble Observer API is dialled: a node's agent socket (`hubble.sock`, one stream
 * per node, through an SSH stream-local forward) or hubble-relay (one stream for every node:
 * relay sets each flow's node_name), a TCP address that only the cluster's nodes route —
 * its Service's ClusterIP — dialled through a node's SSH connection (direct-tcpip), as the
 * API server is tunnelled through the bastion. Relay may speak TLS (its server TLS; a client
 * certificate when it requires mTLS).
 *
 * A follower (follow.ts) or a one-shot fetch (fetch.ts) asks the endpoint to `open` a local
 * forward, dials it with grpc-js, and tells the endpoint when the stream failed so the next
 * open tries the next node.
 */
import { readFile } from 'node:fs/promises';
import type { RelayTls } from '../../config/types.js';
import { parseHostPort } from '../../config/validate.js';
import type { KubeService } from '../../kube/types.js';
import type { LocalForward } from '../../store/io.js';
import { visible } from '../../store/sanitise.js';

/** TLS material for the gRPC channel (PEM bytes). */
export interface ObserverTls {
  ca: Buffer;
  serverName: string;
  cert?: Buffer;
  key?: Buffer;
}

/** One opened way to the Observer API. */
export interface OpenedEndpoint {
  forward: LocalForward;
  tls?: ObserverTls;
  /** Where this one goes (`hubble-relay … via cp-1`), for the pane and errors. */
  label: string;
}

export interface HubbleEndpoint {
  /** Identifies what is dialled (the flows source keeps one follower per key). */
  readonly key: string;
  /** Where it goes, before it is opened (`/var/run/cilium/hubble.sock`, `hubble-relay …`). */
  readonly label: string;
  /** Rejects with a message that names what failed (the socket, the Service, the TLS files). */
  open(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<OpenedEndpoint>;
  /** The stream through the last opened one failed: the next open may try another way. */
  failed?(): void;
}

/** What can forward a node's unix socket (a NodeAgent). */
export interface SocketDialer {
  forwardSocket(path: string, opts?: { timeoutMs?: number }): Promise<LocalForward>;
}

/** What can forward a TCP address as a node sees it (a NodeAgent). */
export interface TcpDialer {
  forwardTcp(host: string, port: number, opts?: { timeoutMs?: number }): Promise<LocalForward>;
}

const errText = (e: unknown): string => visible(e instanceof Error ? e.message : String(e));

/** A node's agent socket (`/var/run/cilium/hubble.sock`), through `forwardSocket`. */
export function socketEndpoint(dialer: SocketDialer, path: string): HubbleEndpoint {
  return {
    key: `socket:${path}`,
    label: path,
    async open({ timeoutMs }) {
      try {
        return { forward: await dialer.forwardSocket(path, { timeoutMs }), label: path };
      } catch (e) {
        const m = errText(e);
        throw new Error(m.startsWith(path) ? m : `${path}: ${m}`);
      }
    },
  };
}

/** `name.namespace.svc[.cluster.domain]`: a Service name the kube API can resolve. */
export function serviceName(host: string): { namespace: string; name: string } | undefined {
  const m =
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.[a-z0-9.-]+)?\.?$/.exec(
      host.toLowerCase(),
    );
  return m ? { name: m[1]!, namespace: m[3]! } : undefined;
}

export interface RelayOptions {
  /** `host:port` from the inventory (`network.hubble.relay`). */
  address: string;
  tls?: RelayTls;
  /** The nodes to dial from, in order of preference; the next is tried after a failure. */
  via: ReadonlyArray<{ name: string; dialer: TcpDialer }>;
  /** Resolves a Service name (`hubble-relay.kube-system.svc`) to its ClusterIP (kube API). */
  getService?(namespace: string, name: string, opts: { timeoutMs: number }): Promise<KubeService>;
  /** Reads a TLS file (default: fs). */
  readFile?(path: string): Promise<Buffer>;
}

/**
 * hubble-relay through a node: the address as the inventory gives it; a Service name is
 * resolved through the kube API to its ClusterIP (a node's own resolver rarely knows the
 * cluster's DNS), keeping the port (the Service port: 80, or 443 with relay's TLS).
 */
export function relayEndpoint(o: RelayOptions): HubbleEndpoint {
  const parsed = parseHostPort(o.address);
  let next = 0;
  let lastVia = -1;
  const key = `relay:${o.address}:${o.tls ? `${o.tls.ca}:${o.tls.serverName}:${o.tls.cert ?? ''}` : 'plain'}`;
  const base = `hubble-relay ${o.address}`;
  const read = o.readFile ?? ((p: string) => readFile(p));
  return {
    key,
    label: base,
    failed() {
      // The stream through the node used last failed: start with the next one.
      if (lastVia >= 0 && o.via.length > 0) next = (lastVia + 1) % o.via.length;
    },
    async open({ timeoutMs }) {
      if (!parsed.ok) throw new Error(`${base}: ${parsed.reason}`);
      if (o.via.length === 0) throw new Error(`${base}: no node to dial it from`);
      let host = parsed.host;
      let shown = base;
      const svc = serviceName(host);
      if (svc && o.getService) {
        let s: KubeService;
        try {
          s = await o.getService(svc.namespace, svc.name, { timeoutMs });
        } catch (e) {
          throw new Error(`${base}: Service ${svc.namespace}/${svc.name}: ${errText(e)}`);
        }
        if (!s.clusterIP)
          throw new Error(
            `${base}: Service ${svc.namespace}/${svc.name} has no ClusterIP (headless), nothing to dial`,
          );
        if (!s.ports.some((p) => p.port === parsed.port))
          throw new Error(
            `${base}: Service ${svc.namespace}/${svc.name} has no port ${parsed.port} (it has ${s.ports.map((p) => p.port).join(', ') || 'none'})`,
          );
        host = s.clusterIP;
        shown = `${base} (${host.includes(':') ? `[${host}]` : host}:${parsed.port})`;
      }
      let tls: ObserverTls | undefined;
      if (o.tls) {
        const t = o.tls;
        const file = async (what: string, p: string) => {
          try {
            return await read(p);
          } catch (e) {
            throw new Error(`${base}: TLS ${what} ${p}: ${errText(e)}`);
          }
        };
        tls = {
          ca: await file('CA', t.ca),
          serverName: t.serverName,
          ...(t.cert && t.key
            ? { cert: await file('certificate', t.cert), key: await file('key', t.key) }
            : {}),
        };
      }
      const i = next % o.via.length;
      const via = o.via[i]!;
      lastVia = i;
      let forward: LocalForward;
      try {
        forward = await via.dialer.forwardTcp(host, parsed.port, { timeoutMs });
      } catch (e) {
        next = (i + 1) % o.via.length;
        throw new Error(`${shown} via ${via.name}: ${errText(e)}`);
      }
      return { forward, label: `${shown} via ${via.name}`, ...(tls ? { tls } : {}) };
    },
  };
}
