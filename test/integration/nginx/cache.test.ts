/**
 * The NGINX pane's counts against a real nginx (Debian's, `proxy_cache`) writing the very
 * log format the NixOS module configures (nix/lib/ingress-log-format.json, through
 * ingressLogFormat()), behind a tiny Node upstream on loopback. A scripted request pattern
 * with known cache statuses — MISS, HIT, BYPASS (a header), EXPIRED (after max-age),
 * REVALIDATED (304 from the upstream), STALE (upstream stopped), none (`-`: no cache, and a
 * request rejected before routing) — is read back through the product's own path: `tail -n`
 * run by NodeAgent.exec (a local FsNodeAgent running the real `tail`), the tail reader, the
 * aggregator and the model. k8ops's counts must equal the expected ones exactly; each
 * response's X-Cache-Status header is checked too, so the pattern itself is what nginx says.
 *
 * The cache on disk: the product's collector (real `pgrep`, the config read through
 * /proc/<pid>/root, real `du`) finds this nginx, its proxy_cache_path and max_size, and
 * the bytes of its cache directory, checked against a count made here without du.
 *
 * nginx runs in the foreground (`daemon off`) in a temp prefix on a loopback port and is
 * killed after. Unlike the module's location snippet, `proxy_cache_background_update` is off
 * here: with it, an expired entry is logged STALE, never EXPIRED (net-apis.md §4).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Inventory } from '../../../src/config/types.js';
import { ingressLogFormat } from '../../../src/features/nginx/format.js';
import { cacheModel, statsModel } from '../../../src/features/nginx/model.js';
import { collectCache, collectLogFile } from '../../../src/features/nginx/sources.js';
import { FsNodeAgent } from '../../../src/nodes/fs-agent.js';
import type { NodeExecResult } from '../../../src/store/io.js';
import { describeWith } from '../nix/helpers.js';

const HOST = 'cache.test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Upstream {
  port: number;
  close(): Promise<void>;
}

/** The upstream: /h cached an hour, /e and /s one second, /reval/ with an ETag, /nocache/. */
async function startUpstream(port = 0): Promise<Upstream> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/reval/')) {
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { ETag: '"v1"', 'Cache-Control': 'max-age=1' });
        res.end();
        return;
      }
      res.writeHead(200, { ETag: '"v1"', 'Cache-Control': 'max-age=1', 'Content-Length': 700 });
      res.end('r'.repeat(700));
      return;
    }
    const size = url === '/h' ? 1000 : url === '/e' ? 800 : url === '/s' ? 600 : 500;
    const cc =
      url === '/h' ? 'max-age=3600' : url.startsWith('/nocache') ? 'no-store' : 'max-age=1';
    res.writeHead(200, {
      'Cache-Control': cc,
      'Content-Type': 'text/plain',
      'Content-Length': size,
    });
    res.end('x'.repeat(size));
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function nginxConf(prefix: string, port: number, upstream: number): string {
  const loc = (extra: string) => `
      proxy_pass http://127.0.0.1:${upstream};
      proxy_cache ingress_cache;
      proxy_cache_bypass $http_x_bypass;
      proxy_cache_lock on;
      proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
      proxy_connect_timeout 2s;
      add_header X-Cache-Status $upstream_cache_status always;${extra}`;
  return `
worker_processes 1;
pid ${prefix}/nginx.pid;
${process.getuid?.() === 0 ? 'user root root;' : ''}
events { worker_connections 64; }
http {
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  # ingress-nginx's own variables, as the controller sets them
  map $request_id $req_id { default $request_id; }
  log_format ingress '${ingressLogFormat()}';
  proxy_cache_path ${prefix}/cache levels=1:2 keys_zone=ingress_cache:1m max_size=10m inactive=60m use_temp_path=off;
  proxy_cache_key "$scheme$request_method$host$request_uri";
  server {
    listen 127.0.0.1:${port};
    server_name ${HOST};
    access_log ${prefix}/access.log ingress;
    error_log ${prefix}/error.log;
    set $proxy_upstream_name "default-web-80";
    set $proxy_alternative_upstream_name "";
    location / {${loc('')}
    }
    location /reval/ {${loc('\n      proxy_cache_revalidate on;')}
    }
    location /nocache/ {
      proxy_pass http://127.0.0.1:${upstream};
    }
  }
}
`;
}

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; cache: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path, headers: { Host: HOST, ...headers }, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            cache: res.headers['x-cache-status'] as string | undefined,
            body,
          }),
        );
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
  });
}

/** Raw bytes (latin1) as one request; the whole response. */
function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(Buffer.from(bytes, 'latin1')));
    let out = '';
    s.on('data', (d) => {
      out += d.toString('latin1');
    });
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(10_000, () => s.destroy(new Error('raw request timed out')));
  });
}

