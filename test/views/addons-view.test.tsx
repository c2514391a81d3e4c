/**
 * The Jobs pane's Addons view and `S`, on a live session (no nodes, no kube API) whose
 * addon manifest names release artefacts on a loopback HTTPS server (real openssl
 * certificate, trusted through the session's fetch CA): `a` shows each declared addon with
 * its pin and flags; `S` opens the typed confirmation (the selected addon, or all with Tab);
 * a sync of all that meets a changed upstream is a PIN MISMATCH — nothing written, flagged in
 * the view; a sync of the unpinned addon alone writes its pin, the diff of the pins written
 * is in the job's log, and the view shows it pinned at once (the manifest source is
 * refreshed when the job ends). A read-only session refuses S.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPin } from '../../src/actions/addons/nix-hash.js';
import { createSession, type Session } from '../../src/session/session.js';
import { App } from '../../views/App.js';
import { monoTheme } from '../../views/theme.js';
import { type ArtefactServer, startArtefactServer } from '../helpers/artefact-server.js';
import { fixtureInventory } from '../helpers/fixture-session.js';

const root = mkdtempSync(join(tmpdir(), 'k8ops-addons-view-'));
let srv: ArtefactServer;
beforeAll(async () => {
  srv = await startArtefactServer();
});
afterAll(async () => {
  await srv?.close();
  rmSync(root, { recursive: true, force: true });
});

const ENTER = '\r';
const TAB = '\t';
const SIZE = { columns: 140, rows: 36 };
const tick = () => new Promise((r) => setTimeout(r, 25));
const sha = (b: Buffer) => createHash('sha256').update(b).digest();

function manifest(ciliumPin: string): string {
  return `{
  "$comment": "view test",
  "version": 1,
  "addons": [
    {
      "name": "cert-manager",
      "version": "1.19.1",
      "format": "yaml",
      "url": "${srv.base}/cert-manager/v1.19.1/cert-manager.yaml",
      "sha256": ""
    },
    {
      "name": "cilium",
      "version": "1.17.8",
      "format": "helm",
      "url": "${srv.base}/charts/cilium-1.17.8.tgz",
      "namespace": "kube-system",
      "sha256": "${ciliumPin}"
    }
  ]
}
`;
}

async function mount(readOnly: boolean, file: string) {
  const inventory = { ...fixtureInventory(), addons: { manifest: file } };
  const session: Session = createSession({
    mode: 'live',
    inventory,
    agents: new Map(),
    readOnly,
    stateDir: join(root, readOnly ? 'state-ro' : 'state'),
    fetchCa: srv.ca,
  });
  session.start();
  const r = render(<App session={session} theme={monoTheme} size={SIZE} />);
  await tick();
  const type = async (...keys: string[]) => {
    for (const k of keys) {
      r.stdin.write(k);
      await tick();
    }
  };
  const frame = () => r.lastFrame() ?? '';
  const until = async (ok: (f: string) => boolean, what: string, ms = 30_000) => {
    const end = Date.now() + ms;
    while (!ok(frame())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${frame()}`);
      await tick();
    }
  };
  return { session, r, type, frame, until };
}

describe('Addons view and S (HTTPS artefacts on loopback)', () => {
  it('flags, a pin mismatch that writes nothing, then a sync that writes the pin and shows the diff', async () => {
    const yaml = Buffer.from('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: cert-manager\n');
    const chartOld = Buffer.from('cilium chart 1.17.8 as it was pinned');
    const chartNow = Buffer.from('cilium chart 1.17.8 re-uploaded upstream');
    srv.files.set('/cert-manager/v1.19.1/cert-manager.yaml', yaml);
    srv.files.set('/charts/cilium-1.17.8.tgz', chartNow);
    const file = join(root, 'addons.json');
    const oldPin = formatPin(sha(chartOld), 'sri');
    writeFileSync(file, manifest(oldPin));
    const { session, type, frame, until, r } = await mount(false, file);

    await type('8', 'a');
    await until((f) => f.includes(`addons of ${file}`), 'the Addons view');
    await until((f) => /cert-manager +1\.19\.1 +yaml +unpinned/.test(f), 'the rows');
    expect(frame()).toMatch(/cert-manager .* NO PIN/);
    expect(frame()).toMatch(/cilium +1\.17\.8 +helm +sha256-/);
    expect(frame()).toContain(
      'pin      none: the Nix module refuses to build it until a sync fills it',
    );
    expect(frame()).toContain('a jobs');
    expect(frame()).toContain('S sync');

    // S on cert-manager; Tab: all addons. The upstream changed under cilium's pin.
    await type('S');
    await until((f) => f.includes('Confirm: addons sync: cert-manager 1.19.1'), 'the confirmation');
    expect(frame()).toContain('sync: [cert-manager] | all addons');
    expect(frame()).toMatch(
      /cert-manager 1\.19\.1 +https:\/\/127\.0\.0\.1:\d+\/cert-manager\/v1\.19\.1\/cert-manager\.yaml +unpinned/,
    );
    await type(TAB);
    expect(frame()).toContain('Confirm: addons sync: cert-manager 1.19.1, cilium 1.17.8');
    expect(frame()).toContain('Type all to start it');
    await type('all', ENTER);
    await until((f) => f.includes('started addons sync'), 'started');
    await type('a');
    await until(
      (f) =>
        / failed +\d\d-\d\d [\d:]{8} +addons sync: cert-manager 1\.19\.1, cilium 1\.17\.8/.test(f),
      'the failed sync',
    );
    expect(frame()).toMatch(
      /pin mismatch: cilium \(the URL's content changed at the same version\) — nothing written/,
    );
    expect(readFileSync(file, 'utf8')).toBe(manifest(oldPin));
    // Back in the Addons view: cilium flagged, cert-manager still unpinned.
    await type('a');
    await until((f) => /cilium .* PIN MISMATCH/.test(f), 'the mismatch flag');
    expect(frame()).toMatch(/cert-manager .* NO PIN/);
    await type('j');
    await until((f) => f.includes('-- cilium 1.17.8 (helm)'), 'cilium selected');
    expect(frame()).toMatch(
      /sync +pin mismatch: https:\/\/127\.0\.0\.1:\d+\/charts\/cilium-1\.17\.8\.tgz now serves other bytes at 1\.17\.8/,
    );

    // S on cert-manager alone: its pin is written, the diff logged, the view shows it.
    await type('k', 'S');
    await until(
      (f) => f.includes('Confirm: addons sync: cert-manager 1.19.1'),
      'the second confirmation',
    );
    await type('cert-manager', ENTER);
    await type('a');
    await until(
      (f) => / ok +\d\d-\d\d [\d:]{8} +addons sync: cert-manager 1\.19\.1 /.test(f),
      'the sync ok',
    );
    const pin = formatPin(sha(yaml), 'base32');
    const written = readFileSync(file, 'utf8');
    expect(written).toBe(manifest(oldPin).replace('"sha256": ""', `"sha256": "${pin}"`));
    const job = session.jobs.list()[0]!;
    const log = readFileSync(join(root, 'state', 'jobs', `${job.id}.log`), 'utf8');
    expect(log).toContain(`--- ${file}`);
    expect(log).toMatch(/- {6}"sha256": ""\n.*\+ {6}"sha256": "[0-9a-df-np-sv-z]{52}"/);
    expect(log).toContain(`+      "sha256": "${pin}"`);
    await type('a');
    await until(
      (f) => /cert-manager +1\.19\.1 +yaml +[0-9a-df-np-sv-z]{17}…/.test(f),
      'the pin shown',
    );
    expect(frame()).toMatch(/sync +pinned: sha256 [0-9a-df-np-sv-z]{52} \(written\)/);
    expect(frame()).not.toMatch(/cert-manager .* NO PIN/);
    for (const fr of r.frames) expect(fr.split('\n').length).toBeLessThanOrEqual(SIZE.rows);
    await session.close();
  }, 120_000);

  it('a read-only session refuses S', async () => {
    const file = join(root, 'addons-ro.json');
    writeFileSync(file, manifest(''));
    const { session, type, until } = await mount(true, file);
    await type('8', 'a');
    await until((f) => f.includes('cert-manager'), 'the rows');
    await type('S');
    await until(
      (f) => f.includes('read-only session (--read-only): addon-sync cert-manager refused'),
      'the refusal',
    );
    expect(session.jobs.list()).toEqual([]);
    await session.close();
  }, 60_000);
});
