/**
 * The demo lab's ingress-nginx controllers as their nodes see them (the kube side lists the
 * two controller pods on worker-2 and worker-3: src/kube/demo-kube-lab.ts, the 2nd and 3rd
 * worker): each node has one nginx master (found by one `grep` of every /proc/PID/cmdline),
 * its configuration through `/proc/<pid>/root` (written into the lab with the ConfigMap's
 * http-snippet rendered in, as ingress-nginx does: the NixOS module's proxy_cache_path),
 * and `du` of its cache directory — a size that grows slowly, one replica near its
 * max_size.
 */

import type { Inventory, NodeSpec } from '../config/types.js';
import type { NodeExecResult } from '../store/io.js';
import type { DemoCommand } from './node-commands.js';

/** The nodes running a controller replica: the 2nd and 3rd worker (as demo-kube-lab.ts). */
export function demoIngressNodes(inv: Inventory): NodeSpec[] {
  return inv.nodes.filter((n) => !n.roles.includes('control-plane')).slice(1, 3);
}

/** The controller's nginx master pid on a node (deterministic). */
export const demoNginxPid = (node: NodeSpec): number => 2311 + node.index * 97;

export const DEMO_CACHE_DIR = '/tmp/nginx-cache';
const GIB = 1024 ** 3;

/** nginx.conf as the controller renders it (excerpt): the module's http-snippet included. */
export function demoNginxConf(inv: Inventory): string {
  return [
    '# Configuration checksum: 11860342405284926105',
    '# setup custom paths that do not require root access',
    'pid /tmp/nginx/nginx.pid;',
    'daemon off;',
    'worker_processes 2;',
    'events {',
    '  multi_accept on;',
    '  worker_connections 16384;',
    '  use epoll;',
    '}',
    'http {',
    '  lua_package_path "/etc/nginx/lua/?.lua;;";',
    `  # ${inv.cluster}: http-snippet of the ingress-nginx-controller ConfigMap (nix/lib/networking.nix)`,
    `  proxy_cache_path ${DEMO_CACHE_DIR} levels=1:2 keys_zone=${inv.ingress.cacheZone}:64m max_size=2g inactive=60m use_temp_path=off;`,
    '  proxy_cache_key "$scheme$request_method$host$request_uri";',
    '  proxy_temp_path /tmp/nginx/proxy-temp;',
    '}',
    '',
  ].join('\n');
}

/** The files the lab holds for that: each controller's nginx.conf through /proc/<pid>/root. */
export function demoNginxFiles(
  inv: Inventory,
): Array<{ node: string; path: string; data: string }> {
  return demoIngressNodes(inv).map((n) => ({
    node: n.name,
    path: `/proc/${demoNginxPid(n)}/root/etc/nginx/nginx.conf`,
    data: demoNginxConf(inv),
  }));
}

const ok = (stdout: string): NodeExecResult => ({ stdout, stderr: '', code: 0 });

/**
 * features/nginx's NGINX_MASTERS_SCRIPT (one `grep -H -b` over every /proc/PID/cmdline, as
 * test/fixtures/nginx/grep-masters.txt): the controller's master where one runs, its
 * arguments NUL-separated as the kernel gives them.
 */
const nginxMasters: DemoCommand = {
  program: 'sh',
  // (demo/ does not import features/: the script is recognised by what it looks for)
  matches: (argv) =>
    argv[1] === '-c' && (argv[2] ?? '').includes("'^nginx: master process' /proc/[0-9]*/cmdline"),
  run: (_argv, ctx) =>
    demoIngressNodes(ctx.inventory).some((n) => n.name === ctx.node.name)
      ? ok(
          `/proc/${demoNginxPid(ctx.node)}/cmdline:0:nginx: master process /usr/bin/nginx -c /etc/nginx/nginx.conf\0\n`,
        )
      : { stdout: '', stderr: '', code: 1 },
};

/** `du -s -B1 -x DIR…`: the controller's cache directory, growing over the hour. */
const du: DemoCommand = {
  program: 'du',
  run: (argv, ctx) => {
    const dirs = argv.filter((a) => a.startsWith('/'));
    const mine = `/proc/${demoNginxPid(ctx.node)}/root${DEMO_CACHE_DIR}`;
    const running = demoIngressNodes(ctx.inventory).some((n) => n.name === ctx.node.name);
    // worker-2's replica near its 2 GiB max_size, worker-3's about half full.
    const base = ctx.node.index % 2 === 0 ? 1.86 * GIB : 0.97 * GIB;
    const drift = Math.floor((ctx.now / 1000) % 3600) * 8192;
    let stdout = '';
    let stderr = '';
    for (const d of dirs) {
      if (running && d === mine) stdout += `${Math.floor(base) + drift}\t${d}\n`;
      else stderr += `du: cannot access '${d}': No such file or directory\n`;
    }
    return { stdout, stderr, code: stderr ? 1 : 0 };
  },
};

export const demoNginxCommands: readonly DemoCommand[] = [nginxMasters, du];