const localExec = (argv: readonly string[]): Promise<NodeExecResult> =>
  new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ stdout, stderr, code });
    });
  });

describeWith(
  ['nginx', 'tail', 'pgrep', 'du'],
  'NGINX cache counts against a real nginx (proxy_cache, the module’s log format)',
  () => {
    let prefix: string;
    let nginx: ChildProcess | undefined;
    let upstream: Upstream | undefined;
    let port: number;
    let inv: Inventory;
    let agent: FsNodeAgent;

    beforeAll(async () => {
      prefix = mkdtempSync(join(tmpdir(), 'k8ops-nginx-'));
      chmodSync(prefix, 0o755);
      mkdirSync(join(prefix, 'tmp'));
      mkdirSync(join(prefix, 'cache'));
      upstream = await startUpstream();
      port = await freePort();
      writeFileSync(join(prefix, 'nginx.conf'), nginxConf(prefix, port, upstream.port));
      nginx = spawn(
        'nginx',
        [
          '-p',
          prefix,
          '-e',
          join(prefix, 'error.log'),
          '-c',
          join(prefix, 'nginx.conf'),
          '-g',
          'daemon off;',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      nginx.stderr?.on('data', (d) => {
        stderr += String(d);
      });
      const deadline = Date.now() + 15_000;
      for (;;) {
        const ok = await new Promise<boolean>((r) => {
          const s = net.connect(port, '127.0.0.1', () => {
            s.destroy();
            r(true);
          });
          s.on('error', () => r(false));
        });
        if (ok) break;
        if (nginx.exitCode !== null || Date.now() > deadline)
          throw new Error(`nginx did not start: ${stderr}${safeRead(join(prefix, 'error.log'))}`);
        await sleep(100);
      }
      const node = { name: 'ingress-1', index: 0, roles: ['worker'], addresses: ['127.0.0.1'] };
      inv = {
        nodes: [node],
        ingress: {
          namespace: 'ingress-nginx',
          cacheZone: 'ingress_cache',
          logFile: join(prefix, 'access.log'),
        },
      } as unknown as Inventory;
      agent = new FsNodeAgent(node as Inventory['nodes'][number], { exec: localExec });
    }, 30_000);

    afterAll(async () => {
      if (nginx && nginx.exitCode === null) {
        const done = new Promise((r) => nginx?.once('exit', r));
        nginx.kill('SIGKILL');
        await done;
      }
      await upstream?.close();
      // To refresh test/fixtures/nginx/access.log: KEEP_NGINX=<file> (see its .cmd).
      if (process.env.KEEP_NGINX)
        writeFileSync(process.env.KEEP_NGINX, readFileSync(join(prefix, 'access.log')));
      if (prefix) rmSync(prefix, { recursive: true, force: true });
    });

    it('k8ops counts exactly the cache statuses nginx logged for a scripted request pattern', async () => {
      const seen: Array<[string, string | undefined]> = [];
      const req = async (path: string, headers?: Record<string, string>) => {
        const r = await get(port, path, headers);
        expect(r.status).toBe(200);
        seen.push([path, r.cache]);
      };
      const ctl = new AbortController();
      // /h: MISS, HIT, HIT, BYPASS (header), HIT with a hostile User-Agent.
      await req('/h');
      await req('/h');
      await req('/h');
      await req('/h', { 'X-Bypass': '1' });
      // A hostile User-Agent (ESC, quotes, a C1 byte): Node will not send it, so raw bytes.
      const hostile = await rawRequest(
        port,
        `GET /h HTTP/1.1\r\nHost: ${HOST}\r\nUser-Agent: evil \u001b[31m "quoted" \u009b\r\nConnection: close\r\n\r\n`,
      );
      expect(hostile).toMatch(/^HTTP\/1\.1 200/);
      seen.push(['/h', /X-Cache-Status: (\w+)/.exec(hostile)?.[1]]);
      // First read of the log: the tail reader must not count these again later.
      const first = await collectLogFile(inv, agent, ctl.signal, { lines: 100 });
      expect(first?.parsed).toBe(5);
      // /e: MISS, then EXPIRED after its max-age (1 s; nginx keeps whole seconds).
      await req('/e');
      // /reval/: MISS, then REVALIDATED (the upstream answers the conditional request with 304).
      await req('/reval/x');
      // /s: MISS, then the upstream goes away: STALE.
      await req('/s');
      // No cache at all: `-`, twice.
      await req('/nocache/a');
      await req('/nocache/b');
      await sleep(2200);
      await req('/e');
      await req('/reval/x');
      const up = upstream!;
      await up.close();
      upstream = undefined;
      await req('/s');
      // A request rejected before routing (400, `-`).
      expect(await rawRequest(port, 'GARBAGE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);

      expect(seen).toEqual([
        ['/h', 'MISS'],
        ['/h', 'HIT'],
        ['/h', 'HIT'],
        ['/h', 'BYPASS'],
        ['/h', 'HIT'],
        ['/e', 'MISS'],
        ['/reval/x', 'MISS'],
        ['/s', 'MISS'],
        ['/nocache/a', undefined],
        ['/nocache/b', undefined],
        ['/e', 'EXPIRED'],
        ['/reval/x', 'REVALIDATED'],
        ['/s', 'STALE'],
      ]);

      // nginx writes the line after the response: wait until all 14 are in the file.
      const logPath = join(prefix, 'access.log');
      for (let i = 0; i < 100 && readFileSync(logPath, 'utf8').trim().split('\n').length < 14; i++)
        await sleep(50);
      const stats = await collectLogFile(inv, agent, ctl.signal, { lines: 100 });
      expect(stats).not.toBeNull();
      expect(stats!.lines).toBe(14);
      expect(stats!.unparseable).toBe(0);
      expect(stats!.samples).toEqual([]);
      const { overall, hosts } = statsModel(stats!, Date.now());
      expect(hosts.map((h) => h.host)).toEqual([HOST]);
      const w15 = overall.windows[2]!;
      expect(w15.requests).toBe(14);
      expect(w15.cache).toEqual({
        HIT: 3,
        MISS: 4,
        EXPIRED: 1,
        STALE: 1,
        UPDATING: 0,
        REVALIDATED: 1,
        BYPASS: 1,
        '-': 3,
      });
      // The STALE was served because the upstream was gone (logged upstream status 502).
      expect(w15.staleFailed).toBe(1);
      expect(w15.classes).toEqual({ '1xx': 0, '2xx': 13, '3xx': 0, '4xx': 1, '5xx': 0 });
      // From the cache: 3 HIT of /h (1000 B), REVALIDATED /reval/x (700 B), STALE /s (600 B).
      expect(w15.hitRatio).toBeCloseTo(5 / 11, 10);
      expect(w15.cacheBytes).toBe(3 * 1000 + 700 + 600);
      // Upstream time: 8 requests reached the upstream (MISS×4, BYPASS, EXPIRED, REVALIDATED,
      // /nocache×2) plus the STALE one that failed to connect.
      expect(w15.upstreamP50).not.toBeNull();
      expect(w15.upstreamP95!).toBeGreaterThanOrEqual(w15.upstreamP50!);
    }, 60_000);

    it('the cache on disk: this nginx found by its command line (NGINX_MASTERS_SCRIPT, as pgrep -a), its proxy_cache_path and max_size read through /proc/<pid>/root, du of its directory', async () => {
      // Something in the cache (the scripted pattern above stored /h, /e, /reval/x, /s).
      if (upstream === undefined) upstream = await startUpstream();
      await get(port, '/h');
      const pid = Number(readFileSync(join(prefix, 'nginx.pid'), 'utf8').trim());
      const ctl = new AbortController();
      // The product's path: real pgrep, the real config file read, real du (other nginx
      // masters on this machine may be listed too: only this one is asserted).
      const v = await collectCache(agent, ctl.signal);
      const mine = v.masters.find((m) => m.pid === pid);
      expect(mine, JSON.stringify(v)).toBeDefined();
      expect(mine!.conf).toBe(join(prefix, 'nginx.conf'));
      expect(mine!.zones).toHaveLength(1);
      const z = mine!.zones[0]!;
      expect(z).toMatchObject({
        zone: 'ingress_cache',
        path: join(prefix, 'cache'),
        maxBytes: 10 * 1024 * 1024,
      });
      expect(z.error).toBeUndefined();
      // The same directory counted here without du: every file's and directory's blocks.
      const onDisk = (dir: string): number => {
        let n = statSync(dir).blocks * 512;
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          const p = join(dir, e.name);
          n += e.isDirectory() ? onDisk(p) : lstatSync(p).blocks * 512;
        }
        return n;
      };
      const expected = onDisk(join(prefix, 'cache'));
      expect(readdirSync(join(prefix, 'cache')).length).toBeGreaterThan(0);
      expect(z.bytes).toBe(expected);
      // The model: this node's row, size against max_size.
      const m = cacheModel(
        inv,
        (scope, src) =>
          (scope === 'ingress-1' && src === 'nginx.cache'
            ? { value: { masters: [mine!] }, stale: false, loading: false }
            : { stale: true, loading: false }) as never,
      );
      expect(m.rows).toEqual([
        {
          node: 'ingress-1',
          pid,
          zone: 'ingress_cache',
          path: join(prefix, 'cache'),
          bytes: expected,
          maxBytes: 10 * 1024 * 1024,
          fill: expected / (10 * 1024 * 1024),
          configured: true,
        },
      ]);
    }, 60_000);
  },
);

function safeRead(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
