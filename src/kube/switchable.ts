/**
 * A LiveKubeSource whose context can change at runtime (`:ctx` in the palette) without
 * the session replacing its kube source: it forwards to the current KubeClusterSource,
 * and `switchContext` swaps in a new one (the old one's watches are closed) and notifies
 * subscribers. A missing context leaves the current one running and returns the error.
 */
import type { CallOptions } from '../store/io.js';
import type { KubeClusterSource } from './cluster-source.js';
import { KubeError } from './errors.js';
import type { KubeNodeOps } from './node-ops.js';
import type {
  KubeClusterSnapshot,
  KubeContextInfo,
  KubeNodeStatus,
  KubeService,
  LiveKubeSource,
} from './types.js';

export type SwitchResult = { ok: true; context: string } | { ok: false; error: KubeError };

export class SwitchableKubeSource implements LiveKubeSource {
  #inner: KubeClusterSource;
  #off: () => void;
  readonly #listeners = new Set<() => void>();
  #switching: Promise<SwitchResult> | undefined;
  #closed = false;

  constructor(inner: KubeClusterSource) {
    this.#inner = inner;
    this.#off = inner.onChange(() => this.#emit());
  }

  /** The current context (changes on switch). */
  get context(): string {
    return this.#inner.context;
  }

  get current(): KubeClusterSource {
    return this.#inner;
  }

  snapshot(): KubeClusterSnapshot {
    return this.#inner.snapshot();
  }

  onChange(cb: () => void): () => void {
    this.#listeners.add(cb);
    return () => {
      this.#listeners.delete(cb);
    };
  }

  contexts(): KubeContextInfo[] {
    return this.#inner.contexts();
  }

  /** See KubeClusterSource.whenSettled. */
  whenSettled(timeoutMs?: number): Promise<KubeClusterSnapshot> {
    return this.#inner.whenSettled(timeoutMs);
  }

  listNodes(opts?: CallOptions): Promise<KubeNodeStatus[]> {
    return this.#inner.listNodes(opts);
  }

  /** The current context's node operations (each call goes to the context current then). */
  nodeOps(): KubeNodeOps {
    const cur = () => this.#inner.nodeOps();
    return {
      isUnschedulable: (n, o) => cur().isUnschedulable(n, o),
      setUnschedulable: (n, v, o) => cur().setUnschedulable(n, v, o),
      podsOnNode: (n, o) => cur().podsOnNode(n, o),
      evict: (p, o) => cur().evict(p, o),
      podUid: (ns, n, o) => cur().podUid(ns, n, o),
    };
  }

  getService(namespace: string, name: string, opts?: CallOptions): Promise<KubeService> {
    return this.#inner.getService(namespace, name, opts);
  }

  /** Switch to another context of the same kubeconfig. Calls made while a switch runs wait for it. */
  switchContext(name: string): Promise<SwitchResult> {
    const run = async (): Promise<SwitchResult> => {
      if (this.#closed) {
        return {
          ok: false,
          error: new KubeError({ kind: 'closed', message: 'kube source is closed' }),
        };
      }
      if (name === this.#inner.context) return { ok: true, context: name };
      const old = this.#inner;
      const r = await old.switchContext(name);
      if (!r.ok) return r;
      this.#off();
      this.#inner = r.source;
      this.#off = r.source.onChange(() => this.#emit());
      if (this.#closed) await r.source.close();
      this.#emit();
      return { ok: true, context: r.source.context };
    };
    const p = (this.#switching ?? Promise.resolve()).then(run, run);
    this.#switching = p;
    return p;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#switching?.catch(() => undefined);
    this.#off();
    this.#listeners.clear();
    await this.#inner.close();
  }

  #emit(): void {
    for (const cb of [...this.#listeners]) {
      try {
        cb();
      } catch {
        // a listener's failure is its own
      }
    }
  }
}
