/**
 * The proxy cache on disk (src/features/nginx/cache.ts, collectCache in sources.ts): the
 * parsers on outputs captured from the real tools (test/fixtures/nginx/cache.cmd), never a
 * throw on garbage, and the collector's round trips on a scripted agent (the real tools
 * run in test/integration/nginx/cache.test.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  grepMastersToPgrep,
  NGINX_MASTERS_SCRIPT,
  parseDu,
  parseNginxSize,
  parsePgrepMasters,
  parseProxyCachePaths,
} from '../../../../src/features/nginx/cache.js';
import { collectCache } from '../../../../src/features/nginx/sources.js';
import type { NodeAgent } from '../../../../src/nodes/agent.js';

const FIX = join(import.meta.dirname, '../../../fixtures/nginx');
const fixture = (f: string) => readFileSync(join(FIX, f), 'utf8');

describe('nginx cache parsers', () => {
  it('sizes as nginx reads them', () => {
    expect(parseNginxSize('512')).toBe(512);
    expect(parseNginxSize('64k')).toBe(65536);
    expect(parseNginxSize('10m')).toBe(10 * 1024 ** 2);
    expect(parseNginxSize('2G')).toBe(2 * 1024 ** 3);
    for (const bad of ['', '2t', '1.5g', '-1', 'g', '99999999999999999g'])
      expect(parseNginxSize(bad)).toBeUndefined();
  });

  it('every proxy_cache_path of a configuration: comments, quotes and other directives aside', () => {
    const conf = `
      # proxy_cache_path /commented keys_zone=no:1m;
      http {
        proxy_cache_path /var/cache/a levels=1:2 keys_zone=zone_a:10m max_size=1g inactive=60m use_temp_path=off;
        proxy_cache_path "/var/cache/b" keys_zone=zone_b:1m;   # no max_size: unlimited
        proxy_cache_path /var/cache/c max_size=1g;            # no zone: nginx refuses it, so do we
        proxy_cache zone_a; proxy_cache_key "$scheme$host;$request_uri";
        server { location / { proxy_pass http://x; } }
      }`;
    expect(parseProxyCachePaths(conf)).toEqual([
      {
        path: '/var/cache/a',
        zone: 'zone_a',
        keysZoneBytes: 10 * 1024 ** 2,
        maxBytes: 1024 ** 3,
        inactive: '60m',
        levels: '1:2',
      },
      { path: '/var/cache/b', zone: 'zone_b', keysZoneBytes: 1024 ** 2 },
    ]);
  });

  it('nginx masters from NGINX_MASTERS_SCRIPT (captured, grep -H -b): as pgrep -a prints them; offset 0 only, NULs as spaces', () => {
    expect(grepMastersToPgrep(fixture('grep-masters.txt'))).toBe(
      '12625 nginx: master process nginx -c /tmp/ngx/nginx.conf -p /tmp/ngx/',
    );
    expect(
      grepMastersToPgrep(
        [
          '/proc/7/cmdline:0:nginx: master process nginx\0-c\0/a.conf\0',
          // a later line of a command line with a newline in it: not a master (pgrep's ^)
          '/proc/8/cmdline:12:nginx: master process nginx -c /evil.conf',
          '/proc/9/cmdline:0:nginx: worker process\0',
          '/proc/x/cmdline:0:nginx: master process nginx',
          '/proc/10/cmdline:0:nginx: master process nginx\0\0\0-p\0/srv/\r\0',
          'garbage',
        ].join('\n'),
      ),
    ).toBe('7 nginx: master process nginx -c /a.conf\n10 nginx: master process nginx -p /srv/\r');
  });

  it('nginx masters from pgrep -a (captured): the config file from -c, relative to -p', () => {
    expect(parsePgrepMasters(fixture('pgrep-masters.txt'))).toEqual([
      {
        pid: 20815,
        conf: '/tmp/obs-ngx/nginx.conf',
        command:
          'nginx: master process nginx -p /tmp/obs-ngx -e /tmp/obs-ngx/error.log -c /tmp/obs-ngx/nginx.conf',
      },
    ]);
    expect(
      parsePgrepMasters(
        '7 nginx: master process /usr/bin/nginx -c /etc/nginx/nginx.conf\n8 nginx: master process nginx\n9 nginx: master process nginx -p /srv/ngx/ -c conf/n.conf\n10 nginx: worker process\nx nginx: master process\n11 nginx: master process nginx -c /etc/../shadow\n',
      ).map((m) => [m.pid, m.conf]),
    ).toEqual([
      [7, '/etc/nginx/nginx.conf'],
      [8, '/etc/nginx/nginx.conf'],
      [9, '/srv/ngx/conf/n.conf'],
    ]);
  });

  it('du -s -B1 (captured): bytes per directory it could read', () => {
    expect([...parseDu(fixture('du-cache.txt'))]).toEqual([
      ['/proc/20815/root/tmp/obs-ngx/cache', 4096],
    ]);
    expect(parseDu(fixture('du-cache.stderr')).size).toBe(0);
  });

  it('never throw on garbage', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => {
        parseProxyCachePaths(s);
        parsePgrepMasters(s);
        grepMastersToPgrep(s);
        parseDu(s);
        parseNginxSize(s);
      }),
      { numRuns: 500 },
    );
    expect(parseProxyCachePaths(undefined as unknown as string)).toEqual([]);
  });
});

describe('collectCache', () => {
  /** An agent answering pgrep, readFiles and du as a node with one controller would. */
  function node(o: {
    pgrep?: { stdout: string; stderr?: string; code: number };
    conf?: string;
    du?: { stdout: string; stderr: string; code: number };
  }) {
    const calls: string[] = [];
    const agent = {
      node: { name: 'w2', index: 0, host: 'w2', addresses: [], roles: ['worker'] },
      exec: async (argv: readonly string[], opts?: { readOnly?: boolean }) => {
        calls.push(`${opts?.readOnly ? 'ro ' : ''}${argv.join(' ')}`);
        if (argv[0] === 'sh' && argv[2] === NGINX_MASTERS_SCRIPT)
          return { stderr: '', ...(o.pgrep ?? { stdout: '', code: 1 }) };
        if (argv[0] === 'du') return o.du ?? { stdout: '', stderr: '', code: 0 };
        return { stdout: '', stderr: 'not found', code: 127 };
      },
      readFiles: async (paths: readonly string[]) => {
        calls.push(`read ${paths.join(' ')}`);
        return paths.map((p) =>
          o.conf === undefined
            ? { path: p, ok: false as const, error: `${p}: Permission denied`, missing: false }
            : { path: p, ok: true as const, content: o.conf },
        );
      },
    } as unknown as NodeAgent;
    return { agent, calls };
  }
  const signal = new AbortController().signal;

  it('pgrep, the config through /proc/<pid>/root, du of each zone’s directory: read-only', async () => {
    const { agent, calls } = node({
      pgrep: {
        stdout:
          '/proc/2699/cmdline:0:nginx: master process /usr/bin/nginx -c /etc/nginx/nginx.conf\0\n',
        code: 0,
      },
      conf: 'http { proxy_cache_path /tmp/nginx-cache levels=1:2 keys_zone=ingress_cache:64m max_size=2g; proxy_cache_path /tmp/gone keys_zone=old:1m; }',
      du: {
        stdout: '1073741824\t/proc/2699/root/tmp/nginx-cache\n',
        stderr: "du: cannot access '/proc/2699/root/tmp/gone': No such file or directory\n",
        code: 1,
      },
    });
    expect(await collectCache(agent, signal)).toEqual({
      masters: [
        {
          pid: 2699,
          conf: '/etc/nginx/nginx.conf',
          zones: [
            {
              zone: 'ingress_cache',
              path: '/tmp/nginx-cache',
              maxBytes: 2 * 1024 ** 3,
              bytes: 1024 ** 3,
            },
            {
              zone: 'old',
              path: '/tmp/gone',
              error: "du: cannot access '/tmp/gone': No such file or directory",
            },
          ],
        },
      ],
    });
    expect(calls).toEqual([
      `ro sh -c ${NGINX_MASTERS_SCRIPT}`,
      'read /proc/2699/root/etc/nginx/nginx.conf',
      'ro du -s -B1 -x /proc/2699/root/tmp/nginx-cache /proc/2699/root/tmp/gone',
    ]);
  });

  it('no nginx on the node: no master, one round trip; an unreadable config is named', async () => {
    const none = node({});
    expect(await collectCache(none.agent, signal)).toEqual({ masters: [] });
    expect(none.calls).toHaveLength(1);
    const denied = node({
      pgrep: { stdout: '/proc/7/cmdline:0:nginx: master process nginx\0\n', code: 0 },
    });
    expect(await collectCache(denied.agent, signal)).toEqual({
      masters: [
        {
          pid: 7,
          conf: '/etc/nginx/nginx.conf',
          error: '/etc/nginx/nginx.conf: /proc/7/root/etc/nginx/nginx.conf: Permission denied',
          zones: [],
        },
      ],
    });
    // grep's 2 with nothing on stderr: a process ended between the glob and its read (-s)
    const raced = node({
      pgrep: { stdout: '/proc/7/cmdline:0:nginx: master process nginx\0\n', code: 2 },
    });
    expect((await collectCache(raced.agent, signal)).masters.map((m) => m.pid)).toEqual([7]);
    const badGrep = node({
      pgrep: { stdout: '', stderr: "grep: invalid option -- 'b'\n", code: 2 },
    });
    await expect(collectCache(badGrep.agent, signal)).rejects.toThrow(
      /nginx masters: grep: invalid option/,
    );
    const noGrep = node({ pgrep: { stdout: '', code: 127 } });
    await expect(collectCache(noGrep.agent, signal)).rejects.toThrow(/nginx masters: exit 127/);
  });

  it('a path k8ops would not send to a node is reported, not measured', async () => {
    const { agent, calls } = node({
      pgrep: { stdout: '/proc/7/cmdline:0:nginx: master process nginx\0\n', code: 0 },
      conf: 'proxy_cache_path "/tmp/a b;$(id)" keys_zone=z:1m;',
    });
    const v = await collectCache(agent, signal);
    expect(v.masters[0]!.zones[0]!.error).toMatch(/characters k8ops does not send/);
    expect(calls.some((c) => c.includes('du'))).toBe(false);
  });
});

