/**
 * A Kubernetes-API-shaped test server: node:https speaking the API for the paths k8ops
 * uses, with payloads shaped like the real ones (templates in test/fixtures/kube/):
 *
 *   GET /version
 *   GET /api/v1/nodes, /api/v1/[namespaces/NS/]pods, …/configmaps        list + watch
 *   GET /apis/apps/v1/[namespaces/NS/]deployments|daemonsets             list + watch
 *   GET /apis/cilium.io, /apis/cilium.io/V                                discovery
 *   GET /apis/cilium.io/V/ciliumbgp{nodeconfigs,peerconfigs,advertisements,clusterconfigs}
 *                                                                        list + watch
 *   GET /api/v1/[namespaces/NS/]services                                 list + watch
 *   GET /api/v1/namespaces/NS/pods/NAME/log?container&follow&tailLines&timestamps&sinceTime
 *   GET /api/v1/[namespaces/NS/]secrets[/NAME], …/services[/NAME], /apis/networking.k8s.io/v1/[…]ingresses,
 *       /apis/cert-manager.io/v1/[namespaces/NS/]certificates (404 with certManager: false)
 *   GET /apis/policy/v1/[namespaces/NS/]poddisruptionbudgets, GET /api/v1/namespaces/NS/pods/NAME
 *   PATCH /api/v1/nodes/NAME   (strategic merge / merge patch: cordon, uncordon)
 *   POST /api/v1/namespaces/NS/pods/NAME/eviction   (policy/v1 Eviction, disruption budgets
 *       enforced as eviction.go does: 201 Success, 429 TooManyRequests with a DisruptionBudget
 *       cause, 500 for a pod under two budgets; the pod then terminates for `evictionGraceMs`)
 *
 * Lists honour labelSelector/fieldSelector/limit/continue and carry the store's
 * resourceVersion; watches replay events after `resourceVersion`, stream chunked JSON lines
 * (`{"type":"ADDED","object":…}`), send BOOKMARKs, end after `timeoutSeconds`, and answer a
 * compacted version with an `ERROR` event (410 Expired) — as the watch cache does.
 *
 * Authentication is by client certificate only: the TLS layer REQUIRES one signed by the
 * client CA (`kubernetes-ca`; requestCert + rejectUnauthorized), and the certificate's CN
 * must be a known user (else a real-shaped 401 Status: think of a revoked identity).
 * Authorization: group `system:masters` may do anything; others only what `rules` allow
 * (else a real-shaped 403 Status naming verb and resource).
 *
 * `generateKubePki` makes the P-521 PKI: root → `kubernetes-ca` → API server certificate
 * (kube-api.test, 127.0.0.1) and an admin client certificate in system:masters, from the
 * project's own scripts (gen-lab.sh) when cfssl is installed, else with openssl; plus a
 * viewer and an unknown user signed by the same kubernetes-ca, and a server certificate for
 * the same names signed by ANOTHER CA (real `openssl` CLI).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type TLSSocket } from 'node:tls';
import { buildLab, pkiToolSupport } from './pki-lab.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'kube');

/** A fixture from test/fixtures/kube (a fresh deep copy). */
export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

// ---- PKI -----------------------------------------------------------------------------------

export interface KeyPair {
  cert: string;
  key: string;
  certPem: string;
  keyPem: string;
}

export interface KubePki {
  dir: string;
  /** `gen-lab`: made by the project's PKI scripts (nix/pki via test/helpers/pki-lab.ts); `openssl`: fallback. */
  source: 'gen-lab' | 'openssl';
  root: KeyPair;
  /** The `kubernetes-ca` intermediate (what trust files hold). */
  ca: KeyPair;
  /** API server serving certificate signed by kubernetes-ca: names cp-1, kube-api.test, kubernetes…, IPs 10.77.0.11 and 127.0.0.1. */
  server: KeyPair;
  /** A server certificate for the same names, signed by ANOTHER (P-521) CA. */
  otherCa: KeyPair;
  otherServer: KeyPair;
  /** Client certificate in system:masters (gen-lab: `cluster-admin`; openssl: `kubernetes-admin`). */
  admin: KeyPair;
  /** The admin's CN. */
  adminUser: string;
  /** The admin key as SEC1 (`EC PRIVATE KEY`) and as PKCS#8 (`PRIVATE KEY`). */
  adminKeySec1Pem: string;
  adminKeyPkcs8Pem: string;
  /** CN viewer, O k8ops:viewers (known; limited by rules). */
  viewer: KeyPair;
  /** CN mallory: a valid certificate of a user the server does not know (401). */
  stranger: KeyPair;
  cleanup(): void;
}

function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(String(stdout));
    });
  });
}

const EXT = `
[server]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:cp-1,DNS:kube-api.test,DNS:kubernetes,DNS:kubernetes.default.svc,IP:10.77.0.11,IP:127.0.0.1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[client]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[ca]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
`;

const readPair = (cert: string, key: string): KeyPair => ({
  cert,
  key,
  certPem: readFileSync(cert, 'utf8'),
  keyPem: readFileSync(key, 'utf8'),
});

/**
 * The PKI for the test server, all ECDSA P-521 / SHA-512. Preferably from the project's own
 * scripts (gen-lab.sh: root → kubernetes-ca → kube-apiserver + cluster-admin, via
 * test/helpers/pki-lab.ts); the viewer/stranger client certificates are signed with the
 * same kubernetes-ca key by the real openssl CLI, and the "other CA" is openssl-made too.
 * Without cfssl (`pkiToolSupport`), everything comes from openssl.
 */
