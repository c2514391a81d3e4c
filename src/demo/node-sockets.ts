/**
 * What the demo lab's nodes answer to NodeAgent.forwardSocket: for each unix socket a
 * feature dials on a node (`/var/run/cilium/cilium.sock`, `/var/run/cilium/hubble.sock`) a
 * local listener speaking the real protocol with demo data. An HTTP socket is shared: each
 * feature adds its routes (DEMO_HTTP_ROUTES, one line from its own file under src/demo/),
 * and one server per socket answers them all (404 for what no route takes). A socket that
 * is not HTTP (gRPC) is a whole DemoSocket (DEMO_SOCKETS).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Inventory, NodeSpec } from '../config/types.js';
import type { LocalForward } from '../store/io.js';
import { ciliumBgpRoutes } from './bgp.js';
import { demoHubbleSocket, demoRelayTarget } from './flows.js';
import { ciliumConfigRoute } from './mtu.js';

export interface DemoSocketContext {
  inventory: Inventory;
  node: NodeSpec;
  labDir: string;
}

export interface DemoSocket {
  /** The node path it answers. */
  path: string;
  open(ctx: DemoSocketContext): Promise<LocalForward>;
}

/** Routes of an HTTP socket: `handle` answers and returns true, or returns false (not mine). */
export interface DemoHttpRoute {
  /** The node path of the socket. */
  path: string;
  handle(req: IncomingMessage, res: ServerResponse, ctx: DemoSocketContext): boolean;
}

/** Every demo HTTP route; one line per feature. */
export const DEMO_HTTP_ROUTES: readonly DemoHttpRoute[] = [
  ciliumConfigRoute, // cilium.sock GET /v1/config (src/demo/mtu.ts)
  ciliumBgpRoutes, // cilium.sock GET /v1/bgp/peers, /v1/bgp/routes (src/demo/bgp.ts)
];

/** Every demo socket that is not plain HTTP; one line per feature. */
export const DEMO_SOCKETS: readonly DemoSocket[] = [
  demoHubbleSocket, // hubble.sock: the Observer gRPC service (src/demo/flows.ts)
];

/** A TCP address the demo nodes reach (NodeAgent.forwardTcp), e.g. a Service's ClusterIP. */
export interface DemoTcpTarget {
  host: string;
  port: number;
  open(ctx: DemoSocketContext): Promise<LocalForward>;
}

/** Every TCP address the demo nodes answer; one line per feature. */
export const DEMO_TCP_TARGETS: readonly DemoTcpTarget[] = [
  demoRelayTarget, // hubble-relay's ClusterIP:80 (src/demo/flows.ts)
];

/** NodeAgent.forwardTcp for one demo node: a target it routes, else "Connection refused". */
export function demoForwardTcp(
  ctx: DemoSocketContext,
  targets: readonly DemoTcpTarget[] = DEMO_TCP_TARGETS,
): (host: string, port: number) => Promise<LocalForward> {
  return async (host, port) => {
    const t = targets.find((x) => x.host === host && x.port === port);
    if (t) return t.open(ctx);
    throw Object.assign(
      new Error(`${ctx.node.name}: connect to ${host}:${port}: Connection refused`),
      { kind: 'unreachable' },
    );
  };
}

function httpSocket(path: string, routes: readonly DemoHttpRoute[]): DemoSocket {
  return {
    path,
    open: (ctx) =>
      new Promise((resolve, reject) => {
        const server = createServer((req, res) => {
          for (const r of routes) if (r.handle(req, res, ctx)) return;
          res.writeHead(404, { 'Content-Type': 'application/json' });
          res.end('{"message":"path not found"}');
        });
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => {
          const { port } = server.address() as AddressInfo;
          resolve({
            host: '127.0.0.1',
            port,
            address: `127.0.0.1:${port}`,
            target: `${ctx.node.name}:${path}`,
            close: () =>
              new Promise<void>((ok) => {
                server.closeAllConnections();
                server.close(() => ok());
              }),
          });
        });
      }),
  };
}

/** NodeAgent.forwardSocket for one demo node. */
export function demoForwardSocket(
  ctx: DemoSocketContext,
  sockets: readonly DemoSocket[] = DEMO_SOCKETS,
  routes: readonly DemoHttpRoute[] = DEMO_HTTP_ROUTES,
): (path: string) => Promise<LocalForward> {
  return async (path) => {
    const s = sockets.find((x) => x.path === path);
    if (s) return s.open(ctx);
    const mine = routes.filter((r) => r.path === path);
    if (mine.length) return httpSocket(path, mine).open(ctx);
    throw Object.assign(new Error(`${ctx.node.name}: ${path}: No such file or directory`), {
      kind: 'missing',
    });
  };
}
