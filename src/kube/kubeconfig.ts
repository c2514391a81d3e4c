/**
 * Kubeconfig loading and context selection.
 *
 * Files: an explicit path (inventory `kube.kubeconfig`) wins, else `KUBECONFIG` (a
 * `path.delimiter` list, merged like kubectl: the first file that defines a name wins, the
 * first `current-context` wins, missing files are skipped), else `~/.kube/config`.
 * Context: the one asked for (`--context`, then the inventory), else `current-context`.
 *
 * Parsing and credentials (client certificates from data or files, tokens, exec plugins)
 * are @kubernetes/client-node's `KubeConfig`; it is imported lazily, so the demo lab and
 * the subcommands that do not talk to the API never load it.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import type { Cluster, Context, KubeConfig, User } from '@kubernetes/client-node';
import { visible } from '../store/sanitise.js';
import { KubeError } from './errors.js';
import type { KubeContextInfo } from './types.js';

export interface KubeconfigLoadOptions {
  /** Explicit kubeconfig path (inventory `kube.kubeconfig`); wins over KUBECONFIG. */
  path?: string;
  /** Context to use; default the kubeconfig's current-context. */
  context?: string;
  env?: NodeJS.ProcessEnv;
  /** Home directory for `~/.kube/config` (default `os.homedir()`). */
  home?: string;
}

export type KubeconfigOrigin = 'explicit' | 'KUBECONFIG' | 'default';

/** A loaded kubeconfig with one context selected. Immutable; `withContext` makes another. */
export interface KubeContextConfig {
  /** Files that were read, in merge order. */
  readonly files: readonly string[];
  readonly origin: KubeconfigOrigin;
  /** The selected context. */
  readonly context: string;
  readonly contextInfo: KubeContextInfo;
  /** Every context of the merged kubeconfig (`current` marks the selected one). */
  readonly contexts: readonly KubeContextInfo[];
  /** The library's KubeConfig with `currentContext` = the selected context. */
  readonly kubeConfig: KubeConfig;
  /** The same kubeconfig with another context selected. */
  withContext(name: string): KubeContextResult;
}

export type KubeContextResult =
  | { ok: true; config: KubeContextConfig }
  | { ok: false; error: KubeError };

/** Which files would be read, and why. */
export function kubeconfigFiles(opts: KubeconfigLoadOptions = {}): {
  files: string[];
  origin: KubeconfigOrigin;
} {
  const env = opts.env ?? process.env;
  if (opts.path) return { files: [resolve(expandTilde(opts.path, opts.home))], origin: 'explicit' };
  const list = env.KUBECONFIG;
  if (list && list.length > 0) {
    const files = list
      .split(delimiter)
      .filter((f) => f.length > 0)
      .map((f) => resolve(expandTilde(f, opts.home)));
    return { files: [...new Set(files)], origin: 'KUBECONFIG' };
  }
  return { files: [join(opts.home ?? homedir(), '.kube', 'config')], origin: 'default' };
}

function expandTilde(p: string, home?: string): string {
  if (p === '~') return home ?? homedir();
  if (p.startsWith('~/')) return join(home ?? homedir(), p.slice(2));
  return p;
}

type KubeConfigCtor = typeof import('@kubernetes/client-node/dist/config.js').KubeConfig;
let ctorPromise: Promise<KubeConfigCtor> | undefined;
/** The library's KubeConfig class, imported on first use. */
export function kubeConfigClass(): Promise<KubeConfigCtor> {
  ctorPromise ??= import('@kubernetes/client-node/dist/config.js').then((m) => m.KubeConfig);
  return ctorPromise;
}

interface Merged {
  files: string[];
  origin: KubeconfigOrigin;
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext?: string;
  Ctor: KubeConfigCtor;
}

/** Load the kubeconfig and select a context. Never throws: errors are `kubeconfig` / `context-missing`. */
export async function loadKubeContext(
  opts: KubeconfigLoadOptions = {},
): Promise<KubeContextResult> {
  let Ctor: KubeConfigCtor;
  try {
    Ctor = await kubeConfigClass();
  } catch (e) {
    return {
      ok: false,
      error: new KubeError({
        kind: 'kubeconfig',
        message: `cannot load @kubernetes/client-node: ${(e as Error).message}`,
        cause: e,
      }),
    };
  }
  const { files, origin } = kubeconfigFiles(opts);
  const present = files.filter((f) => existsSync(f));
  if (present.length === 0) {
    const where =
      origin === 'explicit'
        ? `kubeconfig ${files[0]} not found (inventory kube.kubeconfig)`
        : origin === 'KUBECONFIG'
          ? `no kubeconfig: none of the KUBECONFIG files exist (${files.join(', ')})`
          : `no kubeconfig: ${files[0]} not found and KUBECONFIG is not set`;
    return { ok: false, error: new KubeError({ kind: 'kubeconfig', message: where }) };
  }
  const merged: Merged = { files: present, origin, clusters: [], users: [], contexts: [], Ctor };
  for (const file of present) {
    const kc = new Ctor();
    try {
      kc.loadFromFile(file);
    } catch (e) {
      return {
        ok: false,
        error: new KubeError({
          kind: 'kubeconfig',
          message: `kubeconfig ${file}: ${(e as Error).message}`,
          cause: e,
        }),
      };
    }
    // kubectl's merge: the first file to define a name (or current-context) wins.
    for (const c of kc.clusters)
      if (!merged.clusters.some((x) => x.name === c.name)) merged.clusters.push(c);
    for (const u of kc.users)
      if (!merged.users.some((x) => x.name === u.name)) merged.users.push(u);
    for (const c of kc.contexts)
      if (!merged.contexts.some((x) => x.name === c.name)) merged.contexts.push(c);
    if (!merged.currentContext && kc.currentContext) merged.currentContext = kc.currentContext;
  }
  return select(merged, opts.context);
}