export async function generateKubePki(
  opts: { prefer?: 'gen-lab' | 'openssl' } = {},
): Promise<KubePki> {
  const dir = mkdtempSync(join(tmpdir(), 'k8ops-kubepki-'));
  writeFileSync(join(dir, 'ext.cnf'), EXT);
  let serial = 0x4000;
  const at = (f: string) => join(dir, f);
  const genKey = (name: string) =>
    run(
      'openssl',
      ['ecparam', '-name', 'secp521r1', '-genkey', '-noout', '-out', `${name}-key.pem`],
      dir,
    );
  const selfSigned = async (name: string, subj: string) => {
    await genKey(name);
    await run(
      'openssl',
      [
        'req',
        '-x509',
        '-new',
        '-key',
        `${name}-key.pem`,
        '-sha512',
        '-days',
        '3650',
        '-set_serial',
        String(serial++),
        '-subj',
        subj,
        '-addext',
        'basicConstraints=critical,CA:TRUE,pathlen:1',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
        '-out',
        `${name}.pem`,
      ],
      dir,
    );
    return readPair(at(`${name}.pem`), at(`${name}-key.pem`));
  };
  const issue = async (name: string, subj: string, ext: string, signer: KeyPair, days: number) => {
    await genKey(name);
    await run(
      'openssl',
      ['req', '-new', '-key', `${name}-key.pem`, '-sha512', '-subj', subj, '-out', `${name}.csr`],
      dir,
    );
    await run(
      'openssl',
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        signer.cert,
        '-CAkey',
        signer.key,
        '-sha512',
        '-days',
        String(days),
        '-set_serial',
        String(serial++),
        '-extfile',
        'ext.cnf',
        '-extensions',
        ext,
        '-out',
        `${name}.pem`,
      ],
      dir,
    );
    return readPair(at(`${name}.pem`), at(`${name}-key.pem`));
  };
  try {
    let source: KubePki['source'];
    let root: KeyPair;
    let ca: KeyPair;
    let server: KeyPair;
    let admin: KeyPair;
    let adminUser: string;
    if (opts.prefer !== 'openssl' && pkiToolSupport().ok) {
      source = 'gen-lab';
      const lab = await buildLab(
        join(dir, 'lab'),
        [{ name: 'cp-1', roles: ['control-plane', 'etcd'], addresses: ['10.77.0.11'] }],
        {
          apiserverAddress: 'kube-api.test',
        },
      );
      const cp = lab.nodes['cp-1']!.dir;
      root = readPair(lab.root.cert, lab.root.key);
      const int = lab.intermediates['kubernetes-ca']!;
      ca = readPair(int.cert, int.key);
      server = readPair(join(cp, 'kube-apiserver.pem'), join(cp, 'kube-apiserver-key.pem'));
      admin = readPair(join(cp, 'cluster-admin.pem'), join(cp, 'cluster-admin-key.pem'));
      adminUser = 'cluster-admin';
    } else {
      source = 'openssl';
      root = await selfSigned('root', '/O=k8ops-test/CN=k8ops-test-root');
      ca = await issue('kubernetes-ca', '/O=k8ops-test/CN=kubernetes-ca', 'ca', root, 60);
      server = await issue('apiserver', '/CN=kube-apiserver', 'server', ca, 14);
      admin = await issue('admin', '/O=system:masters/CN=kubernetes-admin', 'client', ca, 14);
      adminUser = 'kubernetes-admin';
    }
    await run('openssl', ['ec', '-in', admin.key, '-out', at('admin-key.sec1.pem')], dir);
    await run(
      'openssl',
      ['pkcs8', '-topk8', '-nocrypt', '-in', admin.key, '-out', at('admin-key.p8.pem')],
      dir,
    );
    const viewer = await issue('viewer', '/O=k8ops:viewers/CN=viewer', 'client', ca, 14);
    const stranger = await issue('stranger', '/O=k8ops:nobody/CN=mallory', 'client', ca, 14);
    const otherCa = await selfSigned('other-ca', '/O=somewhere-else/CN=other-ca');
    const otherServer = await issue('other-apiserver', '/CN=kube-apiserver', 'server', otherCa, 14);
    return {
      dir,
      source,
      root,
      ca,
      server,
      otherCa,
      otherServer,
      admin,
      adminUser,
      adminKeySec1Pem: readFileSync(at('admin-key.sec1.pem'), 'utf8'),
      adminKeyPkcs8Pem: readFileSync(at('admin-key.p8.pem'), 'utf8'),
      viewer,
      stranger,
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** A kubeconfig (YAML) for the test server. */
export function kubeconfigYaml(opts: {
  server: string;
  caPem?: string;
  certPem?: string;
  keyPem?: string;
  certFile?: string;
  keyFile?: string;
  caFile?: string;
  tlsServerName?: string;
  context?: string;
  extraContexts?: string[];
}): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const ctx = opts.context ?? 'lab';
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: lab',
    '  cluster:',
    `    server: ${opts.server}`,
    ...(opts.caPem ? [`    certificate-authority-data: ${b64(opts.caPem)}`] : []),
    ...(opts.caFile ? [`    certificate-authority: ${opts.caFile}`] : []),
    ...(opts.tlsServerName ? [`    tls-server-name: ${opts.tlsServerName}`] : []),
    'users:',
    '- name: lab-admin',
    '  user:',
    ...(opts.certPem ? [`    client-certificate-data: ${b64(opts.certPem)}`] : []),
    ...(opts.keyPem ? [`    client-key-data: ${b64(opts.keyPem)}`] : []),
    ...(opts.certFile ? [`    client-certificate: ${opts.certFile}`] : []),
    ...(opts.keyFile ? [`    client-key: ${opts.keyFile}`] : []),
    'contexts:',
    `- name: ${ctx}`,
    '  context:',
    '    cluster: lab',
    '    user: lab-admin',
    ...(opts.extraContexts ?? []).flatMap((c) => [
      `- name: ${c}`,
      '  context:',
      '    cluster: lab',
      '    user: lab-admin',
    ]),
    `current-context: ${ctx}`,
    '',
  ];
  return lines.join('\n');
}

// ---- the server ----------------------------------------------------------------------------

export type ResourceName =
  | 'nodes'
  | 'pods'
  | 'configmaps'
  | 'deployments'
  | 'daemonsets'
  | 'ciliumbgpnodeconfigs'
  | 'ciliumbgppeerconfigs'
  | 'ciliumbgpadvertisements'
  | 'ciliumbgpclusterconfigs'
  | 'services'
  | 'secrets'
  | 'ingresses'
  | 'certificates'
  | 'poddisruptionbudgets';

interface ResourceInfo {
  namespaced: boolean;
  group: string;
  kind: string;
  /** Built-in kinds: list items carry no kind/apiVersion. */
  builtin: boolean;
  apiVersion: string;
}

