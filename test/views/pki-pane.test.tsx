/**
 * The PKI pane on the demo lab's real PKI (generated at FIXTURE_NOW): the tree, the marks,
 * countdowns ticking on the shared clock (fake timers), details, worst-first order, the
 * pane-local filter, and every frame within 80×24.
 */
import { render } from 'ink-testing-library';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Session } from '../../src/session/session.js';
import { App } from '../../views/App.js';
import { monoTheme } from '../../views/theme.js';
import { FIXTURE_NOW, loadPkiFixture, pkiFixtureSession } from '../helpers/pki-fixture.js';

const ESC = '\x1b';
const ENTER = '\r';
const SIZE = { columns: 120, rows: 40 };

/** Let Ink read stdin and React commit (real macrotasks; only timers and Date are faked). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

let sessions: Session[] = [];
beforeAll(async () => {
  await loadPkiFixture();
}, 60_000);
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(sessions.map((s) => s.close()));
  sessions = [];
});

async function mount(size = SIZE) {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
  });
  vi.setSystemTime(FIXTURE_NOW);
  const session = await pkiFixtureSession(() => Date.now());
  sessions.push(session);
  const r = render(<App session={session} theme={monoTheme} size={size} />);
  await settle();
  const type = async (...keys: string[]) => {
    for (const k of keys) {
      r.stdin.write(k);
      // Ink waits briefly for the rest of an escape sequence before taking a lone Esc.
      if (k === ESC) await vi.advanceTimersByTimeAsync(30);
      await settle();
    }
  };
  const frame = () => r.lastFrame() ?? '';
  const line = (re: RegExp) =>
    frame()
      .split('\n')
      .find((l) => re.test(l)) ?? '';
  return { ...r, session, type, frame, line };
}

describe('PKI pane', () => {
  it('renders the tree: root → intermediates → leaves with node and file, marks and countdowns', async () => {
    const { frame, type, line, unmount } = await mount();
    await type('2');
    const f = frame();
    expect(f).toContain('49 certs · 61 files · ✗ 0 ! 2 i 0 · tree order');
    expect(f).toMatch(/CERTIFICATE\s+EXPIRES\s+WHERE/);
    expect(line(/k8s-root/)).toMatch(/✓ k8s-root\s+14198d 00:00:00\s+cp-1:k8s-root\.pem/); // selected: seconds
    expect(line(/ {2}etcd-ca/)).toMatch(/✓ {3}etcd-ca\s+24d 00:00\s+13 files on 3 nodes/);
    expect(line(/kubernetes-ca /)).toMatch(/40 files on 6 nodes/);
    expect(f).toMatch(/✓ {5}kube-etcd\s+13d \d\d:\d\d\s+cp-1:etcd-server\.pem/);
    unmount();
  });

  it('countdowns tick from the shared clock: the selected row every second, the others per minute', async () => {
    const { type, line, unmount } = await mount();
    await type('2', 's', 'j', 'j'); // worst first: root, kubernetes-ca, worker-2's kubelet
    const w2 = () => line(/worker-2:kubelet\.pem/);
    const w3 = () => line(/worker-3:kubelet-client\.pem/);
    expect(w2()).toMatch(/! {5}system:node:worker-2\s+4d 06:00:00\s/);
    expect(w3()).toMatch(/! {5}system:node:worker-3\s+7d 08:01\s/);
    // The clock fires just after each whole second (+5 ms).
    await vi.advanceTimersByTimeAsync(1_010);
    await settle();
    expect(w2()).toMatch(/4d 05:59:59\s/);
    expect(w3()).toMatch(/7d 08:01\s/); // unselected rows wait for the minute
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(w2()).toMatch(/4d 05:58:59\s/);
    expect(w3()).toMatch(/7d 08:00\s/);
    unmount();
  });

  it('s toggles tree order and worst-first; the hint bar says which', async () => {
    const { frame, type, unmount } = await mount();
    await type('2');
    const leafRows = () =>
      frame()
        .split('\n')
        .filter((l) => /[✓!✗] {5}\S/.test(l));
    expect(leafRows()[0]).toMatch(/kube-apiserver-etcd-client.*cp-1:apiserver-etcd-client\.pem/);
    expect(frame()).toContain('s worst first');
    await type('s');
    expect(frame()).toContain('· worst first');
    expect(leafRows()[0]).toMatch(
      /^.*! {5}system:node:worker-2\s+4d 06:00\s+worker-2:kubelet\.pem/,
    );
    expect(leafRows()[1]).toMatch(
      /! {5}system:node:worker-3\s+7d 08:01\s+worker-3:kubelet-client\.pem/,
    );
    expect(frame()).toContain('s tree order');
    await type('s');
    expect(frame()).toContain('· tree order');
    unmount();
  });

  it('Enter opens the details with every field and check; j/k scroll; Esc closes', async () => {
    const { frame, type, unmount } = await mount();
    await type('2', 's', 'j', 'j', ENTER);
    const f = frame();
    for (const s of [
      '! system:node:worker-2',
      'subject      O=system:nodes, CN=system:node:worker-2',
      'issuer       O=k8ops, CN=kubernetes-ca (chain verified)',
      'serial',
      'key          ECDSA P-521 · ecdsa-with-SHA512',
      'SANs         DNS:worker-2, IP:10.77.0.22',
      'key usages   digitalSignature, keyEncipherment',
      'EKUs         serverAuth',
      'not before',
      'not after',
      'expires in   4d 06:00:00',
      'fingerprint  SHA-256',
      'location     worker-2 /etc/kubernetes/pki/kubelet.pem',
      'checks       ! warning renew-window',
    ])
      expect(f).toContain(s);
    expect(f).toContain('Esc close details');
    await vi.advanceTimersByTimeAsync(1_010);
    await settle();
    expect(frame()).toContain('expires in   4d 05:59:59');
    await type(ESC);
    expect(frame()).toMatch(/CERTIFICATE\s+EXPIRES/);
    expect(frame()).not.toContain('fingerprint  SHA-256');
    unmount();
  });

  it('details scroll when they do not fit (80×24), and the intermediate lists every location', async () => {
    const { frame, type, unmount } = await mount({ columns: 80, rows: 24 });
    await type('2', 'j', ENTER); // etcd-ca: 13 locations
    expect(frame()).toMatch(/lines 1–\d+ of \d+ · j\/k scroll · Esc closes/);
    expect(frame()).toContain('subject      O=k8ops, CN=etcd-ca');
    await type('G');
    expect(frame()).toContain('checks       ✓ every check passed');
    expect(frame()).not.toContain('subject      O=k8ops');
    await type('g');
    expect(frame()).toContain('subject      O=k8ops, CN=etcd-ca');
    unmount();
  });

  it('/ filters the tree (pane-local), keeping ancestors; Esc clears', async () => {
    const { frame, type, unmount } = await mount();
    await type('2', '/', 'worker-3', ENTER);
    const f = frame();
    expect(f).toContain('certificates /worker-3 (Esc clears)');
    expect(f).toContain('k8s-root');
    expect(f).toContain('kubernetes-ca');
    expect(f).toContain('worker-3:kubelet.pem');
    expect(f).not.toContain('etcd-ca');
    expect(f).not.toContain('worker-2:kubelet.pem');
    expect(f).toMatch(/^. worker-2 /m); // the node list is not filtered
    await type(ESC);
    expect(frame()).toContain('etcd-ca');
    unmount();
  });

  it('every frame fits 80×24 and 60×12 while navigating', async () => {
    for (const size of [
      { columns: 80, rows: 24 },
      { columns: 60, rows: 12 },
    ]) {
      const { frames, type, unmount } = await mount(size);
      await type(
        '2',
        'j',
        'j',
        'G',
        's',
        'g',
        ENTER,
        'j',
        'j',
        ESC,
        '/',
        'cp',
        ENTER,
        '?',
        ESC,
        '1',
      );
      expect(frames.length).toBeGreaterThan(5);
      for (const fr of frames) {
        const lines = fr.split('\n');
        expect(lines.length).toBeLessThanOrEqual(size.rows);
        for (const l of lines) expect([...l].length).toBeLessThanOrEqual(size.columns);
      }
      unmount();
      vi.useRealTimers();
    }
  });
});
