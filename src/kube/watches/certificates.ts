/**
 * cert-manager Certificates (cert-manager.io/v1, all namespaces) and, for each, the
 * certificate its Secret actually holds: the Secret is read with one GET when the
 * Certificate's revision / notAfter / secretName changes (and every `secretRefreshMs`);
 * only the CERTIFICATE blocks of `tls.crt` are kept — `tls.key` is dropped on receipt and
 * never stored, logged or shown. While cert-manager is not installed (404), the section says
 * so (`absent`) and the list is retried every `rediscoverMs`. Store id `kube.certificates`.
 *
 * Ingresses (networking.k8s.io/v1, all namespaces): their hosts and TLS Secrets, for the
 * SAN check. Store id `kube.ingresses`.
 */
import { isKubeError, KubeError } from '../errors.js';
import { parseCertificate, parseIngress, secretCerts } from '../parse/certificate.js';
import { Sleeper } from '../timers.js';
import type {
  AcmeCertificate,
  AcmeCertificates,
  KubeErrorInfo,
  KubeIngress,
  KubeSection,
} from '../types.js';
import type { ListWatcher, ListWatchState } from '../watch.js';
import type { KubeWatch, KubeWatchDef, WatchContext } from './kube-watch.js';
import { ListSection, listWatcher } from './list.js';
import { byName, freeze, listSection, Memo, withValue } from './sections.js';

export const CERTIFICATES_PATH = '/apis/cert-manager.io/v1/certificates';
const SECRET_REFRESH_MS = 5 * 60_000;
const ABSENT = 'cert-manager.io/v1 Certificates are not served (cert-manager is not installed)';

type SecretRead = NonNullable<AcmeCertificate['secret']>;

export class CertificatesWatch implements KubeWatch<KubeSection<AcmeCertificates>> {
  readonly #ctx: WatchContext;
  readonly #sleeper = new Sleeper();
  readonly #memo = new Memo<KubeSection<AcmeCertificates>>();
  #closed = false;
  #loop: Promise<void> | undefined;
  #secretsLoop: Promise<void> | undefined;
  #watcher: ListWatcher<AcmeCertificate> | undefined;
  #absent: string | undefined;
  /** `ns/secret` → what was read, with the key of the Certificate state it was read for. */
  #secrets = new Map<string, { key: string; at: number; read: SecretRead }>();
  #secretsVersion = 0;
  /** A Certificate's Secret is due a read (set by #build, cleared by the reader). */
  #dirty = false;
  readonly #secretWake = new Sleeper();

  constructor(ctx: WatchContext) {
    this.#ctx = ctx;
  }

  get watcher(): ListWatcher<AcmeCertificate> | undefined {
    return this.#watcher;
  }

  start(): void {
    this.#loop ??= this.#run();
    this.#secretsLoop ??= this.#readSecrets();
  }

