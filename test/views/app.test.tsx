import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from '../../src/session/session.js';
import { App } from '../../views/App.js';
import { monoTheme } from '../../views/theme.js';
import { FIXTURE_NOW, fixtureSession } from '../helpers/fixture-session.js';

const ESC = '\x1b';
const TAB = '\t';
const ENTER = '\r';
const SIZE = { columns: 100, rows: 30 };

const tick = () => new Promise((r) => setTimeout(r, 30));

let sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  sessions = [];
});

async function mount(opts: Parameters<typeof fixtureSession>[0] = {}, size = SIZE) {
  const session = fixtureSession(opts);
  sessions.push(session);
  const r = render(<App session={session} theme={monoTheme} size={size} />);
  await tick();
  const type = async (...keys: string[]) => {
    for (const k of keys) {
      r.stdin.write(k);
      await tick();
    }
  };
  const frame = () => r.lastFrame() ?? '';
  return { ...r, session, type, frame };
}

describe('App shell (views, fixture store)', () => {
  it('header shows cluster, context, reachable count; overview has one row per node', async () => {
    const { frame, unmount } = await mount({ withKube: true });
    const f = frame();
    const lines = f.split('\n');
    expect(lines[0]).toContain('fixture-lab');
    expect(lines[0]).toContain('ctx fixture-ctx');
    expect(lines[0]).toContain('nodes 6/6');
    expect(lines[0]).not.toContain('DEMO');
    for (const n of ['cp-1', 'cp-2', 'cp-3', 'worker-1', 'worker-2', 'worker-3']) {
      expect(f.match(new RegExp(`\\b${n}\\b`, 'g'))?.length ?? 0).toBeGreaterThanOrEqual(2); // node list + table
    }
    const cp1 = lines.find((l) => /cp-1\s+cp,etcd/.test(l));
    expect(cp1).toBeDefined();
    expect(cp1).toMatch(/up 3ms\s+Ready\s+13d 23:00:00/); // selected row ticks in seconds
    const w2 = lines.find((l) => /worker-2\s+worker/.test(l));
    expect(w2).toMatch(/up 7ms\s+Ready\s+9d 23:00\b/); // other rows: minute precision
    expect(f).toContain('6/6 reachable · 6 Ready · 0 certs due');
    unmount();
  });

  it('says "no source" for kube readiness when no API source is configured (no invented data)', async () => {
    const { frame, unmount } = await mount();
    expect(frame()).toMatch(/cp-1\s+cp,etcd\s+up 3ms\s+no source/);
    expect(frame()).toContain('0 Ready');
    unmount();
  });

  it('shows an unreachable node as down with the reason in the detail panel', async () => {
    const { frame, type, unmount } = await mount({
      down: ['worker-2'],
      withKube: true,
      notReady: ['worker-3'],
    });
    expect(frame().split('\n')[0]).toContain('nodes 5/6');
    expect(frame()).toMatch(/worker-2\s+worker\s+down/);
    expect(frame()).toMatch(/worker-3\s+worker\s+up \d+ms\s+NotReady/);
    await type(':', 'node worker-2', ENTER);
    expect(frame()).toContain('unreachable: connect ETIMEDOUT 10.77.0.15:22');
    unmount();
  });

  it('number keys and Tab switch panes', async () => {
    const { frame, type, unmount } = await mount();
    await type('2');
    expect(frame()).toMatch(/CERTIFICATE\s+EXPIRES\s+WHERE/);
    await type(TAB);
    expect(frame()).toContain('PREVIEW ONLY, not saved');
    await type('7');
    expect(frame()).toMatch(/MTU/);
    await type('8');
    expect(frame()).toContain('No jobs yet.');
    expect(frame()).toContain('audit log');
    await type('1');
    expect(frame()).toMatch(/cp-1\s+cp,etcd/);
    unmount();
  });

  it('? opens help listing every key; Esc closes it', async () => {
    const { frame, type, unmount } = await mount();
    await type('?');
    const f = frame();
    for (const k of [
      '1–8',
      'Tab / Shift-Tab',
      'j k ↑ ↓',
      'g G Home End',
      '/',
      ':',
      'Ctrl-R',
      'Esc',
      'q Ctrl-C',
    ]) {
      expect(f).toContain(k);
    }
    await type(ESC);
    expect(frame()).not.toContain('Tab / Shift-Tab');
    expect(frame()).toMatch(/cp-1\s+cp,etcd/);
    unmount();
  });

  it('palette: Tab completes commands and node names, Enter runs', async () => {
    const { frame, type, unmount } = await mount();
    await type(':', 'pk');
    expect(frame()).toContain(':pki');
    await type(TAB);
    expect(frame()).toMatch(/^:pki/m);
    await type(ENTER);
    expect(frame()).toMatch(/CERTIFICATE\s+EXPIRES/);
    await type(':', 'node w');
    const f = frame();
    expect(f).toContain(':node worker-1');
    expect(f).toContain(':node worker-3');
    expect(f).not.toContain(':node cp-1');
    await type(TAB); // common prefix "node worker-"
    expect(frame()).toMatch(/^:node worker-/m);
    await type('3', ENTER, '1');
    expect(frame()).toMatch(/node\s+worker-3 \(index 5, worker\)/);
    await type(':', 'bogus', ENTER);
    expect(frame()).toContain('unknown command ":bogus"');
    unmount();
  });

  it('/ filters the node list and the overview; Esc clears', async () => {
    const { frame, type, unmount } = await mount();
    await type('/', 'work');
    let f = frame();
    expect(f).toContain('NODES /work');
    expect(f).not.toMatch(/\bcp-2\b/);
    expect(f).toMatch(/worker-1\s+worker/);
    await type(ENTER);
    expect(frame()).toContain('filter /work');
    // the selection moved onto a visible node
    expect(frame()).toMatch(/node\s+worker-1 \(index 3/);
    await type(ESC);
    f = frame();
    expect(f).toMatch(/cp-2\s+cp,etcd/);
    unmount();
  });

  it('j/k/g/G move the selection', async () => {
    const { frame, type, unmount } = await mount();
    await type('j', 'j');
    expect(frame()).toMatch(/node\s+cp-3 \(index 2/);
    await type('G');
    expect(frame()).toMatch(/node\s+worker-3 \(index 5/);
    await type('k');
    expect(frame()).toMatch(/node\s+worker-2 \(index 4/);
    await type('g');
    expect(frame()).toMatch(/node\s+cp-1 \(index 0/);
    unmount();
  });

  it('every frame fits the terminal: 80×24 and 60×12', async () => {
    for (const size of [
      { columns: 80, rows: 24 },
      { columns: 60, rows: 12 },
    ]) {
      const { frames, type, unmount } = await mount({ withKube: true }, size);
      await type('2', '?', ESC, ':', 'n', ESC, '/', 'x', ESC, '1');
      for (const fr of frames) {
        const lines = fr.split('\n');
        expect(lines.length).toBeLessThanOrEqual(size.rows);
        for (const l of lines) expect([...l].length).toBeLessThanOrEqual(size.columns);
      }
      unmount();
    }
  });

  it('a terminal below the minimum size gets a message, not a broken layout', async () => {
    const { frame, unmount } = await mount({}, { columns: 50, rows: 10 });
    expect(frame()).toContain('terminal too small: 50×10');
    unmount();
  });
});

describe('App shell: input arriving in chunks', () => {
  it('":pki" in one chunk (as a terminal sends fast typing) opens the palette and types', async () => {
    const { frame, type, unmount } = await mount();
    await type(':pki');
    expect(frame()).toMatch(/^:pki/m);
    await type(ENTER);
    expect(frame()).toMatch(/CERTIFICATE\s+EXPIRES/);
    unmount();
  });
});

describe('App shell: kube context and API reachability', () => {
  it(':ctx completes context names and switches without restarting', async () => {
    const { frame, type, session, unmount } = await mount({ withKube: true });
    const switched: string[] = [];
    session.kubeContexts = () => ['lab', 'prod', 'prod-eu'];
    session.switchContext = async (name) => {
      switched.push(name);
      return { ok: true, context: name };
    };
    await type(':', 'ctx p');
    expect(frame()).toContain(':ctx prod-eu');
    expect(frame()).not.toContain(':ctx lab');
    await type(TAB); // common prefix "ctx prod"
    expect(frame()).toMatch(/^:ctx prod/m);
    await type(ENTER);
    expect(switched).toEqual(['prod']);
    expect(frame()).toContain('kube context: prod');
    await type(':', 'ctx nope', ENTER);
    expect(frame()).toContain('no kube context named "nope"');
    expect(switched).toEqual(['prod']);
    unmount();
  });

  it('a failed switch says why and keeps the old context', async () => {
    const { frame, type, session, unmount } = await mount({ withKube: true });
    session.kubeContexts = () => ['lab', 'broken'];
    session.switchContext = async () => ({
      ok: false,
      message: 'context "broken": user "x" not found',
    });
    await type(':', 'ctx broken', ENTER);
    await new Promise((r) => setTimeout(r, 30));
    expect(frame()).toContain('context not switched: context "broken": user "x" not found');
    unmount();
  });

  it('API server through the tunnel: TUNNEL badge and version; unreachable: API ✗ with the reason', async () => {
    const { frame, session, unmount } = await mount({ withKube: true });
    session.store.succeed(
      'cluster',
      'kube.api',
      {
        context: 'fixture-ctx',
        server: 'https://10.77.0.11:6443',
        via: 'tunnel',
        tlsServerName: '10.77.0.11',
        reachable: true,
        serverVersion: 'v1.33.4',
      },
      FIXTURE_NOW,
    );
    session.store.flushSync();
    await new Promise((r) => setTimeout(r, 30));
    expect(frame().split('\n')[0]).toContain('TUNNEL');
    expect(frame()).toContain('API v1.33.4 (SSH tunnel)');
    session.store.fail(
      'cluster',
      'kube.api',
      { kind: 'unreachable', message: 'connect ECONNREFUSED 127.0.0.1:6443' },
      FIXTURE_NOW,
    );
    session.store.flushSync();
    await new Promise((r) => setTimeout(r, 30));
    expect(frame().split('\n')[0]).toContain('API ✗');
    expect(frame()).toContain('API unreachable: connect');
    unmount();
  });
});

describe('App shell: accepting a host key from the console', () => {
  it(':accept-hostkey NODE runs the action and shows its result; unknown node is an error', async () => {
    const { frame, type, session, unmount } = await mount();
    const asked: string[] = [];
    session.acceptHostKey = async (node) => {
      asked.push(node);
      return { ok: true, message: `${node}: host key recorded in known_hosts; reconnecting` };
    };
    await type(':', 'accept-hostkey worker-2', ENTER);
    await new Promise((r) => setTimeout(r, 30));
    expect(asked).toEqual(['worker-2']);
    expect(frame()).toContain('worker-2: host key recorded in known_hosts; reconnecting');
    await type(':', 'accept-hostkey nope', ENTER);
    expect(frame()).toContain('no node named "nope"');
    expect(asked).toEqual(['worker-2']);
    unmount();
  });
});