/** Build a KubeContextConfig from an in-memory kubeconfig (tests, or a kubeconfig not on disk). */
export async function kubeContextFromString(
  yaml: string,
  context?: string,
  file = '<memory>',
): Promise<KubeContextResult> {
  const Ctor = await kubeConfigClass();
  const kc = new Ctor();
  try {
    kc.loadFromString(yaml);
  } catch (e) {
    return {
      ok: false,
      error: new KubeError({
        kind: 'kubeconfig',
        message: `kubeconfig ${file}: ${(e as Error).message}`,
      }),
    };
  }
  return select(
    {
      files: [file],
      origin: 'explicit',
      clusters: [...kc.clusters],
      users: [...kc.users],
      contexts: [...kc.contexts],
      ...(kc.currentContext ? { currentContext: kc.currentContext } : {}),
      Ctor,
    },
    context,
  );
}

function infos(m: Merged, selected: string): KubeContextInfo[] {
  return m.contexts.map((c) => {
    // Names from a kubeconfig are outside text (a shared file): shown escaped, and
    // selectable by that escaped form (select below).
    const info: KubeContextInfo = {
      name: visible(c.name),
      cluster: visible(c.cluster),
      user: visible(c.user),
      current: c.name === selected,
    };
    if (c.namespace) info.namespace = visible(c.namespace);
    const server = m.clusters.find((x) => x.name === c.cluster)?.server;
    if (server) info.server = visible(server);
    return info;
  });
}

function select(m: Merged, wanted: string | undefined): KubeContextResult {
  const fileList = m.files.join(', ');
  const name = wanted ?? m.currentContext;
  const names = m.contexts.map((c) => visible(c.name));
  const available = names.length ? `available: ${names.join(', ')}` : 'it defines no contexts';
  if (!name) {
    return {
      ok: false,
      error: new KubeError({
        kind: 'context-missing',
        message: `no context selected: ${fileList} has no current-context and none was given (--context or inventory kube.context); ${available}`,
      }),
    };
  }
  const ctx =
    m.contexts.find((c) => c.name === name) ?? m.contexts.find((c) => visible(c.name) === name);
  if (!ctx) {
    return {
      ok: false,
      error: new KubeError({
        kind: 'context-missing',
        message: `context ${JSON.stringify(visible(name))} not found in ${fileList}; ${available}`,
      }),
    };
  }
  const cluster = m.clusters.find((c) => c.name === ctx.cluster);
  if (!cluster) {
    return {
      ok: false,
      error: new KubeError({
        kind: 'kubeconfig',
        message: `context ${JSON.stringify(visible(name))} refers to cluster ${JSON.stringify(visible(ctx.cluster))}, which is not in ${fileList}`,
      }),
    };
  }
  if (!m.users.some((u) => u.name === ctx.user)) {
    return {
      ok: false,
      error: new KubeError({
        kind: 'kubeconfig',
        message: `context ${JSON.stringify(visible(name))} refers to user ${JSON.stringify(visible(ctx.user))}, which is not in ${fileList}`,
      }),
    };
  }
  if (!/^https:\/\//i.test(cluster.server)) {
    return {
      ok: false,
      error: new KubeError({
        kind: 'kubeconfig',
        message: `cluster "${cluster.name}" server ${JSON.stringify(cluster.server)}: k8ops only talks HTTPS to the API server`,
      }),
    };
  }
  const kc = new m.Ctor();
  kc.loadFromOptions({
    clusters: m.clusters,
    users: m.users,
    contexts: m.contexts,
    currentContext: name,
  });
  const all = infos(m, name);
  const contextInfo = all.find((c) => c.name === name)!;
  const config: KubeContextConfig = {
    files: m.files,
    origin: m.origin,
    context: name,
    contextInfo,
    contexts: all,
    kubeConfig: kc,
    withContext: (other) => select(m, other),
  };
  return { ok: true, config };
}