  reconnect(): void {
    this.#watcher?.reconnect();
    this.#sleeper.wake();
    this.#secretWake.wake();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#sleeper.close();
    this.#secretWake.close();
    await Promise.allSettled([this.#watcher?.close(), this.#loop, this.#secretsLoop]);
  }

  section(noRoute: KubeErrorInfo | undefined): KubeSection<AcmeCertificates> {
    const st = this.#watcher?.state();
    return this.#memo.get([st, this.#absent, this.#secretsVersion, noRoute], () =>
      this.#build(st, noRoute),
    );
  }

  #build(
    st: ListWatchState<AcmeCertificate> | undefined,
    noRoute: KubeErrorInfo | undefined,
  ): KubeSection<AcmeCertificates> {
    if (this.#absent !== undefined)
      return freeze({ value: freeze({ absent: this.#absent, certificates: [] }), synced: true });
    if (!st) return freeze({ synced: false, ...(noRoute ? { error: noRoute } : {}) });
    const s = listSection(st, noRoute, byName);
    if (!s.value) return withValue<readonly AcmeCertificate[], AcmeCertificates>(s, undefined);
    const certificates = s.value.map((c) => {
      const got = this.#secrets.get(`${c.namespace}/${c.secretName}`);
      return got ? freeze({ ...c, secret: got.read }) : c;
    });
    // Wake the Secret reader for Certificates whose Secret was not read for their state.
    if (
      s.value.some((c) => this.#secrets.get(`${c.namespace}/${c.secretName}`)?.key !== stateKey(c))
    ) {
      this.#dirty = true;
      this.#secretWake.wake();
    }
    return withValue(s, freeze({ certificates }));
  }

  async #run(): Promise<void> {
    const ctx = this.#ctx;
    while (!this.#closed) {
      if (!ctx.http()) {
        await this.#sleeper.wait(Math.min(500, ctx.timing.connectBackoffInitialMs));
        continue;
      }
      const watcher = listWatcher<AcmeCertificate>(
        ctx,
        {
          path: CERTIFICATES_PATH,
          ref: { resource: 'certificates', group: 'cert-manager.io' },
          map: parseCertificate,
        },
        ctx.limits.maxPods,
        { stopOn: (e) => e.kind === 'not-found' },
      );
      this.#watcher = watcher;
      this.#absent = undefined;
      ctx.changed();
      watcher.start();
      await watcher.done();
      if (this.#closed) break;
      // 404: cert-manager is not installed (or its CRDs went away): say so, look again later.
      this.#watcher = undefined;
      this.#absent = ABSENT;
      ctx.changed();
      await this.#sleeper.wait(ctx.timing.rediscoverMs);
    }
  }

  /** Reads the Secret of each Certificate whose state changed (one GET at a time). */
  async #readSecrets(): Promise<void> {
    const ctx = this.#ctx;
    while (!this.#closed) {
      const http = ctx.http();
      const items = this.#watcher?.state().items;
      let next = Number.POSITIVE_INFINITY;
      this.#dirty = false;
      if (http && items) {
        const wanted = new Set<string>();
        for (const c of items.values()) {
          if (this.#closed) return;
          const id = `${c.namespace}/${c.secretName}`;
          wanted.add(id);
          const have = this.#secrets.get(id);
          const now = ctx.now();
          if (have && have.key === stateKey(c) && now - have.at < SECRET_REFRESH_MS) {
            next = Math.min(next, have.at + SECRET_REFRESH_MS - now);
            continue;
          }
          const read = await readSecret(http, c, ctx.timing.probeTimeoutMs);
          if (read === 'retry') {
            next = Math.min(next, 5_000);
            continue;
          }
          this.#secrets.set(id, { key: stateKey(c), at: ctx.now(), read });
          this.#secretsVersion++;
          ctx.changed();
        }
        for (const id of this.#secrets.keys()) if (!wanted.has(id)) this.#secrets.delete(id);
      }
      if (!http) next = 500;
      const wait = Number.isFinite(next) ? Math.max(1000, next) : SECRET_REFRESH_MS;
      await this.#secretWake.wait(this.#dirty ? Math.min(wait, 100) : wait);
    }
  }
}

const stateKey = (c: AcmeCertificate): string =>
  `${c.secretName}\u0000${c.revision ?? ''}\u0000${c.notAfter ?? ''}\u0000${c.ready ?? ''}`;

async function readSecret(
  http: NonNullable<ReturnType<WatchContext['http']>>,
  c: AcmeCertificate,
  timeoutMs: number,
): Promise<SecretRead | 'retry'> {
  const path = `/api/v1/namespaces/${encodeURIComponent(c.namespace)}/secrets/${encodeURIComponent(c.secretName)}`;
  try {
    const body = await http.getJson<unknown>(
      path,
      { verb: 'get', resource: 'secrets', namespace: c.namespace, name: c.secretName },
      { timeoutMs },
    );
    return secretCerts(body);
  } catch (e) {
    const err = isKubeError(e) ? e : new KubeError({ kind: 'protocol', message: String(e) });
    if (err.kind === 'not-found')
      return { error: `Secret ${c.namespace}/${c.secretName} does not exist` };
    if (err.kind === 'forbidden') return { error: err.message };
    return 'retry';
  }
}

export const CERTIFICATES = {
  storeId: 'kube.certificates',
  create: (ctx) => new CertificatesWatch(ctx),
} as const satisfies KubeWatchDef<KubeSection<AcmeCertificates>, CertificatesWatch>;

export type IngressesWatch = ListSection<KubeIngress, readonly KubeIngress[]>;

export const INGRESSES = {
  storeId: 'kube.ingresses',
  create: (ctx) =>
    new ListSection<KubeIngress, readonly KubeIngress[]>(
      listWatcher<KubeIngress>(
        ctx,
        {
          path: '/apis/networking.k8s.io/v1/ingresses',
          ref: { resource: 'ingresses', group: 'networking.k8s.io' },
          map: parseIngress,
        },
        ctx.limits.maxPods,
      ),
      (st, noRoute) => listSection(st, noRoute, byName),
    ),
} as const satisfies KubeWatchDef<KubeSection<readonly KubeIngress[]>, IngressesWatch>;
