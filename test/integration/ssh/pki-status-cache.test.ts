/**
 * Issue 13, cause 2 — SshNodeAgent.pkiStatus over real OpenSSH sshd (bastion + node in
 * network namespaces): the document equals what nix/pki/status.sh prints for the same
 * directory (and scanPkiDir's); a warm refresh of an unchanged node is ONE request at the
 * transport (SshHost.run / exec calls counted); a touched, rotated or new file is derived
 * again; private key bytes never reach k8ops; odd names fall back to status.sh itself.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/config/types.js';
import { type ExecFn, remotePkiStatus } from '../../../src/nodes/pki-status-remote.js';
import { SshNodeAgent } from '../../../src/nodes/ssh-agent.js';
import { scanPkiDir } from '../../../src/pki/status.js';
import type { PkiStatus } from '../../../src/pki/types.js';
import { SshPool } from '../../../src/ssh/pool.js';
import { type Issued, issue, makeRoot, pubToPem } from '../../helpers/pki-certs.js';
import { describeLab } from '../../helpers/sshd-suite.js';

const node: NodeSpec = { name: 'node1', index: 0, host: 'node1', addresses: [], roles: ['worker'] };

/** nix/pki/status.sh run here, on the same directory (the node's view is the same files). */
const localExec: ExecFn = (command, stdin) =>
  new Promise((resolve) => {
    const p = spawn('sh', ['-c', command], { env: { ...process.env, LC_ALL: 'C' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('close', (code) => resolve({ stdout, stderr, code }));
    p.stdin.on('error', () => {});
    p.stdin.end(stdin ?? '');
  });

const opensslOk = spawnSync('sh', ['-c', 'command -v openssl && command -v jq'], {
  stdio: 'ignore',
}).status;

/** Every field status.sh reports, errors included. */
const full = (s: PkiStatus) => s.files.map((f) => ({ ...f }));

function counting(agent: SshNodeAgent) {
  const n = { run: 0, exec: 0, stdout: [] as string[] };
  const host = agent.host;
  const run = host.run.bind(host);
  const exec = host.exec.bind(host);
  host.run = async (...a) => {
    n.run++;
    const r = await run(...a);
    n.stdout.push(r.stdout);
    return r;
  };
  host.exec = async (...a) => {
    n.exec++;
    const r = await exec(...a);
    n.stdout.push(r.stdout);
    return r;
  };
  return n;
}

describeLab('pki-status over SSH: one stat request when nothing changed', (lab) => {
  let root: Issued;
  let leaf: Issued;
  let next: Issued;
  const dirOf = () => join(lab().dir, 'pki-status');

  async function setup(): Promise<string> {
    const dir = dirOf();
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    root ??= await makeRoot();
    leaf ??= await issue(root, { cn: 'kube-apiserver', eku: ['serverAuth'] });
    next ??= await issue(root, { cn: 'kube-apiserver', eku: ['serverAuth'] });
    writeFileSync(join(dir, 'kube-apiserver.pem'), leaf.pem + root.pem);
    writeFileSync(join(dir, 'kube-apiserver-key.pem'), leaf.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'sa.pub'), pubToPem(leaf.keys.publicKey));
    writeFileSync(join(dir, 'notes.txt'), 'not a certificate\n');
    writeFileSync(join(dir, 'loose-key.pem'), root.keyPem, { mode: 0o644 });
    writeFileSync(join(dir, 'cert-with-key.pem'), leaf.pem + leaf.keyPem, { mode: 0o600 });
    writeFileSync(
      join(dir, 'broken-key.pem'),
      '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
    );
    writeFileSync(join(dir, '.hidden.pem'), root.pem);
    symlinkSync(join(dir, 'gone.pem'), join(dir, 'dangling.pem'));
    mkdirSync(join(dir, 'etcd'));
    return dir;
  }

  const pool = () =>
    new SshPool({ sshConfigFile: lab().configFile, agentSocket: 'none', backoffInitialMs: 200 });

  it.skipIf(opensslOk !== 0)(
    'equals status.sh (every field) and scanPkiDir, cold; warm is one request',
    async () => {
      const dir = await setup();
      const p = pool();
      try {
        const agent = new SshNodeAgent(node, { pool: p });
        const n = counting(agent);
        const cold = await agent.pkiStatus(dir);
        // identity + derive (ONE storeutl for the key files), both on the shell, + the
        // broken key's own `openssl pkey` (the one storeutl found no key in it)
        expect(n).toMatchObject({ run: 3, exec: 0 });
        expect(agent.pkiStatusStats.pubFallback).toBe(1);
        const script = await remotePkiStatus(localExec, dir, { node: 'node1' });
        expect(cold.node).toBe('node1');
        expect(cold.pkiDir).toBe(script.pkiDir);
        expect(full(cold)).toEqual(full(script));
        const local = await scanPkiDir({
          node: 'node1',
          nodeDir: dir,
          hostDir: dir,
          ownerOf: () => ({ owner: 'root', group: 'root' }),
        });
        // (scanPkiDir gives a dangling symlink no mode or size; status.sh does: compared above)
        const core = (s: PkiStatus) =>
          s.files
            .filter((f) => f.exists)
            .map((f) => [f.path, f.kind, f.exists, f.mode, f.size, f.pubkeySha256]);
        expect(core(cold)).toEqual(core(local));
        // the key matches its certificate; the digests are real
        const byName = new Map(cold.files.map((f) => [f.path.split('/').pop(), f]));
        expect(byName.get('kube-apiserver-key.pem')!.pubkeySha256).toMatch(/^[0-9a-f]{64}$/);
        expect(byName.get('kube-apiserver-key.pem')!.pubkeySha256).toBe(
          byName.get('kube-apiserver.pem')!.pubkeySha256,
        );
        expect(byName.get('broken-key.pem')!.error).toMatch(/could not read the private key/);
        expect(byName.get('dangling.pem')).toMatchObject({
          exists: false,
          error: 'dangling symlink',
        });
        expect(byName.has('etcd')).toBe(false);

        // warm: one request, nothing derived (the broken key too: remembered by its identity)
        const derivedBefore = agent.pkiStatusStats.derived;
        const warm = await agent.pkiStatus(dir);
        expect(n).toMatchObject({ run: 4, exec: 0 });
        expect(agent.pkiStatusStats.derived).toBe(derivedBefore);
        expect(warm).toEqual(cold);
        // a mode change shows without deriving anything (stat every time)
        spawnSync('chmod', ['0640', join(dir, 'loose-key.pem')]);
        const chmodded = await agent.pkiStatus(dir);
        expect(chmodded.files.find((f) => f.path.endsWith('/loose-key.pem'))!.mode).toBe(0o640);
        expect(full(chmodded)).toEqual(
          full(await remotePkiStatus(localExec, dir, { node: 'node1' })),
        );
      } finally {
        await p.close();
      }
    },
  );

  it.skipIf(opensslOk !== 0)(
    'a touched file is derived again; a rotated key and certificate show the new digest',
    async () => {
      const dir = await setup();
      const p = pool();
      try {
        const agent = new SshNodeAgent(node, { pool: p });
        const n = counting(agent);
        await agent.pkiStatus(dir);
        const files = agent.pkiStatusStats.derived;
        // touch: same content, new mtime → derived again (one file)
        const t = new Date(Date.now() + 5000);
        utimesSync(join(dir, 'sa.pub'), t, t);
        const runs = n.run;
        await agent.pkiStatus(dir);
        expect(n.run - runs).toBe(2); // identity + derive of that one file
        expect(agent.pkiStatusStats.derived - files).toBe(1);
        // rotate: new pair written beside, renamed into place (what install.sh does)
        writeFileSync(join(dir, 'kube-apiserver-key.pem.new'), next.keyPem, { mode: 0o600 });
        writeFileSync(join(dir, 'kube-apiserver.pem.new'), next.pem + root.pem);
        renameSync(join(dir, 'kube-apiserver-key.pem.new'), join(dir, 'kube-apiserver-key.pem'));
        renameSync(join(dir, 'kube-apiserver.pem.new'), join(dir, 'kube-apiserver.pem'));
        const rotated = await agent.pkiStatus(dir);
        const by = new Map(rotated.files.map((f) => [f.path.split('/').pop(), f]));
        expect(by.get('kube-apiserver-key.pem')!.pubkeySha256).toBe(
          by.get('kube-apiserver.pem')!.pubkeySha256,
        );
        expect(by.get('kube-apiserver-key.pem')!.pubkeySha256).not.toBe(
          by.get('sa.pub')!.pubkeySha256, // sa.pub is still the old leaf's key
        );
        expect(full(rotated)).toEqual(
          full(await remotePkiStatus(localExec, dir, { node: 'node1' })),
        );
        // a deleted file leaves the document (and the cache)
        rmSync(join(dir, 'notes.txt'));
        const after = await agent.pkiStatus(dir);
        expect(after.files.some((f) => f.path.endsWith('/notes.txt'))).toBe(false);
      } finally {
        await p.close();
      }
    },
  );

  it.skipIf(opensslOk !== 0)(
    'a refresh of an unchanged node is ONE stat request for the certificate read and the status together; any change reads again',
    async () => {
      const dir = await setup();
      // (a hidden certificate file is read by a request of its own, never from the stat)
      rmSync(join(dir, '.hidden.pem'));
      // A certificate file with its key after it (a bundle): the certificate read sends it
      // with the key's body replaced on the node.
      writeFileSync(join(dir, 'bundle.pem'), leaf.pem + leaf.keyPem, { mode: 0o600 });
      const p = pool();
      try {
        const agent = new SshNodeAgent(node, { pool: p });
        const n = counting(agent);
        const both = () => Promise.all([agent.readCertFiles(dir), agent.pkiStatus(dir)]);
        const [cold, coldStatus] = await both();
        // the certificate read, which brings the status's derive along (its key section:
        // the status is asked for in the same moment and nothing is known yet), a second
        // read for the dangling symlink by a certificate name, then the broken key alone:
        // the status's derive (its stat: the certificate read's) and its own `openssl pkey`
        expect(n.run).toBe(4);
        // The two certificate files the read sent are not asked for again (kube-apiserver.pem,
        // and bundle.pem as that read sent it, key body replaced); of the six others (the
        // four *-key.pem, sa.pub, notes.txt) the read's key section derived five, all but
        // the broken key, which the one storeutl could not pair. Same document as status.sh's.
        expect(cold.find((f) => f.path.endsWith('/bundle.pem'))).toMatchObject({ ok: true });
        expect(agent.pkiStatusStats).toMatchObject({
          seeded: 2,
          seededKeys: 5,
          derive: 1,
          derived: 1,
        });
        const bySh = () => remotePkiStatus(localExec, dir, { node: 'node1' });
        expect(full(coldStatus)).toEqual(full(await bySh()));
        const onDisk = (name: string) => readFileSync(join(dir, name), 'utf8');
        expect(cold.find((f) => f.path.endsWith('/kube-apiserver.pem'))).toMatchObject({
          ok: true,
          content: onDisk('kube-apiserver.pem'),
        });
        // warm: the stat alone, shared by both; the same answers
        const [warm, warmStatus] = await both();
        expect(n.run).toBe(5);
        expect(agent.certReadsReused).toBe(1);
        expect(warm).toEqual(cold);
        expect(warmStatus).toEqual(coldStatus);
        // a certificate rewritten in place (new content, new ctime): read again
        writeFileSync(join(dir, 'kube-apiserver.pem'), next.pem + root.pem);
        const [changed, changedStatus] = await both();
        // stat, the certificate reads; the status takes the rewritten file from that read
        expect(n.run).toBe(5 + 3);
        // (no key section: the directory is known; nothing else derived)
        expect(agent.pkiStatusStats).toMatchObject({ seeded: 3, seededKeys: 5, derived: 1 });
        expect(full(changedStatus)).toEqual(full(await bySh()));
        expect(
          changedStatus.files.find((f) => f.path.endsWith('/kube-apiserver.pem'))!.pubkeySha256,
        ).not.toBe(
          coldStatus.files.find((f) => f.path.endsWith('/kube-apiserver.pem'))!.pubkeySha256,
        );
        expect(agent.certReadsReused).toBe(1);
        expect(changed.find((f) => f.path.endsWith('/kube-apiserver.pem'))).toMatchObject({
          ok: true,
          content: onDisk('kube-apiserver.pem'),
        });
        // a new certificate file, then a removed one: the listing changed, read again
        writeFileSync(join(dir, 'front-proxy-client.pem'), leaf.pem);
        const added = await agent.readCertFiles(dir);
        expect(added.map((f) => f.path.split('/').pop())).toContain('front-proxy-client.pem');
        rmSync(join(dir, 'front-proxy-client.pem'));
        const removed = await agent.readCertFiles(dir);
        expect(removed.map((f) => f.path.split('/').pop())).not.toContain('front-proxy-client.pem');
        expect(removed).toEqual(changed);
        // unchanged again: from the stat
        const reused = agent.certReadsReused;
        expect(await agent.readCertFiles(dir)).toEqual(changed);
        expect(agent.certReadsReused).toBe(reused + 1);
        // the dangling symlink's target appears: no longer dangling, read again
        writeFileSync(join(dir, 'gone.pem'), root.pem);
        const found = await agent.readCertFiles(dir);
        expect(agent.certReadsReused).toBe(reused + 1);
        expect(found.find((f) => f.path.endsWith('/dangling.pem'))).toMatchObject({
          ok: true,
          content: root.pem,
        });
      } finally {
        await p.close();
      }
    },
  );

  it.skipIf(opensslOk !== 0)(
    'a cold certificate read and status of certificates and keys is ONE request; the same document as status.sh',
    async () => {
      const dir = await setup();
      for (const f of ['broken-key.pem', 'dangling.pem', '.hidden.pem'])
        rmSync(join(dir, f), { force: true });
      writeFileSync(join(dir, '.srl'), '01\n');
      const p = pool();
      try {
        const agent = new SshNodeAgent(node, { pool: p });
        const n = counting(agent);
        const [certs, status] = await Promise.all([agent.readCertFiles(dir), agent.pkiStatus(dir)]);
        expect(n).toMatchObject({ run: 1, exec: 0 });
        // the key files, sa.pub, notes.txt and .srl from the read's key section
        expect(agent.pkiStatusStats).toMatchObject({ seededKeys: 6, derive: 0, derived: 0 });
        expect(full(status)).toEqual(
          full(await remotePkiStatus(localExec, dir, { node: 'node1' })),
        );
        // (cert-with-key.pem has a key file's name: the status's, not the read's)
        expect(certs.map((f) => f.path.split('/').pop())).toEqual(['kube-apiserver.pem']);
        // a status alone later (the console's PKI pane): from the cache, one stat
        await agent.pkiStatus(dir);
        expect(n.run).toBe(2);
        expect(agent.pkiStatusStats.derive).toBe(0);
        // a read without a status in the same moment (the Overview alone) has no key section
        const other = new SshNodeAgent(node, { pool: p });
        await other.readCertFiles(dir);
        expect(other.pkiStatusStats.seededKeys).toBe(0);
      } finally {
        await p.close();
      }
    },
  );

  it.skipIf(opensslOk !== 0)(
    'no private key byte reaches k8ops (only public keys and redacted files)',
    async () => {
      const dir = await setup();
      const p = pool();
      try {
        const agent = new SshNodeAgent(node, { pool: p });
        const n = counting(agent);
        await agent.pkiStatus(dir);
        // and the certificate read's key section (a cold read and status together)
        const agent2 = new SshNodeAgent(node, { pool: p });
        const n2 = counting(agent2);
        await Promise.all([agent2.readCertFiles(dir), agent2.pkiStatus(dir)]);
        expect(agent2.pkiStatusStats.seededKeys).toBeGreaterThanOrEqual(4);
        const wire = [...n.stdout, ...n2.stdout].join('\n');
        for (const pem of [leaf.keyPem, root.keyPem]) {
          const body = pem
            .split('\n')
            .filter((l) => l && !l.startsWith('-----'))
            .join('');
          const b64 = Buffer.from(pem).toString('base64');
          expect(wire).not.toContain(body.slice(0, 40));
          expect(wire).not.toContain(b64.slice(0, 40));
          // what went out base64-encoded, decoded: no key body either
          for (const m of wire.matchAll(/^[A-Za-z0-9+/]{64,}={0,2}$/gm)) {
            expect(Buffer.from(m[0], 'base64').toString('utf8')).not.toContain(body.slice(0, 40));
          }
        }
      } finally {
        await p.close();
      }
    },
  );

  it.skipIf(opensslOk !== 0)(
    'a name that needs quoting falls back to status.sh itself, same document; a missing directory is `missing`',
    async () => {
      const dir = await setup();
      writeFileSync(join(dir, "it's odd.pem"), 'not a certificate\n');
      const p = pool();
      try {
        const agent = new SshNodeAgent(node, { pool: p });
        const n = counting(agent);
        const st = await agent.pkiStatus(dir);
        expect(n.exec).toBe(1); // status.sh over exec (stdin)
        expect(agent.pkiStatusStats.fallbacks).toBe(1);
        expect(full(st)).toEqual(full(await remotePkiStatus(localExec, dir, { node: 'node1' })));
        await expect(agent.pkiStatus(join(dir, 'nope'))).rejects.toMatchObject({ kind: 'missing' });
      } finally {
        await p.close();
      }
    },
  );

  it.skipIf(opensslOk !== 0)(
    "a refresh's quick reads (the PKI stat, ip link, nginx's pgrep) share ONE request; each gets its own answer, exit status, stderr and limits",
    async () => {
      const dir = await setup();
      rmSync(join(dir, '.hidden.pem'));
      const p = pool();
      try {
        const agent = new SshNodeAgent(node, { pool: p });
        await Promise.all([agent.readCertFiles(dir), agent.pkiStatus(dir)]); // cold
        const n = counting(agent);
        const quick = { readOnly: true, quick: true };
        const refresh = () =>
          Promise.all([
            agent.readCertFiles(dir),
            agent.pkiStatus(dir),
            agent.exec(['ip', '-j', '-d', 'link', 'show'], quick),
            agent.exec(['sh', '-c', 'echo out; echo err >&2; exit 4'], quick),
            agent.exec(['pgrep', '-a', '-f', '^k8ops-no-such-process'], quick),
          ]);
        const [certs, status, ip, failing, pgrep] = await refresh();
        expect(n.run).toBe(1); // one request for the five
        expect(agent.quickBatches).toBe(1);
        expect(certs.length).toBeGreaterThan(0);
        expect(status.files.length).toBeGreaterThan(0);
        expect(ip.code).toBe(0);
        expect(JSON.parse(ip.stdout)).toEqual(
          expect.arrayContaining([expect.objectContaining({ ifname: 'lo' })]),
        );
        expect(failing).toEqual({ stdout: 'out\n', stderr: 'err\n', code: 4 });
        expect(pgrep.code).toBe(1);
        // again: one more request, the same answers
        const again = await refresh();
        expect(n.run).toBe(2);
        expect(again[0]).toEqual(certs);
        expect(again[1]).toEqual(status);
        // a part over its own output limit fails alone; an aborted caller stops waiting alone
        const ac = new AbortController();
        const [big, aborted, fine] = await Promise.allSettled([
          agent.exec(['head', '-c', '5000', '/dev/zero'], { ...quick, maxOutputBytes: 1000 }),
          agent.exec(['sleep', '1'], { ...quick, signal: ac.signal }),
          agent.exec(['echo', 'fine'], quick),
          Promise.resolve().then(() => ac.abort(new Error('user gave up'))),
        ]);
        expect(n.run).toBe(3);
        expect(big).toMatchObject({ status: 'rejected', reason: { kind: 'output-limit' } });
        expect(aborted).toMatchObject({ status: 'rejected', reason: { message: 'user gave up' } });
        expect(fine).toMatchObject({ status: 'fulfilled', value: { stdout: 'fine\n', code: 0 } });
        // a lone quick read goes out as before, as its own request
        const batches = agent.quickBatches;
        expect((await agent.exec(['echo', 'alone'], quick)).stdout).toBe('alone\n');
        expect(agent.quickBatches).toBe(batches);
        expect(n.run).toBe(4);
      } finally {
        await p.close();
      }
    },
  );
});
