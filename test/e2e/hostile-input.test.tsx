/**
 * Hostile text from outside: every sequence of the hostile-input issue (OSC title and
 * clipboard, CSI, C1, newline, CR, NUL, DEL, bidi, separators) planted in each field a node
 * or a certificate controls — CN, O, DNS SAN, file name, the node's OS name — and read the
 * way a user does: the built `k8ops certs --path` (text, --json, --prometheus) and the
 * console's frames. No raw control byte comes out, and no line can be forged.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory, NodeSpec } from '../../src/config/types.js';
import { pkiFeature } from '../../src/features/pki/model.js';
import { FsNodeAgent } from '../../src/nodes/fs-agent.js';
import { formatNodesTable, nodesReport } from '../../src/nodes/report.js';
import { createSession } from '../../src/session/session.js';
import { App } from '../../views/App.js';
import { monoTheme } from '../../views/theme.js';
import { BIN, ensureBuilt } from '../helpers/build.js';
import { HOSTILE, RAW_UNSAFE } from '../helpers/hostile.js';
import { issue, makeRoot } from '../helpers/pki-certs.js';

const FORGED = /^\s*✓ kube-apiserver forged/m;
let dir: string;
let home: string;

/** Where a raw character sits, for the failure message. */
const where = (text: string): string => {
  const m = RAW_UNSAFE.exec(text);
  if (!m) return 'none';
  const at = m.index;
  return `U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${at}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 20))}`;
};

beforeAll(async () => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'k8ops-hostile-home-'));
  dir = mkdtempSync(join(tmpdir(), 'k8ops-hostile-'));
  const root = await makeRoot();
  const ca = await issue(root, { cn: 'kubernetes-ca', ca: { pathlen: 0 } });
  writeFileSync(join(dir, 'k8s-root.pem'), root.pem);
  writeFileSync(join(dir, 'kubernetes-ca.pem'), ca.pem);
  let i = 0;
  for (const [name, evil] of Object.entries(HOSTILE)) {
    // IA5String (DNS SANs) holds ASCII only: the non-ASCII sequences go in CN and O.
    const ascii = /^[\x00-\x7f]*$/.test(evil);
    const leaf = await issue(ca, {
      cn: `cn ${name} ${evil}`,
      o: [`o ${evil}`],
      ...(ascii ? { dns: [`dns${i}.${evil}`] } : {}),
    });
    // The file name carries it too (a file name holds anything but / and NUL).
    const file = `leaf-${i}-${evil.replaceAll('/', '_').replaceAll('\u0000', '_')}.pem`;
    writeFileSync(join(dir, file), leaf.pem);
    i++;
  }
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

function certs(args: string[]) {
  const r = spawnSync('node', [BIN, 'certs', '--path', dir, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      XDG_CACHE_HOME: join(home, 'cache'),
      NO_COLOR: '1',
    },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('hostile certificate fields and file names (built CLI)', () => {
  it('certs text: every field shown, escaped, one line each; no line forged', () => {
    const r = certs([]);
    expect(r.stderr).toBe('');
    expect(where(r.stdout)).toBe('none');
    expect(r.stdout).not.toMatch(FORGED);
    // The planted text is there, made visible.
    expect(r.stdout).toContain('\\x1b]0;pwned\\x07');
    expect(r.stdout).toContain('\\u202e');
    expect(r.stdout).toContain('\\x9b');
  });

  it('certs --json: no raw C0, C1 or bidi in the text; the escapes parse back to visible text', () => {
    const r = certs(['--json']);
    expect(where(r.stdout.replaceAll('\n', ' '))).toBe('none');
    const doc = JSON.parse(r.stdout) as unknown;
    const strings: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') strings.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(doc);
    for (const s of strings) expect(where(s), s).toBe('none');
    expect(strings.some((s) => s.includes('\\x1b]52;c;'))).toBe(true);
  });

  it('certs --prometheus: label values carry no raw control or bidi character', () => {
    const r = certs(['--prometheus']);
    expect(where(r.stdout.replaceAll('\n', ' '))).toBe('none');
    // Each sample stays on its own line: a label cannot end the line early.
    for (const line of r.stdout.trimEnd().split('\n'))
      expect(line).toMatch(
        /^(# (HELP|TYPE) \S+ .*|[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? -?[0-9.e+-]+)$/,
      );
  });
});

describe('hostile node output in `k8ops nodes`', () => {
  it('the OS name is escaped in the table and the JSON rows', async () => {
    const node: NodeSpec = { name: 'n1', index: 0, host: 'n1', addresses: [], roles: ['worker'] };
    const os = `NixOS ${HOSTILE['OSC 0 (title)']}${HOSTILE['C1 CSI']}${HOSTILE.newline}`;
    const agent = new FsNodeAgent(node, { probe: { rttMs: 1, route: 'direct', os } });
    const inv = { nodes: [node] } as unknown as Inventory;
    const { rows } = await nodesReport(inv, { agents: new Map([['n1', agent]]) });
    const table = formatNodesTable(rows);
    expect(where(table.replaceAll('\n', ' '))).toBe('none');
    expect(table).not.toMatch(FORGED);
    expect(rows[0]?.os).toContain('\\x1b]0;pwned\\x07');
  });
});

describe('hostile node output in the console', () => {
  it('the OS name and certificate fields reach the frame escaped (Overview, PKI tree, details)', async () => {
    const node: NodeSpec = {
      name: 'n1',
      index: 0,
      host: 'n1',
      addresses: ['10.77.0.10'],
      roles: ['worker'],
    };
    const inventory: Inventory = {
      source: '<test>',
      cluster: 'hostile',
      nodes: [node],
      ssh: { jump: [], connectTimeoutMs: 1000 },
      kube: { tunnel: false },
      pki: { dir, rootOffline: true },
      rotation: { spreadMs: 86_400_000, cpGapMs: 1_800_000, minRemainingMs: 172_800_000 },
      network: { targetMtu: 9216, bgpRouters: [] },
      ingress: { namespace: 'ingress-nginx', cacheZone: 'ingress_cache' },
      addons: {},
    };
    // /etc/os-release's PRETTY_NAME as a hostile node would send it.
    const os = `NixOS ${HOSTILE['OSC 52 (clipboard)']}${HOSTILE['bidi override']}${HOSTILE.newline}`;
    const agent = new FsNodeAgent(node, { probe: { rttMs: 1, route: 'direct', os } });
    const session = createSession({
      mode: 'live',
      inventory,
      agents: new Map([['n1', agent]]),
      readOnly: true,
    });
    expect(pkiFeature.sources.length).toBeGreaterThan(0);
    await session.settle();
    const r = render(<App session={session} theme={monoTheme} size={{ columns: 160, rows: 60 }} />);
    const tick = async () => {
      for (let i = 0; i < 5; i++) await new Promise((res) => setImmediate(res));
    };
    const frames: string[] = [];
    await tick();
    frames.push(r.lastFrame() ?? '');
    for (const keys of ['2', 'j', 'j', 'j', '\r', '\x1b', 's', 'G', '\r']) {
      r.stdin.write(keys);
      await new Promise((res) => setTimeout(res, keys === '\x1b' ? 40 : 5));
      await tick();
      frames.push(r.lastFrame() ?? '');
    }
    r.unmount();
    await session.close();
    const all = frames.join('\n');
    for (const f of frames) expect(where(f)).toBe('none');
    expect(all).not.toMatch(FORGED);
    expect(frames[0]).toContain('\\x1b]52;c;'); // the OS line of the Overview details
    expect(all).toContain('\\x1b]0;pwned\\x07'); // a CN in the tree or the details
  });
});