const RESOURCES: Record<ResourceName, ResourceInfo> = {
  nodes: { namespaced: false, group: '', kind: 'Node', builtin: true, apiVersion: 'v1' },
  pods: { namespaced: true, group: '', kind: 'Pod', builtin: true, apiVersion: 'v1' },
  configmaps: { namespaced: true, group: '', kind: 'ConfigMap', builtin: true, apiVersion: 'v1' },
  deployments: {
    namespaced: true,
    group: 'apps',
    kind: 'Deployment',
    builtin: true,
    apiVersion: 'apps/v1',
  },
  daemonsets: {
    namespaced: true,
    group: 'apps',
    kind: 'DaemonSet',
    builtin: true,
    apiVersion: 'apps/v1',
  },
  ciliumbgpnodeconfigs: {
    namespaced: false,
    group: 'cilium.io',
    kind: 'CiliumBGPNodeConfig',
    builtin: false,
    apiVersion: 'cilium.io/v2',
  },
  ciliumbgppeerconfigs: {
    namespaced: false,
    group: 'cilium.io',
    kind: 'CiliumBGPPeerConfig',
    builtin: false,
    apiVersion: 'cilium.io/v2',
  },
  ciliumbgpadvertisements: {
    namespaced: false,
    group: 'cilium.io',
    kind: 'CiliumBGPAdvertisement',
    builtin: false,
    apiVersion: 'cilium.io/v2',
  },
  ciliumbgpclusterconfigs: {
    namespaced: false,
    group: 'cilium.io',
    kind: 'CiliumBGPClusterConfig',
    builtin: false,
    apiVersion: 'cilium.io/v2',
  },
  services: { namespaced: true, group: '', kind: 'Service', builtin: true, apiVersion: 'v1' },
  secrets: { namespaced: true, group: '', kind: 'Secret', builtin: true, apiVersion: 'v1' },
  ingresses: {
    namespaced: true,
    group: 'networking.k8s.io',
    kind: 'Ingress',
    builtin: true,
    apiVersion: 'networking.k8s.io/v1',
  },
  certificates: {
    namespaced: true,
    group: 'cert-manager.io',
    kind: 'Certificate',
    builtin: false,
    apiVersion: 'cert-manager.io/v1',
  },
  poddisruptionbudgets: {
    namespaced: true,
    group: 'policy',
    kind: 'PodDisruptionBudget',
    builtin: true,
    apiVersion: 'policy/v1',
  },
};

type KObj = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
  };
  [k: string]: unknown;
};

interface StoredEvent {
  rv: number;
  resource: ResourceName;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  obj: KObj;
}

interface Watcher {
  resource: ResourceName;
  namespace?: string;
  match: (o: KObj) => boolean;
  res: ServerResponse;
  crdVersion?: string;
}

interface LogFollower {
  key: string;
  timestamps: boolean;
  res: ServerResponse;
}

export interface RbacRule {
  user?: string;
  group?: string;
  verbs: string[];
  /** `pods`, `pods/log`, `ciliumbgpnodeconfigs`, or `*`. */
  resources: string[];
  namespaces?: string[];
}

/** Which cilium.io versions are served, and which of them serve the BGP v2 CRDs (node, peer, advertisement, cluster configs). */
export type CiliumDiscovery =
  | 'v2+v2alpha1' // Cilium ≥ 1.18: both serve it, v2 preferred
  | 'v2alpha1-only-bgp' // Cilium 1.16/1.17: v2 exists (policies…), BGP node configs only in v2alpha1
  | 'no-bgp' // cilium.io served, no BGP CRDs
  | 'absent'; // no cilium.io group

export interface KubeApiServerOptions {
  pki: KubePki;
  /** Serve the certificate signed by another CA. */
  serverCert?: 'cluster' | 'other-ca';
  /** Known users (certificate CN). Default: the PKI's admin, viewer. */
  users?: string[];
  rules?: RbacRule[];
  cilium?: CiliumDiscovery;
  /** Send BOOKMARK events this often on watches that allow them (0 = never). */
  bookmarkIntervalMs?: number;
  /** Listen on 127.0.0.1:port (default 0 = any free port) or on a unix socket path. */
  port?: number;
  socketPath?: string;
  /** Seed the cluster (3 nodes, cilium pods, relay, ingress, config, workloads, BGP, Services). Default true. */
  seed?: boolean;
  /** cert-manager's CRDs are installed (certificates served). Default true. */
  certManager?: boolean;
  /** How long an evicted pod stays Terminating before it is gone (default 50 ms). */
  evictionGraceMs?: number;
  /** Told of each pod an eviction removed (a test's stand-in for its ReplicaSet). */
  onEvicted?: (pod: KObj) => void;
}

/** One write the server answered (PATCH of a node, POST of an Eviction). */
export interface RecordedWrite {
  method: string;
  path: string;
  contentType: string;
  body: unknown;
  status: number;

  /** The cause message of a 429 (`The disruption budget …`). */
  cause?: string;
}

export interface RecordedRequest {
  path: string;
  query: Record<string, string>;
  user?: string;
  status: number;
}

const CURRENT_START = 1000;

export class KubeApiServer {
  readonly opts: KubeApiServerOptions;
  readonly requests: RecordedRequest[] = [];
  readonly writes: RecordedWrite[] = [];
  #server: https.Server | undefined;
  #port = 0;
  #rv = CURRENT_START;
  #compactedRv = 0;
  readonly #store = new Map<ResourceName, Map<string, KObj>>();
  readonly #events: StoredEvent[] = [];
  readonly #watchers = new Set<Watcher>();
  readonly #logs = new Map<string, Array<{ time: string; text: string }>>();
  readonly #followers = new Set<LogFollower>();
  readonly #sockets = new Set<Socket>();
  #bookmarkTimer: NodeJS.Timeout | undefined;
  #cilium: CiliumDiscovery;
  #users: Set<string>;
  #rules: RbacRule[];

  constructor(opts: KubeApiServerOptions) {
    this.opts = opts;
    this.#cilium = opts.cilium ?? 'v2+v2alpha1';
    this.#users = new Set(opts.users ?? [opts.pki.adminUser, 'viewer']);
    this.#rules = opts.rules ?? [];
    for (const r of Object.keys(RESOURCES) as ResourceName[]) this.#store.set(r, new Map());
    if (opts.seed !== false) this.seed();
  }

  get port(): number {
    return this.#port;
  }

