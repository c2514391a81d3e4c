/**
 * `k8ops certs --path` (built) on directories a k8ops layout did not make: a PKI made with
 * openssl under its own file names (judged on certificates and keys; names are info without
 * --node, warnings with it), a certificate file holding its private key, more files than
 * the process may open at once, and directories that cannot be read.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt } from '../helpers/build.js';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

let home: string;
let env: Record<string, string>;
/** openssl's PKI: root and issuing CA, a server and a client pair (X.crt + X.key). */
let acme: string;
/** Where the root's key is kept (offline: not in the scanned directory). */
let offline: string;

/** Run `argv` (default: the built CLI with `args`) in the test's home. */
function exec(argv: string[]) {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    timeout: 120_000,
    cwd: home,
    env,
    maxBuffer: 64 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const k8ops = (args: string[]) => exec(['node', BIN, ...args]);

interface CertsDoc {
  exitCode: number;
  summary: { critical: number; warning: number; info: number; certificates: number };
  checks: Array<{ id: string; severity: string; path: string; message: string }>;
}
interface TreeJson {
  locations?: Array<{ path: string }>;
  children: TreeJson[];
}
const json = (stdout: string): CertsDoc => JSON.parse(stdout) as CertsDoc;
const base = (p: string): string => p.split('/').pop()!;

function ossl(cwd: string, ...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A P-521 / SHA-512 key pair signed by `ca` (or self-signed when `ca` is undefined). */
function pair(
  dir: string,
  name: string,
  subj: string,
  ext: string,
  ca?: { crt: string; key: string },
  days = '90',
): void {
  ossl(dir, 'ecparam', '-name', 'secp521r1', '-genkey', '-noout', '-out', `${name}.key`);
  writeFileSync(join(dir, `${name}.ext`), ext);
  if (!ca) {
    ossl(
      dir,
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}.key`,
      '-sha512',
      '-days',
      days,
      '-subj',
      subj,
      '-extensions',
      'v3',
      '-config',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    );
    return;
  }
  ossl(dir, 'req', '-new', '-key', `${name}.key`, '-sha512', '-subj', subj, '-out', `${name}.csr`);
  ossl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    ca.crt,
    '-CAkey',
    ca.key,
    '-sha512',
    '-days',
    days,
    '-set_serial',
    `0x${Buffer.from(name).toString('hex')}`,
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  );
}

beforeAll(() => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'k8ops-e2e-path-'));
  env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_STATE_HOME: join(home, 'state'),
    K8OPS_NO_VERDICT_CACHE: '1',
  };
  if (!haveOpenssl) return;
  offline = join(home, 'offline');
  acme = join(home, 'acme');
  mkdirSync(offline);
  mkdirSync(acme);
  pair(
    offline,
    'root-ca',
    '/O=Acme/CN=Acme Root CA',
    '[req]\ndistinguished_name=dn\n[dn]\n[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n',
    undefined,
    '3650',
  );
  const root = { crt: join(offline, 'root-ca.crt'), key: join(offline, 'root-ca.key') };
  pair(
    offline,
    'issuing-ca',
    '/O=Acme/CN=Acme Issuing CA',
    'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
    root,
    '365',
  );
  const ca = { crt: join(offline, 'issuing-ca.crt'), key: join(offline, 'issuing-ca.key') };
  const leaf = (eku: string, san: string) =>
    `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=${eku}\n${san}`;
  pair(
    acme,
    'server',
    '/CN=api.acme.test',
    leaf('serverAuth', 'subjectAltName=DNS:api.acme.test\n'),
    ca,
  );
  pair(acme, 'client', '/O=ops/CN=alice', leaf('clientAuth', ''), ca);
  const issuing = readFileSync(ca.crt, 'utf8');
  for (const n of ['server', 'client']) {
    // Chain files: leaf, then the issuing CA. Keys 0600, certificates 0644.
    writeFileSync(join(acme, `${n}.crt`), readFileSync(join(acme, `${n}.crt`), 'utf8') + issuing);
    chmodSync(join(acme, `${n}.key`), 0o600);
    chmodSync(join(acme, `${n}.crt`), 0o644);
    rmSync(join(acme, `${n}.csr`));
    rmSync(join(acme, `${n}.ext`));
  }
  copyFileSync(root.crt, join(acme, 'root-ca.crt'));
  copyFileSync(ca.crt, join(acme, 'issuing-ca.crt'));
  writeFileSync(join(acme, 'ca-bundle.crt'), issuing + readFileSync(root.crt, 'utf8'));
}, 120_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

const ACME_FILES = [
  'ca-bundle.crt',
  'client.crt',
  'client.key',
  'issuing-ca.crt',
  'root-ca.crt',
  'server.crt',
  'server.key',
];

describe.skipIf(!haveOpenssl)('certs --path on a PKI made by openssl (other file names)', () => {
  it('without --node: sound → exit 0; every name the layout lacks is info (unlisted-file)', () => {
    const r = k8ops(['certs', '--json', '--path', acme]);
    expect(r.stderr).toBe('');
    const doc = json(r.stdout);
    expect(doc.checks.filter((c) => c.severity !== 'info')).toEqual([]);
    expect(r.code).toBe(0);
    expect(doc.summary.certificates).toBe(4);
    expect(
      doc.checks
        .filter((c) => c.id === 'unlisted-file')
        .map((c) => [base(c.path), c.severity])
        .sort(),
    ).toEqual(ACME_FILES.map((n) => [n, 'info']));
    // The chain is verified up to the root, which is in the directory: nothing else to say.
    expect(doc.checks.map((c) => c.id).filter((id) => id !== 'unlisted-file')).toEqual([]);
  });

  it('with --node the same names are judged against the layout: warnings (unknown-file), exit 1', () => {
    const r = k8ops(['certs', '--json', '--path', acme, '--node', 'acme-1']);
    const doc = json(r.stdout);
    expect(r.code).toBe(1);
    expect(
      doc.checks
        .filter((c) => c.severity !== 'info')
        .map((c) => [c.id, base(c.path)])
        .sort(),
    ).toEqual(ACME_FILES.map((n) => ['unknown-file', n]));
  });

  it('without --node its keys are still judged: the client key under the server name → critical', () => {
    const copy = mkdtempSync(join(home, 'acme-swapped-'));
    for (const n of ACME_FILES) copyFileSync(join(acme, n), join(copy, n));
    copyFileSync(join(acme, 'client.key'), join(copy, 'server.key'));
    chmodSync(join(copy, 'server.key'), 0o600);
    const r = k8ops(['certs', '--json', '--path', copy]);
    expect(r.code).toBe(2);
    expect(json(r.stdout).checks.filter((c) => c.severity !== 'info')).toEqual([
      expect.objectContaining({
        id: 'key-mismatch',
        severity: 'critical',
        path: join(copy, 'server.key'),
      }),
    ]);
  });
});

describe.skipIf(!haveOpenssl)('certs --path searches subdirectories (kubeadm: pki/etcd/)', () => {
  let kadm: string;
  beforeAll(() => {
    // kubeadm's layout: ca.crt/ca.key and apiserver.* at the top, etcd's own CA under etcd/.
    kadm = join(home, 'kubeadm', 'pki');
    mkdirSync(join(kadm, 'etcd'), { recursive: true });
    const caExt =
      '[req]\ndistinguished_name=dn\n[dn]\n[v3]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n';
    const leafExt =
      'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:cp-1.test\n';
    pair(kadm, 'ca', '/CN=kubernetes', caExt, undefined, '3650');
    pair(kadm, 'apiserver', '/CN=kube-apiserver', leafExt, {
      crt: join(kadm, 'ca.crt'),
      key: join(kadm, 'ca.key'),
    });
    const etcd = join(kadm, 'etcd');
    pair(etcd, 'ca', '/CN=etcd-ca', caExt, undefined, '3650');
    pair(etcd, 'server', '/CN=etcd-server', leafExt, {
      crt: join(etcd, 'ca.crt'),
      key: join(etcd, 'ca.key'),
    });
    for (const d of [kadm, etcd])
      for (const f of ['ca.ext', 'apiserver.ext', 'server.ext', 'apiserver.csr', 'server.csr'])
        rmSync(join(d, f), { force: true });
    for (const k of ['ca.key', 'apiserver.key', 'etcd/ca.key', 'etcd/server.key'])
      chmodSync(join(kadm, k), 0o600);
  }, 60_000);

  it('etcd/ is read: its certificates chain, its keys are matched; files named by their path below --path', () => {
    const r = k8ops(['certs', '--json', '--path', kadm]);
    expect(r.stderr).toBe('');
    const doc = json(r.stdout) as CertsDoc & {
      scan: { directories: number; empty: boolean };
      tree: TreeJson[];
    };
    expect(doc.summary.certificates).toBe(4);
    expect(doc.scan).toMatchObject({ directories: 2, empty: false });
    const rel = (p: string) => p.slice(kadm.length + 1);
    const where = (ns: TreeJson[]): string[] =>
      ns.flatMap((n) => [...(n.locations ?? []).map((l) => rel(l.path)), ...where(n.children)]);
    expect(where(doc.tree).sort()).toEqual([
      'apiserver.crt',
      'ca.crt',
      'etcd/ca.crt',
      'etcd/server.crt',
    ]);
    // Nothing about chains or key pairs: etcd-server verifies with etcd/ca.crt, each key
    // holds its certificate's public key. (kubeadm keeps its CA keys online: say so.)
    const ids = doc.checks.filter((c) => c.severity !== 'info').map((c) => [c.id, rel(c.path)]);
    expect(ids.sort()).toEqual([
      ['root-key-online', 'ca.key'],
      ['root-key-online', 'etcd/ca.key'],
    ]);
    expect(r.code).toBe(2);
    const text = k8ops(['certs', '--path', kadm]);
    expect(text.stdout).toMatch(/etcd-server .* local:etcd\/server\.crt\n/);
    expect(text.stdout).toMatch(/kube-apiserver .* local:apiserver\.crt\n/);
  });

  it('a broken key pair under etcd/ is found (the etcd server key swapped for the apiserver one)', () => {
    const copy = mkdtempSync(join(home, 'kubeadm-swapped-'));
    cpSync(kadm, copy, { recursive: true });
    copyFileSync(join(kadm, 'apiserver.key'), join(copy, 'etcd', 'server.key'));
    const r = k8ops(['certs', '--json', '--path', copy]);
    expect(json(r.stdout).checks).toContainEqual(
      expect.objectContaining({ id: 'key-mismatch', path: join(copy, 'etcd', 'server.key') }),
    );
    expect(r.code).toBe(2);
  });
});

describe('certs --path: a scan that finds no certificate is not "all good"', () => {
  it('an empty directory: says so in text and --json, exit 1', () => {
    const dir = mkdtempSync(join(home, 'empty-'));
    const t = k8ops(['certs', '--path', dir]);
    expect(t.stdout).toContain(
      `no certificate found under ${dir} (1 directory searched, 4 levels deep): nothing was checked`,
    );
    expect(t.code).toBe(1);
    const j = k8ops(['certs', '--json', '--path', dir]);
    const doc = JSON.parse(j.stdout) as {
      exitCode: number;
      scan: { empty: boolean; message: string };
    };
    expect(doc.exitCode).toBe(1);
    expect(doc.scan).toMatchObject({
      empty: true,
      message: expect.stringMatching(/^no certificate found/),
    });
    expect(j.code).toBe(1);
    const prom = k8ops(['certs', '--prometheus', '--path', dir]);
    expect(prom.stdout).toContain('k8ops_pki_exit_code 1\n');
    expect(prom.stdout).toContain('# no certificate found under');
    expect(prom.code).toBe(1);
  });

  it('only keys, and certificates deeper than the search: still empty, and the deep directory is named', () => {
    const dir = mkdtempSync(join(home, 'keys-only-'));
    writeFileSync(join(dir, 'sa.key'), 'x', { mode: 0o600 });
    const deep = join(dir, 'a', 'b', 'c', 'd', 'e');
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'x.crt'), 'not read');
    // A hostile directory name (an escape sequence) is shown escaped, never raw.
    mkdirSync(join(dir, 'x', 'y', 'z', 'w', '\x1b[31mred'), { recursive: true });
    const r = k8ops(['certs', '--path', dir]);
    expect(r.stdout).toContain('not searched: a/b/c/d/e: deeper than 4 levels');
    expect(r.stdout).toContain('not searched: x/y/z/w/\\x1b[31mred: deeper than 4 levels');
    expect(r.stdout).not.toContain('\x1b');
    expect(r.stdout).toContain('no certificate found under');
    expect(r.code).toBeGreaterThanOrEqual(1);
  });
});

describe('certs --path: a private key inside a certificate file (kubelet.pem = cert + key)', () => {
  let lab: string;
  beforeAll(() => {
    // worker-1 of the demo lab: a k8ops layout with real P-521 certificates.
    lab = join(home, 'cache', 'k8ops', 'demo-lab', 'nodes', 'worker-1', 'etc', 'kubernetes', 'pki');
    if (!existsSync(lab)) k8ops(['certs', '--json', '--demo', '--node', 'worker-1']);
  }, 60_000);

  /** A copy of worker-1's directory whose kubelet.pem holds leaf, key, intermediate. */
  function combined(mode: number): string {
    const dir = mkdtempSync(join(home, `combined-${mode.toString(8)}-`));
    cpSync(lab, dir, { recursive: true });
    const chain = readFileSync(join(dir, 'kubelet.pem'), 'utf8');
    const end = chain.indexOf('-----END CERTIFICATE-----\n') + 26;
    const key = readFileSync(join(dir, 'kubelet-key.pem'), 'utf8');
    writeFileSync(join(dir, 'kubelet.pem'), chain.slice(0, end) + key + chain.slice(end));
    chmodSync(join(dir, 'kubelet.pem'), mode);
    return dir;
  }
  /** Findings that matter here (owners are this machine's users, not a node's). */
  const real = (stdout: string) =>
    json(stdout).checks.filter((c) => c.severity !== 'info' && c.id !== 'key-owner');

  it('the copy before the change has no finding (the baseline)', () => {
    const r = k8ops(['certs', '--json', '--path', lab, '--node', 'worker-1']);
    expect(real(r.stdout)).toEqual([]);
  });

  it('0644 → critical key-exposed (not just "unparseable"), exit 2', () => {
    const dir = combined(0o644);
    const r = k8ops(['certs', '--json', '--path', dir, '--node', 'worker-1']);
    expect(real(r.stdout)).toEqual([
      expect.objectContaining({
        id: 'key-exposed',
        severity: 'critical',
        path: join(dir, 'kubelet.pem'),
        message: expect.stringMatching(
          /^kubelet\.pem holds a private key \(block 2: .*PRIVATE KEY\) and has mode 0644: readable by every user/,
        ),
      }),
    ]);
    expect(json(r.stdout).checks.map((c) => c.id)).not.toContain('unparseable');
    expect(r.code).toBe(2);
  });

  it('0600 → still a warning: key material sits in a certificate file (key-in-cert-file), exit 1', () => {
    const dir = combined(0o600);
    const r = k8ops(['certs', '--json', '--path', dir, '--node', 'worker-1']);
    expect(real(r.stdout)).toEqual([
      expect.objectContaining({
        id: 'key-in-cert-file',
        severity: 'warning',
        path: join(dir, 'kubelet.pem'),
        message: expect.stringMatching(/\(mode 0600\): certificate files are read and copied/),
      }),
    ]);
    // Only key-owner (this machine's owners) may add warnings beside it.
    expect(r.code).toBe(1);
  });
});

describe.skipIf(!haveOpenssl)('certs --path: more files than the process may open', () => {
  it('340 files under ulimit -n 256: every file described, no EMFILE, exit 0', () => {
    const dir = mkdtempSync(join(home, 'many-'));
    for (const n of ['root-ca.crt', 'issuing-ca.crt']) copyFileSync(join(acme, n), join(dir, n));
    for (let i = 0; i < 169; i++) {
      const n = `svc-${String(i).padStart(3, '0')}`;
      copyFileSync(join(acme, 'server.crt'), join(dir, `${n}.crt`));
      copyFileSync(join(acme, 'server.key'), join(dir, `${n}.key`));
      chmodSync(join(dir, `${n}.key`), 0o600);
    }
    // The CLI under a lowered descriptor limit (root may lower it: no privilege needed).
    const r = exec([
      'sh',
      '-c',
      'ulimit -n 256 && exec node "$0" "$@"',
      BIN,
      'certs',
      '--json',
      '--path',
      dir,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toMatch(/EMFILE|too many open files/i);
    const doc = json(r.stdout);
    expect(doc.checks.filter((c) => c.severity !== 'info')).toEqual([]);
    // One unlisted-file per file: the status scan reached each of them (keys included).
    expect(doc.checks.filter((c) => c.id === 'unlisted-file')).toHaveLength(340);
    expect(r.code).toBe(0);
  }, 120_000);
});

/**
 * Root reads any directory: drop the two capabilities that let it (CAP_DAC_OVERRIDE,
 * CAP_DAC_READ_SEARCH) from the bounding set with setpriv, so chmod means what it says.
 * Not root: chmod alone. Where neither works, the tests say so in their names.
 */
function unreadableRunner(): { prefix: string[] | undefined; why: string } {
  const dir = mkdtempSync(join(tmpdir(), 'k8ops-probe-'));
  try {
    chmodSync(dir, 0o000);
    const probe = [
      'node',
      '-e',
      "try{require('fs').readdirSync(process.argv[1]);process.exit(1)}catch(e){process.exit(e.code==='EACCES'?0:1)}",
      dir,
    ];
    if (spawnSync(probe[0]!, probe.slice(1)).status === 0) return { prefix: [], why: '' };
    const drop = ['setpriv', '--bounding-set=-dac_override,-dac_read_search'];
    if (spawnSync(drop[0]!, [...drop.slice(1), ...probe]).status === 0)
      return { prefix: drop, why: '(as root, CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH dropped)' };
    return {
      prefix: undefined,
      why: '— skipped: this user reads a mode-000 directory and setpriv cannot drop CAP_DAC_*',
    };
  } finally {
    chmodSync(dir, 0o700);
    rmSync(dir, { recursive: true, force: true });
  }
}
const unreadable = unreadableRunner();

describe('certs --path: a directory that cannot be read is a usage error (exit 2)', () => {
  it('a path under a regular file (ENOTDIR), like a missing one', () => {
    const file = join(home, 'a-file');
    writeFileSync(file, 'x');
    const r = k8ops(['certs', '--json', '--path', join(file, 'pki')]);
    expect(r.stderr).toMatch(/--path .*a-file\/pki: ENOTDIR/);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
    expect(k8ops(['certs', '--path', join(home, 'nope')]).code).toBe(2);
  });

  it.skipIf(unreadable.prefix === undefined)(
    `mode 000 (not listable) and mode 0600 (listable, files unreachable) ${unreadable.why}`,
    () => {
      const run = (args: string[]) => exec([...(unreadable.prefix ?? []), 'node', BIN, ...args]);
      const dir = mkdtempSync(join(home, 'locked-'));
      writeFileSync(join(dir, 'kubelet.pem'), 'not read');
      try {
        chmodSync(dir, 0o000);
        const none = run(['certs', '--json', '--path', dir]);
        expect(none.stderr).toMatch(/EACCES|permission denied/i);
        expect(none.stdout).toBe('');
        expect(none.code).toBe(2);
        chmodSync(dir, 0o600);
        const noSearch = run(['certs', '--json', '--path', dir]);
        expect(noSearch.stderr).toMatch(/EACCES|permission denied/i);
        expect(noSearch.stdout).toBe('');
        expect(noSearch.code).toBe(2);
      } finally {
        chmodSync(dir, 0o700);
      }
    },
  );
});