const hasPgrep = spawnSync('sh', ['-c', 'command -v pgrep && command -v grep'], {
  stdio: 'ignore',
}).status;

describe('NGINX_MASTERS_SCRIPT', () => {
  it.skipIf(hasPgrep !== 0)(
    'gives what `pgrep -a -f ^nginx: master process` prints (real processes titled as nginx titles its master and worker, and one with the title after a newline); exit 1 when none',
    async () => {
      const title = `nginx: master process /usr/bin/nginx -c /etc/nginx/k8ops-test-${process.pid}.conf`;
      const procs = [
        spawn('bash', ['-c', `exec -a "${title}" sleep 30`], { stdio: 'ignore' }),
        spawn('bash', ['-c', 'exec -a "nginx: worker process" sleep 30'], { stdio: 'ignore' }),
        // the title on a later line of the command line: pgrep's ^ does not match it
        spawn('bash', ['-c', `exec -a $'x\\n${title} evil' sleep 30`], {
          stdio: 'ignore',
        }),
      ];
      try {
        const mine = (out: string) =>
          out.split('\n').filter((l) => l.includes(`k8ops-test-${process.pid}.conf`));
        const script = () => spawnSync('sh', ['-c', NGINX_MASTERS_SCRIPT], { encoding: 'utf8' });
        const pgrep = () =>
          spawnSync('pgrep', ['-a', '-f', '^nginx: master process'], { encoding: 'utf8' });
        let ours = script();
        const masters = () => mine(grepMastersToPgrep(ours.stdout));
        for (let i = 0; i < 50 && masters().length === 0; i++) {
          await new Promise((r) => setTimeout(r, 50));
          ours = script();
        }
        const theirs = pgrep();
        expect(masters()).toEqual([`${procs[0]!.pid} ${title} 30`]);
        expect(masters()).toEqual(mine(theirs.stdout));
        // grep saw the third one's second line, which starts with the title: not a master
        expect(ours.stdout).toContain(`/proc/${procs[2]!.pid}/cmdline:2:`);
        expect(ours.status === 0 || (ours.status === 2 && ours.stderr === '')).toBe(true);
        expect(parsePgrepMasters(masters().join('\n'))).toEqual([
          {
            pid: procs[0]!.pid,
            conf: `/etc/nginx/k8ops-test-${process.pid}.conf`,
            command: `${title} 30`,
          },
        ]);
        // no master anywhere: exit 1, as pgrep's (when this machine runs no other nginx)
        for (const p of procs) p.kill('SIGKILL');
        await Promise.all(procs.map((p) => new Promise((r) => p.once('exit', r))));
        if (pgrep().status === 1) {
          const none = script();
          expect(grepMastersToPgrep(none.stdout)).toBe('');
          expect([0, 1, 2]).toContain(none.status);
        }
      } finally {
        for (const p of procs) p.kill('SIGKILL');
      }
    },
  );
});