  /** `https://127.0.0.1:<port>` */
  get url(): string {
    return `https://127.0.0.1:${this.#port}`;
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  async start(): Promise<void> {
    const pki = this.opts.pki;
    const srv = this.opts.serverCert === 'other-ca' ? pki.otherServer : pki.server;
    // Node's tls.Server ignores allowPartialTrustChain in its own options, so the context
    // that trusts only kubernetes-ca (like kube-apiserver's --client-ca-file) is handed
    // out by SNICallback; clients without SNI get the default context, which also has
    // the root so the chain completes.
    const partial = createSecureContext({
      cert: srv.certPem,
      key: srv.keyPem,
      ca: pki.ca.certPem,
      allowPartialTrustChain: true,
    });
    const server = https.createServer(
      {
        cert: srv.certPem,
        key: srv.keyPem,
        ca: [pki.ca.certPem, pki.root.certPem],
        requestCert: true,
        rejectUnauthorized: true,
        SNICallback: (_name, cb) => cb(null, partial),
      },
      (req, res) => this.#handle(req, res),
    );
    server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    server.on('tlsClientError', () => undefined);
    server.keepAliveTimeout = 2000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (this.opts.socketPath) {
        rmSync(this.opts.socketPath, { force: true });
        server.listen(this.opts.socketPath, () => resolve());
      } else {
        server.listen(this.#port || this.opts.port || 0, '127.0.0.1', () => resolve());
      }
    });
    if (!this.opts.socketPath) this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    const every = this.opts.bookmarkIntervalMs ?? 0;
    if (every > 0) {
      this.#bookmarkTimer = setInterval(() => this.#sendBookmarks(), every);
      this.#bookmarkTimer.unref();
    }
  }

  /** Stop: every connection (watches, log follows) is cut. */
  async close(): Promise<void> {
    if (this.#bookmarkTimer) clearInterval(this.#bookmarkTimer);
    this.#bookmarkTimer = undefined;
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    this.#watchers.clear();
    this.#followers.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Like an apiserver restart: all connections cut, then listening again on the same port. */
  async restart(opts: { downMs?: number } = {}): Promise<void> {
    await this.close();
    if (opts.downMs) await new Promise((r) => setTimeout(r, opts.downMs));
    await this.start();
  }

  /** Cut every watch stream (the TCP connection dies mid-stream). */
  dropWatches(resource?: ResourceName): number {
    let n = 0;
    for (const w of [...this.#watchers]) {
      if (resource && w.resource !== resource) continue;
      this.#watchers.delete(w);
      w.res.socket?.destroy();
      n++;
    }
    return n;
  }

  /** End every watch stream cleanly (as when timeoutSeconds runs out). */
  endWatches(resource?: ResourceName): number {
    let n = 0;
    for (const w of [...this.#watchers]) {
      if (resource && w.resource !== resource) continue;
      this.#watchers.delete(w);
      w.res.end();
      n++;
    }
    return n;
  }

  /**
   * Freeze every watch stream: the connection stays open but nothing more is written (a
   * dead peer behind a NAT or a hung apiserver); only the client's idle bound notices.
   */
  stallWatches(resource?: ResourceName): number {
    let n = 0;
    for (const w of [...this.#watchers]) {
      if (resource && w.resource !== resource) continue;
      this.#watchers.delete(w);
      n++;
    }
    return n;
  }

  /** Cut every log follow stream. */
  dropLogFollows(): number {
    const n = this.#followers.size;
    for (const f of this.#followers) f.res.socket?.destroy();
    this.#followers.clear();
    return n;
  }

  watchCount(resource?: ResourceName): number {
    return [...this.#watchers].filter((w) => !resource || w.resource === resource).length;
  }

  followCount(): number {
    return this.#followers.size;
  }

  /** Forget the event history up to now: a watch resuming from an older version gets 410. */
  compact(): void {
    this.#compactedRv = this.#rv;
    this.#events.length = 0;
  }

  setCilium(mode: CiliumDiscovery): void {
    this.#cilium = mode;
  }

  setRules(rules: RbacRule[]): void {
    this.#rules = rules;
  }

  count(pred: (r: RecordedRequest) => boolean): number {
    return this.requests.filter(pred).length;
  }

  // ---- the object store ------------------------------------------------------------------

  get(resource: ResourceName, name: string, namespace?: string): KObj | undefined {
    return this.#store.get(resource)!.get(`${namespace ?? ''}/${name}`);
  }

  /** Create or replace (ADDED / MODIFIED to watchers). Returns the new resourceVersion. */
  put(resource: ResourceName, obj: KObj): number {
    const info = RESOURCES[resource];
    const o = structuredClone(obj);
    if (!info.namespaced) delete o.metadata.namespace;
    const key = `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const map = this.#store.get(resource)!;
    const type = map.has(key) ? 'MODIFIED' : 'ADDED';
    const rv = ++this.#rv;
    o.metadata.resourceVersion = String(rv);
    o.kind = info.kind;
    o.apiVersion = info.apiVersion;
    map.set(key, o);
    this.#record({ rv, resource, type, obj: o });
    return rv;
  }

  remove(resource: ResourceName, name: string, namespace?: string): boolean {
    const key = `${RESOURCES[resource].namespaced ? (namespace ?? '') : ''}/${name}`;
    const map = this.#store.get(resource)!;
    const cur = map.get(key);
    if (!cur) return false;
    map.delete(key);
    const rv = ++this.#rv;
    const o = structuredClone(cur);
    o.metadata.resourceVersion = String(rv);
    this.#record({ rv, resource, type: 'DELETED', obj: o });
    return true;
  }

  /** Change a node's Ready condition. */
  setNodeReady(
    name: string,
    ready: boolean,
    reason = 'KubeletNotReady',
    message = 'container runtime is down',
  ): void {
    const n = structuredClone(this.get('nodes', name));
    if (!n) throw new Error(`no node ${name}`);
    const conds = (n.status as { conditions: Array<Record<string, string>> }).conditions;
    const c = conds.find((x) => x.type === 'Ready')!;
    c.status = ready ? 'True' : 'False';
    c.reason = ready ? 'KubeletReady' : reason;
    c.message = ready ? 'kubelet is posting ready status' : message;
    this.put('nodes', n);
  }

  /** Append a container log line (RFC 3339 nano time; default now + a counter so lines are ordered). */
  appendLog(namespace: string, pod: string, container: string, text: string, time?: string): void {
    const key = `${namespace}/${pod}/${container}`;
    const list = this.#logs.get(key) ?? [];
    this.#logs.set(key, list);
    const t = time ?? nanoTime();
    list.push({ time: t, text });
    for (const f of this.#followers) {
      if (f.key === key) f.res.write(`${f.timestamps ? `${t} ` : ''}${text}\n`);
    }
  }

  /**
   * A cluster like the lab: 3 nodes, Cilium agents, hubble-relay, 2 ingress controllers,
   * config, workloads, BGP (a NodeConfig per node, the PeerConfig, Advertisement and
   * ClusterConfig they use) and a LoadBalancer Service the advertisement selects.
   */
  seed(): void {
    const nodes: Array<[string, string, boolean]> = [
      ['cp-1', '10.77.0.11', true],
      ['worker-1', '10.77.0.21', false],
      ['worker-2', '10.77.0.22', false],
    ];
    for (const [name, ip, cp] of nodes) {
      const n = fixture<KObj>('node.json');
      n.metadata.name = name;
      n.metadata.labels = { ...n.metadata.labels, 'kubernetes.io/hostname': name };
      if (!cp) delete n.metadata.labels['node-role.kubernetes.io/control-plane'];
      const st = n.status as { addresses: Array<{ type: string; address: string }> };
      st.addresses = [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name },
      ];
      this.put('nodes', n);
      const p = fixture<KObj>('pod-cilium.json');
      p.metadata.name = `cilium-${name}`;
      (p.spec as { nodeName: string }).nodeName = name;
      this.put('pods', p);
      const b = fixture<KObj>('ciliumbgpnodeconfig-v2.json');
      b.metadata.name = name;
      this.put('ciliumbgpnodeconfigs', b);
    }
    this.put('ciliumbgppeerconfigs', fixture<KObj>('ciliumbgppeerconfig-v2.json'));
    this.put('ciliumbgpadvertisements', fixture<KObj>('ciliumbgpadvertisement-v2.json'));
    this.put('ciliumbgpclusterconfigs', fixture<KObj>('ciliumbgpclusterconfig-v2.json'));
    this.put('services', fixture<KObj>('service-loadbalancer.json'));
    this.put('pods', fixture<KObj>('pod-hubble-relay.json'));
    const ing = fixture<KObj>('pod-ingress-nginx-controller.json');
    this.put('pods', ing);
    const ing2 = fixture<KObj>('pod-ingress-nginx-controller.json');
    ing2.metadata.name = 'ingress-nginx-controller-7c9d8b6f4-d5t6s';
    this.put('pods', ing2);
    this.put('configmaps', fixture<KObj>('configmap-cilium-config.json'));
    this.put('daemonsets', fixture<KObj>('daemonset-cilium.json'));
    this.put('deployments', fixture<KObj>('deployment-cilium-operator.json'));
    this.put('deployments', fixture<KObj>('deployment-hubble-relay.json'));
    this.put('deployments', fixture<KObj>('deployment-ingress-nginx-controller.json'));
  }

  // ---- HTTP ------------------------------------------------------------------------------

  #record(ev: StoredEvent): void {
    this.#events.push(ev);
    if (this.#events.length > 20_000) this.#events.splice(0, 10_000);
    for (const w of this.#watchers) {
      if (w.resource !== ev.resource) continue;
      if (w.namespace && ev.obj.metadata.namespace !== w.namespace) continue;
      if (!w.match(ev.obj)) continue;
      w.res.write(
        `${JSON.stringify({ type: ev.type, object: this.#outObj(ev.resource, ev.obj, w.crdVersion) })}\n`,
      );
    }
  }

  #sendBookmarks(): void {
    for (const w of this.#watchers) {
      if (!(w as Watcher & { bookmarks?: boolean }).bookmarks) continue;
      const info = RESOURCES[w.resource];
      const apiVersion = w.crdVersion ? `${info.group}/${w.crdVersion}` : info.apiVersion;
      w.res.write(
        `${JSON.stringify({
          type: 'BOOKMARK',
          object: {
            kind: info.kind,
            apiVersion,
            metadata: { resourceVersion: String(this.#rv), creationTimestamp: null },
          },
        })}\n`,
      );
    }
  }

  #outObj(resource: ResourceName, o: KObj, crdVersion?: string): KObj {
    if (RESOURCES[resource].group === 'cilium.io' && crdVersion)
      return { ...o, apiVersion: `cilium.io/${crdVersion}` };
    return o;
  }

  #status(
    res: ServerResponse,
    code: number,
    reason: string,
    message: string,
    details?: Record<string, unknown>,
  ): void {
    const body = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    };
    res.writeHead(code, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
    });
    res.end(JSON.stringify(body));
  }

  #json(res: ServerResponse, body: unknown): void {
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
    });
    res.end(JSON.stringify(body));
  }

