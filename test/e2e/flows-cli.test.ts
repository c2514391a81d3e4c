/**
 * `k8ops flows` as built, on the demo lab, whose inventory names hubble-relay: its Service
 * resolved through the demo kube API, dialled through a demo node's forwardTcp (the demo's
 * in-process Observer server in relay's shape: every node's flows on one stream): --json
 * lines in `hubble observe -o jsonpb` shape, server-side filters, --follow until SIGINT,
 * exit codes. The agent-socket path is covered against real sshd (test/integration/flows).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt } from '../helpers/build.js';

let home: string;
beforeAll(() => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'k8ops-flows-'));
}, 120_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

const env = () => ({
  PATH: process.env.PATH ?? '',
  HOME: home,
  XDG_CACHE_HOME: join(home, 'cache'),
  XDG_CONFIG_HOME: join(home, 'config'),
  XDG_STATE_HOME: join(home, 'state'),
});

function k8ops(args: string[]) {
  const r = spawnSync('node', [BIN, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    cwd: home,
    env: env(),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('k8ops flows (built, demo lab)', () => {
  it('--json: one GetFlowsResponse per line, as hubble observe -o jsonpb; filters applied by the server', () => {
    const r = k8ops(['flows', '--demo', '--json', '--last', '50', 'verdict:DROPPED', 'ns:shop']);
    expect(r.stderr).not.toContain('k8ops flows:'); // no error, nothing missing
    expect(r.code).toBe(0);
    const docs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { flow?: Record<string, unknown>; node_name?: string });
    expect(docs.length).toBe(50);
    const reasons = new Set<string>();
    let prev = '';
    for (const d of docs) {
      expect(d.flow?.verdict).toBe('DROPPED');
      reasons.add(String(d.flow?.drop_reason_desc));
      expect(d.node_name).toMatch(/^demo-lab\/(cp|worker)-\d$/);
      const t = String(d.flow?.time);
      expect(t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      expect(t >= prev).toBe(true); // time order across nodes
      prev = t;
      const src = d.flow?.source as { namespace?: string };
      const dst = d.flow?.destination as { namespace?: string };
      expect([src.namespace, dst.namespace]).toContain('shop');
    }
    expect(reasons.size).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('text: one line per flow, then each node’s ring on stderr; usage errors exit 2', () => {
    const r = k8ops(['flows', '--demo', '--last', '5', '--node', 'worker-1']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    for (const l of lines)
      expect(l).toMatch(/^\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3} {2}demo-lab\/worker-1 {2}\S+ -> \S+/);
    // One relay stream; --node became a server-side node filter.
    expect(r.stderr).toMatch(
      /hubble-relay: ring \d+\/4095 flows, .*\(hubble-relay hubble-relay\.kube-system\.svc:80 \(10\.96\.148\.27:80\) via cp-1\)/,
    );
    expect(k8ops(['flows', '--demo', 'verdict:NOPE']).code).toBe(2);
    expect(k8ops(['flows', '--demo', '--node', 'nope']).code).toBe(2);
    expect(k8ops(['flows', '--demo', '--follow', '--last', '3']).code).toBe(2);
  }, 120_000);

  it('--follow streams new flows until SIGINT, then exits 0', async () => {
    const p = spawn('node', [BIN, 'flows', '--demo', '--follow', '--json'], {
      cwd: home,
      env: env(),
    });
    p.stdin.on('error', () => {});
    let out = '';
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    const deadline = Date.now() + 90_000;
    while (out.split('\n').length < 200 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    p.kill('SIGINT');
    const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    expect(code).toBe(0);
    const docs = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { flow?: unknown; lost_events?: unknown });
    expect(docs.length).toBeGreaterThanOrEqual(200);
    expect(docs.every((d) => d.flow !== undefined || d.lost_events !== undefined)).toBe(true);
  }, 120_000);
});