  #allowed(
    user: string,
    groups: string[],
    verb: string,
    resource: string,
    namespace?: string,
  ): boolean {
    if (groups.includes('system:masters')) return true;
    return this.#rules.some(
      (r) =>
        (r.user === undefined || r.user === user) &&
        (r.group === undefined || groups.includes(r.group)) &&
        (r.verbs.includes(verb) || r.verbs.includes('*')) &&
        (r.resources.includes(resource) || r.resources.includes('*')) &&
        (r.namespaces === undefined ||
          (namespace !== undefined && r.namespaces.includes(namespace))),
    );
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://kube-api.test');
    const query = Object.fromEntries(url.searchParams);
    const path = url.pathname;
    const rec: RecordedRequest = { path, query, status: 200 };
    this.requests.push(rec);
    if (this.requests.length > 5000) this.requests.splice(0, 2500);
    const origWriteHead = res.writeHead.bind(res);
    res.writeHead = ((code: number, ...rest: unknown[]) => {
      rec.status = code;
      return (origWriteHead as (c: number, ...r: unknown[]) => ServerResponse)(code, ...rest);
    }) as typeof res.writeHead;
    res.on('error', () => undefined);

    // --- authentication: the client certificate's CN must be a known user
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    const cn = peer?.subject?.CN;
    const o = peer?.subject?.O;
    const user = Array.isArray(cn) ? cn[0] : cn;
    const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
    if (user) rec.user = user;
    if (!user || !this.#users.has(user)) {
      this.#status(res, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    if (req.method === 'PATCH' || req.method === 'POST') {
      void this.#write(req, res, path, user, groups);
      return;
    }
    if (req.method !== 'GET') {
      this.#status(
        res,
        405,
        'MethodNotAllowed',
        `the server does not allow this method on the requested resource`,
      );
      return;
    }

    if (path === '/version') {
      this.#json(res, fixture('version.json'));
      return;
    }
    if (path === '/apis/cilium.io' || path === '/apis/cilium.io/') {
      this.#discoveryGroup(res);
      return;
    }
    let m = /^\/apis\/cilium\.io\/([^/]+)$/.exec(path);
    if (m) {
      this.#discoveryVersion(res, m[1]!);
      return;
    }

    let resource: ResourceName | undefined;
    let namespace: string | undefined;
    let name: string | undefined;
    let sub: string | undefined;
    let crdVersion: string | undefined;
    m =
      /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?(nodes|pods|configmaps|secrets|services)(?:\/([^/]+)(?:\/(log))?)?$/.exec(
        path,
      );
    if (m) {
      namespace = m[1];
      resource = m[2] as ResourceName;
      name = m[3];
      sub = m[4];
    }
    m = /^\/apis\/apps\/v1\/(?:namespaces\/([^/]+)\/)?(deployments|daemonsets)$/.exec(path);
    if (m) {
      namespace = m[1];
      resource = m[2] as ResourceName;
    }
    m =
      /^\/apis\/(networking\.k8s\.io|cert-manager\.io)\/v1\/(?:namespaces\/([^/]+)\/)?(ingresses|certificates)$/.exec(
        path,
      );
    if (m && (m[3] === 'certificates') === (m[1] === 'cert-manager.io')) {
      if (m[3] === 'certificates' && this.opts.certManager === false) {
        this.#status(res, 404, 'NotFound', 'the server could not find the requested resource', {});
        return;
      }
      namespace = m[2];
      resource = m[3] as ResourceName;
    }
    m = /^\/apis\/policy\/v1\/(?:namespaces\/([^/]+)\/)?(poddisruptionbudgets)$/.exec(path);
    if (m) {
      namespace = m[1];
      resource = 'poddisruptionbudgets';
    }
    m =
      /^\/apis\/cilium\.io\/([^/]+)\/(ciliumbgpnodeconfigs|ciliumbgppeerconfigs|ciliumbgpadvertisements|ciliumbgpclusterconfigs)$/.exec(
        path,
      );
    if (m) {
      crdVersion = m[1]!;
      if (!this.#servedBgpVersions().includes(crdVersion)) {
        this.#status(res, 404, 'NotFound', 'the server could not find the requested resource', {});
        return;
      }
      resource = m[2] as ResourceName;
    }
    if (
      !resource ||
      (namespace === undefined &&
        (resource === 'configmaps' || resource === 'secrets' || resource === 'services') &&
        name)
    ) {
      this.#status(res, 404, 'NotFound', 'the server could not find the requested resource', {});
      return;
    }
    const info = RESOURCES[resource];
    const watch = query.watch === '1' || query.watch === 'true';
    const verb = sub === 'log' ? 'get' : name ? 'get' : watch ? 'watch' : 'list';
    const authzResource = sub ? `${resource}/${sub}` : resource;
    if (!this.#allowed(user, groups, verb, authzResource, namespace)) {
      const named = name ? `${resource} "${name}"` : resource;
      const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
      this.#status(
        res,
        403,
        'Forbidden',
        `${named} is forbidden: User "${user}" cannot ${verb} resource "${authzResource}" in API group "${info.group}" ${scope}`,
        { ...(name ? { name } : {}), ...(info.group ? { group: info.group } : {}), kind: resource },
      );
      return;
    }
    if (sub === 'log') {
      this.#log(req, res, namespace!, name!, query);
      return;
    }
    if (name) {
      const obj = this.get(resource, name, namespace);
      if (!obj) {
        this.#status(res, 404, 'NotFound', `${resource} "${name}" not found`, {
          name,
          kind: resource,
        });
        return;
      }
      this.#json(res, obj);
      return;
    }
    const match = selectorMatcher(query.labelSelector, query.fieldSelector);
    if (watch) {
      this.#watch(req, res, resource, namespace, match, query, crdVersion);
      return;
    }
    this.#list(res, resource, namespace, match, query, crdVersion);
    return;
  }

  // ---- writes: cordon/uncordon, evictions -------------------------------------------------

  async #write(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    user: string,
    groups: string[],
  ): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > 1 << 20) {
        this.#status(res, 413, 'RequestEntityTooLarge', 'request entity too large');
        return;
      }
      chunks.push(c);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const contentType = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const rec: RecordedWrite = { method: req.method!, path, contentType, body, status: 0 };
    this.writes.push(rec);
    const reply = (
      code: number,
      reason: string,
      message: string,
      details?: Record<string, unknown>,
    ) => {
      rec.status = code;
      this.#status(res, code, reason, message, details);
    };
    const denied = (verb: string, resource: string, group: string, name: string, ns?: string) => {
      if (this.#allowed(user, groups, verb, resource, ns)) return false;
      const scope = ns ? `in the namespace "${ns}"` : 'at the cluster scope';
      reply(
        403,
        'Forbidden',
        `${resource.split('/')[0]} "${name}" is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}" ${scope}`,
        { name, kind: resource.split('/')[0] },
      );
      return true;
    };

    let m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(path);
    if (m && req.method === 'PATCH') {
      const name = decodeURIComponent(m[1]!);
      if (denied('patch', 'nodes', '', name)) return;
      const types = [
        'application/strategic-merge-patch+json',
        'application/merge-patch+json',
        'application/apply-patch+yaml',
        'application/json-patch+json',
      ];
      if (!types.includes(contentType)) {
        reply(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: ${types.join(', ')}`,
        );
        return;
      }
      if (contentType !== types[0] && contentType !== types[1]) {
        reply(400, 'BadRequest', `this test server applies only merge patches, not ${contentType}`);
        return;
      }
      if (!isPlainObject(body)) {
        reply(
          400,
          'BadRequest',
          "couldn't get version/kind; json parse error: unexpected end of JSON input",
        );
        return;
      }
      const cur = this.get('nodes', name);
      if (!cur) {
        reply(404, 'NotFound', `nodes "${name}" not found`, { name, kind: 'nodes' });
        return;
      }
      const next = mergePatch(structuredClone(cur), body) as KObj;
      next.metadata.name = name;
      this.put('nodes', next);
      rec.status = 200;
      this.#json(res, this.get('nodes', name));
      return;
    }
    m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/.exec(path);
    if (m && req.method === 'POST') {
      const ns = decodeURIComponent(m[1]!);
      const name = decodeURIComponent(m[2]!);
      if (denied('create', 'pods/eviction', '', name, ns)) return;
      const ev = isPlainObject(body) ? body : {};
      const meta = isPlainObject(ev.metadata) ? ev.metadata : {};
      if (
        ev.kind !== 'Eviction' ||
        (ev.apiVersion !== 'policy/v1' && ev.apiVersion !== 'policy/v1beta1')
      ) {
        reply(400, 'BadRequest', 'expected an Eviction of policy/v1 (or policy/v1beta1)');
        return;
      }
      if (meta.name !== name) {
        reply(400, 'BadRequest', 'name in URL does not match name in Eviction object');
        return;
      }
      const pod = this.get('pods', name, ns);
      if (!pod) {
        reply(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
        return;
      }
      if (!(pod.metadata as { deletionTimestamp?: string }).deletionTimestamp) {
        const budgets = this.#select('poddisruptionbudgets', ns, () => true).filter((b) =>
          matchesLabels(
            (b.spec as { selector?: { matchLabels?: Record<string, string> } }).selector
              ?.matchLabels ?? {},
            pod.metadata.labels ?? {},
          ),
        );
        if (budgets.length > 1) {
          reply(
            500,
            'InternalError',
            'Internal error occurred: This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
            {
              causes: [
                {
                  message:
                    'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
                },
              ],
            },
          );
          return;
        }
        const pdb = budgets[0];
        if (pdb) {
          const b = this.#budget(pdb, ns);
          if (b.allowed <= 0) {
            const cause = `The disruption budget ${pdb.metadata.name} needs ${b.desired} healthy pods and has ${b.healthy} currently`;
            rec.cause = cause;
            reply(
              429,
              'TooManyRequests',
              "Cannot evict pod as it would violate the pod's disruption budget.",
              {
                causes: [{ reason: 'DisruptionBudget', message: cause }],
              },
            );
            return;
          }
        }
        const dying = structuredClone(pod);
        (dying.metadata as { deletionTimestamp?: string }).deletionTimestamp =
          new Date().toISOString();
        (dying.metadata as { deletionGracePeriodSeconds?: number }).deletionGracePeriodSeconds = 30;
        this.put('pods', dying);
        const t = setTimeout(() => {
          const now = this.get('pods', name, ns);
          if (
            now &&
            (now.metadata as { uid?: string }).uid === (pod.metadata as { uid?: string }).uid
          ) {
            this.remove('pods', name, ns);
            this.opts.onEvicted?.(structuredClone(pod));
          }
        }, this.opts.evictionGraceMs ?? 50);
        t.unref();
      }
      rec.status = 201;
      res.writeHead(201, {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-cache, private',
      });
      res.end(JSON.stringify(fixture('status-201-eviction.json')));
      return;
    }
    reply(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
    );
  }

  /** A budget as the disruption controller computes it (minAvailable/maxUnavailable, int or %). */
  #budget(pdb: KObj, ns: string): { healthy: number; desired: number; allowed: number } {
    const spec = pdb.spec as {
      selector?: { matchLabels?: Record<string, string> };
      minAvailable?: number | string;
      maxUnavailable?: number | string;
    };
    const sel = spec.selector?.matchLabels ?? {};
    const pods = this.#select('pods', ns, (p) => matchesLabels(sel, p.metadata.labels ?? {}));
    const live = pods.filter(
      (p) => !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp,
    );
    const expected = live.length;
    const healthy = live.filter((p) =>
      (
        (p.status as { conditions?: Array<{ type: string; status: string }> }).conditions ?? []
      ).some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length;
    const count = (v: number | string) =>
      typeof v === 'number' ? v : Math.ceil((Number.parseInt(v, 10) / 100) * expected);
    const desired =
      spec.minAvailable !== undefined
        ? count(spec.minAvailable)
        : spec.maxUnavailable !== undefined
          ? Math.max(0, expected - count(spec.maxUnavailable))
          : expected;
    return { healthy, desired, allowed: healthy - desired };
  }

  #servedBgpVersions(): string[] {
    switch (this.#cilium) {
      case 'v2+v2alpha1':
        return ['v2', 'v2alpha1'];
      case 'v2alpha1-only-bgp':
        return ['v2alpha1'];
      default:
        return [];
    }
  }

  #discoveryGroup(res: ServerResponse): void {
    if (this.#cilium === 'absent') {
      this.#status(res, 404, 'NotFound', 'the server could not find the requested resource', {});
      return;
    }
    this.#json(res, fixture('apigroup-cilium.io.json'));
  }

  #discoveryVersion(res: ServerResponse, v: string): void {
    if (this.#cilium === 'absent' || (v !== 'v2' && v !== 'v2alpha1')) {
      this.#status(res, 404, 'NotFound', 'the server could not find the requested resource', {});
      return;
    }
    const served = this.#servedBgpVersions().includes(v);
    if (v === 'v2') {
      const file = served
        ? 'apiresourcelist-cilium.io-v2.json'
        : 'apiresourcelist-cilium.io-v2-1.16.json';
      this.#json(res, fixture(file));
      return;
    }
    const list = fixture<{ resources: Array<{ name: string }> }>(
      'apiresourcelist-cilium.io-v2alpha1.json',
    );
    if (!served) list.resources = list.resources.filter((r) => !r.name.startsWith('ciliumbgp'));
    this.#json(res, list);
    return;
  }

  #select(
    resource: ResourceName,
    namespace: string | undefined,
    match: (o: KObj) => boolean,
  ): KObj[] {
    return [...this.#store.get(resource)!.values()]
      .filter((o) => (!namespace || o.metadata.namespace === namespace) && match(o))
      .sort((a, b) =>
        `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(
          `${b.metadata.namespace ?? ''}/${b.metadata.name}`,
        ),
      );
  }

  #list(
    res: ServerResponse,
    resource: ResourceName,
    namespace: string | undefined,
    match: (o: KObj) => boolean,
    query: Record<string, string>,
    crdVersion?: string,
  ): void {
    const info = RESOURCES[resource];
    let start = 0;
    let listRv = this.#rv;
    if (query.continue) {
      try {
        const tok = JSON.parse(Buffer.from(query.continue, 'base64').toString('utf8')) as {
          rv: number;
          start: number;
        };
        if (tok.rv < this.#compactedRv) {
          this.#status(
            res,
            410,
            'Expired',
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          );
          return;
        }
        start = tok.start;
        listRv = tok.rv;
      } catch {
        this.#status(res, 400, 'BadRequest', 'continue key is not valid: illegal base64 data');
        return;
      }
    }
    const all = this.#select(resource, namespace, match);
    const limit = query.limit ? Number(query.limit) : 0;
    const page = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
    const more = limit > 0 && start + limit < all.length;
    const items = page.map((o) => {
      const out = this.#outObj(resource, o, crdVersion);
      if (!info.builtin) return out;
      const { kind: _k, apiVersion: _a, ...rest } = out;
      return rest;
    });
    const metadata: Record<string, unknown> = { resourceVersion: String(listRv) };
    if (more) {
      metadata.continue = Buffer.from(
        JSON.stringify({ rv: listRv, start: start + limit }),
      ).toString('base64');
      metadata.remainingItemCount = all.length - start - limit;
    }
    this.#json(res, {
      kind: `${info.kind}List`,
      apiVersion: crdVersion ? `cilium.io/${crdVersion}` : info.apiVersion,
      metadata,
      items,
    });
  }

  #watch(
    req: IncomingMessage,
    res: ServerResponse,
    resource: ResourceName,
    namespace: string | undefined,
    match: (o: KObj) => boolean,
    query: Record<string, string>,
    crdVersion?: string,
  ): void {
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders(); // like the apiserver's watch handler: headers go out before the first event
    const rv = query.resourceVersion ? Number(query.resourceVersion) : 0;
    const write = (type: string, obj: unknown) =>
      res.write(`${JSON.stringify({ type, object: obj })}\n`);
    if (rv > 0 && rv < this.#compactedRv) {
      write('ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${rv} (${this.#rv})`,
        reason: 'Expired',
        code: 410,
      });
      res.end();
      return;
    }
    if (rv === 0) {
      for (const o of this.#select(resource, namespace, match))
        write('ADDED', this.#outObj(resource, o, crdVersion));
    } else {
      for (const ev of this.#events) {
        if (ev.rv <= rv || ev.resource !== resource) continue;
        if (namespace && ev.obj.metadata.namespace !== namespace) continue;
        if (!match(ev.obj)) continue;
        write(ev.type, this.#outObj(resource, ev.obj, crdVersion));
      }
    }
    const w: Watcher & { bookmarks?: boolean } = {
      resource,
      ...(namespace ? { namespace } : {}),
      match,
      res,
      ...(crdVersion ? { crdVersion } : {}),
      bookmarks: query.allowWatchBookmarks === 'true',
    };
    this.#watchers.add(w);
    const timeout = Number(query.timeoutSeconds ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    timer?.unref();
    const done = () => {
      this.#watchers.delete(w);
      if (timer) clearTimeout(timer);
    };
    res.on('close', done);
    req.on('close', done);
  }

  #log(
    req: IncomingMessage,
    res: ServerResponse,
    namespace: string,
    name: string,
    query: Record<string, string>,
  ): void {
    const pod = this.get('pods', name, namespace);
    if (!pod) {
      this.#status(res, 404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
      return;
    }
    const containers = (
      (pod.spec as { containers?: Array<{ name: string }> }).containers ?? []
    ).map((c) => c.name);
    let container = query.container;
    if (!container) {
      if (containers.length !== 1) {
        this.#status(
          res,
          400,
          'BadRequest',
          `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`,
        );
        return;
      }
      container = containers[0]!;
    }
    if (!containers.includes(container)) {
      this.#status(res, 400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
      return;
    }
    const key = `${namespace}/${name}/${container}`;
    const timestamps = query.timestamps === 'true';
    let lines = this.#logs.get(key) ?? [];
    if (query.sinceTime) {
      // The kubelet compares at whole seconds: lines from the start of that second come again.
      const since = query.sinceTime.replace(/\.\d+/, '');
      lines = lines.filter((l) => l.time.replace(/\.\d+/, '') >= since);
    }
    if (query.tailLines) lines = lines.slice(-Number(query.tailLines));
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    for (const l of lines) res.write(`${timestamps ? `${l.time} ` : ''}${l.text}\n`);
    if (query.follow !== 'true') {
      res.end();
      return;
    }
    const f: LogFollower = { key, timestamps, res };
    this.#followers.add(f);
    const done = () => this.#followers.delete(f);
    res.on('close', done);
    req.on('close', done);
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386 JSON merge patch (a strategic merge patch of plain fields behaves the same). */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const matchesLabels = (sel: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(sel).every(([k, v]) => labels[k] === v);

let nanoSeq = 0;
/** RFC 3339 with nanoseconds, strictly increasing within the process (like the kubelet's). */
export function nanoTime(ms = Date.now()): string {
  const iso = new Date(ms).toISOString(); // 2026-11-25T12:00:00.123Z
  const frac = `${iso.slice(20, 23)}${String(nanoSeq++ % 1_000_000).padStart(6, '0')}`;
  return `${iso.slice(0, 19)}.${frac}Z`;
}

/** labelSelector (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`) and fieldSelector (metadata.name/namespace). */
export function selectorMatcher(label?: string, field?: string): (o: KObj) => boolean {
  const preds: Array<(o: KObj) => boolean> = [];
  for (const term of splitSelector(label ?? '')) {
    let m = /^([^!=\s]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m) {
      const [, k, op, vs] = m;
      const set = vs!.split(',').map((s) => s.trim());
      preds.push((o) => {
        const v = o.metadata.labels?.[k!];
        return op === 'in'
          ? v !== undefined && set.includes(v)
          : v === undefined || !set.includes(v);
      });
      continue;
    }
    m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (m) {
      const [, k, op, v] = m;
      preds.push((o) => {
        const have = o.metadata.labels?.[k!];
        return op === '!=' ? have !== v : have === v;
      });
      continue;
    }
    if (term.startsWith('!')) preds.push((o) => o.metadata.labels?.[term.slice(1)] === undefined);
    else preds.push((o) => o.metadata.labels?.[term] !== undefined);
  }
  for (const term of splitSelector(field ?? '')) {
    const m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) continue;
    const [, k, op, v] = m;
    const get = (o: KObj) =>
      k === 'metadata.name'
        ? o.metadata.name
        : k === 'metadata.namespace'
          ? o.metadata.namespace
          : k === 'spec.nodeName'
            ? (o.spec as { nodeName?: string } | undefined)?.nodeName
            : undefined;
    preds.push((o) => (op === '!=' ? get(o) !== v : get(o) === v));
  }
  return (o) => preds.every((p) => p(o));
}

function splitSelector(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

export async function startKubeApiServer(opts: KubeApiServerOptions): Promise<KubeApiServer> {
  const s = new KubeApiServer(opts);
  await s.start();
  return s;
}

export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Wait until `fn()` is truthy (bounded); resolves to that value. */
export async function waitUntil<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 8000,
  stepMs = 20,
): Promise<Truthy<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as Truthy<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
